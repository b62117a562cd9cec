#!/bin/sh
# Gateways, the kernel's part (doc/design/gateways.md): the marks moat's
# ruleset sets, with routes and ip rules made by hand here in place of
# moatd's (the test's own, each marked "the test's").  A second WAN
# namespace, wan2, reaches the same "Internet" server (203.0.113.80,
# 2001:db8:80::80) as wan.  Checked: a rule's gateway option sends its
# connections out of that link (IPv4 and IPv6) while the default route
# goes through the other; each connection's ct mark carries the pin mark
# of the gateway it left by, beside a schedule's bits; a running
# connection stays on its link when the default route moves (its packets
# carry the pin mark again); a connection to a WAN's own network is not
# policy routed.
. "$(dirname "$0")/lib.sh"
trap 'ip netns del "${MOAT_LAB}wan2" 2>/dev/null; cleanup' EXIT

# The second link: gw's gww1 100.64.0.1 / 2001:db8:64::1, wan2 the ISP's
# router 100.64.0.2 / 2001:db8:64::2.
ip netns add "${MOAT_LAB}wan2"
ns wan2 ip link set lo up
ns wan2 sysctl -qw net.ipv6.conf.all.accept_dad=0
ns wan2 sysctl -qw net.ipv6.conf.default.accept_dad=0
ns wan2 ip link add wan2-0 type veth peer name gww1 netns "${MOAT_LAB}gw"
ns wan2 ip addr add 100.64.0.2/24 dev wan2-0
ns wan2 ip addr add 2001:db8:64::2/64 dev wan2-0 nodad
ns gw ip addr add 100.64.0.1/24 dev gww1
ns gw ip addr add 2001:db8:64::1/64 dev gww1 nodad
ns wan2 ip link set wan2-0 up
ns gw ip link set gww1 up
for n in wan wan2; do
	ns $n ip addr add 203.0.113.80/32 dev lo
	ns $n ip addr add 2001:db8:80::80/128 dev lo
done

cat >"$tmp/gw.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
interface WAN2 device gww1 address 100.64.0.1/24 address 2001:db8:64::1/64
gateway isp1 on WAN via 198.51.100.25
gateway isp2 on WAN2 via 100.64.0.2
gateway isp1v6 on WAN via 2001:db8:51::25
gateway isp2v6 on WAN2 via 2001:db8:64::2
schedule ALWAYS daily 00:00-24:00
accept on LAN from 192.168.50.12 service HTTP schedule ALWAYS gateway isp2
accept on LAN from 2001:db8:50::12 service HTTP gateway isp2v6
accept on LAN from 192.168.50.13 gateway isp2
accept on LAN
nat masquerade on WAN
nat masquerade on WAN2
CONF
ns gw "$MOAT" apply -f "$tmp/gw.conf" || fail "apply"

# The test's routes and ip rules, standing in for moatd's: the default
# through isp1; pin tables GW_TABLE_PIN(g) = 28100 + g, choice tables
# GW_TABLE_CHOICE(t) = 28228 + t (policy.h), marks GW_MARK_PIN(g) =
# g << 16 and GW_MARK_CHOICE(t) = (128 + t) << 16 under 0xff0000.
ns gw ip route add default via 198.51.100.25		# the test's
ns gw ip -6 route add default via 2001:db8:51::25		# the test's
ns gw ip route add default via 198.51.100.25 table 28101	# the test's
ns gw ip route add default via 100.64.0.2 table 28102		# the test's
ns gw ip -6 route add default via 2001:db8:51::25 table 28103	# the test's
ns gw ip -6 route add default via 2001:db8:64::2 table 28104	# the test's
ns gw ip route add default via 100.64.0.2 table 28230		# the test's
ns gw ip -6 route add default via 2001:db8:64::2 table 28232	# the test's
for m in "0x10000 28101" "0x20000 28102" "0x820000 28230"; do
	set -- $m
	ns gw ip rule add fwmark "$1/0xff0000" lookup "$2" priority 10010	# the test's
done
for m in "0x30000 28103" "0x40000 28104" "0x840000 28232"; do
	set -- $m
	ns gw ip -6 rule add fwmark "$1/0xff0000" lookup "$2" priority 10010	# the test's
done

listen wan 203.0.113.80:80 [2001:db8:80::80]:80 198.51.100.26:80
listen wan2 203.0.113.80:80 [2001:db8:80::80]:80

# where LOG WANT: the server log's last line is WANT (the link's
# masquerade address says which link it came through)
where() {
	last=$(tail -n 1 "$tmp/$1.log" 2>/dev/null)
	[ "$last" = "$2" ] && echo "ok: $1 saw $2" ||
		fail "$1's server saw '$last', want '$2'"
}

# ctmark SRC DST: the ct mark of the connection from SRC to DST, port 80
ctmark() {
	ns gw conntrack -L -p tcp -s "$1" -d "$2" --dport 80 2>/dev/null |
	    sed -n 's/.* mark=\([0-9]*\).*/\1/p' | head -n 1
}

# The default route: isp1.
probe connected lan --from 192.168.50.11 203.0.113.80 80
where wan "203.0.113.80:80 198.51.100.1"
[ "$(ctmark 192.168.50.11 203.0.113.80)" = $((0x10000)) ] &&
	echo "ok: ct mark pins isp1" ||
	fail "ct mark of .11's connection: $(ctmark 192.168.50.11 203.0.113.80), want $((0x10000))"
probe connected lan --from 2001:db8:50::11 2001:db8:80::80 80
where wan "2001:db8:80::80:80 2001:db8:51::1"
[ "$(ctmark 2001:db8:50::11 2001:db8:80::80)" = $((0x30000)) ] ||
	fail "ct mark of ::11's connection: $(ctmark 2001:db8:50::11 2001:db8:80::80)"

# The gateway option: out through isp2, the pin beside the schedule's 1.
probe connected lan --from 192.168.50.12 203.0.113.80 80
where wan2 "203.0.113.80:80 100.64.0.1"
[ "$(ctmark 192.168.50.12 203.0.113.80)" = $((0x20001)) ] &&
	echo "ok: ct mark pins isp2 and keeps the schedule's bits" ||
	fail "ct mark of .12's connection: $(ctmark 192.168.50.12 203.0.113.80), want $((0x20001))"
probe connected lan --from 2001:db8:50::12 2001:db8:80::80 80
where wan2 "2001:db8:80::80:80 2001:db8:64::1"
[ "$(ctmark 2001:db8:50::12 2001:db8:80::80)" = $((0x40000)) ] ||
	fail "ct mark of ::12's connection: $(ctmark 2001:db8:50::12 2001:db8:80::80)"
# Not its service: the default route.
: >"$tmp/wan.log"
ns lan "$MOAT" probe --timeout 1 --from 192.168.50.12 203.0.113.80 443 >/dev/null
probe connected lan --from 192.168.50.11 203.0.113.80 80
where wan "203.0.113.80:80 198.51.100.1"
# A WAN's own network is reached directly, whatever the rule says.
probe connected lan --from 192.168.50.13 198.51.100.26 80
where wan "198.51.100.26:80 198.51.100.1"

# moat test says where the option sends it.
out=$("$MOAT" test -f "$tmp/gw.conf" --in LAN --src 192.168.50.12 \
    --dst 203.0.113.80 --service HTTP)
case $out in
*"leaves through gateway isp2 (WAN2"*"leaves through WAN2 masqueraded"*)
	echo "ok: moat test says isp2" ;;
*) fail "moat test: $out" ;;
esac

# A running connection stays on its link: .13 holds one through isp2 (its
# rule), .11 one through isp1 (the default route); then the default route
# moves to isp2.  .11's packets still leave through isp1, where the
# server knows the connection (wan2's would reset it).
ip netns exec "${MOAT_LAB}wan" python3 "$here/hold.py" serve 203.0.113.80 7 >"$tmp/hold-wan.out" 2>&1 &
pids="$pids $!"
ip netns exec "${MOAT_LAB}wan2" python3 "$here/hold.py" serve 203.0.113.80 7 >"$tmp/hold-wan2.out" 2>&1 &
pids="$pids $!"
sleep 1
ip netns exec "${MOAT_LAB}lan" python3 "$here/hold.py" client 192.168.50.11 203.0.113.80 7 "$tmp/h11" &
pids="$pids $!"
ip netns exec "${MOAT_LAB}lan" python3 "$here/hold.py" client 192.168.50.13 203.0.113.80 7 "$tmp/h13" &
pids="$pids $!"
sleep 3
ns gw ip route replace default via 100.64.0.2		# the test's: "failover"
: >"$tmp/wan2.log"
probe connected lan --from 192.168.50.10 203.0.113.80 80
where wan2 "203.0.113.80:80 100.64.0.1"
sleep 5
for h in h11 h13; do
	case $(cat "$tmp/$h" 2>/dev/null) in
	alive*) echo "ok: $h's connection lives: $(cat "$tmp/$h")" ;;
	*) fail "$h's connection: $(cat "$tmp/$h" 2>/dev/null)" ;;
	esac
done
[ "$(ns gw conntrack -L -p tcp -s 192.168.50.11 --dport 7 2>/dev/null |
    sed -n 's/.* mark=\([0-9]*\).*/\1/p')" = $((0x10000)) ] ||
	fail "the held connection's ct mark: $(ns gw conntrack -L -p tcp -s 192.168.50.11 --dport 7 2>/dev/null)"
# What failover would remove: the connections pinned to isp1, by mark.
n=$(ns gw conntrack -L -m 0x10000/0xff0000 2>/dev/null | grep -c "dport=7 ")
[ "$n" = 1 ] && echo "ok: conntrack finds isp1's held connection by its mark" ||
	fail "conntrack -m 0x10000/0xff0000: $n held connections"
finish
