#!/bin/sh
# The web console's REST API against the real server: moatd in the lab's
# gateway runs its console process (its own user, no capabilities, HTTPS
# with a certificate made at its first start) and tests/web/test_api.py
# speaks to it from the lan namespace.
. "$(dirname "$0")/lib.sh"
chmod 755 "$tmp"
cp -r "$top/web" "$tmp/web"
chmod -R a+rX "$tmp/web"
export MOAT_WEB_ROOT="$tmp/web"
printf 'admin-pass-1\n' | "$MOAT" passwd -f "$tmp/users" admin >/dev/null ||
	fail "moat passwd"
# Feed objects moatd's feed process reads at its start: a good list, one
# with a bad line, localhost's addresses (/etc/hosts), a country of a
# GeoIP file written here (the Objects page and GET objects show them).
mkdir "$tmp/lists"
printf '# two networks\n198.51.100.40\n203.0.113.0/24 ; a comment\n2001:db8:51::40\n' >"$tmp/lists/drop.txt"
printf '198.51.100.41\nnot-an-address\n' >"$tmp/lists/bad.txt"
printf '198.51.100.0/25 XA\n2001:db8:99::/48 XB\n' >"$tmp/geo.spec"
perl "$top/tests/data/mkmmdb.pl" 6 "$tmp/geo.spec" "$tmp/geo.mmdb" ||
	fail "mkmmdb.pl"
chmod -R a+rX "$tmp/lists" "$tmp/geo.mmdb"
cat "$top/examples/lab/seed-a.conf" - >"$tmp/moat.conf" <<CONF
geoip-database $tmp/geo.mmdb
object blocklist url file://$tmp/lists/drop.txt refresh 10s
object badlist url file://$tmp/lists/bad.txt
object me fqdn localhost
object home country XA
console {
    users $tmp/users
    certificate $tmp/console.pem
    key $tmp/console.key
    session-timeout 8s
}
CONF
chmod 600 "$tmp/moat.conf"
echo "$MOAT_STATE_DIR" >"$tmp/state-dir"
start_moatd "$tmp/moat.conf" "console: https://"
echo "$moatd_pid" >"$tmp/moatd.pid"
[ -f "$tmp/console.pem" ] && [ "$(stat -c %a "$tmp/console.key")" = 600 ] &&
	echo "ok: a certificate made at the first start (key 0600)" ||
	fail "no certificate"
# (the parent says where the console listens as it starts the process,
# which names itself once executed)
for _ in $(seq 50); do
	web=$(pgrep -x -P "$moatd_pid" moatd-web) && break
	sleep 0.1
done
if [ -n "$web" ] && grep -q "^CapEff:	0000000000000000" "/proc/$web/status" &&
    grep -q "^Seccomp:	2" "/proc/$web/status" &&
    [ "$(stat -c %U "/proc/$web")" = moat-web ]; then
	echo "ok: the console runs as moat-web with no capabilities, and may start no process (seccomp)"
else
	fail "the console process: $(grep -E "^(Uid|CapEff)" "/proc/$web/status" 2>&1)"
fi
# Descriptors: the console and the firewall logger hold nothing of the
# parent's (no socket, pipe or file it has open), and 0-2 are not sockets.
inodes() {	# inodes PID: what its descriptors 3 and up point to
	for f in /proc/"$1"/fd/*; do
		[ "${f##*/}" -gt 2 ] && readlink "$f"
	done 2>/dev/null | sort -u
}
parent=$(inodes "$moatd_pid")
for name in moatd-web moatd-log; do
	pid=$(pgrep -x -P "$moatd_pid" "$name")
	shared=$(inodes "$pid" | grep -E '^(socket|pipe):' |
	    while read -r i; do echo "$parent" | grep -qxF "$i" && echo "$i"; done)
	std=$(for f in 0 1 2; do readlink "/proc/$pid/fd/$f"; done | grep -c '^socket:')
	if [ -n "$pid" ] && [ -z "$shared" ] && [ "$std" = 0 ]; then
		echo "ok: $name ($pid) shares no descriptor with the parent"
	else
		fail "$name ($pid) holds the parent's: $shared (0-2 sockets: $std)"
	fi
done
# The feed process has read them (its states in the run directory).
for _ in $(seq 100); do
	[ "$(grep -o '"result":"[a-z]*"' "$MOAT_RUN_DIR/feeds.json" 2>/dev/null |
	    grep -vc pending)" = 4 ] && break
	sleep 0.1
done
# The Objects page and the NAT sections in chromium (before the API's test, whose last checks
# lock admin's logins for a minute).
if [ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c "import selenium" 2>/dev/null; then
	shots=${MOAT_SHOTS:-$tmp/shots}
	mkdir -p "$shots"
	# (TMPDIR: chromium's own scratch goes with $tmp, not left in /tmp)
	HOME=$tmp TMPDIR=$tmp ns lan /usr/bin/python3 "$top/tests/web/test_objects_page.py" \
		https://192.168.50.1 admin-pass-1 "$shots" || failed=1
	HOME=$tmp TMPDIR=$tmp ns lan /usr/bin/python3 "$top/tests/web/test_nat_page.py" \
		https://192.168.50.1 admin-pass-1 "$shots" || failed=1
else
	echo "skip: the Objects page in chromium (chromium-driver and python3-selenium)"
fi
# (an address admin has never logged in from, for the throttle's check)
ip -n "${MOAT_LAB}lan" addr add 192.168.50.14/24 dev lan0
ns lan python3 "$top/tests/web/test_api.py" https://192.168.50.1 admin-pass-1 "$tmp" ||
	failed=1
finish
