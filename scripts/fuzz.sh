#!/bin/sh
# fuzz.sh [SECONDS]: fuzz the config parser with libFuzzer (clang), growing
# fuzz/corpus.  Needs clang and libclang-rt-14-dev.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
out=build-fuzz
mkdir -p "$out"
clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -o "$out/fuzz_conf" fuzz/fuzz_conf.c src/*.c -lnftables -lclamav -pthread
"$out/fuzz_conf" -max_total_time="$secs" -max_len=4096 -timeout=5 \
	-artifact_prefix=fuzz/ -dict=fuzz/conf.dict fuzz/corpus
