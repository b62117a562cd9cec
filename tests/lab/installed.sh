#!/bin/sh
# installed.sh MOAT MOATD: moatd as a package installs it (package.sh
# calls this with /usr/bin/moat and /usr/sbin/moatd) enforces the seed's
# configuration A in the lab.
. "$(dirname "$0")/lib.sh"
cp "$top/examples/lab/seed-a.conf" "$tmp/moat.conf"
listen wan 198.51.100.25:25
start_moatd "$tmp/moat.conf" applied
probe connected lan --from 192.168.50.10 198.51.100.25 25
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
stop_moatd
finish
