#!/bin/sh
# moatd follows the entry in force, whoever made it: a `moat apply` of a
# config with the antivirus block (its rules redirect SMTP to the proxy)
# starts the proxy, and the mail server's mail is scanned; `moat rollback`
# stops it again; the revert of an apply --confirm that lapsed, and a
# rollback from a moatd that fell back to the lockdown, the same.  No
# SIGHUP anywhere: before, the proxy stayed as moatd last read its file,
# and a rollback to a scanning config left SMTP redirected to a proxy
# that did not run.  And with no proxy listening (no moatd, moatd
# stopped), the scanning rules hold SMTP back: before, tproxy found no
# socket, its rule did not match, and the mail went out unscanned.
. "$(dirname "$0")/lib.sh"
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
plain="$top/examples/lab/seed-a.conf"
av="$tmp/av.conf"
sed "s|engine clamav /var/lib/clamav|engine clamav $db|" \
    "$top/examples/lab/seed-a-av.conf" >"$av"
grep -q "engine clamav $db" "$av" || fail "the scanning config: $(cat "$av")"
chmod 644 "$av"
sink wan 198.51.100.25 "$tmp/out-wan"

# mark LOG: what moatd's log says from now on is what said looks at
from=1
mark() {
	from=$(( $(wc -l <"$1") + 1 ))
}
# said LOG PATTERN [SECONDS]: moatd's log says PATTERN, after the mark,
# within SECONDS (5)
said() {
	for _ in $(seq $((${3:-5} * 10))); do
		if tail -n +"$from" "$1" | grep -Eq "$2"; then
			echo "ok: moatd: $(tail -n +"$from" "$1" | grep -E "$2" | tail -1 | cut -c1-160)"
			return 0
		fi
		sleep 0.1
	done
	fail "moatd did not say '$2' within ${3:-5} s: $(tail -n +"$from" "$1" | tail -5)"
	return 1
}
# mail HEADER: the mail server's mail is delivered, with HEADER or not
# (scanned or not)
mail() {
	out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10)
	case $out in 250*) ;; *) fail "the mail server's mail: $out"; return ;; esac
	n=$(count "$tmp/out-wan")
	if head -1 "$tmp/out-wan/$n.eml" | grep -q "^X-Virus-Scanned"; then
		got=scanned
	else
		got=plain
	fi
	[ "$got" = "$1" ] && echo "ok: the mail server's mail is delivered, $got" ||
		fail "the mail server's mail was delivered $got, not $1"
}

echo "== moat apply of the scanning config, no moatd: never delivered unscanned"
# With no proxy listening, tproxy finds no socket and its rule does not
# match: before, the mail then went on, unscanned; now the drop after it
# holds it back (the client tries again later).  The apply also sets up
# the policy route before the rules (before, only moatd did, after them).
ns gw ip -4 rule show | grep -q "lookup 28015" && fail "the lab already has the route"
ns gw "$MOAT" apply -f "$av" >/dev/null || fail "apply of the scanning config"
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10 --timeout 3)
case $out in
250*) fail "delivered, unscanned, with no proxy: $out" ;;
*) echo "ok: with no proxy the mail server's mail is not delivered: $out" ;;
esac
[ "$(count "$tmp/out-wan")" = 0 ] || fail "the sink has mail"
for f in -4 -6; do
	n=$(ns gw ip $f rule show | grep -c "fwmark 0x6d6f/0x6d6f lookup 28015")
	[ "$n" = 1 ] || fail "ip $f rule: $n rules for the proxy's route"
done
ns gw "$MOAT" apply -f "$av" >/dev/null || fail "apply again"
n=$(ns gw ip -4 rule show | grep -c "lookup 28015")
[ "$n" = 1 ] && echo "ok: one policy rule, after two applies" || fail "$n policy rules"
ns gw nft list chain inet moat intercept | grep -q 'counter packets [1-9].* drop comment "no proxy listens: scan outgoing SMTP from LAN"' &&
	echo "ok: the drop counted what it held back" ||
	fail "the drop's counter: $(ns gw nft list chain inet moat intercept)"

echo "== moatd runs the plain config; moat apply of the scanning one"
start_moatd "$plain" applied "$tmp/moatd.log"
mail plain
mark "$tmp/moatd.log"
ns gw "$MOAT" apply -f "$av" >/dev/null || fail "apply of the scanning config"
said "$tmp/moatd.log" "\(apply of .*av.conf\) is in force"
said "$tmp/moatd.log" "proxy running"
mail scanned

echo "== moat rollback: the proxy stops"
mark "$tmp/moatd.log"
ns gw "$MOAT" rollback >/dev/null || fail "rollback"
said "$tmp/moatd.log" "\(rollback of .*seed-a.conf\) is in force"
said "$tmp/moatd.log" "no SMTP scanning configured"
mail plain
# moatd's own applies are not followed again: a reload is one apply.
mark "$tmp/moatd.log"
kill -HUP "$moatd_pid"
said "$tmp/moatd.log" "SIGHUP"
sleep 2.5
n=$(tail -n +"$from" "$tmp/moatd.log" | grep -c "is in force, not the config")
[ "$n" = 0 ] && echo "ok: moatd's own reload is not followed as another's" ||
	fail "followed $n times: $(grep 'is in force' "$tmp/moatd.log")"

echo "== apply --confirm of the scanning config, not confirmed: both ways"
mark "$tmp/moatd.log"
ns gw "$MOAT" apply --confirm 3 -f "$av" >/dev/null || fail "apply --confirm"
said "$tmp/moatd.log" "\(apply of .*av.conf\) is in force"
said "$tmp/moatd.log" "proxy running"
mark "$tmp/moatd.log"
said "$tmp/moatd.log" "\(revert of .*seed-a.conf\) is in force" 10
said "$tmp/moatd.log" "no SMTP scanning configured"
mail plain
stop_moatd

echo "== a moatd in the lockdown follows the config applied by hand"
printf 'interface LAN device gwl0 address 192.168.50.1/24\naccept on LAN from NOSUCH to ANY\n' >"$tmp/broken.conf"
chmod 644 "$tmp/broken.conf"
rm -rf "$MOAT_STATE_DIR"/*
ns gw nft delete table inet moat
start_moatd "$tmp/broken.conf" "lockdown" "$tmp/lockdown.log"
mark "$tmp/lockdown.log"
ns gw "$MOAT" apply -f "$av" >/dev/null || fail "apply over the lockdown"
said "$tmp/lockdown.log" "\(apply of .*av.conf\) is in force"
said "$tmp/lockdown.log" "proxy running"
mail scanned
stop_moatd

echo "== moatd stopped, its scanning rules in force: mail is held back"
out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10 --timeout 3)
case $out in
250*) fail "delivered, unscanned, with moatd stopped: $out" ;;
*) echo "ok: with moatd stopped the mail server's mail waits: $out" ;;
esac
ip netns exec "${MOAT_LAB}gw" "$MOAT" trace --src 192.168.50.10 --proto tcp --dport 25 \
	--count 1 --timeout 8 >"$tmp/trace" 2>&1 &
tp=$!
for _ in $(seq 30); do grep -q "^tracing" "$tmp/trace" && break; sleep 0.1; done
ns lan python3 "$smtp/send.py" 198.51.100.25 25 --from 192.168.50.10 --timeout 2 >/dev/null
wait $tp
grep -q "dropped: no SMTP proxy listens (scan outgoing SMTP from LAN)" "$tmp/trace" &&
	echo "ok: moat trace says why: $(grep dropped "$tmp/trace" | tr -s ' ')" ||
	fail "moat trace with no proxy: $(cat "$tmp/trace")"

echo "== moatd -n follows too; a listener that cannot open leaves the others"
# Port 25 of the LAN address taken (another MTA): the relay's listener
# fails, the transparent ones serve (before, one failure closed them all).
sed 's/smtp-local-scanning off/smtp-local-scanning on/' "$av" >"$tmp/avlocal.conf"
chmod 644 "$tmp/avlocal.conf"
listen gw 192.168.50.1:25
# Its start serves the config in force (the scanning one), not its file.
ip netns exec "${MOAT_LAB}gw" "$MOATD" -n -f "$plain" >"$tmp/n.log" 2>&1 &
moatd_pid=$!
pids="$pids $moatd_pid"
from=1
said "$tmp/n.log" "proxy running as moat-smtp, 2 listeners"
mark "$tmp/n.log"
ns gw "$MOAT" apply -f "$tmp/avlocal.conf" >/dev/null || fail "apply of the relaying config"
said "$tmp/n.log" "\(apply of .*avlocal.conf\) is in force"
said "$tmp/n.log" "listening on 192.168.50.1:25: Address already in use: no relay there"
said "$tmp/n.log" "proxy running as moat-smtp, 3 listeners"
mail scanned
# A SIGHUP of moatd -n checks its file (the plain config) but serves the
# config in force: the rules still intercept.
mark "$tmp/n.log"
kill -HUP "$moatd_pid"
said "$tmp/n.log" "SIGHUP"
sleep 1.5
tail -n +"$from" "$tmp/n.log" | grep -q "no SMTP scanning configured" &&
	fail "moatd -n's reload served its file: $(tail -n +"$from" "$tmp/n.log")"
# and the listener that still cannot open does not restart the proxy
# (which would cut the sessions in flight) at each reload
tail -n +"$from" "$tmp/n.log" | grep -q "proxy running" &&
	fail "the reload restarted the proxy: $(tail -n +"$from" "$tmp/n.log")"
mail scanned
stop_moatd
finish
