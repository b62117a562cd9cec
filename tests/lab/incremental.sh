#!/bin/sh
# The incremental apply in the kernel (tests/lab/incremental.py): a random
# policy and a sequence of random edits, each applied as a difference and
# compared with the whole apply of the same policy; a difference the
# kernel refuses; an unconfirmed difference undone.  Two namespaces of its
# own, no traffic.  MOAT_INCR_RULES and MOAT_INCR_EDITS scale it (default
# 1000 and 200).
set -u
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
	echo "skip: needs root, iproute2 and nftables"
	exit 77
fi
moat=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
a=t$$-incr
b=t$$-whole
tmp=$(mktemp -d)
cleanup() {
	if [ -f "$tmp/state-incr/pending" ]; then
		kill "$(cut -d' ' -f2 "$tmp/state-incr/pending")" 2>/dev/null
	fi
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$a" && ip netns add "$b" || { echo "FAIL: namespaces"; exit 1; }
python3 "$here/incremental.py" "$moat" "$a" "$b" "$tmp" \
	"${MOAT_INCR_RULES:-1000}" "${MOAT_INCR_EDITS:-200}" "${MOAT_INCR_SEED:-27}" || exit 1
echo "incremental.sh: all checks pass"
