#!/bin/sh
# halab.sh: the lab of an HA pair (issue 15), five network namespaces:
#   lan  clients 192.168.50.10-13 (lan0), gateway the LAN VIP 192.168.50.1
#   gwa  node a: 192.168.50.2 (gwl0), 198.51.100.2 (gww0), 10.99.0.1 (gws0)
#   gwb  node b: 192.168.50.3 (gwl0), 198.51.100.3 (gww0), 10.99.0.2 (gws0)
#   wan  servers 198.51.100.25-28 (wan0)
#   sw   the switches: bridge brl joins lan, gwa and gwb; brw joins wan,
#        gwa and gwb.  The sync link gws0 is a cable from gwa to gwb.
# The VIPs (192.168.50.1, 198.51.100.1) are the master's: keepalived adds
# them.  Both nodes name their devices alike, as one config needs.
# Usage: halab.sh up | down | exec NS CMD... | cut NODE | mend NODE
# (cut: the node's three links down, as if it lost power; mend: up again).
# MOAT_LAB prefixes the namespace names (default "moatha-").
set -eu
p=${MOAT_LAB:-moatha-}

up() {
	down 2>/dev/null || true
	for ns in lan gwa gwb wan sw; do
		ip netns add "$p$ns"
		ip -n "$p$ns" link set lo up
		ip netns exec "$p$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
		ip netns exec "$p$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
	done
	for br in brl brw; do
		ip -n "${p}sw" link add "$br" type bridge
		ip -n "${p}sw" link set "$br" up
	done
	# Each host's cable to its switch.
	for l in "lan lan0 brl lan" "wan wan0 brw wan" "gwa gwl0 brl a" \
	    "gwa gww0 brw a" "gwb gwl0 brl b" "gwb gww0 brw b"; do
		set -- $l
		port="$3-$4"
		ip -n "$p$1" link add "$2" type veth peer name "$port" \
		    netns "${p}sw"
		ip -n "${p}sw" link set "$port" master "$3" up
		ip -n "$p$1" link set "$2" up
	done
	ip -n "${p}gwa" link add gws0 type veth peer name gws0 netns "${p}gwb"
	for i in 10 11 12 13; do
		ip -n "${p}lan" addr add "192.168.50.$i/24" dev lan0
	done
	for i in 25 26 27 28; do
		ip -n "${p}wan" addr add "198.51.100.$i/24" dev wan0
	done
	for l in "gwa 2 1" "gwb 3 2"; do
		set -- $l
		ip -n "$p$1" addr add "192.168.50.$2/24" dev gwl0
		ip -n "$p$1" addr add "198.51.100.$2/24" dev gww0
		ip -n "$p$1" addr add "10.99.0.$3/24" dev gws0
		ip -n "$p$1" link set gws0 up
		ip netns exec "$p$1" sysctl -qw net.ipv4.ip_forward=1
		# A VIP that arrives is announced (keepalived's gratuitous
		# ARP); replies come from the address asked for.
		ip netns exec "$p$1" sysctl -qw net.ipv4.conf.all.arp_ignore=1
	done
	ip -n "${p}lan" route add default via 192.168.50.1
	ip -n "${p}wan" route add 192.168.50.0/24 via 198.51.100.1
}

down() {
	for ns in lan gwa gwb wan sw; do
		ip netns del "$p$ns" 2>/dev/null || true
	done
}

links() {	# links NODE up|down
	for d in gwl0 gww0 gws0; do
		ip -n "$p$1" link set "$d" "$2"
	done
}

case ${1:-} in
up) up ;;
down) down ;;
exec) ns=$2; shift 2; exec ip netns exec "$p$ns" "$@" ;;
cut) links "$2" down ;;
mend) links "$2" up ;;
*) echo "usage: halab.sh up | down | exec NS CMD... | cut NODE | mend NODE" >&2
   exit 2 ;;
esac
