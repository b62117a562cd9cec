#!/bin/sh
# import.sh MOAT CASE: one test of moat import.
#   pfsense-NAME.xml, opnsense-NAME.xml, iptables-NAME.rules: `moat
#       import KIND` must print
#       NAME's .conf on stdout and its .err on stderr (the notes, then
#       "exit N"), and `moat check` must take the .conf (exit 0 or 1);
#       -o writes the same file, and refuses one that exists.
#   fail-NAME.xml, fail-NAME.rules: `moat import pfsense` (iptables)
#       must exit 2 with .err.
# MOAT_GOLDEN_UPDATE=1 writes the expected files (then read them).
set -u
moat=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(dirname "$2")
file=$(basename "$2")
name=${file%.*}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$dir" || exit 1
failed=0

compare() {	# compare EXPECTED ACTUAL
	if [ "${MOAT_GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$2" "$1"
	elif ! diff -u "$1" "$2"; then
		echo "import: $name: differs from $1"
		failed=1
	fi
}

case $file in
opnsense-*) kind=opnsense ;;
*.rules) kind=iptables ;;
*) kind=pfsense ;;
esac
"$moat" import $kind "$file" >"$tmp/out" 2>"$tmp/err"
echo "exit $?" >>"$tmp/err"
compare "$name.err" "$tmp/err"
case $name in
fail-*)
	[ -s "$tmp/out" ] && { echo "import: $name: wrote a config"; failed=1; }
	;;
*)
	compare "$name.conf" "$tmp/out"
	"$moat" check --offline -f "$tmp/out" >"$tmp/check" 2>&1
	rc=$?
	if [ $rc -ge 2 ]; then
		cat "$tmp/check"
		echo "import: $name: moat check exited $rc"
		failed=1
	fi
	"$moat" import $kind "$file" -o "$tmp/o.conf" 2>/dev/null
	if ! cmp -s "$tmp/o.conf" "$tmp/out"; then
		echo "import: $name: -o wrote another file than stdout"
		failed=1
	fi
	if "$moat" import $kind "$file" -o "$tmp/o.conf" 2>"$tmp/err2" ||
	    ! grep -q "exists" "$tmp/err2"; then
		echo "import: $name: -o overwrote a file"
		failed=1
	fi
	;;
esac
exit $failed
