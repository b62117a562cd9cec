#!/bin/sh
# bench_tuplemerge.sh BUILD TUPLEMERGE DIR [OLD_BUILD]: the classifier's
# lookup time and memory next to TupleMerge's on the ClassBench 10K sets
# (acl1, fw1, ipc1) of DIR, in one run.  TUPLEMERGE is the `main` of
# TupleMerge's public reference code (github.com/drjdaly/tuplemerge),
# built outside this repository; it is run as its own benchmark runs it
# (TMOffline, its default collision limit), on the set's trace, or on the
# million packets it draws from the rules when the set has none (acl1).
# Its size is its own figure (MemSizeBytes: 19 bytes a rule, a pointer a
# hash slot and a rule), ours the bytes the structure holds.  With
# OLD_BUILD, an older build's bench_classify in the same run.  This
# machine is shared: each program runs RUNS times (default 3), taking
# turns, and the best time of each is kept.  Prints figures; never fails
# on time.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 BUILD TUPLEMERGE DIR [OLD_BUILD]" >&2; exit 2; }
build=$1 tm=$2 dir=$3 old=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=${RUNS:-3}
for r in $(seq "$runs"); do
	"$build/bench/bench_classify" "$dir" >"$tmp/new.$r"
	[ -n "$old" ] && "$old/bench/bench_classify" "$dir" >"$tmp/old.$r"
	for s in acl1_10k fw1_10k ipc1_10k; do
		trace=$dir/${s}_trace
		[ -f "$trace" ] || trace=Auto
		"$tm" f="$dir/$s" p="$trace" c=TMOffline >"$tmp/tm.$s.$r" 2>&1 || true
	done
done
printf '%-9s | %-20s | %-20s | %s\n' set "moat classifier" "TupleMerge (offline)" \
    "${old:+old moat classifier}"
# fig FILES...: the best ns and the KB of set $s in bench_classify's output
fig() { cat "$@" | awk -v s="$s" '$1 == s {
    for (i = 1; i <= NF; i++) { if ($i == "KB") kb = $(i-1); if ($i == "classifier") ns = $(i+1) }
    if (best == "" || ns < best) best = ns }
    END { printf "%4d ns %7.1f KB", best, kb }'; }
for s in acl1_10k fw1_10k ipc1_10k; do
	trace=$dir/${s}_trace
	npk=1000000
	[ -f "$trace" ] && npk=$(grep -c . "$trace")
	tm_s=$(sed -n 's/.*Classification time: \([0-9.]*\) s.*/\1/p' "$tmp"/tm.$s.* | sort -n | head -1)
	tm_b=$(sed -n 's/.*Size(bytes): \([0-9]*\).*/\1/p' "$tmp"/tm.$s.* | head -1)
	tm_fig=$(python3 -c "print('%4.0f ns %7.1f KB' % ($tm_s * 1e9 / $npk, $tm_b / 1024))" 2>/dev/null || echo "n/a")
	printf '%-9s | %-20s | %-20s | %s\n' "$s" "$(fig "$tmp"/new.*)" "$tm_fig" \
	    "$( [ -n "$old" ] && fig "$tmp"/old.* )"
done
echo
cat "$tmp/new.1"
