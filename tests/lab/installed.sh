#!/bin/sh
# installed.sh MOAT MOATD: moatd as a package installs it (package.sh
# calls this with /usr/bin/moat and /usr/sbin/moatd) enforces the seed's
# configuration A in the lab.
. "$(dirname "$0")/lib.sh"
MOATD=$2
cp "$top/examples/lab/seed-a.conf" "$tmp/moat.conf"
listen wan 198.51.100.25:25
ip netns exec "${MOAT_LAB}gw" "$MOATD" -f "$tmp/moat.conf" >"$tmp/moatd.log" 2>&1 &
daemon=$!
pids="$pids $daemon"
for _ in $(seq 50); do
	grep -q "applied" "$tmp/moatd.log" 2>/dev/null && break
	sleep 0.1
done
grep -q "applied" "$tmp/moatd.log" || fail "moatd: $(cat "$tmp/moatd.log")"
probe connected lan --from 192.168.50.10 198.51.100.25 25
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
kill "$daemon"
wait "$daemon" 2>/dev/null
finish
