#!/bin/sh
# replay.sh MOAT CTGEN NFTGEN SOURCE_ROOT: `moat test --batch` on
# conntrack dumps of bench/ctgen.c.  Every interface of every golden ok-
# config and example (addresses dynamic and feeds' objects, empty until
# filled, included): ctgen writes its dump and every line is answered.
set -u
moat=$1 ctgen=$2 nftgen=$3 root=$4
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
for c in "$root"/tests/golden/ok-*.conf "$root"/examples/*.conf; do
	for i in $(sed -n 's/^interface[ 	]\{1,\}\([^ 	]*\).*/\1/p' "$c"); do
		n=$((n + 1))
		if ! "$ctgen" "$c" 300 "$i" >"$tmp/dump" 2>"$tmp/err"; then
			echo "FAIL: ctgen $c $i"
			sed 's/^/  /' "$tmp/err"
			failed=1
			continue
		fi
		"$moat" test -f "$c" --in "$i" --batch "$tmp/dump" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ $rc != 0 ] || [ "$(wc -l <"$tmp/out")" != 300 ]; then
			echo "FAIL: replay of ctgen's dump of $c, $i: exit $rc, $(wc -l <"$tmp/out") answers"
			sed 's/^/  /' "$tmp/err" | head -5
			failed=1
		fi
	done
done
[ $n -ge 20 ] || { echo "FAIL: only $n interfaces"; failed=1; }
echo "ctgen and the replay: $n interfaces of the golden configs and examples"
exit $failed
