#!/bin/sh
# ha-trickle.sh: issue 21's finding 4.  From the peer's address, without
# the secret, connections on the sync link read the greeting, announce a
# 1 MB frame and send a byte every 2 s.  Meanwhile, on the node they aim
# at (gwb, the backup, with its console on):
#  - a console login (a request to moatd's root parent) answers as fast as
#    before the trickle (within 1 s);
#  - a SIGHUP reload is acted on within 1 s;
#  - a failover (gwa loses its LAN and WAN: keepalived's FAULT there,
#    MASTER here) is heard by moatd at once: gwb says master within 3 s,
#    and a new connection goes through within 3 s;
#  - the hellos between the two moatd go on (gwb heard gwa within 4 s);
#  - the trickling connections are cut, not served for ever: a frame over
#    the limit before authentication at once, one under it (500 bytes) at
#    its whole-message deadline (3 s), though a byte comes every 2 s.
LAB=$(cd "$(dirname "$0")/../.." && pwd)/scripts/halab.sh
. "$(dirname "$0")/lib.sh"
for t in keepalived conntrackd curl; do
	if ! command -v "$t" >/dev/null; then
		echo "skip: $t is needed"
		exit 77
	fi
done
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
. "$here/ha-lib.sh"

login() {	# login: "STATUS SECONDS" of a console login on gwb
	ns lan curl -sk -o /dev/null --max-time 5 -w '%{http_code} %{time_total}' \
	    -H 'Content-Type: application/json' \
	    -d '{"user":"admin","password":"admin-pass-1"}' \
	    https://192.168.50.3/api/v1/login
}

login_fast() {	# login_fast WHEN: a login within 1 s
	set -- "$1" $(login)
	echo "login $1 $3" >>"$tmp/figures"
	if [ "$2" = 200 ] && awk "BEGIN { exit !($3 < 1.0) }"; then
		echo "ok: a console login $1: $2 in $3 s"
	else
		fail "a console login $1: $2 in $3 s: $(grep console "$tmp/b/moatd.log" | tail -2)"
	fi
}

console_setup
node_conf a console
node_conf b console
listen wan 198.51.100.25:9001
start_node a
console_up a
start_node b
console_up b
wait_state a master
wait_state b backup
login_fast "before the trickle"

ip netns exec "${MOAT_LAB}gwa" python3 "$here/trickle.py" 10.99.0.2 28016 \
    10.99.0.1 3 30 >"$tmp/trickle" 2>"$tmp/trickle.err" &
trickler=$!
pids="$pids $trickler"
ip netns exec "${MOAT_LAB}gwa" python3 "$here/trickle.py" 10.99.0.2 28016 \
    10.99.0.1 2 30 500 >"$tmp/trickle-small" 2>"$tmp/trickle-small.err" &
small=$!
pids="$pids $small"
for _ in $(seq 50); do
	grep -q trickling "$tmp/trickle.err" && break
	sleep 0.1
done
grep -q trickling "$tmp/trickle.err" || fail "the trickle did not start: $(cat "$tmp/trickle.err")"
sleep 1
login_fast "during the trickle"

# A reload, heard at once.
before=$(grep -c "SIGHUP: reloading" "$tmp/b/moatd.log")
kill -HUP "$pid_b"
for i in $(seq 10); do
	[ "$(grep -c "SIGHUP: reloading" "$tmp/b/moatd.log")" -gt "$before" ] && break
	sleep 0.1
done
if [ "$(grep -c "SIGHUP: reloading" "$tmp/b/moatd.log")" -gt "$before" ]; then
	echo "ok: a reload during the trickle, acted on within $((i * 100)) ms"
else
	fail "a reload during the trickle: not acted on within 1 s"
fi

# The hellos go on: gwb heard gwa lately.
seen=$(ha_field b "int(__import__('time').time()) - d['peer']['seen']")
if [ -n "$seen" ] && [ "$seen" -le 4 ]; then
	echo "ok: gwb heard gwa's hello $seen s ago"
else
	fail "gwb has not heard gwa for $seen s"
fi

# A failover: gwa loses its LAN and WAN (not the sync cable, which the
# trickle comes over).
t0=$(date +%s%N)
ip -n "${MOAT_LAB}gwa" link set gwl0 down
ip -n "${MOAT_LAB}gwa" link set gww0 down
for _ in $(seq 100); do
	[ "$(ha_field b "d['state']")" = master ] && break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
echo "failover-state $ms" >>"$tmp/figures"
if [ "$(ha_field b "d['state']")" = master ] && [ $ms -le 3000 ]; then
	echo "ok: gwb says master $ms ms after gwa lost its links"
else
	fail "gwb says $(ha_field b "d['state']") $ms ms after gwa lost its links"
fi
reach_within "failover to gwb during the trickle"
login_fast "after the failover"

wait "$trickler" "$small"
python3 - "$tmp/trickle" "$tmp/trickle-small" <<'PY' || failed=1
import json, sys
big = json.load(open(sys.argv[1]))
small = json.load(open(sys.argv[2]))
ok = len(big) == 3 and all(c["end"] == "cut" and c["seconds"] <= 1
                           for c in big)
print(("ok: " if ok else "FAIL: ") + "connections that announce 1 MB: %s" % big)
ok2 = len(small) == 2 and all(c["end"] == "cut" and 2 <= c["seconds"] <= 5
                              for c in small)
print(("ok: " if ok2 else "FAIL: ") + "connections that trickle 500 bytes: %s"
      % small)
sys.exit(0 if ok and ok2 else 1)
PY
grep -q "refused (head): a message over its limit" "$tmp/b/moatd.log" &&
    grep -q "refused (head): too slow" "$tmp/b/moatd.log" ||
	fail "gwb did not log the refusal: $(grep 'sync link' "$tmp/b/moatd.log" | tail -3)"

echo "figures: $(tr '\n' ' ' <"$tmp/figures")"
kill $pid_a $pid_b 2>/dev/null
wait $pid_a $pid_b 2>/dev/null
finish
