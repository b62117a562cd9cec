#!/bin/sh
# The lab's random-flow differential after long sequences of incremental
# applies (tests/lab/incremental-flows.py): a random lab policy, rounds of
# random edits each applied as a difference, and after each round random
# flows sent for real through the gateway, whose verdicts, counters and
# translations in the kernel must be the ones moat test gives on the
# policy as it is then.  MOAT_INCRFLOWS_EDITS, MOAT_INCRFLOWS_FLOWS,
# MOAT_INCRFLOWS_ROUNDS and MOAT_INCRFLOWS_SEED scale and move it (default
# 3 rounds of 100 edits and 300 flows, seed 27).
. "$(dirname "$0")/lib.sh"
labgen=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
# The upstream routes the 1:1 lines' public addresses to the gateway.
ns wan ip route add 203.0.113.0/24 via 198.51.100.1
ns wan ip -6 route add 2001:db8:99::/64 via 2001:db8:51::1
python3 "$here/incremental-flows.py" "$MOAT" "$labgen" "$MOAT_LAB" "$tmp" \
	"${MOAT_INCRFLOWS_EDITS:-100}" "${MOAT_INCRFLOWS_FLOWS:-300}" \
	"${MOAT_INCRFLOWS_SEED:-27}" "${MOAT_INCRFLOWS_ROUNDS:-3}" || failed=1
finish
