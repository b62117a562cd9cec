#!/bin/sh
# bench_nft.sh: figures for enforcement (root; builds its own namespaces).
#  1. apply time of generated office policies, 1K, 10K, 100K rules: moat apply
#     (parse, compile, load) next to `nft -f` of the same rules as one naive
#     linear chain, in the same run.
#  2. the cost of a new connection through the gateway with 10 and with
#     10,000 rules that it must pass: SYNs per second from lan to wan.
# Prints figures; never fails on time.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-release}
moat=$(pwd)/$build/moat
gen=$build/bench/nftgen
tmp=$(mktemp -d)
export MOAT_LAB=bench- MOAT_STATE_DIR="$tmp/state"
cleanup() { sh scripts/lab.sh down; ip netns del bench-apply 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

ms() { date +%s%N; }
ip netns add bench-apply
echo "apply time (best of 3), generated office policies:"
for n in 1000 10000 100000; do
	mkdir -p "$tmp/$n"
	$gen $n office "$tmp/$n"
	best_m=999999 best_l=999999
	for _ in 1 2 3; do
		ip netns exec bench-apply nft delete table inet moat 2>/dev/null || true
		t0=$(ms); ip netns exec bench-apply "$moat" apply -f "$tmp/$n/policy.conf" >/dev/null; t1=$(ms)
		m=$(( (t1 - t0) / 1000000 ))
		[ $m -lt $best_m ] && best_m=$m
		# The naive chain grows quadratically in the kernel (an anonymous
		# set per rule): at 100K it takes many minutes; it is measured
		# up to 10K, once.
		if [ $n -le 10000 ] && [ $best_l = 999999 ]; then
			ip netns exec bench-apply nft delete table inet moat
			t0=$(ms); ip netns exec bench-apply nft -f "$tmp/$n/linear.nft"; t1=$(ms)
			best_l=$(( (t1 - t0) / 1000000 ))
		fi
	done
	if [ $best_l != 999999 ]; then
		printf '  %6d rules: moat apply %6d ms, the same rules as one naive linear chain %6d ms: moat/naive = %s\n' \
		    $n $best_m $best_l "$(python3 -c "print(round($best_m/max($best_l,1),2))")"
	else
		printf '  %6d rules: moat apply %6d ms (naive chain not measured: minutes)\n' $n $best_m
	fi
done

echo "new connections through the gateway (SYNs from lan to wan, best of 3 x 20000):"
sh scripts/lab.sh up
for n in 10 10000; do
	mkdir -p "$tmp/c$n"
	$gen $n miss "$tmp/c$n"
	for kind in moat linear; do
		ip netns exec bench-gw nft delete table inet moat 2>/dev/null || true
		ip netns exec bench-gw nft -f "$tmp/c$n/$kind.nft"
		best=999
		for _ in 1 2 3; do
			ip netns exec bench-gw conntrack -F 2>/dev/null || true
			s=$(ip netns exec bench-lan python3 bench/synsend.py 192.168.50.11 198.51.100.25 25 20000)
			best=$(python3 -c "print(min($best, $s))")
		done
		rate=$(python3 -c "print(int(20000/$best))")
		eval "rate_${kind}_$n=$rate"
		printf '  %5d rules, %-6s ruleset: %7d new connections/s\n' $n $kind $rate
	done
done
python3 -c "print('  10K-rule policy vs 10-rule: moat %.2fx slower, naive linear %.2fx slower' % ($rate_moat_10/$rate_moat_10000, $rate_linear_10/$rate_linear_10000))"
