#!/bin/sh
# Fail closed: traffic arriving on a device no interface declares (a third
# network plugged into the gateway, here 10.99.0.0/24 on gwx0) is dropped,
# forwarded or to the gateway itself, while the declared zones work; moat
# check notes a declared device the host lacks, and moat apply warns.
. "$(dirname "$0")/lib.sh"
x="${MOAT_LAB}x"
trap 'ip netns del "$x" 2>/dev/null; cleanup' EXIT
ip netns add "$x"
ip -n "$x" link set lo up
ip -n "$x" link add x0 type veth peer name gwx0 netns "${MOAT_LAB}gw"
ip -n "$x" addr add 10.99.0.2/24 dev x0
ip -n "$x" link set x0 up
ns gw ip addr add 10.99.0.1/24 dev gwx0
ns gw ip link set gwx0 up
ip -n "$x" route add default via 10.99.0.1
ns wan ip route add 10.99.0.0/24 via 198.51.100.1
listen wan 198.51.100.25:25

# Before moat: the third network reaches the WAN server and the gateway.
probe connected x 198.51.100.25 25
probe refused x 10.99.0.1 22

ns gw "$MOAT" apply -f "$top/examples/lab/seed-a.conf" >/dev/null || fail "apply A"
probe "timed out" x 198.51.100.25 25	# forwarded: dropped
probe "timed out" x 10.99.0.1 22		# to the gateway: dropped
probe connected lan --from 192.168.50.10 198.51.100.25 25	# the LAN still works
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
pk=$(counter undeclared)
[ "${pk:-0}" -ge 2 ] || fail "the undeclared counter did not count the drops: ${pk:-none}"

# A WAN that accepts everything: the gateway answers from the WAN.
cat >"$tmp/open.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24
interface WAN device gww0 address 198.51.100.1/24 default accept
CONF
ns gw "$MOAT" apply -f "$tmp/open.conf" >/dev/null || fail "apply open"
probe refused wan 198.51.100.1 22

# The same with a typo in the WAN's device: noted by check, warned by
# apply, and what arrives on gww0 is dropped, not let in.
sed 's/gww0/gwq9/' "$tmp/open.conf" >"$tmp/typo.conf"
ns gw "$MOAT" check -f "$tmp/typo.conf" >"$tmp/check" 2>&1
grep -q "note: device gwq9 (interface WAN) does not exist on this host now" "$tmp/check" ||
	fail "check did not note the missing device: $(cat "$tmp/check")"
ns gw "$MOAT" check --offline -f "$tmp/typo.conf" | grep -q gwq9 &&
	fail "check --offline looked at the host"
ns gw "$MOAT" apply -f "$tmp/typo.conf" >/dev/null 2>"$tmp/apply" || fail "apply typo"
grep -q "device gwq9 (interface WAN) does not exist" "$tmp/apply" ||
	fail "apply did not warn: $(cat "$tmp/apply")"
probe "timed out" wan 198.51.100.1 22
finish
