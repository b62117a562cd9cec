#!/bin/sh
# address dynamic: the WAN's address changes under moatd (IPv4, then IPv6);
# within two seconds the port forward and the SSH rule follow the new
# address and no longer answer on the old one, with no reload of the rules:
# established connections are not cut by moat.  A device created after
# moatd started is filtered by its zone's rules at once.
. "$(dirname "$0")/lib.sh"
conf="$top/examples/lab/dynamic.conf"
trap 'ip netns del "${MOAT_LAB}dmz" 2>/dev/null; cleanup' EXIT

listen lan 192.168.50.10:25 [2001:db8:50::10]:25
listen wan 198.51.100.25:25 [2001:db8:51::25]:25 198.51.100.25:80
listen gw 0.0.0.0:22 [::]:22
start_moatd "$conf" "applied"

# served NS ADDR PEER: the server in NS logged a connection to ADDR from PEER
served() {
	grep -q "^$2 $3\$" "$tmp/$1.log" 2>/dev/null ||
		fail "$1 did not log a connection to $2 from $3"
}

# hold NAME NS SRC HOST: an SMTP connection from SRC to HOST:25 that stays
# open; "check NAME" later sends NOOP on it and wants 250.
hold() {
	ns "$2" python3 - "$3" "$4" "$tmp/$1" <<'PY' &
import os, socket, sys, time
src, dst, base = sys.argv[1:]
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind((src, 0))
s.settimeout(3)
s.connect((dst, 25))
f = s.makefile("rb")
f.readline()
open(base + ".up", "w").close()
while not os.path.exists(base + ".go"):
    time.sleep(0.05)
try:
    s.sendall(b"NOOP\r\n")
    line = f.readline()
    result = "alive" if line.startswith(b"250") else "closed"
except OSError as e:
    result = "error " + e.__class__.__name__
open(base + ".result", "w").write(result)
PY
	pids="$pids $!"
	for _ in $(seq 50); do
		[ -f "$tmp/$1.up" ] && return 0
		sleep 0.1
	done
	fail "connection $1 did not open"
}
check() {
	touch "$tmp/$1.go"
	for _ in $(seq 50); do
		[ -f "$tmp/$1.result" ] && break
		sleep 0.1
	done
	cat "$tmp/$1.result" 2>/dev/null || echo none
}

echo "== the addresses the lab gave: 198.51.100.1, 2001:db8:51::1"
holds WANIP_v4 198.51.100.1
holds WANIP_v6 2001:db8:51::1
probe connected wan --from 198.51.100.26 198.51.100.1 25
served lan 192.168.50.10:25 198.51.100.26
probe connected wan --from 2001:db8:51::26 2001:db8:51::1 25
served lan 2001:db8:50::10:25 2001:db8:51::26
probe connected wan --from 198.51.100.26 198.51.100.1 22
probe connected wan --from 2001:db8:51::26 2001:db8:51::1 22
probe "timed out" wan --from 198.51.100.26 198.51.100.1 80
out=$(ns gw "$MOAT" test -f "$conf" --in WAN --src 198.51.100.26 --dst 198.51.100.1 --service SSH)
case $out in
*"accept by rule 1"*"taken as 198.51.100.1/24"*) echo "ok: moat test on the gateway uses its address" ;;
*) fail "moat test on the gateway: $out" ;;
esac
hold v6 lan 2001:db8:50::12 2001:db8:51::25
hold v4old lan 192.168.50.12 198.51.100.25
kernel_before=$(ns gw nft -a list chain inet moat zone_WAN | grep -c handle)

echo "== IPv4: 198.51.100.1 becomes 198.51.100.2"
ns gw ip addr del 198.51.100.1/24 dev gww0
ns gw ip addr add 198.51.100.2/24 dev gww0
holds WANIP_v4 198.51.100.2
holds WANNET_v4 198.51.100.0/24
probe connected wan --from 198.51.100.27 198.51.100.2 25
served lan 192.168.50.10:25 198.51.100.27
probe "timed out" wan --from 198.51.100.28 198.51.100.1 25
grep -q " 198.51.100.28\$" "$tmp/lan.log" &&
	fail "a connection to the old address was forwarded"
probe connected wan --from 198.51.100.26 198.51.100.2 22
probe "timed out" wan --from 198.51.100.26 198.51.100.1 22
ns gw nft list set inet moat WANIP_v4 | grep -q "198.51.100.1[ ,}]" &&
	fail "WANIP_v4 still holds the old address"
r=$(check v6)
[ "$r" = alive ] && echo "ok: an IPv6 connection through the masquerade survives" ||
	fail "the IPv6 connection through the masquerade: $r"
echo "info: the IPv4 connection masqueraded as the old address: $(check v4old) (the kernel forgets masqueraded connections of an address that goes)"
[ "$(ns gw nft -a list chain inet moat zone_WAN | grep -c handle)" = "$kernel_before" ] ||
	fail "the rules were loaded again"
out=$(ns gw "$MOAT" status)
case $out in
*"not what entry"*) fail "moat status calls moatd's refill a change by hand: $out" ;;
esac
out=$(ns gw "$MOAT" check -f "$conf")
case $out in
*"follow device gww0 (now: 198.51.100.2/24, 2001:db8:51::1/64)"*) echo "ok: moat check says what WAN has now" ;;
*) fail "moat check on the gateway: $out" ;;
esac
# A rollback puts back a ruleset made for the old address: its sets are
# filled for the address the device has now, in the same transaction, as
# the difference from the ruleset in force (its refill after it).
printf 'accept on WAN from ANY to WANIP service HTTP\n' | cat "$conf" - >"$tmp/more.conf"
ns gw "$MOAT" apply -f "$tmp/more.conf" >/dev/null || fail "apply more.conf"
ns gw "$MOAT" rollback >"$tmp/rollback.txt" || fail "rollback"
grep -q "^moat: incremental:" "$tmp/rollback.txt" &&
	echo "ok: the rollback went as a difference" ||
	fail "the rollback did not go as a difference: $(cat "$tmp/rollback.txt")"
ns gw nft list set inet moat WANIP_v4 | grep -q "198.51.100.2[ ,}]" &&
	echo "ok: after a rollback WANIP_v4 holds the address of now" ||
	fail "after a rollback: $(ns gw nft list set inet moat WANIP_v4)"
hold v4 lan 192.168.50.13 198.51.100.25
grep -q " 198.51.100.2\$" "$tmp/wan.log" ||
	fail "masquerade: the WAN server did not see 198.51.100.2"
# The sets' elements are no part of the fingerprint (moatd refills them),
# but what moat last wrote to them is recorded: an address added by hand
# (here the LAN server's, which a rule to WANIP would then open) is drift.
case $(ns gw "$MOAT" status) in
*"not what entry"*) fail "drift before the address added by hand" ;;
esac
ns gw nft add element inet moat WANIP_v4 '{ 192.168.50.10 }'
case $(ns gw "$MOAT" status) in
*"not what entry"*) echo "ok: an address added by hand to WANIP_v4 is drift" ;;
*) fail "an address added by hand to WANIP_v4 hid from moat status" ;;
esac
out=$(ns gw "$MOAT" apply -f "$conf" 2>&1) || fail "apply after the address added by hand: $out"
case $out in
*"whole apply:"*) echo "ok: the apply after it goes whole" ;;
*) fail "the apply after an address added by hand: $out" ;;
esac
ns gw nft list set inet moat WANIP_v4 | grep -q "192.168.50.10[ ,}]" &&
	fail "the address added by hand stays after the apply"
ns gw nft list set inet moat WANIP_v4 | grep -q "198.51.100.2[ ,}]" ||
	fail "after the apply: $(ns gw nft list set inet moat WANIP_v4)"
case $(ns gw "$MOAT" status) in
*"not what entry"*) fail "drift after the apply" ;;
*) echo "ok: no drift after the apply" ;;
esac
# An incremental apply that brings a set of its own (a rule side mixing
# WANIP with more) records what the sets hold after it: no drift once
# the generation moves (another table's commit), and the next apply goes
# as a difference.
printf 'accept on WAN from { WANIP, 203.0.113.9 } to ANY service HTTPS\n' | cat "$conf" - >"$tmp/mixed.conf"
out=$(ns gw "$MOAT" apply -f "$tmp/mixed.conf" 2>&1) || fail "apply mixed.conf: $out"
case $out in
*"moat: incremental:"*) ;;
*) fail "the apply of a side mixing WANIP did not go as a difference: $out" ;;
esac
ns gw nft list table inet moat | grep -q "set rule_.*_src_v4" ||
	fail "no set of its own for a side mixing WANIP: $(ns gw nft list table inet moat | grep 'set ')"
ns gw nft add table ip unrelated
case $(ns gw "$MOAT" status) in
*"not what entry"*) fail "drift after an incremental apply that added a set of the device's addresses" ;;
*) echo "ok: no drift after an incremental apply that added a set of the device's addresses" ;;
esac
ns gw nft delete table ip unrelated
out=$(ns gw "$MOAT" apply -f "$conf" 2>&1) || fail "apply back: $out"
case $out in
*"moat: incremental:"*) echo "ok: the apply after it goes as a difference" ;;
*) fail "the apply after a side mixing WANIP: $out" ;;
esac
# A state directory from before the record (an upgrade): what the sets
# hold is not known, so the next apply goes whole (once), and says why.
rm "$MOAT_STATE_DIR/dynamic"
ns gw nft add table ip unrelated
ns gw nft delete table ip unrelated
out=$(ns gw "$MOAT" apply -f "$tmp/mixed.conf" 2>&1) || fail "apply without the record: $out"
case $out in
*"whole apply: what the sets of the devices' addresses hold was not recorded"*) echo "ok: without the record the apply goes whole and says why" ;;
*) fail "the apply without the record of the dynamic sets: $out" ;;
esac
[ -f "$MOAT_STATE_DIR/dynamic" ] || fail "the whole apply did not record the dynamic sets"

echo "== IPv6: 2001:db8:51::1 becomes 2001:db8:51::2"
# (an address added by hand before it: moatd's refill takes it out, and
# says so, since the evidence goes with it)
ns gw nft add element inet moat WANIP_v6 '{ 2001:db8:50::10 }'
ns gw ip addr del 2001:db8:51::1/64 dev gww0
ns gw ip addr add 2001:db8:51::2/64 dev gww0 nodad
holds WANIP_v6 2001:db8:51::2
lacks WANIP_v6 2001:db8:50::10 1
grep -q "held what moat had not written" "$tmp/moatd.log" &&
	echo "ok: moatd's refill says it put right an address added by hand" ||
	fail "moatd's refill said nothing of the address added by hand: $(tail -5 "$tmp/moatd.log")"
probe connected wan --from 2001:db8:51::27 2001:db8:51::2 25
served lan 2001:db8:50::10:25 2001:db8:51::27
probe "timed out" wan --from 2001:db8:51::28 2001:db8:51::1 25
probe connected wan --from 2001:db8:51::26 2001:db8:51::2 22
probe "timed out" wan --from 2001:db8:51::26 2001:db8:51::1 22
r=$(check v4)
[ "$r" = alive ] && echo "ok: an IPv4 connection through the masquerade survives" ||
	fail "the IPv4 connection through the masquerade: $r"

echo "== DHCPv6: a server's reply from its link-local address reaches the client"
gw_ll=$(ns gw ip -6 -br addr show dev gww0 scope link | awk '{print $3}' | cut -d/ -f1)
wan_ll=$(ns wan ip -6 -br addr show dev wan0 scope link | awk '{print $3}' | cut -d/ -f1)
# udp6 NS SRC SPORT DST DPORT DEV: one datagram
udp6() {
	ns "$1" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
i = socket.if_nametoindex(sys.argv[5])
s.bind((sys.argv[1], int(sys.argv[2]), 0, i if sys.argv[1].startswith("fe80") else 0))
s.sendto(b"reply", (sys.argv[3], int(sys.argv[4]), 0, i))' "$2" "$3" "$4" "$5" "$6"
}
ns gw python3 "$here/udprecv.py" :: 546 3 >"$tmp/dhcp6" &
pids="$pids $!"
sleep 0.5
udp6 wan "$wan_ll" 547 "$gw_ll" 546 wan0
udp6 wan 2001:db8:51::26 547 2001:db8:51::2 546 wan0
sleep 3.5
case " $(cat "$tmp/dhcp6" 2>/dev/null) " in
*" $wan_ll "*" 2001:db8:51::26 "*|*" 2001:db8:51::26 "*) fail "a datagram to port 546 from a global address was let in" ;;
*" $wan_ll "*) echo "ok: the DHCPv6 reply from $wan_ll reached the gateway's client" ;;
*) fail "the DHCPv6 reply did not arrive: $(cat "$tmp/dhcp6" 2>/dev/null)" ;;
esac

echo "== a device that appears after moatd started"
d="${MOAT_LAB}dmz"
ip netns add "$d"
ip -n "$d" link set lo up
ip -n "${MOAT_LAB}gw" link add gwd0 type veth peer name dmz0 netns "$d"
ip -n "${MOAT_LAB}gw" addr add 192.168.60.1/24 dev gwd0
ip -n "$d" addr add 192.168.60.10/24 dev dmz0
ip -n "${MOAT_LAB}gw" link set gwd0 up
ip -n "$d" link set dmz0 up
ip -n "$d" route add default via 192.168.60.1
out=$(ip netns exec "$d" "$MOAT" probe --timeout 2 198.51.100.25 25)
case $out in
*" connected"*) echo "ok: dmz: $out" ;;
*) fail "the DMZ's rule on a new device: $out" ;;
esac
out=$(ip netns exec "$d" "$MOAT" probe --timeout 1 198.51.100.25 80)
case $out in
*" timed out"*) echo "ok: dmz: $out (the DMZ's default)" ;;
*) fail "the DMZ's default on a new device: $out" ;;
esac
grep -q "dynamic addresses of history entry" "$tmp/moatd.log" ||
	fail "moatd did not log the change"
finish
