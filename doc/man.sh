#!/bin/sh
# man.sh IN.md OUT: a man page (roff) from its Markdown source, the one
# source of each page: the "# name(N)" title becomes the page's header,
# "## " sections and "### " subsections step up a level, as go-md2man
# (Debian's go-md2man) reads them.
set -eu
# A line that starts with a dot would be a roff request.
if grep -n '^\.' "$1" >&2; then
	echo "man.sh: $1: a line starts with '.': rewrap it" >&2
	exit 1
fi
title=$(sed -n '1s/^# \([^(]*\)(\([0-9]\)).*/\1 \2/p' "$1")
[ -n "$title" ] || { echo "man.sh: $1: no '# name(N)' title" >&2; exit 1; }
set -- "$1" "$2" $title
{
	printf '%% %s %s "moat" "moat"\n\n' "$(echo "$3" | tr a-z A-Z)" "$4"
	sed -e '1d' -e 's/^## /# /' -e 's/^### /## /' \
	    -e 's|](\([a-z0-9./-]*\)\.md)|](\1)|g' "$1"
} | go-md2man >"$2"
