#!/bin/sh
# bench_import.sh BUILD [N ...]: how long `moat import pfsense` takes on
# generated config.xml files (bench/pfsensegen) of N rules (100, 1000
# and 5000 when none is given), with its equivalence report: the whole
# command (reading the XML, the translation, moat's parse of the result,
# the report).  MOAT=path uses another moat binary (an older build) with
# this build's generator.  Prints figures (best of 3), and what the
# report says of each interface; never fails on time.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-release}
[ $# -gt 0 ] && shift
moat=${MOAT:-$(pwd)/$build/moat}
gen=$build/bench/pfsensegen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ $# -gt 0 ] || set -- 100 1000 5000

ms() { date +%s%N; }

for n in "$@"; do
	"$gen" "$n" 1 >"$tmp/c.xml"
	b=999999
	for _ in 1 2 3; do
		t0=$(ms)
		"$moat" import pfsense "$tmp/c.xml" >"$tmp/out" 2>"$tmp/err" ||
		    true
		t1=$(ms)
		t=$(( (t1 - t0) / 1000000 ))
		[ $t -lt $b ] && b=$t
	done
	printf '%6s rules: %6s ms; ' "$n" "$b"
	sed -n '/^equivalence/,$p' "$tmp/err" | grep '^  [^ ]' |
	    sed 's/^  //; s/: not compared: .*/: not compared/;
	    s/: differs:/: DIFFERS/' | tr '\n' ';' | sed 's/;$/\n/; s/;/; /g'
done
