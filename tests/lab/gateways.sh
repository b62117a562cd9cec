#!/bin/sh
# Two Internet links.  The gateway has WAN1 (gww0, to the lab's wan
# namespace: ISP1) and WAN2 (gww2, to a namespace isp2: ISP2); both ISPs
# reach a namespace inet, which holds the server 192.0.2.80 and the two
# monitor addresses.  Each WAN masquerades, so the server tells by the
# source which link a connection took: 198.51.100.1 is ISP1,
# 203.0.113.2 is ISP2.
#
# moatd probes both gateways (as moat-ping), sends the default route
# through the group's tier 1 (ISP1), and a rule's `gateway ISP2` sends
# 192.168.50.13's connections through ISP2 while both are up.  Then:
# - ISP1's link is cut: new connections leave through ISP2 within the
#   detection time and a second; the connections through ISP1 are
#   removed from conntrack; a session through ISP2 is not cut.
# - ISP1 comes back: new connections go back to it, a session opened
#   through ISP2 meanwhile stays there and is not cut.
# - both links are cut: nothing is removed from conntrack.
# - ISP1 drops ICMP only (the link stays up): failover all the same.
# With GW_BENCH_RUNS=N (bench/bench_failover.sh) it cuts and mends ISP1
# N times and prints the failover times, median and worst.
. "$(dirname "$0")/lib.sh"
id moat-ping >/dev/null 2>&1 || { echo "FAIL: no moat-ping user (scripts/setup.sh makes it)"; exit 1; }
extra="isp2 inet"
gw_cleanup() {
	for n in $extra; do
		ip netns del "$MOAT_LAB$n" 2>/dev/null
	done
	cleanup
}
trap gw_cleanup EXIT
for n in $extra; do
	ip netns add "$MOAT_LAB$n"
	ip -n "$MOAT_LAB$n" link set lo up
done
# ISP2's link, and the two ISPs' links to inet.
ip -n "${MOAT_LAB}isp2" link add isp0 type veth peer name gww2 netns "${MOAT_LAB}gw"
ip -n "${MOAT_LAB}wan" link add up1 type veth peer name i1 netns "${MOAT_LAB}inet"
ip -n "${MOAT_LAB}isp2" link add up2 type veth peer name i2 netns "${MOAT_LAB}inet"
ns gw ip addr add 203.0.113.2/24 dev gww2
ns isp2 ip addr add 203.0.113.1/24 dev isp0
ns wan ip addr add 10.1.0.1/30 dev up1
ns inet ip addr add 10.1.0.2/30 dev i1
ns isp2 ip addr add 10.2.0.1/30 dev up2
ns inet ip addr add 10.2.0.2/30 dev i2
for a in 192.0.2.80 192.0.2.1 192.0.2.2; do
	ns inet ip addr add $a/32 dev lo
done
for l in "gw gww2" "isp2 isp0" "isp2 up2" "wan up1" "inet i1" "inet i2"; do
	set -- $l
	ns "$1" ip link set "$2" up
done
ns inet ip route add 198.51.100.0/24 via 10.1.0.1
ns inet ip route add 203.0.113.0/24 via 10.2.0.1
ns wan ip route add 192.0.2.0/24 via 10.1.0.2
ns isp2 ip route add 192.0.2.0/24 via 10.2.0.2
ns wan sysctl -qw net.ipv4.ip_forward=1
ns isp2 sysctl -qw net.ipv4.ip_forward=1
# Replies of the other link's probes and connections come in on a device
# the main table would not send them out of: rp_filter loose, as
# moat.conf(5) asks of a gateway with two links.
ns gw sysctl -qw net.ipv4.conf.all.rp_filter=2

cat >"$tmp/gw.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24
interface WAN1 device gww0 address 198.51.100.1/24
interface WAN2 device gww2 address 203.0.113.2/24
nat masquerade on WAN1
nat masquerade on WAN2
gateway ISP1 on WAN1 via 198.51.100.25 monitor 192.0.2.1
gateway ISP2 on WAN2 via 203.0.113.1 monitor 192.0.2.2
gateway-group INTERNET ISP1 tier 1 ISP2 tier 2
accept on LAN from 192.168.50.13 to ANY gateway ISP2
CONF
"$MOAT" check -f "$tmp/gw.conf" >/dev/null || fail "check: $("$MOAT" check -f "$tmp/gw.conf")"
ip netns exec "${MOAT_LAB}inet" python3 "$here/listen.py" "$tmp/inet.log" 192.0.2.80:80 >"$tmp/inet.out" 2>&1 &
pids="$pids $!"
ip netns exec "${MOAT_LAB}inet" python3 "$here/hold.py" serve 192.0.2.80 7000 >"$tmp/hold.out" 2>&1 &
pids="$pids $!"
start_moatd "$tmp/gw.conf" "as history entry"

# state GW WANT [SECONDS]: moat status says gateway GW is WANT within
# SECONDS (10); prints how long it took
state() {
	t0=$(date +%s%N)
	for _ in $(seq $((${3:-10} * 20))); do
		if ns gw "$MOAT" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["gateways"] or {}
sys.exit(0 if any(g["name"] == sys.argv[1] and g["state"] == sys.argv[2]
                  for g in d.get("gateways", [])) else 1)' "$1" "$2"; then
			echo "ok: $1 is $2 after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
			return 0
		fi
		sleep 0.05
	done
	fail "$1 is not $2 after ${3:-10} s: $(ns gw "$MOAT" status 2>&1 | sed -n '/^Gateways/,$p')"
	return 1
}
# via SRC: the source the server saw for a new connection from SRC
via() {
	: >"$tmp/inet.log"
	ns lan "$MOAT" probe --timeout 1 --from "$1" 192.0.2.80 80 >/dev/null 2>&1
	cut -d' ' -f2 "$tmp/inet.log" | head -1
}
# expect_via SRC WANT WHAT
expect_via() {
	got=$(via "$1")
	[ "$got" = "$2" ] && echo "ok: $3: $1 leaves from $got" ||
		fail "$3: $1 left from '${got:-nowhere}', not $2"
}
# first_via SRC WANT SECONDS: ms until a new connection from SRC leaves
# from WANT (tried every 100 ms), or fails
first_via() {
	t0=$(date +%s%N)
	end=$(( t0 + $3 * 1000000000 ))
	while [ "$(date +%s%N)" -lt $end ]; do
		if [ "$(via "$1")" = "$2" ]; then
			echo $(( ($(date +%s%N) - t0) / 1000000 ))
			return 0
		fi
		sleep 0.1
	done
	echo never
	return 1
}
# hold NAME SRC: a session from SRC to the server's echo port
hold() {
	ip netns exec "${MOAT_LAB}lan" python3 "$here/hold.py" client "$2" 192.0.2.80 7000 "$tmp/$1.status" >/dev/null 2>&1 &
	pids="$pids $!"
	for _ in $(seq 50); do
		grep -q alive "$tmp/$1.status" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "session $1 from $2 did not start: $(cat "$tmp/$1.status" 2>/dev/null)"
}
# alive NAME: the session still echoes (its count grows over 2.5 s)
alive() {
	a=$(cat "$tmp/$1.status")
	sleep 2.5
	b=$(cat "$tmp/$1.status")
	case $b in
	alive*) [ "$a" != "$b" ] && echo "ok: session $1 is alive ($b)" && return 0 ;;
	esac
	fail "session $1: $a, then $b"
}
# pinned MARK: the LAN's connections in conntrack with the link mark MARK
# (the gateway's own probes carry it too, and come back at every probe)
pinned() {
	ns gw conntrack -L -f ipv4 -m "$1/0xff0000" 2>/dev/null |
	    grep -c " src=192\.168\.50\." || true
}

state ISP1 up
state ISP2 up
ns gw ip rule | grep -q "^10010:.*lookup main suppress_prefixlength 0" ||
	fail "ip rules: $(ns gw ip rule)"
ns gw ip route show table 28100 | grep -q "default via 198.51.100.25 dev gww0" ||
	fail "table 28100: $(ns gw ip route show table 28100)"
ps -o user= -p "$(pgrep -x moatd-ping | head -1)" 2>/dev/null | grep -q moat-ping &&
	echo "ok: the probe process runs as moat-ping" ||
	fail "the probe process: $(ps -eo user,comm | grep moatd-ping)"
grep -q "Seccomp:.*2" "/proc/$(pgrep -x moatd-ping | head -1)/status" &&
	echo "ok: the probe process is under its filter" ||
	fail "the probe process has no system call filter"

# Only the probes may carry a gateway's pin mark out of the gateway: a
# connection of the gateway's own with ISP1's mark is dropped, one
# without goes.
marked() {
	ns gw python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, 36, int(sys.argv[1], 0))   # SO_MARK
s.settimeout(1.5)
try:
    s.connect(("192.0.2.80", 80))
    print("connected")
except OSError as e:
    print("failed", e)' "$1"
}
case $(marked 0x10000) in
failed*) echo "ok: a packet of the gateway's own with ISP1's mark that is not a probe is dropped" ;;
*) fail "a connection with ISP1's mark left the gateway" ;;
esac
case $(marked 0) in
connected*) echo "ok: the gateway's own connection without a mark goes" ;;
*) fail "the gateway's own connection: $(marked 0)" ;;
esac

expect_via 192.168.50.12 198.51.100.1 "the default route, tier 1"
expect_via 192.168.50.13 203.0.113.2 "the rule's gateway ISP2"

if [ -n "${GW_BENCH_RUNS:-}" ]; then
	times=""
	for i in $(seq "$GW_BENCH_RUNS"); do
		hold b$i 192.168.50.13
		ns wan ip link set wan0 down
		t=$(first_via 192.168.50.12 203.0.113.2 10)
		echo "run $i: failover in $t ms"
		times="$times $t"
		alive b$i
		ns wan ip link set wan0 up
		state ISP1 up 20 >/dev/null
		expect_via 192.168.50.12 198.51.100.1 "fail back $i" >/dev/null
	done
	echo "$times" | tr ' ' '\n' | grep . | sort -n | awk '
	    { v[NR] = $1 } END { printf "failover over %d runs: median %d ms, worst %d ms\n",
	      NR, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR] }'
	finish
fi

# A session through ISP2 (the rule's), and one through ISP1 (the default).
hold a 192.168.50.13
hold d 192.168.50.12
[ "$(pinned 0x10000)" -ge 1 ] && echo "ok: ISP1's connections carry its mark" ||
	fail "no connection with ISP1's mark: $(ns gw conntrack -L -f ipv4 2>&1 | head -5)"
[ "$(pinned 0x20000)" -ge 1 ] && echo "ok: ISP2's connections carry its mark" ||
	fail "no connection with ISP2's mark"

# ISP1's link is cut.
ns wan ip link set wan0 down
t=$(first_via 192.168.50.12 203.0.113.2 10)
case $t in
never) fail "no new connection through ISP2 within 10 s of the cut" ;;
*) [ "$t" -le 4000 ] && echo "ok: failover: a new connection through ISP2 $t ms after the cut" ||
	fail "failover took $t ms (aim: under the detection time and a second)" ;;
esac
state ISP1 down
[ "$(pinned 0x10000)" = 0 ] && echo "ok: the connections through ISP1 were removed" ||
	fail "connections through ISP1 are left: $(ns gw conntrack -L -f ipv4 -m 0x10000/0xff0000 2>&1 | grep src=192.168.50)"
alive a
grep -q "gateway ISP1: down" "$tmp/moatd.log" && grep -q "connections\? through it removed (ISP2 is up)" "$tmp/moatd.log" &&
	echo "ok: the log says it" || fail "moatd's log: $(grep gateway "$tmp/moatd.log")"
ns gw "$MOAT" metrics | grep -q '^moat_gateway_up{gateway="ISP1"} 0' &&
	ns gw "$MOAT" metrics | grep -q '^moat_gateway_group_active{group="INTERNET",gateway="ISP2"} 1' &&
	echo "ok: the metrics say it" || fail "metrics: $(ns gw "$MOAT" metrics | grep gateway)"
ns gw "$MOAT" status | grep -q "group INTERNET: traffic through ISP2" &&
	echo "ok: moat status says the group's traffic goes through ISP2" ||
	fail "moat status: $(ns gw "$MOAT" status | sed -n '/^Gateways/,$p')"
# A session opened through ISP2 while ISP1 is down.
hold c 192.168.50.12

# ISP1 comes back: new connections go back, running ones stay.
ns wan ip link set wan0 up
state ISP1 up 20
expect_via 192.168.50.12 198.51.100.1 "fail back"
alive c
alive a

# Both links are cut, ISP2 first: when ISP1 goes down there is nowhere
# else to go, and nothing is removed.
hold e 192.168.50.12
ns isp2 ip link set isp0 down
state ISP2 down
ns wan ip link set wan0 down
state ISP1 down
[ "$(pinned 0x10000)" -ge 1 ] && echo "ok: with no link up, ISP1's connections are kept" ||
	fail "with both links down, ISP1's connections were removed"
grep -q "gateway ISP1: no other link is up; the connections through it are kept" "$tmp/moatd.log" ||
	fail "moatd's log: $(grep gateway "$tmp/moatd.log")"
ns wan ip link set wan0 up
ns isp2 ip link set isp0 up
state ISP1 up 20
state ISP2 up 20

# ISP1 drops ICMP only: the link stays up, its probes fail.
ns wan nft -f - <<'NFT'
table ip gwtest {
	chain forward {
		type filter hook forward priority 0;
		icmp type echo-request drop
	}
}
NFT
t=$(first_via 192.168.50.12 203.0.113.2 10)
[ "$t" != never ] && [ "$t" -le 4000 ] && echo "ok: ICMP lost: a new connection through ISP2 $t ms later" ||
	fail "ICMP lost: $t"
state ISP1 down
ns wan nft delete table ip gwtest
state ISP1 up 20
expect_via 192.168.50.12 198.51.100.1 "fail back after ICMP returns"

# A reload keeps the states, and a config without gateways takes moat's
# rules and routes away.
grep -v "^gateway\|gateway ISP2$" "$tmp/gw.conf" >"$tmp/plain.conf"
cp "$tmp/plain.conf" "$tmp/gw.conf"
kill -HUP "$moatd_pid"
for _ in $(seq 50); do
	ns gw ip rule | grep -q "^1001[0-2]:" || break
	sleep 0.1
done
ns gw ip rule | grep -q "^1001[0-2]:" && fail "moat's ip rules are left: $(ns gw ip rule)"
ns gw ip route show table 28100 2>/dev/null | grep -q default && fail "table 28100 is left"
pgrep -x moatd-ping >/dev/null && sleep 1
pgrep -x moatd-ping >/dev/null && fail "the probe process is left"
finish
