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

# moat test says which connections are intercepted.
"$MOAT" test -f "$conf" --in LAN --src 192.168.50.10 --dst 198.51.100.25 --service SMTP >"$tmp/t1"
grep -q "^accept by rule 1" "$tmp/t1" && grep -q "intercepted" "$tmp/t1" ||
	fail "moat test for the mail server: $(cat "$tmp/t1")"
"$MOAT" test -f "$conf" --in LAN --src 192.168.50.11 --dst 198.51.100.25 --service SMTP >"$tmp/t2"
grep -q "^deny by rule 2" "$tmp/t2" && ! grep -q "intercepted" "$tmp/t2" ||
	fail "moat test for the workstation: $(cat "$tmp/t2")"
finish
