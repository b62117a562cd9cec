#!/bin/sh
# Schedules with real traffic and the kernel's clock: a rule whose window
# is open now admits, one whose window is closed does not; when the open
# window ends (70 to 130 seconds after the start), moatd cuts the SSH
# session that only the scheduled rule admitted (its conntrack entry
# removed, the next packet meets the WAN's default deny) within a minute,
# IPv4 and IPv6, and says so in moatd's log and the firewall log; a
# session that another rule admits too goes on, rule 1's mark cleared.
. "$(dirname "$0")/lib.sh"
# A zone half an hour off UTC (no summer time): the windows are local, the
# kernel's clock UTC, so this checks moat's conversion in the kernel.
if [ -e /usr/share/zoneinfo/Asia/Kolkata ]; then
	export TZ=Asia/Kolkata
else
	export TZ=UTC
fi

# The window: opened 5 minutes ago, ending on a minute boundary at least
# 70 seconds away; the closed one, hours away.  Minutes of the local day.
now=$(date +%s)
z=$(date +%z)
off=$(python3 -c 'import time; print(time.localtime().tm_gmtoff)')
sec=$((now % 60))
minute=$(( ((now + off) / 60) % 1440 ))
if [ $sec -le 50 ]; then ahead=2; else ahead=3; fi
end=$(( (minute + ahead) % 1440 ))
edge=$(( (now / 60 + ahead) * 60 ))
start=$(( (minute + 1440 - 5) % 1440 ))
hm() { printf '%02d:%02d' $(($1 / 60)) $(($1 % 60)); }
later_start=$(( (minute + 180) % 1440 ))
later_end=$(( (minute + 240) % 1440 ))
conf=$tmp/schedule.conf
cat >"$conf" <<CONF
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64 log-default on
schedule soon daily $(hm $start)-$(hm $end)
schedule later daily $(hm $later_start)-$(hm $later_end)
accept on WAN to { 192.168.50.10, 2001:db8:50::10 } service SSH schedule soon
accept on WAN from 198.51.100.26 to 192.168.50.10 service SSH
accept on WAN to 192.168.50.11 service SSH schedule later
CONF
echo "window: $(hm $start)-$(hm $end) $TZ ($z), $((edge - now)) s from now"

ip netns exec "${MOAT_LAB}lan" python3 "$here/hold.py" serve 192.168.50.10 192.168.50.11 2001:db8:50::10 22 >"$tmp/serve.out" 2>&1 &
pids="$pids $!"
start_moatd "$conf" "applied"

# moat test agrees with the kernel, now and after the edge.
"$MOAT" test -f "$conf" --in WAN --src 198.51.100.25 --dst 192.168.50.10 \
    --service SSH >/dev/null && echo "ok: moat test: rule 1 admits now" ||
	fail "moat test: rule 1 should admit now"
after=$(date -d "@$((edge + 30))" '+%Y-%m-%d %H:%M')
out=$("$MOAT" test -f "$conf" --in WAN --src 198.51.100.25 --dst 192.168.50.10 \
    --service SSH --at "$after")
case $out in
"deny by the default of interface WAN"*"rule 1 (schedule soon) is closed"*)
	echo "ok: moat test --at \"$after\": closed" ;;
*) fail "moat test --at $after: $out" ;;
esac

for _ in $(seq 50); do
	grep -q listening "$tmp/serve.out" && break
	sleep 0.1
done
probe connected wan --from 198.51.100.27 192.168.50.10 22
probe "timed out" wan --from 198.51.100.27 192.168.50.11 22

# Sessions: A (and C, over IPv6) admitted by rule 1 alone, B by rule 1
# and rule 2.
ip netns exec "${MOAT_LAB}wan" python3 "$here/hold.py" client 198.51.100.25 192.168.50.10 22 "$tmp/a" &
pids="$pids $!"
ip netns exec "${MOAT_LAB}wan" python3 "$here/hold.py" client 2001:db8:51::25 2001:db8:50::10 22 "$tmp/c" &
pids="$pids $!"
ip netns exec "${MOAT_LAB}wan" python3 "$here/hold.py" client 198.51.100.26 192.168.50.10 22 "$tmp/b" &
pids="$pids $!"
# (each says alive once its data flows: waited for, not slept on; a
# loaded machine took more than 3 s)
for _ in $(seq 150); do
	grep -q alive "$tmp/a" && grep -q alive "$tmp/b" && grep -q alive "$tmp/c" && break
	sleep 0.1
done
grep -q alive "$tmp/a" && grep -q alive "$tmp/b" && grep -q alive "$tmp/c" &&
	echo "ok: the sessions carry data" ||
	fail "sessions: A $(cat "$tmp/a" 2>/dev/null), B $(cat "$tmp/b" 2>/dev/null), C $(cat "$tmp/c" 2>/dev/null)"
marks=$( (ns gw conntrack -L -f ipv4 -p tcp --dport 22; ns gw conntrack -L -f ipv6 -p tcp --dport 22) 2>/dev/null | grep -c "mark=1 ")
[ "$marks" -ge 3 ] && echo "ok: rule 1's sessions carry its mark" ||
	fail "conntrack marks: $(ns gw conntrack -L -p tcp --dport 22 2>&1)"

# The edge: A is cut within a minute of it, B goes on.
while [ "$(date +%s)" -lt $((edge + 65)) ]; do
	grep -q cut "$tmp/a" 2>/dev/null && break
	sleep 1
done
if grep -q cut "$tmp/a"; then
	at=$(awk '{ print $2 }' "$tmp/a")
	if [ "$at" -ge "$edge" ] && [ "$at" -le $((edge + 60)) ]; then
		echo "ok: session A cut $((at - edge)) s after the edge: $(cat "$tmp/a")"
	else
		fail "session A cut at $at, the edge is $edge: $(cat "$tmp/a")"
	fi
else
	fail "session A not cut a minute after the edge: $(cat "$tmp/a")"
fi
for _ in $(seq 10); do
	grep -q cut "$tmp/c" 2>/dev/null && break
	sleep 1
done
grep -q cut "$tmp/c" && echo "ok: session C (IPv6) cut too: $(cat "$tmp/c")" ||
	fail "session C (IPv6) not cut: $(cat "$tmp/c")"
n=$(awk '{ print $2 }' "$tmp/b")
sleep 4
if grep -q alive "$tmp/b" && [ "$(awk '{ print $2 }' "$tmp/b")" -gt "$n" ]; then
	echo "ok: session B, admitted by rule 2 too, goes on: $(cat "$tmp/b")"
else
	fail "session B: $(cat "$tmp/b")"
fi
grep -q "schedule soon closed at $(hm $end): tcp 198.51.100.25:[0-9]* -> 192.168.50.10:22 cut" "$tmp/moatd.log" &&
	echo "ok: moatd's log says the cut" || fail "moatd's log: $(grep schedule "$tmp/moatd.log")"
grep -q "tcp 198.51.100.26:[0-9]* -> 192.168.50.10:22 kept" "$tmp/moatd.log" ||
	fail "moatd's log does not say B was kept"
# The firewall log says the cut, as rule 1's.
"$MOAT" log --json >"$tmp/fw.json" 2>&1
python3 - "$tmp/fw.json" <<'PY' && echo "ok: the firewall log says the cut" || fail "the firewall log: $(cat "$tmp/fw.json")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
cut = [r for r in recs if r.get("action") == "cut"]
assert any(r["rule"] == 1 and r["src"] == "198.51.100.25" and r["dport"] == 22
           and r["in"] == "WAN" and r["line"] == 5 for r in cut), cut
assert not any(r["src"] == "198.51.100.26" for r in cut), cut
PY
"$MOAT" log --rule 1 | grep " cut by rule 1 " | head -1
# B is rule 2's now: rule 1's mark is gone from it.
ns gw conntrack -L -p tcp --dport 22 -s 198.51.100.26 2>/dev/null | grep -q "mark=0 " &&
	echo "ok: B's mark cleared" ||
	fail "B's mark: $(ns gw conntrack -L -p tcp --dport 22 -s 198.51.100.26 2>&1)"
# Now closed: a new connection is not admitted by rule 1.
probe "timed out" wan --from 198.51.100.27 192.168.50.10 22
finish
