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
cat "$top/examples/lab/seed-a.conf" - >"$tmp/moat.conf" <<CONF
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
web=$(pgrep -x -P "$moatd_pid" moatd-web)
if [ -n "$web" ] && grep -q "^CapEff:	0000000000000000" "/proc/$web/status" &&
    [ "$(stat -c %U "/proc/$web")" = moat-web ]; then
	echo "ok: the console runs as moat-web with no capabilities"
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
ns lan python3 "$top/tests/web/test_api.py" https://192.168.50.1 admin-pass-1 "$tmp" ||
	failed=1
finish
