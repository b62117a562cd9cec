#!/bin/sh
# lab.sh: the test lab of DESIGN.md section 6, three network namespaces:
#   lan  clients 192.168.50.10-13, 2001:db8:50::10-13   (device lan0)
#   gw   moat: 192.168.50.1 (gwl0), 198.51.100.1 (gww0), forwarding on
#   wan  servers 198.51.100.25-28, 2001:db8:51::25-28   (device wan0)
# Usage: lab.sh up | down | exec NS CMD... | status
# MOAT_LAB prefixes the namespace names (default "moat-"), so that tests
# running side by side each have their own lab.  MOAT_LAB_LANDEV names the
# gateway's LAN device (default gwl0; the differential test uses the VLAN
# style name gwl0.100, a veth here: these kernels have no 8021q module).
set -eu
p=${MOAT_LAB:-moat-}
gwl=${MOAT_LAB_LANDEV:-gwl0}

up() {
	down 2>/dev/null || true
	for ns in lan gw wan; do
		ip netns add "$p$ns"
		ip -n "$p$ns" link set lo up
		# No duplicate address detection: a tentative link-local
		# address makes the first neighbour solicitations fail.
		ip netns exec "$p$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
		ip netns exec "$p$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
	done
	ip -n "${p}lan" link add lan0 type veth peer name "$gwl" netns "${p}gw"
	ip -n "${p}wan" link add wan0 type veth peer name gww0 netns "${p}gw"
	for i in 10 11 12 13; do
		ip -n "${p}lan" addr add "192.168.50.$i/24" dev lan0
		ip -n "${p}lan" addr add "2001:db8:50::$i/64" dev lan0 nodad
	done
	for i in 25 26 27 28; do
		ip -n "${p}wan" addr add "198.51.100.$i/24" dev wan0
		ip -n "${p}wan" addr add "2001:db8:51::$i/64" dev wan0 nodad
	done
	ip -n "${p}gw" addr add 192.168.50.1/24 dev "$gwl"
	ip -n "${p}gw" addr add 2001:db8:50::1/64 dev "$gwl" nodad
	ip -n "${p}gw" addr add 198.51.100.1/24 dev gww0
	ip -n "${p}gw" addr add 2001:db8:51::1/64 dev gww0 nodad
	for l in "lan lan0" "wan wan0" "gw $gwl" "gw gww0"; do
		set -- $l
		ip -n "$p$1" link set "$2" up
	done
	# The hosts know their router's link addresses: the first neighbour
	# solicitation of a new veth is answered only a second later, which
	# would slow every test's first packet.  The gateway still resolves
	# its hosts itself, through moat's rules.
	for l in "lan $gwl 192.168.50.1 2001:db8:50::1 lan0" \
	    "wan gww0 198.51.100.1 2001:db8:51::1 wan0"; do
		set -- $l
		mac=$(ip -n "${p}gw" -br link show "$2" | awk '{print $3}')
		ip -n "$p$1" neigh replace "$3" lladdr "$mac" dev "$5" nud permanent
		ip -n "$p$1" neigh replace "$4" lladdr "$mac" dev "$5" nud permanent
	done
	ip -n "${p}lan" route add default via 192.168.50.1
	ip -n "${p}lan" -6 route add default via 2001:db8:50::1
	# The WAN side routes the lab's LAN through the gateway, so that
	# tests without NAT see the real source addresses.
	ip -n "${p}wan" route add 192.168.50.0/24 via 198.51.100.1
	ip -n "${p}wan" -6 route add 2001:db8:50::/64 via 2001:db8:51::1
	ip netns exec "${p}gw" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "${p}gw" sysctl -qw net.ipv6.conf.all.forwarding=1
}

down() {
	for ns in lan gw wan; do
		ip netns del "$p$ns" 2>/dev/null || true
	done
}

case ${1:-} in
up) up ;;
down) down ;;
exec) ns=$2; shift 2; exec ip netns exec "$p$ns" "$@" ;;
status) ip netns list | grep "^$p" || echo "no lab (prefix $p)" ;;
*) echo "usage: lab.sh up | down | exec NS CMD... | status" >&2; exit 2 ;;
esac
