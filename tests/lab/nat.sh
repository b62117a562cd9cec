#!/bin/sh
# NAT beyond masquerade: reflection (hairpin) of a port forward.  A LAN
# host that opens the gateway's WAN address reaches the forwarded server
# in the LAN, which sees the gateway's LAN address as the client (IPv4 and
# IPv6); with reflection off the gateway itself answers (refused).
. "$(dirname "$0")/lib.sh"
cat >"$tmp/nat.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
object WEB { 192.168.50.10, 2001:db8:50::10 }
service ALT tcp 8080
nat masquerade on WAN
forward on WAN service HTTPS to WEB
forward on WAN service ALT to 192.168.50.11 reflection off
CONF
listen lan 192.168.50.10:443 [2001:db8:50::10]:443 192.168.50.11:8080
ns gw "$MOAT" apply -f "$tmp/nat.conf" || fail "apply"

# Reflection: the LAN client reaches the server through the WAN address.
probe connected lan --from 192.168.50.12 198.51.100.1 443
grep -q "^192.168.50.10:443 192.168.50.1$" "$tmp/lan.log" ||
	fail "reflection: the server did not see 192.168.50.1: $(cat "$tmp/lan.log")"
probe connected lan --from 2001:db8:50::12 2001:db8:51::1 443
grep -q "^2001:db8:50::10:443 2001:db8:50::1$" "$tmp/lan.log" ||
	fail "reflection: the server did not see 2001:db8:50::1: $(cat "$tmp/lan.log")"
grep -q " 192.168.50.12$\| 2001:db8:50::12$" "$tmp/lan.log" &&
	fail "reflection: the server saw the client's own address"
# The world still reaches it, from its own address.
probe connected wan --from 198.51.100.26 198.51.100.1 443
grep -q "^192.168.50.10:443 198.51.100.26$" "$tmp/lan.log" ||
	fail "the forward from the WAN did not keep the client's address"
# Reflection off: the connection stays the gateway's (nothing listens).
probe refused lan --from 192.168.50.12 198.51.100.1 8080
probe connected wan --from 198.51.100.26 198.51.100.1 8080
# moat test says the same.
out=$("$MOAT" test -f "$tmp/nat.conf" --in LAN --src 192.168.50.12 \
    --dst 198.51.100.1 --service HTTPS)
case $out in
*"to 192.168.50.10, reflected: the source becomes 192.168.50.1"*)
	echo "ok: moat test: $out" ;;
*) fail "moat test: $out" ;;
esac
[ "$(counter forward_1)" -ge 3 ] || fail "counter forward_1: $(counter forward_1)"
finish
