#!/bin/sh
# The differential test: random policies and flows tried for real in the
# lab; the kernel's deciding rule must equal moat test's for every flow.
# MOAT_DIFF_POLICIES and MOAT_DIFF_FLOWS scale it (default 50 x 40).
. "$(dirname "$0")/lib.sh"
labgen=$2
python3 "$here/differential.py" "$MOAT" "$labgen" "$MOAT_LAB" \
	"${MOAT_DIFF_POLICIES:-50}" "${MOAT_DIFF_FLOWS:-40}" "$tmp" || failed=1
finish
