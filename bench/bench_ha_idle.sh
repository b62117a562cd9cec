#!/bin/sh
# bench_ha_idle.sh BUILD [OLD_BUILD] [RUNS]: the CPU a steady HA pair
# takes at rest (tests/lab/ha-idle.sh: each node's moatd, its children and
# its askers, 30 s), RUNS (2) times each, taking turns with OLD_BUILD when
# given.  Root (a lab of namespaces).  Prints figures; never fails on time.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BUILD [OLD_BUILD] [RUNS]" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$top/$1" ;; esac; }
new=$(abs "$1")
old=${2:-}
[ -n "$old" ] && old=$(abs "$old")
for _ in $(seq "${3:-2}"); do
	for b in $old $new; do
		echo "$b: $(sh "$top/tests/lab/ha-idle.sh" "$b/moat" "$b/moatd" 2>&1 |
		    grep '^figure' || echo 'no figure')"
	done
done
