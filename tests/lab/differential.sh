#!/bin/sh
# The differential test: random policies and flows tried for real in the
# lab; the kernel's deciding rule must equal moat test's for every flow,
# and the addresses it translated an accepted flow to must be moat test's.
# MOAT_DIFF_POLICIES and MOAT_DIFF_FLOWS scale it (default 50 x 40).
# The LAN side is a device with a VLAN-style name (scripts/lab.sh): its
# rules, counters and log records must work under that name.
export MOAT_LAB_LANDEV=gwl0.100
. "$(dirname "$0")/lib.sh"
labgen=$2
# The upstream routes the 1:1 lines' public addresses to the gateway.
ns wan ip route add 203.0.113.0/24 via 198.51.100.1
ns wan ip -6 route add 2001:db8:99::/64 via 2001:db8:51::1
# A third argument, moatd: every rule logs, and the firewall log's record
# of each flow must name the same rule (fewer, larger policies).
if [ $# -ge 3 ]; then
	export MOAT_LOG_DIR="$tmp/log"
	python3 "$here/differential.py" "$MOAT" "$labgen" "$MOAT_LAB" \
		"${MOAT_DIFF_POLICIES:-12}" "${MOAT_DIFF_FLOWS:-30}" "$tmp" \
		"$(cd "$(dirname "$3")" && pwd)/$(basename "$3")" || failed=1
	finish
fi
python3 "$here/differential.py" "$MOAT" "$labgen" "$MOAT_LAB" \
	"${MOAT_DIFF_POLICIES:-50}" "${MOAT_DIFF_FLOWS:-40}" "$tmp" || failed=1
finish
