#!/bin/sh
# moat's rule encoder (src/enforce/nfrule.c) against libnftables in the
# kernel, rule by rule, over a corpus of compiled rulesets
# (tests/lab/nfrule.py).  Two namespaces of its own, no traffic.
# Usage: nfrule.sh MOAT NFSEND LABGEN
set -u
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
	echo "skip: needs root, iproute2 and nftables"
	exit 77
fi
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
moat=$(abs "$1")
nfsend=$(abs "$2")
labgen=$(abs "$3")
here=$(cd "$(dirname "$0")" && pwd)
a=t$$-nfrule
b=t$$-nft
tmp=$(mktemp -d)
cleanup() {
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$a" && ip netns add "$b" || { echo "FAIL: namespaces"; exit 1; }
python3 "$here/nfrule.py" "$moat" "$nfsend" "$labgen" "$a" "$b" "$tmp" \
	"${MOAT_NFRULE_POLICIES:-40}" || exit 1
echo "nfrule.sh: all checks pass"
