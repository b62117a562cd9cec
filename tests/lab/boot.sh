#!/bin/sh
# A start that is never open: moatd given a broken config applies the
# last ruleset of the history, or with no history the lockdown (nothing
# but loopback, established traffic and SSH/HTTP/HTTPS from the LAN to the
# gateway), and says so.
. "$(dirname "$0")/lib.sh"
listen wan 198.51.100.25:25
listen lan 192.168.50.10:25
listen gw 192.168.50.1:22
cat >"$tmp/broken.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24
interface WAN device gww0 address 198.51.100.1/24
accept on LAN from MAILSERVR to ANY service SMTP
CONF

fallen_back="lockdown|put back"

# Nothing in the kernel yet: open.
probe connected wan 192.168.50.10 25

# 1. A broken config, no history: the lockdown.
start_moatd "$tmp/broken.conf" "$fallen_back" "$tmp/lockdown.log"
grep -q "cannot be enforced" "$tmp/lockdown.log" || fail "no clear log line: $(cat "$tmp/lockdown.log")"
grep -q "applied the lockdown ruleset" "$tmp/lockdown.log" || fail "no lockdown: $(cat "$tmp/lockdown.log")"
probe "timed out" wan 192.168.50.10 25				# WAN -> LAN
probe "timed out" lan --from 192.168.50.10 198.51.100.25 25	# LAN -> WAN
probe connected lan --from 192.168.50.11 192.168.50.1 22	# SSH from the LAN
probe "timed out" wan 198.51.100.1 22				# not from the WAN
stop_moatd

# 2. A broken config after a good one was applied (and the table lost, as
# at a boot): the last good entry comes back.
ns gw "$MOAT" apply -f "$top/examples/lab/seed-a.conf" >/dev/null || fail "apply A"
ns gw nft delete table inet moat
start_moatd "$tmp/broken.conf" "$fallen_back" "$tmp/lastgood.log"
grep -q "put back the ruleset of history entry 1" "$tmp/lastgood.log" ||
	fail "not the last good entry: $(cat "$tmp/lastgood.log")"
probe connected lan --from 192.168.50.10 198.51.100.25 25	# rule 1
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25	# rule 2
stop_moatd
# 3. A good config under systemd (Type=notify): READY=1 comes once the
# rules are in the kernel, RELOADING=1 and READY=1 around a reload.
ns gw nft delete table inet moat 2>/dev/null
ip netns exec "${MOAT_LAB}gw" python3 "$here/notify.py" "$tmp/notify.sock" "$tmp/notify.out" >"$tmp/notify.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 50); do
	grep -q listening "$tmp/notify.log" 2>/dev/null && break
	sleep 0.1
done
export NOTIFY_SOCKET="$tmp/notify.sock"
start_moatd "$top/examples/lab/seed-a.conf" applied "$tmp/ready.log"
unset NOTIFY_SOCKET
for _ in $(seq 50); do
	grep -q "READY=1" "$tmp/notify.out" 2>/dev/null && break
	sleep 0.1
done
kill -HUP "$moatd_pid"
sleep 1
stop_moatd
sleep 0.3
grep -q "READY=1" "$tmp/notify.out" || fail "no READY=1: $(cat "$tmp/notify.out" 2>/dev/null)"
[ "$(sed -n 2p "$tmp/notify.out")" = "table: yes" ] ||
	fail "READY=1 before the rules were in: $(cat "$tmp/notify.out")"
grep -q "RELOADING=1" "$tmp/notify.out" && grep -q "STOPPING=1" "$tmp/notify.out" ||
	fail "no RELOADING=1 or STOPPING=1: $(cat "$tmp/notify.out")"
finish
