#!/bin/sh
# bench_analyze.sh BUILD [OLD_BUILD] [RULES] [FLOWS]: analysis at scale.
# `moat check` (parse, resolve, lint with its shadowing) of the generated
# office policy of RULES rules (bench/nftgen.c, default 100000), and
# `moat test --batch` of a conntrack dump of FLOWS flows (bench/ctgen.c,
# default 1000000; three in four inside a rule of LAN, the rest random)
# replayed through it.  The replay's rate leaves out loading the policy
# and building its index: the same command on an empty dump is timed and
# taken off (two bests, each of which moves by hundreds of ms on a shared
# machine); a moat with --timing also times the three apart, from inside,
# in the same runs, and that figure is printed too.
# With OLD_BUILD (an older build's directory), the same
# commands of its moat in the same run, the ratios, and whether the two
# gave the same answers (lines the old one could not read aside).
# Best of RUNS (3) wall times; for the check, the user CPU of that run
# too, since this machine is shared.  Prints figures; never fails on time.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BUILD [OLD_BUILD] [RULES] [FLOWS]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }
build=$(abs "$1")
old=${2:-}
[ -n "$old" ] && old=$(abs "$old")
rules=${3:-100000}
flows=${4:-1000000}
runs=${RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ms() { date +%s%N; }

# best OUT CMD...: the best wall time (ms) of runs of CMD, in $best_ms,
# with that run's user CPU (ms) in $best_user; stdout to OUT.
best() {
	out=$1
	shift
	best_ms=999999999 best_user=0
	for _ in $(seq "$runs"); do
		t0=$(ms)
		/usr/bin/time -f '%U' -o "$tmp/cpu" "$@" >"$out" 2>"$tmp/err" || true
		t1=$(ms)
		t=$(( (t1 - t0) / 1000000 ))
		if [ $t -lt $best_ms ]; then
			best_ms=$t
			best_user=$(python3 -c "print(int(float('$(tail -1 "$tmp/cpu")') * 1000))")
		fi
	done
}
ratio() { python3 -c "print('%.2f' % ($1 / max($2, 1)))"; }
rate() { python3 -c "print('%.2f' % ($flows / max($1, 1) / 1000))"; }

"$build/bench/nftgen" "$rules" office "$tmp"
"$build/bench/ctgen" "$tmp/policy.conf" "$flows" LAN >"$tmp/flows"
: >"$tmp/none"
echo "analysis at scale: $rules-rule office policy, $flows-flow conntrack dump" \
    "($(wc -c <"$tmp/flows") bytes), best of $runs (ms; user CPU in brackets)"

# measure MOAT TAG: check, load, replay of one build, into ${TAG}_*: the
# best whole run less the best run on an empty dump (wall), and, from a
# moat with --timing, the best replay it timed inside (of the same runs).
measure() {
	best "$tmp/$2.check" "$1" check -f "$tmp/policy.conf"
	eval "$2_check=$best_ms $2_check_user=$best_user"
	best /dev/null "$1" test -f "$tmp/policy.conf" --in LAN --batch "$tmp/none"
	eval "$2_load=$best_ms"
	t=
	"$1" test -f "$tmp/policy.conf" --in LAN --batch "$tmp/none" --timing \
	    >/dev/null 2>&1 && t=--timing
	in_ms=999999999 in_load=0
	best_ms=999999999
	for _ in $(seq "$runs"); do
		t0=$(ms)
		"$1" test -f "$tmp/policy.conf" --in LAN --batch "$tmp/flows" \
		    $t >"$tmp/$2.batch" 2>"$tmp/err" || true
		t1=$(ms)
		w=$(( (t1 - t0) / 1000000 ))
		[ $w -lt $best_ms ] && best_ms=$w
		[ -n "$t" ] || continue
		line=$(grep 'timing: test --batch' "$tmp/err") || continue
		r=$(echo "$line" | sed 's/.* replay \([0-9]*\) ms.*/\1/')
		case $r in ''|*[!0-9]*) continue ;; esac
		if [ "$r" -lt $in_ms ]; then
			in_ms=$r
			in_load=$(echo "$line" | sed 's/.* load \([0-9]*\) ms, index \([0-9]*\) ms.*/\1 \2/' |
			    awk '{ print $1 + $2 }')
		fi
	done
	[ $in_ms -lt 999999999 ] || t=
	eval "$2_sub=$((best_ms - $2_load)) $2_in=${t:+$in_ms} $2_inload=${t:+$in_load}"
}

report() {
	eval "c=\$$1_check cu=\$$1_check_user l=\$$1_load s=\$$1_sub i=\$$1_in il=\$$1_inload"
	printf '  %-4s moat check %6d ms [%d] | test --batch: load and index %5d ms, replay %6d ms = %s M flows/s (wall less load)\n' \
	    "$1" "$c" "$cu" "$l" "$s" "$(rate $s)"
	[ -z "$i" ] || printf '  %-4s   timed inside (--timing): load and index %5d ms, replay %6d ms = %s M flows/s\n' \
	    "$1" "$il" "$i" "$(rate $i)"
}

measure "$build/moat" new
report new
if [ -n "$old" ]; then
	measure "$old/moat" old
	report old
	printf '  new/old: check %s, load and index %s, replay %s (wall less load)' \
	    "$(ratio $new_check $old_check)" "$(ratio $new_load $old_load)" \
	    "$(ratio $new_sub $old_sub)"
	[ -z "$old_in" ] || printf ', replay %s (inside)' "$(ratio $new_in $old_in)"
	echo
	if cmp -s "$tmp/new.check" "$tmp/old.check"; then
		echo "  check: the same findings"
	else
		echo "  check: FINDINGS DIFFER"
	fi
	# The old reader refused "unknown N" lines: compare the others.
	differ=$(paste -d '\n' "$tmp/old.batch" "$tmp/new.batch" | awk '
	    NR % 2 == 1 { o = $0; next }
	    o ~ /^error: / { skipped++; next }
	    o != $0 { d++ }
	    END { printf "%d %d", d, skipped }')
	echo "  replay: $(echo "$differ" | cut -d' ' -f1) answers differ," \
	    "$(echo "$differ" | cut -d' ' -f2) lines the old one could not read"
fi
