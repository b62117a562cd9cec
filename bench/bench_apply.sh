#!/bin/sh
# bench_apply.sh BUILD [OLD_BUILD] [SIZES]: the whole apply of the generated
# office policies (bench/nftgen.c) next to `nft -f` loading the same rules
# as one plain chain (its sets named: nftc_compile_plain), in one run, in a
# network namespace of its own.  For each size: the plain chain's load,
# moat apply's total with its phases (moat apply --timing: parse, check
# with lint, compile, history, the kernel's transaction) and peak memory,
# the ratio moat/plain; with OLD_BUILD, an older moat's total and peak
# (before/after in the same run).  Best of RUNS (default 3; 2 at 100K),
# the median beside it; the two builds take turns going first.
# Then the incremental apply (doc/design/incremental.md): on top of the
# policy in force, one rule added, changed, moved, deleted (in the middle
# of the policy: bench/policy_edit.py), `moat rollback` of the change
# (the rule changed applied untimed, then undone: "rule: rollback"), and
# one address added to an object of 10,000 addresses; each edit's apply
# total (wall, the command
# alone, timed inside the namespace; and moat's own, from --timing),
# whether it went as a difference (or whole, and why), and its phases;
# the median of IRUNS (default 7; 5 at 100K), each after a pause of PAUSE
# seconds (default 0: the memory an apply touches may then be what the
# one before freed, which this project's virtual machines give faster
# than memory their host took back; doc/design/memory.md), and with
# OLD_BUILD the old moat's taking turns with the new one, each in a
# namespace and state of its own, and new/old of the medians.  Each apply
# starts once the one before has settled (its detached fingerprint
# process ended); a whole apply starts without lint's memo.  Every state
# is first taken past the 32 configs its history keeps whole (seed).
# Last at each size, the floor: nft -f adding one rule to moat's table.
# Root.  Prints figures; never fails on time.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BUILD [OLD_BUILD] [SIZES]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }
build=$(abs "$1")
old=${2:-}
[ -n "$old" ] && old=$(abs "$old")
sizes=${3:-1000 10000 100000}
[ "${IRUNS:-1}" -ge 1 ] 2>/dev/null || { echo "bench_apply: IRUNS must be 1 or more" >&2; exit 2; }
pause=${PAUSE:-0}
[ "$pause" -ge 0 ] 2>/dev/null || { echo "bench_apply: PAUSE must be whole seconds" >&2; exit 2; }
moat=$build/moat
gen=$build/bench/nftgen
ns_new=bench-apply-$$
ns_old=bench-apply-old-$$
ns=$ns_new
tmp=$(mktemp -d)
cleanup() {
	ip netns del "$ns_new" 2>/dev/null || true
	ip netns del "$ns_old" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
# (dash runs the EXIT trap on a signal only when the signal exits)
trap 'exit 130' INT TERM HUP
ip netns add "$ns_new"
[ -n "$old" ] && ip netns add "$ns_old"
in_ns() { ip netns exec "$ns" "$@"; }
drop() { in_ns nft delete table inet moat 2>/dev/null || true; }
# drop, then a pause: the kernel frees a deleted table's rules, sets and
# chains after the transaction, in the background, and a load timed at
# once shares the machine with it (the build timed right after the plain
# chain's deletion came out 7-25% slower than the one timed after it,
# whichever build it was).
drop_quiet() { drop; sleep "$quiet"; }

# run CMD...: CMD run in the namespace, its wall time in ms in $ran_ms,
# its stdout in $tmp/out, its stderr in $tmp/err, and, when it says one
# (moat apply --timing), its
# peak memory in $ran_kb: the larger of its own and its loading child's
# (0 when it says none).  The clock runs inside the namespace, around the
# command alone: `ip netns exec`'s own set-up (a mount namespace, /sys
# mounted again: some 20 ms here) is the bench's, not part of an apply an
# administrator waits for; and the clock is bash's own, with no date(1)
# or /usr/bin/time started around the command (each a process more:
# 5-10 ms on this project's machines, as much as /bin/true takes).
run() {
	rm -f "$tmp/ms"
	ip netns exec "$ns" bash -c 't0=${EPOCHREALTIME//[!0-9]/}
	    "$@" >"$0/out" 2>"$0/err"
	    rc=$?
	    t1=${EPOCHREALTIME//[!0-9]/}
	    echo $(( (t1 - t0) / 1000 )) >"$0/ms"
	    exit $rc' "$tmp" "$@"
	ran_ms=$(cat "$tmp/ms")
	ran_kb=$(sed -n "s/.*peak memory \([0-9]*\) kB, of the kernel's child \([0-9]*\) kB.*/\1 \2/p" \
	    "$tmp/err" | awk '{ print ($1 > $2 ? $1 : $2) }')
	ran_kb=${ran_kb:-0}
}
ratio() { python3 -c "print('%.2f' % ($1 / max($2, 1)))"; }

# settle MOAT: wait (up to 60 s) until no process of binary MOAT runs: a
# whole apply over 1 MB leaves a detached process reading the table back
# (its drift fingerprint), which would take a core from the next apply
# (and moat's phases run in threads only when a core is idle).
settle() {
	for _ in $(seq 300); do
		pgrep -f "^$1 " >/dev/null || return 0
		sleep 0.2
	done
}

# seed MOAT STATE: STATE's history past the 32 configs it keeps whole, as
# an office's is after a month of applies (33 applies of the policy, the
# table deleted after): each apply after then keeps an older config as
# its difference from the next (doc/design/history.md), and the bench's
# applies pay for that as an administrator's do.
seed() {
	drop
	for _ in $(seq 33); do
		in_ns env MOAT_STATE_DIR="$2" "$1" apply -f "$d/policy.conf" \
		    >/dev/null 2>"$tmp/err" || {
			echo "bench_apply: $1 apply (seeding $2): $(tail -1 "$tmp/err")" >&2
			exit 1
		}
		settle "$1"
	done
	drop
}

# incr_ready MOAT STATE NS: NS's table and STATE as an office's: the
# history seeded, the policy applied whole.
incr_ready() {
	ns=$3
	drop
	rm -rf "$2"
	seed "$1" "$2"
	in_ns env MOAT_STATE_DIR="$2" "$1" apply --whole -f "$d/policy.conf" >/dev/null 2>&1
	settle "$1"
}

# median FILE: the median of FILE's first column (the lower of the two
# middle ones for an even count).
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# incremental: each edit of $d applied on top of the policy in force, by
# the new moat in namespace $ns_new and, with OLD_BUILD, the old one in
# $ns_old (a table and state each), taking turns apply by apply so that a
# slow spell of the machine falls on both: $iruns each.  For each build:
# the median wall time (and the best), moat's own median total, whether
# it went as a difference (or whole, and why) and the phases of the
# median run; then new/old of the medians.  Best-of figures favoured the
# build whose runs met a quiet moment (incremental.md, "The compile
# beside the check"): the medians are the ones to compare.
# pick BUILD: im, st and ns of build new or old.
pick() {
	if [ $1 = new ]; then im=$moat st=$d/incr-state ns=$ns_new
	else im=$old/moat st=$d/old-incr-state ns=$ns_old; fi
}

incremental() {
	builds=new
	[ -n "$old" ] && builds="new old"
	for kind in add change move delete rollback big+1; do
		base=$d/policy.conf
		[ $kind = big+1 ] && base=$d/big.conf
		for b in $builds; do
			rm -f "$tmp/inc-$b" "$tmp/own-$b" "$tmp/ph-$b"
			# (whole: the summary of 10,000 new addresses takes long)
			if [ $kind = big+1 ]; then
				pick $b
				in_ns env MOAT_STATE_DIR="$st" "$im" apply --whole -f "$base" >/dev/null 2>&1
				settle "$im"
			fi
		done
		# (the kernel frees the tables the whole applies replaced)
		[ $kind = big+1 ] && sleep "$quiet"
		turn=0
		for _ in $(seq $iruns); do
			# (each build first in every other turn)
			order=$builds
			[ -n "$old" ] && [ $((turn % 2)) -eq 1 ] && order="old new"
			turn=$((turn + 1))
			for b in $order; do
				pick $b
				if [ $kind = rollback ]; then
					# (the change in force first, untimed)
					in_ns env MOAT_STATE_DIR="$st" "$im" apply -f "$d/change.conf" >/dev/null 2>&1
					settle "$im"
				fi
				[ "$pause" -eq 0 ] || sleep "$pause"
				if [ $kind = rollback ]; then
					# (no phases: a rollback says only which way
					# it went, and why when whole)
					run env MOAT_STATE_DIR="$st" "$im" rollback
					how=whole
					grep -q '^moat: incremental:' "$tmp/out" && how=incremental
					why=$(grep '^moat: whole:' "$tmp/out" | sed 's/^moat: whole: //')
					ph=
					echo "$ran_ms" >>"$tmp/inc-$b"
					printf '%s\t%s\t%s\t%s\n' "$ran_ms" "$how" "$why" "-" >>"$tmp/ph-$b"
					settle "$im"
					continue
				fi
				run env MOAT_STATE_DIR="$st" "$im" apply --timing \
				    -f "$d/$kind.conf"
				how=$(grep -o 'timing: [a-z]* apply' "$tmp/err" | cut -d' ' -f2)
				why=$(grep '^moat: whole apply:' "$tmp/err" | sed 's/^moat: whole apply: //')
				ph=$(grep 'timing:' "$tmp/err" | sed 's/^moat: timing: [a-z]* apply: //')
				own=$(echo "$ph" | sed -n 's/.* total \([0-9]*\) ms.*/\1/p')
				echo "$ran_ms" >>"$tmp/inc-$b"
				# (a run that says no total is left out of it)
				[ -n "$own" ] && echo "$own" >>"$tmp/own-$b"
				printf '%s\t%s\t%s\t%s\n' "$ran_ms" "$how" "$why" "$ph" >>"$tmp/ph-$b"
				in_ns env MOAT_STATE_DIR="$st" "$im" apply -f "$base" >/dev/null 2>&1
				settle "$im"
			done
		done
		for b in $builds; do
			med=$(median "$tmp/inc-$b")
			eval "med_$b=\$med"
			best=$(sort -n "$tmp/inc-$b" | head -1)
			line=$(awk -F '\t' -v m="$med" '$1 == m { print; exit }' "$tmp/ph-$b")
			how=$(echo "$line" | cut -f2)
			why=$(echo "$line" | cut -f3)
			label=moat
			[ $b = old ] && label="old moat"
			ownmed=-
			[ -s "$tmp/own-$b" ] && ownmed=$(median "$tmp/own-$b")
			printf '                %s %-6s one %-6s median %6d ms (best %d; %s x whole; moat'"'"'s own median %s ms)%s\n' \
			    "$label" "$how" \
			    "$( [ $kind = big+1 ] && echo address || echo rule: $kind)" \
			    "$med" "$best" "$(ratio $med $best_m)" \
			    "$ownmed" "${why:+: $why}"
			printf '                  phases (the median run): %s\n' "$(echo "$line" | cut -f4)"
		done
		[ -n "$old" ] && printf '                new/old of the medians: %s\n' \
		    "$(ratio $med_new $med_old)"
	done
	floor
	return 0
}

# floor: what the tool itself takes to add one rule to moat's table in
# force (nft -f of "add rule ... counter accept" in a chain of the
# dispatch, its cache read and the kernel's commit, which checks the
# whole table's jumps), $iruns times in the new build's namespace, each
# rule taken out again untimed: the least an incremental apply of one
# rule can cost on this machine, beside moat's own figures above.
floor() {
	pick new
	# (the policy's table again: the last edit left big.conf's)
	in_ns env MOAT_STATE_DIR="$st" "$im" apply -f "$d/policy.conf" >/dev/null 2>&1
	settle "$im"
	f=$(ls "$st/history" | grep '\.nft$' | sort -n | tail -1)
	chain=$(grep -m1 -o 'chain zone_[A-Za-z0-9_]*_v4_[0-9a-f]*' "$st/history/$f" 2>/dev/null | cut -d' ' -f2)
	if [ -z "$chain" ]; then
		echo "                (no chain of the dispatch found: the floor is left out)"
		return 0
	fi
	echo "add rule inet moat $chain counter accept comment \"bench floor\"" >"$tmp/floor.nft"
	rm -f "$tmp/fl"
	for _ in $(seq $iruns); do
		run nft -f "$tmp/floor.nft"
		echo "$ran_ms" >>"$tmp/fl"
		h=$(in_ns nft -a list chain inet moat "$chain" |
		    sed -n 's/.*"bench floor" # handle \([0-9]*\).*/\1/p' | tail -1)
		[ -n "$h" ] && in_ns nft delete rule inet moat "$chain" handle "$h"
	done
	printf '                the floor: nft -f adding one rule to this table, median %d ms (best %d)\n' \
	    "$(median "$tmp/fl")" "$(sort -n "$tmp/fl" | head -1)"
}

echo "whole apply, generated office policies (best of runs and median; ms, peak kB;"
echo "each state's history past the configs it keeps whole):"
for n in $sizes; do
	d=$tmp/$n
	mkdir -p "$d"
	"$gen" "$n" office "$d"
	runs=3
	[ "$n" -ge 100000 ] && runs=2
	seed "$moat" "$d/state"
	[ -n "$old" ] && seed "$old/moat" "$d/old-state"
	quiet=1
	[ "$n" -ge 100000 ] && quiet=3
	best_p=999999999 best_m=999999999 best_o=999999999 phases= m_kb=0 o_kb=0
	rm -f "$tmp/wp" "$tmp/wm" "$tmp/wo"
	wturn=0
	for _ in $(seq $runs); do
		drop_quiet
		run nft -f "$d/plain.nft"
		echo "$ran_ms" >>"$tmp/wp"
		[ $ran_ms -lt $best_p ] && best_p=$ran_ms
		# (the two builds take turns first, round by round)
		worder=new
		[ -n "$old" ] && worder="new old"
		[ -n "$old" ] && [ $((wturn % 2)) -eq 1 ] && worder="old new"
		wturn=$((wturn + 1))
		for b in $worder; do
			drop_quiet
			if [ $b = new ]; then
				# (lint finds every rule, none from a memo)
				rm -f "$d/state/lint.memo"
				run env MOAT_STATE_DIR="$d/state" "$moat" apply \
				    --timing -f "$d/policy.conf"
				settle "$moat"
				echo "$ran_ms" >>"$tmp/wm"
				if [ $ran_ms -lt $best_m ]; then
					best_m=$ran_ms m_kb=$ran_kb
					phases=$(grep 'timing:' "$tmp/err" | sed 's/^moat: timing: //')
				fi
			else
				rm -f "$d/old-state/lint.memo"
				run env MOAT_STATE_DIR="$d/old-state" "$old/moat" \
				    apply --timing -f "$d/policy.conf"
				settle "$old/moat"
				echo "$ran_ms" >>"$tmp/wo"
				[ $ran_ms -lt $best_o ] && best_o=$ran_ms o_kb=$ran_kb
			fi
		done
	done
	drop
	med_p=$(median "$tmp/wp")
	med_m=$(median "$tmp/wm")
	printf '  %6d rules: nft -f plain chain %6d ms (median %d) | moat apply %6d ms (median %d; %s x plain, medians %s), peak %d kB\n' \
	    "$n" $best_p $med_p $best_m $med_m "$(ratio $best_m $best_p)" \
	    "$(ratio $med_m $med_p)" $m_kb
	printf '                phases: %s\n' "$phases"
	if [ -n "$old" ]; then
		med_o=$(median "$tmp/wo")
		printf '                old moat apply %6d ms (median %d; %s x plain), peak %d kB: new/old %s, medians %s\n' \
		    $best_o $med_o "$(ratio $best_o $best_p)" $o_kb \
		    "$(ratio $best_m $best_o)" "$(ratio $med_m $med_o)"
	fi
	# The incremental apply: each edit on top of the policy in force,
	# then the policy put back; with OLD_BUILD, the old moat's taking
	# turns with it (its own namespace and state: incremental above).
	python3 "$root/bench/policy_edit.py" "$d/policy.conf" "$d/big.conf" big
	python3 "$root/bench/policy_edit.py" "$d/big.conf" "$d/big+1.conf" big+1
	for kind in add change move delete; do
		python3 "$root/bench/policy_edit.py" "$d/policy.conf" "$d/$kind.conf" $kind
	done
	iruns=${IRUNS:-7}
	[ "$n" -ge 100000 ] && iruns=${IRUNS:-5}
	incr_ready "$moat" "$d/incr-state" "$ns_new"
	[ -n "$old" ] && incr_ready "$old/moat" "$d/old-incr-state" "$ns_old"
	incremental
	ns=$ns_old
	[ -n "$old" ] && drop
	ns=$ns_new
	drop
done
