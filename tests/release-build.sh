#!/bin/sh
# release-build.sh SRC: the tree built as the package builds it (release,
# -O3) with warnings as errors.  The suite's own build is -O0, and the
# optimizer finds warnings (maybe-uninitialized) that -O0 does not.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
meson setup "$dir" "$1" --buildtype=release -Dwerror=true >/dev/null ||
	{ echo "FAIL: meson setup"; exit 1; }
if ! out=$(ninja -C "$dir" 2>&1); then
	echo "$out" | grep -E "error|warning" | head -20
	echo "FAIL: the release build has warnings"
	exit 1
fi
echo "release build: no warnings"
