#!/bin/sh
# Seed configuration A with smtp-other-scanning on, for real: the seed's
# pitfall solved.  The mail server's mail to the public server is
# intercepted, scanned and delivered (IPv4 and IPv6); its virus gets 554;
# the workstation is still blocked by rule 2 (the policy decides first).
# Inbound mail port-forwarded to an internal server is scanned too, and
# the internal server sees the real client (smtp-keep-client-address).
. "$(dirname "$0")/lib.sh"
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
conf="$tmp/moat.conf"
cat >"$conf" <<CONF
# Seed configuration A (the mail server by both its addresses), scanning on.
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
object MAILSERVER { 192.168.50.10, 2001:db8:50::10 }
accept on LAN from MAILSERVER to ANY service SMTP comment "mail server may send"
deny   on LAN from ANY to ANY service SMTP comment "nobody else"
reject on LAN from ANY to ANY service RDP comment "refused at once"
forward on WAN service SMTP to 192.168.50.12
nat masquerade on WAN
antivirus {
    engine clamav $db
    smtp-other-scanning on
    smtp-local-scanning off
    smtp-keep-client-address on
}
CONF
sink wan 198.51.100.25 "$tmp/out-wan"
sink wan 2001:db8:51::25 "$tmp/out-wan6"
sink lan 192.168.50.12 "$tmp/out-lan"
start_moatd "$conf"

out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10)
case $out in 250*) echo "ok: mail server -> public server: $out" ;;
*) fail "mail server's clean mail: $out" ;; esac
delivered_with_header "$tmp/out-wan" "X-Virus-Scanned: clean by moat"
# moat trace says so too: the rule accepts, then the proxy takes it.
ip netns exec "${MOAT_LAB}gw" "$MOAT" trace --src 192.168.50.10 --proto tcp --dport 25 \
	--count 1 --timeout 5 >"$tmp/trace" 2>&1 &
tp=$!
for _ in $(seq 30); do grep -q "^tracing" "$tmp/trace" && break; sleep 0.1; done
ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10 >/dev/null
wait $tp
if grep -q "intercepted by the SMTP proxy (scan outgoing SMTP from LAN)" "$tmp/trace"; then
	echo "ok: moat trace: $(grep -E "intercepted|matches" "$tmp/trace" | tr -s ' ' | tr '\n' ';')"
else
	fail "moat trace of an intercepted connection: $(cat "$tmp/trace")"
fi
out=$(ns lan python3 "$smtp/send.py" 2001:db8:51::25 25 --from 2001:db8:50::10)
case $out in 250*) echo "ok: mail server -> public server over IPv6: $out" ;;
*) fail "mail server's clean mail over IPv6: $out" ;; esac
delivered_with_header "$tmp/out-wan6" "X-Virus-Scanned: clean by moat"
n=$(count "$tmp/out-wan")
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10 --virus)
case $out in "554 5.7.1"*Test.EICAR*) echo "ok: the mail server's virus: $out" ;;
*) fail "the mail server's virus: $out" ;; esac
[ "$(count "$tmp/out-wan")" = "$n" ] || fail "the virus was delivered"
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.11 --timeout 2)
case $out in "timed out") echo "ok: the workstation is still blocked" ;;
*) fail "the workstation's SMTP: $out (rule 2 must still drop it)" ;; esac
[ "$(counter "$(rule_counter "$conf" 2)")" -ge 1 ] || fail "rule 2's counter did not go up"
grep -q "client=192.168.50.11" "$tmp/moatd.log" &&
	fail "the proxy saw the workstation's connection"

# Inbound: WAN -> the gateway's port 25 -> DNAT to 192.168.50.12, scanned.
out=$(ns wan python3 "$smtp/send.py" 198.51.100.1 25 --from 198.51.100.26)
case $out in 250*) echo "ok: inbound mail through the port forward: $out" ;;
*) fail "inbound mail: $out" ;; esac
delivered_with_header "$tmp/out-lan" "X-Virus-Scanned: clean by moat"
last=$(ls "$tmp/out-lan" | grep -c '\.eml$')
peer=$(cat "$tmp/out-lan/$last.peer" 2>/dev/null)
[ "$peer" = 198.51.100.26 ] && echo "ok: the internal server sees the real client" ||
	fail "the internal server saw $peer, not 198.51.100.26"
out=$(ns wan python3 "$smtp/send.py" 198.51.100.1 25 --from 198.51.100.26 --virus)
case $out in "554 5.7.1"*) echo "ok: inbound virus: $out" ;;
*) fail "inbound virus: $out" ;; esac

# The proxy keeps CAP_NET_RAW to connect from the client's address, and
# nothing else of it: the kernel lets a transparent socket send SMTP only
# (chain spoof_guard), and nothing else leaves from an address not the
# gateway's.  A UDP datagram with an Internet host's address (a DNS
# answer's, say) must not reach the LAN, whatever the socket; one from
# an ordinary socket does, and the TCP from the client's address did
# above.
capeff() {	# capeff: CapEff and CapPrm of this lab's proxy, its pid
	pp=$(pgrep -x -P "$moatd_pid" moatd-smtp | head -1)
	echo "$(awk '/^Cap(Eff|Prm):/ { printf "%s ", $2 }' "/proc/$pp/status" 2>/dev/null)$pp"
}
set -- $(capeff)
[ "$1 $2" = "0000000000002000 0000000000002000" ] &&
	echo "ok: the proxy that keeps clients' addresses holds CAP_NET_RAW alone" ||
	fail "the proxy's capabilities: $*"
raw_pid=$3
# udp-send.py HOW SRC DST: a datagram from SRC, by a socket that is
# plain, transparent, freebind (IPV6_FREEBIND: no capability needed), or
# cleared (transparent, bound and connected, then no longer transparent)
cat >"$tmp/udp-send.py" <<'PY'
import socket, sys
how, src, dst = sys.argv[1:4]
v6 = ":" in dst
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
if how in ("transparent", "cleared"):
    s.setsockopt(socket.SOL_IP, 19, 1)		# IP_TRANSPARENT
elif how == "freebind":
    s.setsockopt(socket.IPPROTO_IPV6, 78, 1)	# IPV6_FREEBIND
s.bind((src, 0))
try:
    if how == "cleared":
        s.connect((dst, 9999))
        s.setsockopt(socket.SOL_IP, 19, 0)
        s.send(b"x")
    else:
        s.sendto(b"x", (dst, 9999))
    print("sent")
except OSError as e:
    print(e.strerror)
PY
# as_proxy SCRIPT ARGS...: a Python script in the gateway as the proxy's
# user, with its CAP_NET_RAW (what a proxy taken over could do, nospawn's
# filter aside); on its standard input, since $tmp is root's alone
as_proxy() {
	script=$1
	shift
	ns gw setpriv --reuid=moat-smtp --regid=moat-smtp --clear-groups \
	    --inh-caps=+net_raw --ambient-caps=+net_raw /usr/bin/python3 - "$@" <"$script"
}
held() {	# held RULE: packets chain spoof_guard's drop RULE (1, 2) counted
	ns gw nft list chain inet moat spoof_guard | grep "counter packets" |
	    sed -n "$1s/.*counter packets \([0-9]*\) .*/\1/p"
}
ns lan python3 "$here/udprecv.py" 192.168.50.12 9999 3 >"$tmp/udp-got" &
rp=$!
ns lan python3 "$here/udprecv.py" 2001:db8:50::10 9999 3 >"$tmp/udp-got6" &
rp6=$!
sleep 0.5
before=$(held 2)
spoofed=$(as_proxy "$tmp/udp-send.py" transparent 198.51.100.53 192.168.50.12)
cleared=$(as_proxy "$tmp/udp-send.py" cleared 198.51.100.54 192.168.50.12)
freebind=$(as_proxy "$tmp/udp-send.py" freebind 2001:db8:51::53 2001:db8:50::10)
own=$(as_proxy "$tmp/udp-send.py" plain 192.168.50.1 192.168.50.12)
own6=$(as_proxy "$tmp/udp-send.py" plain 2001:db8:50::1 2001:db8:50::10)
wait $rp $rp6
after=$(held 2)
[ "$(cat "$tmp/udp-got")" = 192.168.50.1 ] && [ "$(cat "$tmp/udp-got6")" = 2001:db8:50::1 ] &&
    [ "$spoofed" = "Operation not permitted" ] && [ "$cleared" = "Operation not permitted" ] &&
    [ "$freebind" = "Operation not permitted" ] && [ $((after - before)) = 2 ] &&
	echo "ok: UDP from an Internet address is dropped from a transparent socket, from one no longer transparent and from an IPV6_FREEBIND one; an ordinary socket's arrives" ||
	fail "UDP from other addresses: received from '$(cat "$tmp/udp-got")' and '$(cat "$tmp/udp-got6")'; transparent: $spoofed, cleared: $cleared, freebind: $freebind, plain: $own $own6; counted $before -> $after"
# TCP from a transparent socket: to port 25 only.  Its SYN to another
# port is held back: TCP says nothing of it but a timeout, so the chain's
# counter tells.  (Whether the LAN host saw it cannot tell: its answer
# goes to the address spoofed, so no connection is made either way.)
cat >"$tmp/tcp-spoof.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_IP, 19, 1)	# IP_TRANSPARENT
s.bind(("198.51.100.53", 0))
s.settimeout(2)
try:
    s.connect(("192.168.50.12", int(sys.argv[1])))
    print("connected")
except OSError as e:
    print(e.strerror or "timed out")
PY
before=$(held 1)
other=$(as_proxy "$tmp/tcp-spoof.py" 3389)
after=$(held 1)
[ "$other" != connected ] && [ "$after" -gt "$before" ] &&
	echo "ok: a transparent socket's TCP to port 3389 is held back ($other; $((after - before)) SYNs counted)" ||
	fail "a transparent socket's TCP to port 3389: $other, counted $before -> $after"

# The kernel's own packets from another's address pass: the reset of a
# `reject` of a forwarded connection leaves from the server's address,
# with no socket (the guard dropped it once, and the client waited).
probe refused lan 198.51.100.25 3389

# Without smtp-keep-client-address the proxy needs no capability: a
# reload that turns it off starts another proxy without one, and the
# chain goes; turned on again, another with CAP_NET_RAW.
reload_proxy() {	# reload_proxy: SIGHUP, until another proxy says it runs
	n=$(grep -c "proxy running as" "$tmp/moatd.log")
	kill -HUP "$moatd_pid"
	for _ in $(seq 100); do
		[ "$(grep -c "proxy running as" "$tmp/moatd.log")" -gt "$n" ] && break
		sleep 0.1
	done
}
sed -i 's/smtp-keep-client-address on/smtp-keep-client-address off/' "$conf"
reload_proxy
set -- $(capeff)
[ "$1 $2" = "0000000000000000 0000000000000000" ] && [ "$3" != "$raw_pid" ] &&
	echo "ok: keep-client-address off: another proxy ($3), with no capability" ||
	fail "keep-client-address off: the proxy $3 (was $raw_pid) holds $1 $2"
ns gw nft list chain inet moat spoof_guard >/dev/null 2>&1 &&
	fail "chain spoof_guard is still there with keep-client-address off"
sleep 1
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10)
case $out in 250*) echo "ok: mail through the proxy without the capability: $out" ;;
*) fail "mail with keep-client-address off: $out" ;; esac
off_pid=$3
sed -i 's/smtp-keep-client-address off/smtp-keep-client-address on/' "$conf"
reload_proxy
set -- $(capeff)
[ "$1 $2" = "0000000000002000 0000000000002000" ] &&
	ns gw nft list chain inet moat spoof_guard >/dev/null 2>&1 &&
	[ "$3" != "$off_pid" ] &&
	echo "ok: keep-client-address on again: another proxy ($3), CAP_NET_RAW and the chain back" ||
	fail "keep-client-address on again: the proxy $3 (was $off_pid) holds $1 $2"

# The chain taken out by hand (nothing applies after it): within a
# second or two the proxy is another, without the capability, and
# intercepted mail waits (4xx) rather than go out from the gateway's
# address.
on_pid=$3
ns gw nft flush chain inet moat spoof_guard
ns gw nft delete chain inet moat spoof_guard
for _ in $(seq 50); do
	grep -q "chain spoof_guard is gone from the kernel" "$tmp/moatd.log" && break
	sleep 0.1
done
for _ in $(seq 50); do
	set -- $(capeff)
	[ -n "${3:-}" ] && [ "$3" != "$on_pid" ] && [ "$1" = 0000000000000000 ] && break
	sleep 0.1
done
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10)
[ "$1 $2" = "0000000000000000 0000000000000000" ] && [ "$3" != "$on_pid" ] &&
    grep -q "chain spoof_guard is gone from the kernel" "$tmp/moatd.log" &&
	echo "ok: chain spoof_guard gone: another proxy ($3) without the capability" ||
	fail "chain spoof_guard gone: the proxy $3 (was $on_pid) holds $1 $2"
case $out in 421*) echo "ok: and intercepted mail waits: $out" ;;
*) fail "intercepted mail without the chain: $out" ;; esac

# Where the rules in force lack the chain (an entry applied before it, the
# ruleset put back at boot, another's rules under moatd -n), the proxy
# gets no capability and says why: here moatd -n, with no table at all.
stop_moatd
ns gw nft delete table inet moat
ip netns exec "${MOAT_LAB}gw" "$MOATD" -n -f "$conf" >"$tmp/n.log" 2>&1 &
moatd_pid=$!
pids="$pids $moatd_pid"
for _ in $(seq 100); do
	grep -q "proxy running as" "$tmp/n.log" && break
	sleep 0.1
done
set -- $(capeff)
[ "$1 $2" = "0000000000000000 0000000000000000" ] &&
    grep -q "smtp-keep-client-address, but table inet moat has no chain spoof_guard" "$tmp/n.log" &&
	echo "ok: no chain spoof_guard in the kernel: the proxy ($3) holds no capability, and moatd says why" ||
	fail "no chain spoof_guard: the proxy $3 holds $1 $2; $(grep -i "spoof_guard\|proxy" "$tmp/n.log" | tail -3)"
stop_moatd

# moat test says which connections are intercepted.
"$MOAT" test -f "$conf" --in LAN --src 192.168.50.10 --dst 198.51.100.25 --service SMTP >"$tmp/t1"
grep -q "^accept by rule 1" "$tmp/t1" && grep -q "intercepted" "$tmp/t1" ||
	fail "moat test for the mail server: $(cat "$tmp/t1")"
"$MOAT" test -f "$conf" --in LAN --src 192.168.50.11 --dst 198.51.100.25 --service SMTP >"$tmp/t2"
grep -q "^deny by rule 2" "$tmp/t2" && ! grep -q "intercepted" "$tmp/t2" ||
	fail "moat test for the workstation: $(cat "$tmp/t2")"
finish
