#!/bin/sh
# The import's differential: random pfSense config.xml files and random
# iptables-save files of the lab's shape, each imported with moat import
# and applied in the lab; random flows sent for real.  For every flow the
# kernel's deciding rule must be moat test's, and its verdict the
# source's, as the equivalence report's evaluator of the source decides
# it (pf, iptables), unless the report lists that flow as differing.
# MOAT_IMPDIFF_CONFIGS and MOAT_IMPDIFF_FLOWS scale it (default 30 x 40,
# half of each kind); MOAT_IMPDIFF_SEED moves the seeds;
# MOAT_IMPDIFF_LIE=N corrupts one imported rule of the Nth config, to see
# that the test can fail.
. "$(dirname "$0")/lib.sh"
# The upstream routes the 1:1 lines' public addresses to the gateway.
ns wan ip route add 203.0.113.0/24 via 198.51.100.1
python3 "$here/import-differential.py" "$MOAT" "$2" "$MOAT_LAB" \
	"${MOAT_IMPDIFF_CONFIGS:-30}" "${MOAT_IMPDIFF_FLOWS:-40}" "$tmp" || failed=1
finish
