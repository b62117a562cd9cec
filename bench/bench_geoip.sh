#!/bin/sh
# bench_geoip.sh BUILD [N]: a GeoLite2-Country-sized MMDB file (N networks,
# default 500000, of 250 countries, IPv4 and IPv6, an IPv6 tree with
# MaxMind's aliases), written by tests/data/mkmmdb.pl, then the time
# bench_geoip takes to walk it for a few countries and for all of them.
set -eu
build=$1
n=${2:-500000}
src=$(dirname "$0")/..
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$n" >"$tmp/spec" <<'PY'
import random, sys
n = int(sys.argv[1])
random.seed(1)
cc = [chr(65 + i // 26) + chr(65 + i % 26) for i in range(250)]
# IPv4: /24s spread over the space (GeoLite2's are mostly /24 to /16);
# IPv6: /48s under 2a00::/12 and 2400::/12
v4 = n * 3 // 4
for i in range(v4):
    x = (i * 2654435761) % (1 << 24)
    if x >> 16 in (0, 10, 127) or x >> 16 >= 224 << 8:
        continue
    print("%d.%d.%d.0/24 %s" % (x >> 16, (x >> 8) & 255, x & 255, random.choice(cc)))
for i in range(n - v4):
    print("%x:%x:%x::/48 %s" % (0x2a00 + (i >> 32 & 0xf), i >> 16 & 0xffff,
                                i & 0xffff, random.choice(cc)))
PY
t0=$(date +%s)
perl "$src/tests/data/mkmmdb.pl" 6 "$tmp/spec" "$tmp/big.mmdb"
echo "bench_geoip: wrote $(wc -l <"$tmp/spec") networks, $(stat -c %s "$tmp/big.mmdb") bytes, in $(( $(date +%s) - t0 )) s"
"$build/bench/bench_geoip" "$tmp/big.mmdb"
"$build/bench/bench_geoip" "$tmp/big.mmdb" $(python3 -c 'print(" ".join(chr(65 + i // 26) + chr(65 + i % 26) for i in range(250)))')
