#!/bin/sh
# NAT beyond masquerade.  Reflection (hairpin) of a port forward: a LAN
# host that opens the gateway's WAN address reaches the forwarded server
# in the LAN, which sees the gateway's LAN address as the client (IPv4 and
# IPv6); with reflection off the gateway itself answers (refused).
# Outbound NAT rules: one host leaves from a chosen address (IPv4 and
# IPv6), one keeps its source towards a routed network, the rest is
# masqueraded.  1:1 NAT: the WAN side reaches an inside host through its
# public address (routed to the gateway), through the WAN's rules, which
# name the inside address; the host's own connections leave from it; a
# LAN host that opens the public address reaches it (reflection).
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
# Forward 1's counter is named by its id in the kernel, told as forward 1.
f1=$(entry_counter forward 1)
echo "$f1" | grep -Eqx 'forward_[0-9a-f]{16}' || fail "forward 1's counter: '$f1'"
n1=$(counter "$f1")
[ "$n1" -ge 3 ] || fail "counter $f1: $n1"
ns gw "$MOAT" status | grep -Eq "^forward 1 +$n1 +[0-9]+  forward on WAN service HTTPS to WEB$" ||
	fail "moat status: $(ns gw "$MOAT" status | grep -i forward)"
# A forward put above it: forward 1 becomes forward 2, its kernel objects
# keep their names (the difference leaves its counter as it was).
sed 's/^forward on WAN service HTTPS to WEB$/forward on WAN service SSH to 192.168.50.11 reflection off\n&/' \
    "$tmp/nat.conf" >"$tmp/nat2.conf"
ns gw env MOAT_DELTA_MAX_PCT=100 "$MOAT" apply -f "$tmp/nat2.conf" 2>"$tmp/apply.err" || fail "apply: $(cat "$tmp/apply.err")"
grep -q "whole apply" "$tmp/apply.err" && fail "a forward put above: $(cat "$tmp/apply.err")"
[ "$(entry_counter forward 2)" = "$f1" ] ||
	fail "forward 2's counter is '$(entry_counter forward 2)', not $f1"
[ "$(counter "$f1")" -ge "$n1" ] || fail "counter $f1 was reset: $(counter "$f1")"
ns gw "$MOAT" metrics | grep -Eq "^moat_forward_packets_total\{forward=\"2\",id=\"${f1#forward_}\"\} [0-9]+$" ||
	fail "moat metrics: $(ns gw "$MOAT" metrics | grep moat_forward)"
probe connected wan --from 198.51.100.26 198.51.100.1 443
[ "$(counter "$f1")" -gt "$n1" ] || fail "counter $f1 did not count: $(counter "$f1")"
echo "ok: a forward put above: forward 2's counter $f1 kept its name and count"

# Outbound NAT rules, before the masquerade.  The gateway answers for
# the chosen addresses (the WAN side asks for them on the link).
ns gw ip addr add 198.51.100.9/32 dev gww0
ns gw ip addr add 2001:db8:51::9/128 dev gww0 nodad
cat >"$tmp/out.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
object PARTNER 198.51.100.0/24
nat source on WAN from { 192.168.50.12, 2001:db8:50::12 } service HTTP translate { 198.51.100.9, 2001:db8:51::9 }
nat source on WAN from 192.168.50.13 to PARTNER translate none
nat masquerade on WAN
CONF
listen wan 198.51.100.25:80 [2001:db8:51::25]:80
ns gw "$MOAT" apply -f "$tmp/out.conf" || fail "apply"
: >"$tmp/wan.log"
probe connected lan --from 192.168.50.12 198.51.100.25 80
probe connected lan --from 2001:db8:50::12 2001:db8:51::25 80
probe connected lan --from 192.168.50.13 198.51.100.25 80
probe connected lan --from 192.168.50.11 198.51.100.25 80
for want in "198.51.100.25:80 198.51.100.9" "2001:db8:51::25:80 2001:db8:51::9" \
    "198.51.100.25:80 192.168.50.13" "198.51.100.25:80 198.51.100.1"; do
	grep -qx "$want" "$tmp/wan.log" ||
		fail "outbound NAT: no connection '$want' in: $(cat "$tmp/wan.log")"
done
[ "$(wc -l <"$tmp/wan.log")" = 4 ] || fail "outbound NAT: $(cat "$tmp/wan.log")"
n1=$(entry_counter nat_source 1)
echo "$n1" | grep -Eqx 'nat_source_[0-9a-f]{16}' || fail "nat source 1's counter: '$n1'"
[ "$(counter "$n1")" -ge 2 ] || fail "counter $n1: $(counter "$n1")"
ns gw "$MOAT" metrics | grep -Eq '^moat_nat_source_packets_total\{rule="1",id="[0-9a-f]{16}"\} [2-9]' &&
	echo "ok: moat metrics counts nat source 1" ||
	fail "moat metrics: $(ns gw "$MOAT" metrics | grep nat_source)"
out=$("$MOAT" test -f "$tmp/out.conf" --in LAN --src 192.168.50.12 \
    --dst 198.51.100.25 --service HTTP)
case $out in
*"leaves through WAN from 198.51.100.9 (nat source 1, line 4)"*)
	echo "ok: moat test: $out" ;;
*) fail "moat test: $out" ;;
esac
out=$("$MOAT" test -f "$tmp/out.conf" --in LAN --src 192.168.50.13 \
    --dst 198.51.100.25 --service HTTP)
case $out in
*"with its own source: nat source 2 (line 5) says translate none"*)
	echo "ok: moat test: $out" ;;
*) fail "moat test: $out" ;;
esac

# 1:1 NAT.  The upstream routes the public addresses to the gateway.
ns wan ip route add 203.0.113.0/24 via 198.51.100.1
ns wan ip -6 route add 2001:db8:99::/64 via 2001:db8:51::1
cat >"$tmp/one.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
nat one-to-one on WAN 203.0.113.10 to 192.168.50.13
nat one-to-one on WAN 2001:db8:99::10 to 2001:db8:50::13
accept on WAN from ANY to { 192.168.50.13, 2001:db8:50::13 } service HTTP
nat masquerade on WAN
CONF
listen lan 192.168.50.13:80 [2001:db8:50::13]:80 192.168.50.13:22
ns gw "$MOAT" apply -f "$tmp/one.conf" || fail "apply"
# The inside host's servers answer on the host itself before the WAN
# side tries them (a loaded machine starts them slowly).
for _ in $(seq 50); do
	ns lan "$MOAT" probe --timeout 1 192.168.50.13 80 2>/dev/null |
	    grep -q " connected" && break
	sleep 0.1
done
: >"$tmp/lan.log"
: >"$tmp/wan.log"
probe connected wan --from 198.51.100.26 203.0.113.10 80
probe connected wan --from 2001:db8:51::26 2001:db8:99::10 80
grep -qx "192.168.50.13:80 198.51.100.26" "$tmp/lan.log" ||
	fail "1:1: 203.0.113.10 did not reach 192.168.50.13: $(cat "$tmp/lan.log")"
grep -qx "2001:db8:50::13:80 2001:db8:51::26" "$tmp/lan.log" ||
	fail "1:1: 2001:db8:99::10 did not reach 2001:db8:50::13: $(cat "$tmp/lan.log")"
# The WAN's rules still judge it: SSH to the inside host is not accepted.
probe "timed out" wan --from 198.51.100.26 203.0.113.10 22
probe connected lan --from 192.168.50.13 198.51.100.25 80
probe connected lan --from 2001:db8:50::13 2001:db8:51::25 80
probe connected lan --from 192.168.50.12 198.51.100.25 80
for want in "198.51.100.25:80 203.0.113.10" "2001:db8:51::25:80 2001:db8:99::10" \
    "198.51.100.25:80 198.51.100.1"; do
	grep -qx "$want" "$tmp/wan.log" ||
		fail "1:1 outbound: no connection '$want' in: $(cat "$tmp/wan.log")"
done
# 1:1 reflection (the default): a LAN host that opens the public address
# reaches the inside host, which sees the gateway's LAN address.
: >"$tmp/lan.log"
probe connected lan --from 192.168.50.12 203.0.113.10 80
probe connected lan --from 2001:db8:50::12 2001:db8:99::10 80
grep -qx "192.168.50.13:80 192.168.50.1" "$tmp/lan.log" ||
	fail "1:1 reflection: 192.168.50.13 did not see 192.168.50.1: $(cat "$tmp/lan.log")"
grep -qx "2001:db8:50::13:80 2001:db8:50::1" "$tmp/lan.log" ||
	fail "1:1 reflection: 2001:db8:50::13 did not see 2001:db8:50::1: $(cat "$tmp/lan.log")"
o1=$(entry_counter one_to_one 1)
echo "$o1" | grep -Eqx 'one_to_one_[0-9a-f]{16}' || fail "one-to-one 1's counter: '$o1'"
[ "$(counter "$o1")" -ge 3 ] || fail "counter $o1: $(counter "$o1")"
ns gw "$MOAT" status | grep -Eq "^one-to-one 1 +[0-9]+ +[0-9]+  nat one-to-one on WAN 203.0.113.10 to 192.168.50.13$" ||
	fail "moat status: $(ns gw "$MOAT" status | grep one)"
out=$("$MOAT" test -f "$tmp/one.conf" --in LAN --src 192.168.50.12 \
    --dst 203.0.113.10 --service HTTP)
case $out in
*"after one-to-one 1 to 192.168.50.13, reflected: the source becomes 192.168.50.1"*)
	echo "ok: moat test: $out" ;;
*) fail "moat test: $out" ;;
esac
out=$("$MOAT" test -f "$tmp/one.conf" --in WAN --src 198.51.100.26 \
    --dst 203.0.113.10 --service HTTP)
case $out in
"accept by rule 1 (one.conf:5), after one-to-one 1 to 192.168.50.13"*)
	echo "ok: moat test: $out" ;;
*) fail "moat test: $out" ;;
esac
out=$("$MOAT" test -f "$tmp/one.conf" --in LAN --src 192.168.50.13 \
    --dst 198.51.100.25 --service HTTP)
case $out in
*"leaves through WAN from 203.0.113.10 (nat one-to-one 1, line 3)"*)
	echo "ok: moat test: $out" ;;
*) fail "moat test: $out" ;;
esac
finish
