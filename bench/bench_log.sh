#!/bin/sh
# bench_log.sh [BUILD]: figures for the firewall log (root; builds its own
# namespaces; prints, never fails on time).
#  1. records per second moatd's logger writes to firewall.jsonl under a
#     flood of logged packets (every packet the WAN's default deny), and
#     how many the kernel could not hand over;
#  2. new connections forwarded per second through 50 rules when every
#     rule logs (each SYN logged) and when none does, in the same run.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-release}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
moat=$build/moat
moatd=$build/moatd
tmp=$(mktemp -d)
chmod 755 "$tmp"	# (moat-log reaches its directory through it)
export MOAT_LAB=benchlog- MOAT_STATE_DIR="$tmp/state" MOAT_LOG_DIR="$tmp/log" \
    MOAT_RUN_DIR="$tmp/run"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	sh scripts/lab.sh down
	rm -rf "$tmp"
}
trap cleanup EXIT
sh scripts/lab.sh up

figures() {	# written lost, once they stop changing
	last=
	while :; do
		sleep 1
		# (none yet: the logger writes its figures once it has some)
		now=$(python3 -c 'import json, os, sys
s = json.load(open(sys.argv[1])) if os.path.exists(sys.argv[1]) else {}
print(s.get("written", 0), s.get("lost_kernel", 0))' "$MOAT_RUN_DIR/firewall-log.json")
		[ "$now" = "$last" ] && break
		last=$now
	done
	echo "$now"
}
start() {	# start CONF: moatd in the gateway, its logger running
	[ -n "$pid" ] && kill "$pid" && wait "$pid" 2>/dev/null || true
	ip netns exec "${MOAT_LAB}gw" "$moatd" -f "$1" >"$tmp/moatd.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q "firewall log: NFLOG" "$tmp/moatd.log" && return 0
		sleep 0.1
	done
	echo "moatd did not start: $(cat "$tmp/moatd.log")"
	exit 1
}

cat >"$tmp/flood.conf" <<CONF
interface LAN device gwl0 address 192.168.50.1/24
interface WAN device gww0 address 198.51.100.1/24
nat masquerade on WAN
logging {
    rate 0
    max-file-size 2G
    keep 1
}
CONF
start "$tmp/flood.conf"
echo "the logger under a flood (UDP to a LAN host, each the WAN's logged default deny):"
counter() {
	ip netns exec "${MOAT_LAB}gw" nft list counter inet moat "$1" |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
port=40000
for n in 20000 100000 500000; do
	set -- $(figures)
	w0=$1 l0=$2
	c0=$(counter default_WAN)
	port=$((port + 1))
	t0=$(date +%s%N)
	ip netns exec "${MOAT_LAB}wan" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.28", int(sys.argv[2])))
for i in range(int(sys.argv[1])):
    s.sendto(b"x" * 32, ("192.168.50.10", 9))' $n $port
	t1=$(date +%s%N)
	set -- $(figures)
	c1=$(counter default_WAN)
	# The records' own times (when the logger took each): first to last.
	span=$(python3 - "$MOAT_LOG_DIR/firewall.jsonl" $port <<'PY'
import json, sys
from datetime import datetime
f = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
ts = [f(r["time"]) for r in map(json.loads, open(sys.argv[1]))
      if r["sport"] == int(sys.argv[2])]
print(max(ts[-1] - ts[0], 0.001))
PY
)
	printf '  %6d sent in %4d ms, %6d logged by the kernel: %6d records written in %.2f s = %7.0f records/s; %6d lost (%.1f%%)\n' \
	    $n $(( (t1 - t0) / 1000000 )) $((c1 - c0)) $(($1 - w0)) "$span" \
	    "$(python3 -c "print(($1 - $w0) / $span)")" $(($2 - l0)) \
	    "$(python3 -c "print(100 * ($2 - $l0) / max($c1 - $c0, 1))")"
done

echo "new connections through 50 rules (SYNs from lan to wan, best of 3 x 20000):"
rules() {	# rules LOG: 49 rules the SYNs pass, the 50th accepts them
	echo "interface LAN device gwl0 address 192.168.50.1/24"
	echo "interface WAN device gww0 address 198.51.100.1/24"
	for i in $(seq 1 49); do
		echo "deny on LAN from 10.$i.0.0/16 to ANY service SMTP$1"
	done
	echo "accept on LAN from ANY to ANY service SMTP$1"
	echo "logging {"
	echo "    rate 0"
	echo "}"
}
rules "" >"$tmp/nolog.conf"
rules " log" >"$tmp/log.conf"
for kind in nolog log; do
	start "$tmp/$kind.conf"
	best=999
	for _ in 1 2 3; do
		ip netns exec "${MOAT_LAB}gw" conntrack -F 2>/dev/null || true
		s=$(ip netns exec "${MOAT_LAB}lan" python3 bench/synsend.py 192.168.50.11 198.51.100.25 25 20000)
		best=$(python3 -c "print(min($best, $s))")
	done
	eval "t_$kind=$best"
	printf '  every rule %-9s %7.0f SYNs/s\n' "$([ $kind = log ] && echo logs: || echo silent:)" \
	    "$(python3 -c "print(20000 / $best)")"
done
set -- $(figures)
echo "  with logging / without: $(python3 -c "print(round($t_nolog / $t_log, 2))") of the rate (logger: $1 records written, $2 lost)"
