#!/bin/sh
# Seed configuration B with smtp-local-scanning on, for real: the gateway
# is the LAN's relay on 192.168.50.1:25; clean mail goes on to
# smtp-relay-to (a sink on the gateway, standing in for its Postfix), a
# virus gets 554, and SMTP to anywhere else is still blocked by the rule.
# Then the same with `firewall off`: no rules enforced, mail still scanned.
. "$(dirname "$0")/lib.sh"
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
conf="$tmp/moat.conf"
cat "$top/examples/lab/seed-b.conf" - >"$conf" <<CONF
antivirus {
    engine clamav $db
    smtp-local-scanning on
    smtp-relay-to 127.0.0.1:10026
}
CONF
sink gw 127.0.0.1 "$tmp/out-relay" 10026
sink wan 198.51.100.25 "$tmp/out-wan"
start_moatd "$conf"
"$MOAT" check -f "$conf" >/dev/null || fail "moat check: $("$MOAT" check -f "$conf")"

for from in 192.168.50.10 192.168.50.11; do
	out=$(ns lan python3 "$smtp/send.py" 192.168.50.1 25 --from $from)
	case $out in 250*) echo "ok: $from -> the gateway's relay: $out" ;;
	*) fail "$from -> relay: $out" ;; esac
done
[ "$(count "$tmp/out-relay")" = 2 ] || fail "the relay's next hop has $(count "$tmp/out-relay") messages, want 2"
delivered_with_header "$tmp/out-relay" "X-Virus-Scanned: clean by moat"
out=$(ns lan python3 "$smtp/send.py" 2001:db8:50::1 25 --from 2001:db8:50::11)
case $out in 250*) echo "ok: the relay over IPv6: $out" ;;
*) fail "relay over IPv6: $out" ;; esac
out=$(ns lan python3 "$smtp/send.py" 192.168.50.1 25 --from 192.168.50.11 --virus)
case $out in "554 5.7.1"*) echo "ok: a virus sent to the relay: $out" ;;
*) fail "virus to the relay: $out" ;; esac
[ "$(count "$tmp/out-relay")" = 3 ] || fail "the virus reached the next hop"
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.11 --timeout 2)
case $out in "timed out") echo "ok: SMTP to the outside is still blocked" ;;
*) fail "SMTP around the relay: $out" ;; esac
[ "$(count "$tmp/out-wan")" = 0 ] || fail "mail went around the relay"
"$MOAT" test -f "$conf" --in LAN --src 192.168.50.11 --dst 192.168.50.1 --service SMTP | grep -q "gateway's relay" ||
	fail "moat test does not say the relay takes it"

# firewall off: the appliance line with anti-virus and no firewall.
stop_moatd
cat >"$conf" <<CONF
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
deny on LAN from ANY to !LANIP service SMTP
firewall off
antivirus {
    engine clamav $db
    smtp-other-scanning on
    smtp-local-scanning off
}
CONF
start_moatd "$conf"
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.11)
case $out in 250*) echo "ok: firewall off: the rule is not enforced: $out" ;;
*) fail "firewall off: $out" ;; esac
delivered_with_header "$tmp/out-wan" "X-Virus-Scanned: clean by moat"
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.11 --virus)
case $out in "554 5.7.1"*) echo "ok: firewall off: still scanned: $out" ;;
*) fail "firewall off, virus: $out" ;; esac
"$MOAT" check -f "$conf" | grep -q "firewall off: no rules are enforced, but SMTP" ||
	fail "moat check does not explain firewall off with scanning"

# smtp-outgoing-scanning off: SMTP from the LAN out is not intercepted (no
# header, a virus goes through: the admin chose so), and the relay passes
# LAN mail on unscanned with a header that says so.
stop_moatd
cat >"$conf" <<CONF
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
nat masquerade on WAN
antivirus {
    engine clamav $db
    smtp-other-scanning on
    smtp-local-scanning on
    smtp-outgoing-scanning off
    smtp-relay-to 127.0.0.1:10026
}
CONF
start_moatd "$conf"
n=$(count "$tmp/out-wan")
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.11)
case $out in 250*) echo "ok: outgoing scanning off: delivered: $out" ;;
*) fail "outgoing scanning off: $out" ;; esac
m=$(count "$tmp/out-wan")
if [ "$m" = $((n + 1)) ] && ! head -1 "$tmp/out-wan/$m.eml" | grep -q "^X-Virus-Scanned"; then
	echo "ok: outgoing scanning off: not intercepted (no header)"
else
	fail "outgoing scanning off: the message was intercepted or lost"
fi
"$MOAT" test -f "$conf" --in LAN --src 192.168.50.11 --dst 198.51.100.25 --service SMTP | grep -q intercepted &&
	fail "moat test says intercepted with outgoing scanning off"
out=$(ns lan python3 "$smtp/send.py" 192.168.50.1 25 --from 192.168.50.11)
case $out in 250*) echo "ok: the relay with outgoing scanning off: $out" ;;
*) fail "relay with outgoing scanning off: $out" ;; esac
delivered_with_header "$tmp/out-relay" "X-Virus-Scanned: no (smtp-outgoing-scanning off)"
finish
