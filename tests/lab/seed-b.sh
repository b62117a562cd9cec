#!/bin/sh
# Seed configuration B for real: the workstation reaches the gateway's LAN
# address on port 25 and nothing else on port 25.
. "$(dirname "$0")/lib.sh"
conf="$top/examples/lab/seed-b.conf"
listen gw 192.168.50.1:25
listen wan 198.51.100.25:25
ns gw "$MOAT" apply -f "$conf" || fail "apply"

probe connected lan --from 192.168.50.11 192.168.50.1 25
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
probe "timed out" lan --from 2001:db8:50::11 2001:db8:51::25 25
[ "$(counter "$(rule_counter "$conf" 1)")" -ge 2 ] || fail "rule 1's counter did not go up"
finish
