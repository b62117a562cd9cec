#!/bin/sh
# proxy.sh BUILD_DIR: the SMTP proxy tests, on loopback in a network
# namespace of their own (so port 25 and the nft table moatd applies
# touch nothing outside).  Needs root; exit 77 (skip) without it.
set -eu
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root (network namespace, port 25)"
	exit 77
fi
exec unshare -n sh -c "ip link set lo up && exec python3 '$here/test_proxy.py' '$build'"
