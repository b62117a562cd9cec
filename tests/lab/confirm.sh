#!/bin/sh
# apply --confirm: unconfirmed, the previous ruleset comes back by itself,
# even when the shell that ran the apply is killed; confirmed, it stays.
. "$(dirname "$0")/lib.sh"
listen wan 198.51.100.25:25
ns gw "$MOAT" apply -f "$top/examples/lab/seed-a.conf" || fail "apply A"
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25

# The lockout: a policy that lets the workstation's SMTP through, applied
# from a shell that dies right away.
cat >"$tmp/open.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24
interface WAN device gww0 address 198.51.100.1/24
CONF
ns gw sh -c "\"$MOAT\" apply --confirm 2 -f \"$tmp/open.conf\"; sleep 60" \
	>"$tmp/apply.out" 2>&1 &
shell=$!
for _ in $(seq 50); do
	grep -q "moat confirm" "$tmp/apply.out" 2>/dev/null && break
	sleep 0.1
done
kill -9 $shell
probe connected lan --from 192.168.50.11 198.51.100.25 25
sleep 3
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
ns gw "$MOAT" history | tail -1 | grep -q revert || fail "no revert in the history"
[ -f "$MOAT_STATE_DIR/pending" ] && fail "the pending file is still there"

# Confirmed in time, it stays.
# The applier's descriptor 7 (moatd's sockets, when it applies) must not
# live on in the watchdog: it keeps only 0-2.
ns gw sh -c "exec 7<\"$tmp/open.conf\"; \"$MOAT\" apply --confirm 2 -f \"$tmp/open.conf\"" \
	>/dev/null || fail "apply 2"
dog=$(cut -d' ' -f2 "$MOAT_STATE_DIR/pending")
held=$(ls /proc/"$dog"/fd | sort -n | tr '\n' ' ')
[ "$held" = "0 1 2 " ] || fail "the watchdog $dog holds descriptors: $held"
ns gw "$MOAT" confirm || fail "confirm"
sleep 3
probe connected lan --from 192.168.50.11 198.51.100.25 25
ns gw "$MOAT" confirm 2>/dev/null && fail "a second confirm found something"

# A rollback with a confirm (as the console's always is): seed A back at
# once, and unconfirmed, the open policy back by itself; confirmed, it
# stays.  The watchdog and the pending record come before the kernel
# changes.
out=$(ns gw "$MOAT" rollback --confirm 2 2>&1) || fail "rollback --confirm: $out"
case $out in *"confirm within 2 s, or entry"*) ;; *) fail "rollback --confirm says: $out" ;; esac
[ -f "$MOAT_STATE_DIR/pending" ] || fail "no pending record after rollback --confirm"
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
sleep 3
probe connected lan --from 192.168.50.11 198.51.100.25 25
ns gw "$MOAT" history | tail -1 | grep -q revert || fail "the rollback was not reverted"
[ -f "$MOAT_STATE_DIR/pending" ] && fail "the pending file is still there after the revert"
ns gw "$MOAT" rollback --confirm 2 >/dev/null 2>&1 || fail "rollback --confirm 2"
ns gw "$MOAT" confirm || fail "confirm the rollback"
sleep 3
probe "timed out" lan --from 192.168.50.11 198.51.100.25 25
ns gw "$MOAT" history | tail -1 | grep -q rollback || fail "the confirmed rollback did not stay"
finish
