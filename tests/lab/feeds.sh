#!/bin/sh
# Feed objects under moatd: an fqdn object follows its name's record (TTL
# 5 s, from the lab's DNS), a url object its list (HTTPS with the lab CA,
# and file://), a country object a GeoIP database the test writes; each
# set changes by difference, with no reload of the rules, and an
# established connection to an address that left is not cut by moat.
# A list over max is refused (the old one stays); a list server that is
# down when moatd starts leaves the last good list in force.
. "$(dirname "$0")/lib.sh"
. "$here/dnssec-lib.sh"
trap 'dnssec_down; cleanup' EXIT

command -v nsd >/dev/null && command -v unbound >/dev/null &&
    perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
	{ echo "skip: needs nsd, unbound and libmaxmind-db-writer-perl"; exit 77; }
id moat-feeds >/dev/null 2>&1 || { echo "FAIL: no moat-feeds user (scripts/setup.sh makes it)"; exit 1; }

# The resolver passes the records' own TTL (5 s) down, as it counts.
DNSSEC_CACHE_MAX_TTL=5
dnssec_up || exit 1
dnssec_attach "${MOAT_LAB}gw"
F=feeds.$DNSSEC_PARENT
dnssec_zone "$F"
dnssec_rr "$F" "backup 5 IN A 198.51.100.30" "lists 5 IN A 10.54.0.20"
dnssec_publish
dnssec_cert "lists.$F"
export MOAT_FEEDS_CA_FILE="$DNSSEC_CA"
chmod 644 "$DNSSEC_CA"
chmod 755 "$DNSSEC_DIR" "$DNSSEC_DIR/certs"

# The list server: files of $tmp/www over HTTPS at lists.$F (10.54.0.20).
mkdir -p "$tmp/www"
chmod 755 "$tmp/www"
ip netns exec "$DNSSEC_NS" ip addr add 10.54.0.20/32 dev lo
serve_lists() {
	ip netns exec "$DNSSEC_NS" python3 "$here/https_files.py" 10.54.0.20 \
	    "$DNSSEC_DIR/certs/lists.$F.pem" "$DNSSEC_DIR/certs/lists.$F.key" \
	    "$tmp/www" >"$tmp/www.out" 2>&1 &
	www_pid=$!
	pids="$pids $www_pid"
	for _ in $(seq 50); do
		grep -q listening "$tmp/www.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the list server: $(cat "$tmp/www.out")"
}
serve_lists
printf '# a blocklist\n198.51.100.40\n198.51.100.44/31 ; two\r\n2001:db8:51::40\n' >"$tmp/www/drop.txt"
printf '198.51.100.50\n' >"$tmp/www/local.txt"
chmod 644 "$tmp/www/"*.txt

# GeoIP: XA is 198.51.100.0/25 and 2001:db8:51::/64, XB the rest of /24.
printf '198.51.100.0/25 XA\n198.51.100.128/25 XB\n2001:db8:51::/64 XA\n' >"$tmp/geo.spec"
perl "$top/tests/data/mkmmdb.pl" 6 "$tmp/geo.spec" "$tmp/geo.mmdb" ||
	fail "mkmmdb.pl"
chmod 644 "$tmp/geo.mmdb"

cat >"$tmp/feeds.conf" <<EOF
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
nat masquerade on WAN
dns-min-ttl 4s
geoip-database $tmp/geo.mmdb
object backup fqdn backup.$F
object blocklist url https://lists.$F/drop.txt refresh 10s max 5
object local url file://$tmp/www/local.txt refresh 10s
object home country XA
object mixed { backup, 198.51.100.99 }
accept on LAN from LANNET to backup service { SSH, SMTP }
deny on LAN from LANNET to ANY service { SSH, SMTP }
deny on LAN from LANNET to local
accept on LAN from LANNET to mixed service HTTP
deny on WAN from blocklist to WANIP service SSH
accept on WAN from home to WANIP service SSH
EOF
chmod 644 "$tmp/feeds.conf"

for a in 30 34 40 41 42 43 50 200; do
	ns wan ip addr add "198.51.100.$a/24" dev wan0
done
for a in 40 41; do
	ns wan ip addr add "2001:db8:51::$a/64" dev wan0 nodad
done
listen wan 198.51.100.30:22 198.51.100.34:22 198.51.100.30:25 198.51.100.50:80
listen gw 0.0.0.0:22 [::]:22
start_moatd "$tmp/feeds.conf" "applied"

echo "== each feed filled"
holds backup_v4 198.51.100.30
holds blocklist_v4 198.51.100.40
holds blocklist_v4 198.51.100.44/31
holds blocklist_v6 2001:db8:51::40
holds local_v4 198.51.100.50
holds home_v4 198.51.100.0/25
holds home_v6 2001:db8:51::/64
probe connected lan --from 192.168.50.10 198.51.100.30 22
probe "timed out" lan --from 192.168.50.10 198.51.100.34 22
probe "timed out" lan --from 192.168.50.10 198.51.100.50 80
probe "timed out" wan --from 198.51.100.40 198.51.100.1 22
probe connected wan --from 198.51.100.41 198.51.100.1 22
probe connected wan --from 2001:db8:51::41 2001:db8:51::1 22
probe "timed out" wan --from 198.51.100.200 198.51.100.1 22
rules_before=$(ns gw nft -a list chain inet moat zone_LAN | grep -c handle)
out=$(ns gw "$MOAT" objects blocklist)
case $out in
*"blocklist (url https://lists.$F/drop.txt)"*"2 IPv4, 1 IPv6"*"(ok)"*) echo "ok: moat objects: $(echo "$out" | tr '\n' ' ')" ;;
*) fail "moat objects blocklist: $out" ;;
esac
out=$(ns gw "$MOAT" test -f "$tmp/feeds.conf" --in WAN --src 198.51.100.40 --dst 198.51.100.1 --service SSH)
case $out in
*"deny by rule 5"*) echo "ok: moat test uses what the feed holds now" ;;
*) fail "moat test on the gateway: $out" ;;
esac
out=$(ns gw "$MOAT" test -f "$tmp/feeds.conf" --object blocklist=203.0.113.9 --in WAN --src 198.51.100.40 --dst 198.51.100.1 --service SSH)
case $out in
*"accept by rule 6"*) echo "ok: moat test --object" ;;
*) fail "moat test --object: $out" ;;
esac

echo "== the name moves: 198.51.100.30 becomes 198.51.100.34 (TTL 5 s; not next to .30, so that the two are two elements)"
# An SMTP connection to the old address (admitted by rule 1 alone), held
# open; NOOP on it later wants 250.
ip netns exec "${MOAT_LAB}lan" python3 - "$tmp/held" <<'PY' &
import os, socket, sys, time
s = socket.create_connection(("198.51.100.30", 25), timeout=3)
f = s.makefile("rb")
f.readline()
open(sys.argv[1] + ".up", "w").close()
while not os.path.exists(sys.argv[1] + ".go"):
    time.sleep(0.05)
try:
    s.sendall(b"NOOP\r\n")
    r = "alive" if f.readline().startswith(b"250") else "closed"
except OSError as e:
    r = "error " + e.__class__.__name__
open(sys.argv[1] + ".result", "w").write(r)
PY
pids="$pids $!"
for _ in $(seq 50); do [ -f "$tmp/held.up" ] && break; sleep 0.1; done
[ -f "$tmp/held.up" ] || fail "the held connection did not open"
dnssec_clear "$F"
dnssec_rr "$F" "backup 5 IN A 198.51.100.34" "lists 5 IN A 10.54.0.20"
t0=$(date +%s)
dnssec_publish
holds backup_v4 198.51.100.34 9
echo "info: the new address after $(( $(date +%s) - t0 )) s of a 5 s TTL"
probe connected lan --from 192.168.50.10 198.51.100.34 22
# The old address stays one more TTL (the one it came with), then goes.
ns gw nft list set inet moat backup_v4 | grep -q "198.51.100.30[ ,}]" &&
	echo "ok: the old address stays for its grace TTL" ||
	fail "the old address went with the new answer: no grace"
lacks backup_v4 198.51.100.30 8
# A set that holds the name's addresses with more follows too.
holds mixed_v4 198.51.100.34 2
holds mixed_v4 198.51.100.99 1
lacks mixed_v4 198.51.100.30 2
probe "timed out" lan --from 192.168.50.11 198.51.100.30 22
touch "$tmp/held.go"
for _ in $(seq 50); do [ -f "$tmp/held.result" ] && break; sleep 0.1; done
r=$(cat "$tmp/held.result" 2>/dev/null)
[ "$r" = alive ] && echo "ok: the connection to the old address is not cut" ||
	fail "the held connection: $r"
[ "$(ns gw nft -a list chain inet moat zone_LAN | grep -c handle)" = "$rules_before" ] ||
	fail "the rules were loaded again"

echo "== the name goes (NXDOMAIN): its last addresses stay, and it is said"
dnssec_clear "$F"
dnssec_rr "$F" "lists 5 IN A 10.54.0.20"
dnssec_publish
sleep 8
holds backup_v4 198.51.100.34 1
out=$(ns gw "$MOAT" objects backup)
case $out in
*"(partial)"*"last error"*"backup.$F"*) echo "ok: moat objects says the name fails" ;;
*) fail "moat objects after NXDOMAIN: $out" ;;
esac
dnssec_clear "$F"
dnssec_rr "$F" "backup 5 IN A 198.51.100.34" "lists 5 IN A 10.54.0.20"
dnssec_publish
case $(ns gw "$MOAT" status) in
*"not what entry"*) fail "moat status calls the feeds' updates a change by hand" ;;
*) echo "ok: the feeds' updates are no drift" ;;
esac

echo "== the list changes, then grows over max"
printf '198.51.100.42\n2001:db8:51::40\n' >"$tmp/www/drop.txt"
holds blocklist_v4 198.51.100.42 15
lacks blocklist_v4 198.51.100.40 1
probe connected wan --from 198.51.100.40 198.51.100.1 22
printf '198.51.100.1%s\n' 1 2 3 4 5 6 >"$tmp/www/drop.txt"
: >"$tmp/www/local.txt"
sleep 12
holds local_v4 198.51.100.50 1
case $(ns gw "$MOAT" objects local) in
*"the list is empty"*) echo "ok: an empty answer is refused, the last list stays" ;;
*) fail "an empty list: $(ns gw "$MOAT" objects local)" ;;
esac
ns gw nft list set inet moat blocklist_v4 | grep -q "198.51.100.42[ ,}]" &&
	echo "ok: a list over max leaves the old one" ||
	fail "a list over max: $(ns gw nft list set inet moat blocklist_v4 | tr -d '\n\t')"
out=$(ns gw "$MOAT" objects blocklist)
case $out in
*"more than 5"*) echo "ok: moat objects says why" ;;
*) fail "moat objects after a list over max: $out" ;;
esac
case $(ns gw "$MOAT" status) in
*"Feed objects: 4"*blocklist*) echo "ok: moat status names the failing feed" ;;
*) fail "moat status: $(ns gw "$MOAT" status | tail -3)" ;;
esac

echo "== moatd starts again with the list server down: the last good list"
printf '198.51.100.43\n' >"$tmp/www/drop.txt"
holds blocklist_v4 198.51.100.43 15
stop_moatd
kill "$www_pid"
ns gw nft delete table inet moat
start_moatd "$tmp/feeds.conf" "applied" "$tmp/moatd2.log"
holds blocklist_v4 198.51.100.43 1
probe "timed out" wan --from 198.51.100.43 198.51.100.1 22
grep -q "blocklist" "$tmp/moatd2.log" && echo "info: $(grep blocklist "$tmp/moatd2.log" | tail -1)"

echo "== the GeoIP database is replaced: XA grows"
printf '198.51.100.0/24 XA\n2001:db8:51::/64 XA\n' >"$tmp/geo2.spec"
perl "$top/tests/data/mkmmdb.pl" 6 "$tmp/geo2.spec" "$tmp/geo.new" && chmod 644 "$tmp/geo.new" &&
	mv "$tmp/geo.new" "$tmp/geo.mmdb"
holds home_v4 198.51.100.0/24 15
probe connected wan --from 198.51.100.200 198.51.100.1 22
echo "== an object given another list keeps its name: its set is loaded whole"
# The set's declaration names the definition (its comment): a difference
# would keep the old list's addresses; the whole apply loads what the store
# holds for the new definition (nothing yet), then moatd, which follows
# the entry in force (no SIGHUP), fetches it.
printf '198.51.100.41\n' >"$tmp/www/local2.txt"
chmod 644 "$tmp/www/local2.txt"
sed -i "s|/www/local.txt|/www/local2.txt|" "$tmp/feeds.conf"
out=$(ns gw "$MOAT" apply -f "$tmp/feeds.conf" 2>&1) || fail "apply of the new list: $out"
case $out in
*"whole apply: set local_v4 holds a feed's addresses and changed"*) echo "ok: the apply says why it goes whole" ;;
*) fail "the apply of another definition: $out" ;;
esac
lacks local_v4 198.51.100.50 1
holds local_v4 198.51.100.41 15
grep -q "is in force, not the config moatd applied last" "$tmp/moatd2.log" &&
	echo "ok: moatd follows the apply" || fail "moatd's log: $(tail -3 "$tmp/moatd2.log")"
ps -o user= -p "$(pgrep -x moatd-feeds | head -1)" 2>/dev/null | grep -q moat-feeds &&
	echo "ok: the feed process runs as moat-feeds" ||
	fail "the feed process's user: $(ps -o user=,args= -C moatd 2>/dev/null)"
grep -q "^Seccomp:	2" "/proc/$(pgrep -x moatd-feeds | head -1)/status" &&
	echo "ok: the feed process may start no process (seccomp)" ||
	fail "the feed process has no filter: $(grep Seccomp "/proc/$(pgrep -x moatd-feeds | head -1)/status")"
finish
