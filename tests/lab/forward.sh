#!/bin/sh
# WAN to LAN is blocked by default; a port forward delivers inbound SMTP to
# the internal server; masquerade shows the gateway's address to the WAN;
# an IPv6 rule stops one host's web traffic and not another's.
. "$(dirname "$0")/lib.sh"
listen lan 192.168.50.10:25 [2001:db8:50::10]:25 192.168.50.10:22
listen wan 198.51.100.25:80 [2001:db8:51::25]:80
ns gw "$MOAT" apply -f "$top/examples/lab/seed-a.conf" || fail "apply"
probe "timed out" wan --from 198.51.100.26 192.168.50.10 22

ns gw "$MOAT" apply -f "$top/examples/lab/forward.conf" || fail "apply"
probe connected wan --from 198.51.100.26 198.51.100.1 25
grep -q "192.168.50.10:25 198.51.100.26" "$tmp/lan.log" ||
	fail "the forwarded connection did not reach 192.168.50.10"
probe connected wan --from 2001:db8:51::26 2001:db8:51::1 25
probe "timed out" wan --from 198.51.100.26 192.168.50.10 22
probe connected lan --from 192.168.50.12 198.51.100.25 80
grep -q "198.51.100.25:80 198.51.100.1" "$tmp/wan.log" ||
	fail "masquerade: the WAN server did not see 198.51.100.1"
probe "timed out" lan --from 2001:db8:50::11 2001:db8:51::25 80
probe connected lan --from 2001:db8:50::12 2001:db8:51::25 80
finish
