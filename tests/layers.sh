#!/bin/sh
# layers.sh SRC: the layout's rules (doc/design/pipeline.md), checked on
# the include lines of src/: a folder includes only headers of the folders
# it may use, and no two files of src/ include each other in a circle.
set -u
src=$1
# folder: the folders whose headers it may include (besides its own)
allowed() {
	case $1 in
	base) echo "" ;;
	policy) echo "base" ;;
	analyze) echo "base policy" ;;
	output) echo "base policy analyze" ;;
	enforce) echo "base policy" ;;
	smtp) echo "base policy" ;;
	cli) echo "base policy analyze output enforce" ;;
	daemon) echo "base policy enforce smtp" ;;
	*) echo "?" ;;
	esac
}
failed=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in "$src"/*/*.[ch]; do
	dir=$(basename "$(dirname "$f")")
	ok=$(allowed "$dir")
	if [ "$ok" = "?" ]; then
		echo "layers: $f: a folder the layout does not know"
		failed=1
		continue
	fi
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		to=${inc%%/*}
		if [ "$to" = "$inc" ]; then
			echo "layers: $f includes \"$inc\" without its folder"
			failed=1
			continue
		fi
		echo "${f#"$src"/} $inc" >>"$edges"
		[ "$to" = "$dir" ] && continue
		case " $ok " in
		*" $to "*) ;;
		*) echo "layers: $f ($dir) includes $inc: $dir may use only: ${ok:-nothing of ours}"
		   failed=1 ;;
		esac
	done
done
# Circles between files: a file stands for its module (x.c and x.h are
# one), and an arrow is an include; tsort reports any cycle.
sed 's/\.[ch]\( \|$\)/\1/g; s/\.[ch]$//' "$edges" | awk '$1 != $2' |
    tsort >/dev/null 2>"$edges.cycle"
if [ -s "$edges.cycle" ]; then
	echo "layers: include circle:"
	cat "$edges.cycle"
	failed=1
fi
rm -f "$edges.cycle"
[ $failed = 0 ] && echo "layers: $(wc -l <"$edges") includes, every one downward, no circle"
exit $failed
