#!/bin/sh
# bench_feeds.sh BUILD [ENTRIES]: a url object of ENTRIES (1,000,000)
# addresses and networks under moatd, next to nft loading the same set.
#
#   nft -f        the set from a file, into an empty table (the baseline)
#   first load    moatd's feed process reads the list (file://), the parent
#                 fills the set: from moatd's start to the set in the
#                 kernel, and the kernel's transaction alone
#   1% refresh    1% of the entries replaced: moatd's kernel transaction
#                 (elements deleted and added), and its whole time
#   memory        VmHWM of moatd's parent and of its feed process
#
# Figures only; nothing passes or fails on time.  Root; a network
# namespace of its own, removed at the end.
set -eu
build=$(cd "$1" && pwd)
n=${2:-1000000}
ns=bench-feeds-$$
tmp=$(mktemp -d)
chmod 711 "$tmp"
moatd_pid=
cleanup() {
	[ -n "${KEEP_LOG:-}" ] && cp "$tmp/moatd.log" "$KEEP_LOG"
	[ -n "$moatd_pid" ] && kill "$moatd_pid" 2>/dev/null && wait "$moatd_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up

# The list: hosts and networks, as blocklists have them; none inside
# another (nft -f refuses overlapping elements; moat would merge them).
python3 - "$n" "$tmp/list.txt" "$tmp/new.txt" <<'PY'
import random, sys
n, out, new = int(sys.argv[1]), sys.argv[2], sys.argv[3]
r = random.Random(25)
seen = set()
nets = set()
lines = []
while len(lines) < n:
    a = r.randrange(1 << 24, 223 << 24)
    if a >> 8 in nets:
        continue
    if r.random() < 0.1:
        a &= ~0xff
        s = "%d.%d.%d.%d/24" % (a >> 24, a >> 16 & 255, a >> 8 & 255, 0)
        nets.add(a >> 8)
    else:
        s = "%d.%d.%d.%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255)
    if s not in seen:
        seen.add(s)
        lines.append(s)
# hosts inside a network chosen after them: dropped
lines = [l for l in lines if "/" in l or
         (lambda p: (p[0] << 16 | p[1] << 8 | p[2]) not in nets)(
             [int(x) for x in l.split(".")])]
n = len(lines)
open(out, "w").write("# bench list\n" + "\n".join(lines) + "\n")
# 1%: as many replaced by new ones
k = n // 100
for i in r.sample(range(n), k):
    while True:
        a = r.randrange(1 << 24, 223 << 24)
        s = "%d.%d.%d.%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255)
        if s not in seen and a >> 8 not in nets:
            seen.add(s)
            lines[i] = s
            break
open(new, "w").write("# bench list\n" + "\n".join(lines) + "\n")
PY
chmod 644 "$tmp/list.txt" "$tmp/new.txt"

# nft's own: the same elements, one set, one file.
{
	echo "table inet bench {"
	echo "  set big { type ipv4_addr; flags interval; elements = {"
	grep -v '^#' "$tmp/list.txt" | sed 's/$/,/'
	echo "  } }"
	echo "}"
} >"$tmp/set.nft"
t0=$(date +%s%N)
ip netns exec "$ns" nft -f "$tmp/set.nft"
t1=$(date +%s%N)
nft_ms=$(( (t1 - t0) / 1000000 ))
echo "bench_feeds: nft -f took $nft_ms ms" >&2
ip netns exec "$ns" nft delete table inet bench

cat >"$tmp/moat.conf" <<EOF
interface LAN device lo address 127.0.0.1/8
console off
object big url file://$tmp/list.txt refresh 10s
deny on LAN from big to ANY
EOF
chmod 644 "$tmp/moat.conf"
export MOAT_STATE_DIR=$tmp/state MOAT_RUN_DIR=$tmp/run MOAT_LOG_DIR=$tmp/log
export MOAT_CONF_DIR=$tmp
mkdir -p "$MOAT_STATE_DIR"
t0=$(date +%s%N)
ip netns exec "$ns" "$build/moatd" -f "$tmp/moat.conf" >"$tmp/moatd.log" 2>&1 &
moatd_pid=$!
# wait_feed N: until moatd's log has N lines about feed big
wait_feed() {
	for _ in $(seq 3600); do
		[ "$(grep -c 'feed big:' "$tmp/moatd.log")" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "bench_feeds: moatd did not load the list: $(tail -5 "$tmp/moatd.log")" >&2
	exit 1
}
wait_feed 1
t1=$(date +%s%N)
first_ms=$(( (t1 - t0) / 1000000 ))
first_kernel=$(grep 'feed big:' "$tmp/moatd.log" | head -1 | sed -n 's/.*transaction: \([0-9]*\) ms.*/\1/p')
elements=$(grep 'feed big:' "$tmp/moatd.log" | head -1 | sed -n 's/.*feed big: \([0-9]*\) element.*/\1/p')
feedd_pid=$(pgrep -P "$moatd_pid" -x moatd-feeds | head -1)
hwm() { sed -n 's/VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
parent_first=$(hwm "$moatd_pid")
child_first=$(hwm "$feedd_pid")

cp "$tmp/new.txt" "$tmp/list.txt"
t0=$(date +%s%N)
wait_feed 2
t1=$(date +%s%N)
refresh_kernel=$(grep 'feed big:' "$tmp/moatd.log" | sed -n 2p | sed -n 's/.*transaction: \([0-9]*\) ms.*/\1/p')
changed=$(grep 'feed big:' "$tmp/moatd.log" | sed -n 2p | sed -n 's/.*feed big: \([0-9]*\) element.*/\1/p')
parent_refresh=$(hwm "$moatd_pid")
child_refresh=$(hwm "$feedd_pid")
# One entry replaced: what a transaction costs whatever its size.
sed -i '2s/.*/203.0.113.77/' "$tmp/list.txt"
wait_feed 3
one_kernel=$(grep 'feed big:' "$tmp/moatd.log" | sed -n 3p | sed -n 's/.*transaction: \([0-9]*\) ms.*/\1/p')
one_changed=$(grep 'feed big:' "$tmp/moatd.log" | sed -n 3p | sed -n 's/.*feed big: \([0-9]*\) element.*/\1/p')

# A reload (a whole apply) with the set in force: the elements go inline.
t0=$(date +%s%N)
kill -HUP "$moatd_pid"
for _ in $(seq 3600); do
	[ "$(grep -c 'as history entry' "$tmp/moatd.log")" -ge 2 ] && break
	sleep 0.05
done
t1=$(date +%s%N)
reload_ms=$(( (t1 - t0) / 1000000 ))
t0=$(date +%s%N)
ip netns exec "$ns" "$build/moat" status >/dev/null 2>&1 || true
t1=$(date +%s%N)
status_ms=$(( (t1 - t0) / 1000000 ))
parent_reload=$(hwm "$moatd_pid")

echo "bench_feeds: a url object of $n entries ($elements set elements)"
echo "  nft -f, the same set from a file:        $nft_ms ms"
echo "  moatd, first load (start to kernel):     $first_ms ms (the kernel's transaction $first_kernel ms; ratio to nft -f $(awk "BEGIN { printf \"%.2f\", $first_kernel / $nft_ms }"))"
echo "  moatd, 1% refresh ($changed elements changed): the kernel's transaction $refresh_kernel ms"
echo "  moatd, one entry replaced ($one_changed elements changed): the kernel's transaction $one_kernel ms"
echo "  memory (VmHWM), after the first load:   moatd $((parent_first / 1024)) MB, moatd-feeds $((child_first / 1024)) MB"
echo "  memory (VmHWM), after the refresh:      moatd $((parent_refresh / 1024)) MB, moatd-feeds $((child_refresh / 1024)) MB"
echo "  moatd reload (a whole apply, the set inline): $reload_ms ms; VmHWM after it: moatd $((parent_reload / 1024)) MB"
echo "  moat status (drift over netlink) with the set in force: $status_ms ms"
