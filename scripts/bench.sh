#!/bin/sh
# bench.sh: build optimized and print the policy benchmark's figures.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release bench/bench_policy >/dev/null
build-release/bench/bench_policy "$@"
