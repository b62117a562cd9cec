#!/bin/sh
# moat owns table inet moat and nothing else: a foreign table with rules
# survives two applies and a rollback; a ruleset the kernel refuses leaves
# the previous one running and says why.
. "$(dirname "$0")/lib.sh"
ns gw nft -f - <<'NFT' || fail "foreign table"
table ip foreign {
	chain c {
		type filter hook input priority 10; policy accept;
		tcp dport 9999 counter accept
	}
}
NFT
ns gw "$MOAT" apply -f "$top/examples/lab/seed-a.conf" || fail "apply 1"
ns gw "$MOAT" apply -f "$top/examples/lab/seed-b.conf" || fail "apply 2"
ns gw nft list table ip foreign | grep -q "tcp dport 9999 counter" ||
	fail "the foreign table lost its rule"
ns gw "$MOAT" rollback || fail "rollback"
ns gw nft list table ip foreign >/dev/null || fail "rollback removed the foreign table"
# seed A's rule 2, by its id (seed B has one rule, another)
a2=$(rule_counter "$top/examples/lab/seed-a.conf" 2)
[ -n "$a2" ] || fail "seed A's rule 2 has no counter"
ns gw nft list chain inet moat zone_LAN | grep -q "comment \"rule ${a2#rule_}\"" ||
	fail "rollback did not bring back seed A's rule 2"

# A transaction the kernel refuses (a jump loop, added as a test hook):
# nothing changes and the kernel's reason is printed.
before=$(ns gw nft list table inet moat | grep -c comment)
MOAT_NFT_INJECT='add rule inet moat zone_LAN jump zone_LAN' \
	ns gw "$MOAT" apply -f "$top/examples/lab/seed-b.conf" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] || fail "a refused apply exited $rc, not 2"
grep -qi "error" "$tmp/err" || fail "no reason printed: $(cat "$tmp/err")"
after=$(ns gw nft list table inet moat | grep -c comment)
[ "$before" = "$after" ] || fail "a refused apply changed the ruleset"
ns gw nft list chain inet moat zone_LAN | grep -q "comment \"rule ${a2#rule_}\"" ||
	fail "the previous ruleset is gone after a refused apply"
ns gw "$MOAT" history | tail -1 | grep -q rollback ||
	fail "a refused apply was recorded in the history"
# --dry-run asks the kernel and changes nothing
ns gw "$MOAT" apply --dry-run -f "$top/examples/lab/forward.conf" | grep -q "dry run" || fail "dry run"
ns gw nft list table inet moat | grep -q prerouting && fail "dry run changed the ruleset"
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
# A chain named like a trace's (trace_PID) but no running moat trace's is
# no hiding place: the drift check counts it.
ns gw "$MOAT" apply -f "$top/examples/lab/seed-a.conf" >/dev/null 2>&1 || fail "apply A again"
case $(ns gw "$MOAT" status) in
*"not what entry"*) fail "drift before the hidden chain" ;;
esac
ns gw nft add chain inet moat trace_1 '{ type filter hook prerouting priority -350; }'
case $(ns gw "$MOAT" status) in
*"not what entry"*) echo "ok: a chain trace_1 of no running trace is drift" ;;
*) fail "a chain trace_1 (pid 1 is no moat trace) hid from the drift check" ;;
esac
ns gw nft delete chain inet moat trace_1
# A process called moat is no moat trace either: anyone with root can
# start one.  A chain of its name is left out only while it holds what a
# trace puts there (a base chain at prerouting -350, policy accept, rules
# that match and set the trace mark); anything else in it is drift.
cp /bin/sleep "$tmp/moat"
ip netns exec "${MOAT_LAB}gw" "$tmp/moat" 300 &
fake=$!
pids="$pids $fake"
for _ in $(seq 20); do [ "$(cat /proc/$fake/comm 2>/dev/null)" = moat ] && break; sleep 0.1; done
hidden() {	# hidden WHAT CHAIN-SPEC RULE...: is the chain seen as drift?
	what=$1 spec=$2
	shift 2
	ns gw nft add chain inet moat "trace_$fake" "$spec" || fail "add chain ($what)"
	for r in "$@"; do
		ns gw nft add rule inet moat "trace_$fake" $r || fail "add rule $r ($what)"
	done
	out=$(ns gw "$MOAT" status)
	ns gw nft delete chain inet moat "trace_$fake"
	case $out in
	*"not what entry"*) echo drift ;;
	*) echo none ;;
	esac
}
trace='{ type filter hook prerouting priority -350; policy accept; }'
[ "$(hidden "a trace's" "$trace" 'iifname "lan0" ip saddr 192.168.50.0/24 ip daddr 198.51.100.25 tcp dport 25 meta nftrace set 1')" = none ] &&
	echo "ok: a trace's own chain is no drift" || fail "a trace's own chain is called drift"
for bad in "drop:ip saddr 192.168.50.11 drop" "accept:ip saddr 192.168.50.11 accept" \
    "meta mark:ip saddr 192.168.50.11 meta mark set 7 meta nftrace set 1" \
    "a set:ip saddr { 192.168.50.11, 192.168.50.12 } meta nftrace set 1" \
    "a counter:counter meta nftrace set 1"; do
	[ "$(hidden "${bad%%:*}" "$trace" "${bad#*:}")" = drift ] &&
		echo "ok: a trace's chain with ${bad%%:*} is drift" ||
		fail "a chain trace_PID of a process called moat hid a rule: ${bad#*:}"
done
# moat trace adds one rule: more, each a trace's, is a cost on every
# packet, and it is drift too
[ "$(hidden "two rules" "$trace" 'ip saddr 192.168.50.11 meta nftrace set 1' 'ip saddr 192.168.50.12 meta nftrace set 1')" = drift ] &&
	echo "ok: a trace's chain with two rules is drift" || fail "a chain trace_PID hid a second rule"
for spec in '{ type filter hook prerouting priority -350; policy drop; }' \
    '{ type filter hook forward priority -350; policy accept; }' \
    '{ type filter hook prerouting priority 0; policy accept; }' \
    '{ type nat hook prerouting priority -100; policy accept; }'; do
	[ "$(hidden "$spec" "$spec")" = drift ] && echo "ok: a chain trace_PID $spec is drift" ||
		fail "a chain trace_PID $spec hid from the drift check"
done
kill "$fake"
finish
