#!/bin/sh
# moat trace with real packets: a port-forwarded connection (DNAT, the
# forward's accept, the masquerade not involved), a connection a rule
# denies (its number and line, as moat test says), one the WAN's default
# drops; the marking chain is gone afterwards, and also when moat trace is
# killed with -9 (its watchdog); moat status calls a trace no change.
. "$(dirname "$0")/lib.sh"
conf="$top/examples/lab/trace.conf"
listen lan 192.168.50.10:25
listen wan 198.51.100.25:25
ns gw "$MOAT" apply -f "$conf" >/dev/null || fail "apply"

# trace NAME PROBE-ARGS -- TRACE-ARGS: trace while one probe runs
trace() {
	name=$1
	shift
	pa=""
	while [ "$1" != "--" ]; do pa="$pa $1"; shift; done
	shift
	ns gw "$MOAT" trace --count 1 --timeout 5 "$@" >"$tmp/$name" 2>&1 &
	tp=$!
	for _ in $(seq 30); do
		grep -q "^tracing" "$tmp/$name" && break
		sleep 0.1
	done
	ns $pa >/dev/null
	wait $tp
	cat "$tmp/$name"
}

out=$(trace fwd wan "$MOAT" probe --timeout 1 --from 198.51.100.26 198.51.100.1 25 -- \
	--src 198.51.100.26 --proto tcp --dport 25)
echo "$out"
case $out in
*"packet 1 (trace "*"): WAN 198.51.100.26:"*" -> 198.51.100.1:25 tcp SYN"*"port forward 1: destination rewritten"*"zone WAN: accepted by port forward 1"*)
	echo "ok: the forwarded connection: DNAT, then the forward's accept" ;;
*) fail "trace of the forwarded connection" ;;
esac

out=$(trace deny lan "$MOAT" probe --timeout 1 --from 192.168.50.12 198.51.100.25 25 -- \
	--in LAN --src 192.168.50.12 --dst 198.51.100.25)
echo "$out"
want=$("$MOAT" test -f "$conf" --in LAN --src 192.168.50.12 --dst 198.51.100.25 --service SMTP)
case $want in "deny by rule 2 (trace.conf:8)"*) ;; *) fail "moat test: $want" ;; esac
case $out in
*"zone LAN: matches rule 2 (trace.conf:8) deny; it logs"*"rule 2's log: logged: drop"*)
	echo "ok: the denied connection: rule 2, line 8, as moat test says" ;;
*) fail "trace of the denied connection" ;;
esac

out=$(trace masq lan "$MOAT" probe --timeout 1 --from 192.168.50.10 198.51.100.25 25 -- \
	--src 192.168.50.10 --proto tcp --dport 25)
echo "$out"
case $out in
*"zone LAN: matches rule 1 (trace.conf:7) accept: accept"*"postrouting: masqueraded (nat on WAN)"*)
	echo "ok: the mail server's connection out: rule 1, then the masquerade" ;;
*) fail "trace of the masqueraded connection" ;;
esac

# Another table's chain at the forward hook (as Docker's FORWARD is)
# drops what moat accepts: moat trace says where, and moat status lists
# the chain (doc/design/other-tables.md).
[ "$(ns gw "$MOAT" status --json | python3 -c 'import json, sys; o = json.load(sys.stdin); print(o.get("other_tables"), o.get("other_tables_more"), o.get("other_tables_error"))')" = "[] 0 None" ] ||
	fail "moat status --json: other tables where there are none, or none read"
ns gw nft -f - <<'NFT' || fail "the other table"
table ip sidecar {
	chain passing {
		type filter hook forward priority 10; policy accept;
		ip daddr 198.51.100.25 tcp dport 25 drop
	}
}
NFT
out=$(trace other lan "$MOAT" probe --timeout 1 --from 192.168.50.10 198.51.100.25 25 -- \
	--src 192.168.50.10 --proto tcp --dport 25)
echo "$out"
case $out in
*"zone LAN: matches rule 1 (trace.conf:7) accept: accept"*"table ip sidecar, chain passing (not moat's): rule "*": drop: dropped there, whatever moat decides"*)
	echo "ok: moat's accept, then the other table's drop" ;;
*) fail "trace: the other table's drop is not told" ;;
esac
out=$(ns gw "$MOAT" status)
case $out in
*"other tables"*"ip sidecar passing: filter at forward, priority 10, policy accept, 1 rule: its rules may drop or reject what moat accepts"*)
	echo "ok: moat status lists the other table's chain" ;;
*) fail "moat status does not list the other table's chain: $out" ;;
esac
[ "$(ns gw "$MOAT" status --json | python3 -c 'import json, sys; o = json.load(sys.stdin)["other_tables"]; print(len(o), o[0]["table"], o[0]["hook"], o[0]["rules"])')" = "1 sidecar forward 1" ] ||
	fail "moat status --json: other_tables"
# and an apply says it, where the admin looks
case $(ns gw "$MOAT" apply -f "$conf" 2>&1) in
*"moat: note: another table acts on packets too: ip sidecar passing: filter at forward"*)
	echo "ok: an apply notes the other table's chain" ;;
*) fail "an apply does not note the other table's chain" ;;
esac
# a dormant table runs nothing: not listed (beside a running table of its
# family, whose chains are read)
ns gw nft add table ip sidecar '{ flags dormant; }' || fail "dormant"
ns gw nft add table ip awake || fail "awake"
ns gw nft add chain ip awake c '{ type filter hook forward priority 20; policy accept; }' || fail "awake c"
[ "$(ns gw "$MOAT" status --json | python3 -c 'import json, sys; print([(o["table"], o["chain"]) for o in json.load(sys.stdin).get("other_tables")])')" = "[('awake', 'c')]" ] &&
	echo "ok: a dormant table is not listed" || fail "a dormant table is listed"
ns gw nft delete table ip sidecar
# a drop before moat trace's mark (a netdev ingress on the LAN's device):
# no packet is seen, and trace says which chain came before it; an
# ingress that drops nothing of it is not a reason, and one that drops
# nothing at all is not named
ns gw nft -f - <<'NFT' || fail "the ingress table"
table netdev early {
	chain in {
		type filter hook ingress device gwl0 priority 0; policy accept;
		ip saddr 192.168.50.12 tcp dport 25 drop
	}
	chain idle {
		type filter hook ingress device gwl0 priority 5; policy accept;
	}
}
NFT
out=$(trace early lan "$MOAT" probe --timeout 1 --from 192.168.50.12 198.51.100.25 25 -- \
	--src 192.168.50.12 --proto tcp --dport 25 --timeout 3)
echo "$out"
case $out in
*"no packet matched in 3 s"*"sees packets from prerouting, priority -350, on"*"another table acts before it and may have dropped them: netdev early in: filter at ingress of gwl0, priority 0, policy accept, 1 rule"*)
	echo "ok: nothing seen, and the ingress chain before the mark is named" ;;
*) fail "trace does not name the chain before its mark" ;;
esac
case $out in *"early idle"*) fail "trace names an empty chain" ;; esac
ns gw nft delete table netdev early
# at most 256 base chains are read, the others counted; a dump cut by the
# ruleset's change (a table made and deleted in a loop) is read again
{
	echo "table ip many {"
	for i in $(seq 300); do echo "chain c$i { type filter hook forward priority $i; policy accept; }"; done
	echo "}"
} | ns gw nft -f - || fail "many chains"
[ "$(ns gw "$MOAT" status --json | python3 -c 'import json, sys; o = json.load(sys.stdin); print(len(o["other_tables"]), o["other_tables_more"])')" = "256 45" ] &&
	echo "ok: 256 base chains read, the others counted" || fail "the cap on base chains"
ns gw nft delete table ip many
{
	echo "table ip big {"
	echo "chain c { type filter hook forward priority 30; policy accept;"
	for i in $(seq 3000); do echo "tcp dport $i counter"; done
	echo "}"
	echo "}"
} | ns gw nft -f - || fail "big"
( for _ in $(seq 200); do ns gw nft add table ip churn; ns gw nft delete table ip churn; done ) &
churn=$!
pids="$pids $churn"
cut=0
for _ in 1 2 3 4 5; do
	ns gw "$MOAT" status --json | python3 -c 'import json, sys; o = json.load(sys.stdin); sys.exit(0 if any(c["table"] == "big" and c["rules"] == 3000 for c in o.get("other_tables", [])) else 1)' || cut=$((cut + 1))
done
kill "$churn" 2>/dev/null
wait "$churn" 2>/dev/null
[ $cut = 0 ] && echo "ok: read while the ruleset changes" || fail "$cut of 5 readings lost while the ruleset changed"
ns gw nft delete table ip big
ns gw nft delete table ip awake
out=$(ns gw "$MOAT" apply -f "$conf" 2>&1) || fail "apply after the other table: $out"
case $out in
*"another table"*|*"other tables"*) fail "an apply notes another table that is gone: $out" ;;
esac

out=$(trace dflt wan "$MOAT" probe --timeout 1 --from 2001:db8:51::26 2001:db8:50::12 22 -- \
	--src 2001:db8:51::26)
echo "$out"
case $out in
*"zone WAN: no rule matches: the default of WAN: drop"*) echo "ok: the WAN's default, over IPv6" ;;
*) fail "trace of the default deny" ;;
esac
ns gw nft list table inet moat | grep -q "chain trace_" &&
	fail "a marking chain is left: $(ns gw nft list table inet moat | grep "chain trace_")"

# The kernel gives a trace the network header cut at 40 bytes and the
# transport header apart: the ports are still the packet's behind 40
# bytes of IPv4 options and behind an IPv6 destination options header,
# whose protocol --proto names (without it, trace says it cannot see it).
cat >"$tmp/opts.py" <<'PY'
import socket, sys
if ":" in sys.argv[1]:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    # 48 bytes: next header (the kernel's), length 5, a PadN of 44
    s.setsockopt(socket.IPPROTO_IPV6, 59, bytes([0, 5, 1, 44]) + bytes(44))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # 40 bytes of options: record route of nine slots, a no-op
    s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS,
                 bytes([7, 39, 4]) + bytes(36) + bytes([1]))
s.bind((sys.argv[1], 40000))
s.sendto(b"x", (sys.argv[2], 53))
PY
out=$(trace opt4 lan python3 "$tmp/opts.py" 192.168.50.12 198.51.100.25 -- \
	--src 192.168.50.12 --dst 198.51.100.25)
echo "$out"
case $out in
*"packet 1 (trace "*"): LAN 192.168.50.12:40000 -> 198.51.100.25:53 udp"*)
	echo "ok: the ports behind 40 bytes of IPv4 options" ;;
*) fail "trace of a packet with IPv4 options" ;;
esac
out=$(trace opt6 lan python3 "$tmp/opts.py" 2001:db8:50::12 2001:db8:51::26 -- \
	--src 2001:db8:50::12 --proto udp)
echo "$out"
case $out in
*"packet 1 (trace "*"): LAN [2001:db8:50::12]:40000 -> [2001:db8:51::26]:53 udp"*)
	echo "ok: the ports behind an IPv6 destination options header" ;;
*) fail "trace of a packet with an IPv6 extension header, --proto udp" ;;
esac
out=$(trace opt6any lan python3 "$tmp/opts.py" 2001:db8:50::12 2001:db8:51::26 -- \
	--src 2001:db8:50::12)
echo "$out"
case $out in
*"packet 1 (trace "*"): LAN 2001:db8:50::12 -> 2001:db8:51::26 protocol not seen (IPv6 extension headers hide it from trace: give --proto)"*)
	echo "ok: without --proto, trace says the extension header hides the protocol" ;;
*) fail "trace of a packet with an IPv6 extension header, no --proto" ;;
esac

# A zone of 32 rules or more dispatches by source, and a blocklist entry
# is decided in the map itself (doc/design/enforcement.md): the trace
# still names the rule, as moat test does, and its counter counts.
big="$tmp/dispatch.conf"
cp "$conf" "$big"
for i in $(seq 1 40); do echo "deny on WAN from 203.0.113.$i"; done >>"$big"
echo "deny on WAN from 198.51.100.27" >>"$big"
echo "accept on WAN from 198.51.100.28" >>"$big"
ns gw "$MOAT" apply -f "$big" >/dev/null || fail "apply of the dispatched policy"
ns gw nft list map inet moat zone_WAN_v4 | grep -Eq "198\.51\.100\.27 counter packets [0-9]+ bytes [0-9]+ comment \"rule [0-9a-f]{16}\" : drop" ||
	fail "the blocklist entry is not a verdict of the map: $(ns gw nft list map inet moat zone_WAN_v4)"
for who in 27 28; do
	out=$(trace "blk$who" wan "$MOAT" probe --timeout 1 --from 198.51.100.$who 198.51.100.1 22 -- \
		--src 198.51.100.$who)
	echo "$out"
	want=$("$MOAT" test -f "$big" --in WAN --src 198.51.100.$who --dst 198.51.100.1 --service SSH)
	rule=$(echo "$want" | sed -n 's/^[a-z]* by \(rule [0-9]* (dispatch.conf:[0-9]*)\).*/\1/p')
	[ -n "$rule" ] || fail "moat test of 198.51.100.$who: $want"
	case $out in
	*"zone WAN: matches $rule "*) echo "ok: 198.51.100.$who, decided in the map: $rule, as moat test says" ;;
	*) fail "trace of 198.51.100.$who: want $rule" ;;
	esac
	n=${rule#rule }
	n=${n%% *}
	k=$(rule_counter "$big" "$n")
	[ -n "$k" ] || fail "rule $n has no counter"
	[ "$(counter "$k")" -ge 1 ] ||
		fail "rule $n's $k did not count: '$(counter "$k")'"
done

# Killed: the watchdog removes the chain.  (Started directly, not through
# a shell function, so that $! is moat trace's own pid.)
ip netns exec "${MOAT_LAB}gw" "$MOAT" trace --src 192.168.50.99 --timeout 60 >"$tmp/killed" 2>&1 &
tp=$!
for _ in $(seq 30); do
	grep -q "^tracing" "$tmp/killed" && break
	sleep 0.1
done
ns gw nft list table inet moat | grep -q "chain trace_" || fail "no marking chain while tracing"
ns gw "$MOAT" status | grep -q "not what entry" && fail "moat status calls a trace a change"
kill -9 $tp
for _ in $(seq 30); do
	ns gw nft list table inet moat | grep -q "chain trace_" || break
	sleep 0.1
done
ns gw nft list table inet moat | grep -q "chain trace_" &&
	fail "moat trace killed with -9: its marking chain stays" ||
	echo "ok: moat trace killed with -9: its watchdog removed the marking chain"
finish
