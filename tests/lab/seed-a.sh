#!/bin/sh
# Seed configuration A for real: the mail server's SMTP reaches the public
# server, the workstation's is dropped by rule 2, its web traffic passes
# (LAN default), and the counters of rules 1 and 2 go up.
. "$(dirname "$0")/lib.sh"
conf="$top/examples/lab/seed-a.conf"
listen wan 198.51.100.25:25 198.51.100.25:80
ns gw "$MOAT" apply -f "$conf" || fail "apply"

probe connected lan --from 192.168.50.10 198.51.100.25 25
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
probe connected lan --from 192.168.50.11 198.51.100.25 80
grep -q "198.51.100.25:25 192.168.50.10" "$tmp/wan.log" ||
	fail "the server did not see the mail server's connection"
grep -q "198.51.100.25:25 192.168.50.11" "$tmp/wan.log" &&
	fail "the workstation's SMTP reached the server"
r1=$(rule_counter "$conf" 1)
r2=$(rule_counter "$conf" 2)
[ -n "$r1" ] && [ -n "$r2" ] && [ "$r1" != "$r2" ] || fail "the rules' counters: '$r1' '$r2'"
[ "$(counter "$r1")" -ge 1 ] || fail "rule 1's counter $r1 did not go up"
[ "$(counter "$r2")" -ge 1 ] || fail "rule 2's counter $r2 did not go up"
# status tells a rule's counter (named by its id) by the rule's number
ns gw "$MOAT" status >"$tmp/status" || fail "status"
grep -Eq "^rule 2 +$(counter "$r2") +[0-9]+  deny on LAN from ANY to ANY service SMTP" "$tmp/status" ||
	fail "status does not show rule 2's counter $r2: $(cat "$tmp/status")"
ns gw "$MOAT" status --json | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin)["counters"] if c["name"] == sys.argv[1]]
assert len(c) == 1 and c[0]["rule"] == 2 and c[0]["rule_id"] == sys.argv[1][5:], c
' "$r2" || fail "status --json does not name rule 2's counter"

# moat test says the same
"$MOAT" test -f "$conf" --in LAN --src 192.168.50.10 --dst 198.51.100.25 --service SMTP | grep -q "^accept by rule 1" || fail "moat test rule 1"
"$MOAT" test -f "$conf" --in LAN --src 192.168.50.11 --dst 198.51.100.25 --service SMTP | grep -q "^deny by rule 2" || fail "moat test rule 2"
# status compares the kernel's table with what the entry applied
ns gw "$MOAT" status | grep -q "^warning" && fail "status sees a change that was not made"
ns gw nft add rule inet moat zone_LAN accept
ns gw "$MOAT" status | grep -q "^warning: table inet moat in the kernel is not what entry" ||
	fail "status did not see the rule added by hand"
ns gw nft delete table inet moat
ns gw "$MOAT" status >"$tmp/status" 2>&1 || fail "status with no table: $(cat "$tmp/status")"
grep -q "^applied: nothing here; last applied: history entry" "$tmp/status" ||
	fail "status with no table: $(cat "$tmp/status")"
finish
