#!/bin/sh
# bench_diff.sh BUILD: how long `moat diff` takes on generated office
# policies (bench/nftgen) of 1K, 10K and 100K rules against a copy with 10
# rules changed (4 actions changed, 3 rules deleted, 3 new ones), against
# a copy with two rules swapped (nothing changes), and against a copy
# whose LAN default changed (the whole flow space is looked at), and an
# object of 10,000 addresses that gains one (bench/policy_edit.py).  The
# command's whole time: parsing both files, the diff and printing it.
# Prints figures (best of 5); never fails on time.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-release}
moat=$(pwd)/$build/moat
gen=$build/bench/nftgen
tmp=$(mktemp -d)
export MOAT_STATE_DIR="$tmp/state"
trap 'rm -rf "$tmp"' EXIT

ms() { date +%s%N; }

# best FILE_A FILE_B: the best of 5 runs, in ms; the regions of the last.
best() {
	b=999999
	for _ in 1 2 3 4 5; do
		t0=$(ms); "$moat" diff "$1" "$2" >"$tmp/out" || true; t1=$(ms)
		t=$(( (t1 - t0) / 1000000 ))
		[ $t -lt $b ] && b=$t
	done
	echo "$b ms ($(head -1 "$tmp/out" | sed 's/.*: //'))"
}

for n in 1000 10000 100000; do
	d="$tmp/$n"
	mkdir -p "$d"
	$gen $n office "$d"
	rules=$(grep -cE '^(accept|deny|reject) ' "$d/policy.conf")
	step=$(( rules / 11 ))
	awk -v step=$step '
		/^(accept|deny|reject) / { k++
			if (k % step == 0 && k / step <= 10) {
				e = k / step
				if (e <= 4) { sub(/^accept/, "x"); sub(/^deny/, "accept"); sub(/^reject/, "deny"); sub(/^x/, "reject"); print; next }
				if (e <= 7) next
				print "accept on LAN from 10.200.0." e " to ANY service SSH"
			}
		}
		{ print }' "$d/policy.conf" >"$d/ten.conf"
	# Two neighbouring rules swapped where they do not overlap (two
	# blocklist entries of WAN): nothing changes.
	awk '/^deny on WAN from / && !done { if (held) { print; print held; done = 1; next } held = $0; next } { print }' \
	    "$d/policy.conf" >"$d/swap.conf"
	sed 's/^\(interface LAN .*\)$/\1 default deny/' "$d/policy.conf" >"$d/default.conf"
	echo "$n rules:"
	echo "  10 rules changed:     $(best "$d/policy.conf" "$d/ten.conf")"
	echo "  two rules swapped:    $(best "$d/policy.conf" "$d/swap.conf")"
	echo "  LAN's default changed: $(best "$d/policy.conf" "$d/default.conf")"
	python3 bench/policy_edit.py "$d/policy.conf" "$d/move.conf" move
	echo "  one rule moved far:   $(best "$d/policy.conf" "$d/move.conf")"
	# An object of 10,000 addresses (one rule uses it) gains one.
	python3 bench/policy_edit.py "$d/policy.conf" "$d/big.conf" big
	python3 bench/policy_edit.py "$d/big.conf" "$d/big+1.conf" big+1
	echo "  one address added to a 10,000-address object: $(best "$d/big.conf" "$d/big+1.conf")"
	echo "  (moat check of one:   $(t0=$(ms); "$moat" check -f "$d/policy.conf" >/dev/null || true; t1=$(ms); echo $(( (t1 - t0) / 1000000 ))) ms)"
done
