#!/bin/sh
# golden.sh MOAT CASE: one golden test.
#   ok-NAME.conf:   `moat show` must print ok-NAME.out, `moat show --json`
#                   ok-NAME.json, `moat show --nft` ok-NAME.nft (which nft -c
#                   must accept, when root), `moat check` ok-NAME.check (with
#                   its exit status on the last line), and the printed form
#                   must print back to itself (parse(print(x)) == x).
#   ok-NAME-inserted.conf: as ok-*, and every line of ok-NAME.conf's
#                   ruleset but the first must be in its own.
#   fail-NAME.conf: `moat check` must exit 2 and print fail-NAME.err on stderr.
# Set MOAT_GOLDEN_UPDATE=1 to write the expected files instead (then review
# them by hand: a golden file is only as right as the person who read it).
set -u
# Schedules are written in the kernel's clock frames of the local time
# zone (ok-schedule.nft), and moat show --json names the zone: pin it.
TZ=UTC
export TZ
moat=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
case_path=$2
dir=$(dirname "$case_path")
name=$(basename "$case_path" .conf)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$dir" || exit 1
failed=0

compare() {	# compare EXPECTED ACTUAL WHAT
	if [ "${MOAT_GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$2" "$1"
	elif ! diff -u "$1" "$2"; then
		echo "golden: $name: $3 differs from $1"
		failed=1
	fi
}

case $name in
fail-*)
	"$moat" check --offline -f "$name.conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 2 ]; then
		echo "golden: $name: moat check exited $rc, expected 2"
		failed=1
	fi
	compare "$name.err" "$tmp/err" "stderr"
	;;
ok-*)
	"$moat" show -f "$name.conf" >"$tmp/out" 2>&1 || failed=1
	compare "$name.out" "$tmp/out" "moat show"
	"$moat" show --json -f "$name.conf" >"$tmp/json" 2>&1 || failed=1
	compare "$name.json" "$tmp/json" "moat show --json"
	"$moat" check --offline -f "$name.conf" >"$tmp/check" 2>&1
	echo "exit $?" >>"$tmp/check"
	compare "$name.check" "$tmp/check" "moat check"
	"$moat" show --nft -f "$name.conf" >"$tmp/nft" 2>&1 || failed=1
	compare "$name.nft" "$tmp/nft" "moat show --nft"
	# The kernel's own parser checks it, in a throwaway network namespace.
	if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
	    command -v nft >/dev/null; then
		unshare -n nft -c -f "$tmp/nft" >"$tmp/nfterr" 2>&1 ||
		    { echo "golden: $name: nft -c refuses the ruleset:";
		    cat "$tmp/nfterr"; failed=1; }
	fi
	"$moat" show -f - <"$tmp/out" >"$tmp/again" 2>&1 || failed=1
	if ! cmp -s "$tmp/out" "$tmp/again"; then
		echo "golden: $name: printing the printed form changed it"
		diff -u "$tmp/out" "$tmp/again"
		failed=1
	fi
	# ok-NAME-inserted.conf is ok-NAME.conf with entries put above others
	# of their kind: every line of ok-NAME's ruleset (but its first, which
	# names the file) must be in its own, byte for byte, since a rule's,
	# a forward's, a nat source rule's and a 1:1 line's kernel names are
	# their ids, not their numbers (doc/design/rule-ids.md).
	case $name in
	*-inserted)
		base=${name%-inserted}
		if ! "$moat" show --nft -f "$base.conf" >"$tmp/base.nft" 2>&1 ||
		    sed 1d "$tmp/base.nft" | grep -Fxv -f "$tmp/nft" \
		    >"$tmp/gone"; then
			echo "golden: $name: lines of $base's ruleset changed:"
			cat "$tmp/gone" 2>/dev/null
			failed=1
		fi
		;;
	esac
	;;
*)
	echo "golden: $name: a case is named ok-* or fail-*"
	exit 1
	;;
esac
exit $failed
