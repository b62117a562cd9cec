#!/bin/sh
# bench_failover.sh BUILD [RUNS]: the failover time of two Internet links
# under moatd, RUNS (5) times: from the cut of the first link (its veth
# taken down by its ISP) to the first new connection that leaves through
# the second, tried every 100 ms; a session through the second link is
# checked alive after each cut.  Prints each run, then the median and the
# worst.  The lab test tests/lab/gateways.sh does the work (its
# GW_BENCH_RUNS mode); figures only, nothing passes or fails on time.
# The defaults: a probe every 250 ms, lost after 1 s, down at more than
# 20% of the last 8 lost (doc/design/gateways.md).
set -eu
build=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$build"
GW_BENCH_RUNS=${2:-5} sh "$top/tests/lab/gateways.sh" ./moat ./moatd |
    grep -E "^run |^failover|FAIL"
