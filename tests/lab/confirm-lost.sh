#!/bin/sh
# A confirm that cannot be lost: the watchdog of apply --confirm killed,
# before or after its deadline; a pending file naming another process; a
# full state file system; an expired deadline found by moatd's start.
# In every case the unconfirmed ruleset goes, and nothing else is harmed.
. "$(dirname "$0")/lib.sh"
listen wan 198.51.100.25:25
A="$top/examples/lab/seed-a.conf"
cat >"$tmp/open.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24
interface WAN device gww0 address 198.51.100.1/24
CONF
blocked() { probe "timed out" lan --from 192.168.50.11 198.51.100.25 25; }
open() { probe connected lan --from 192.168.50.11 198.51.100.25 25; }
field() { cut -d' ' -f"$1" "$MOAT_STATE_DIR/pending"; }

ns gw "$MOAT" apply -f "$A" >/dev/null || fail "apply A"
blocked

# 1. The watchdog killed; the deadline passes with nobody watching; the
# next command (moat status) restores A before it answers.
ns gw "$MOAT" apply --confirm 2 -f "$tmp/open.conf" >/dev/null || fail "apply open"
kill -9 "$(field 2)"
sleep 3
open		# nobody has looked yet
ns gw "$MOAT" status >"$tmp/status" 2>&1 || fail "status: $(cat "$tmp/status")"
grep -q "ran out unconfirmed" "$tmp/status" || fail "status did not say it reverted: $(cat "$tmp/status")"
blocked
[ -f "$MOAT_STATE_DIR/pending" ] && fail "pending left after the revert"
ns gw "$MOAT" history | tail -1 | grep -q revert || fail "no revert in the history"

# 2. The watchdog killed before its deadline: the next command starts a
# new one, which reverts at the deadline with no command after it.
ns gw "$MOAT" apply --confirm 3 -f "$tmp/open.conf" >/dev/null || fail "apply open 2"
kill -9 "$(field 2)"
ns gw "$MOAT" history >"$tmp/history" 2>&1
grep -q "a new one" "$tmp/history" || fail "no new watchdog: $(cat "$tmp/history")"
open
sleep 4
blocked

# 3. A pending file naming an unrelated process (its pid, not its start
# time): confirm and rollback never signal it.
sleep 300 &
bystander=$!
pids="$pids $bystander"
# plant: the pending file names the bystander (wrong start time), and the
# real watchdog is gone
plant() {
	real=$(field 2)
	printf '%s %s 12345 %s %s\n' "$(field 1)" "$bystander" "$(field 4)" \
	    "$(field 5)" >"$MOAT_STATE_DIR/pending"
	kill "$real"
}
ns gw "$MOAT" apply --confirm 30 -f "$tmp/open.conf" >/dev/null || fail "apply open 3"
plant
ns gw "$MOAT" confirm >/dev/null || fail "confirm"
kill -0 "$bystander" 2>/dev/null || fail "confirm killed a process that is not the watchdog"
ns gw "$MOAT" apply --confirm 30 -f "$A" >/dev/null || fail "apply A again"
plant
ns gw "$MOAT" rollback >/dev/null || fail "rollback"
kill -0 "$bystander" 2>/dev/null || fail "rollback killed a process that is not the watchdog"
[ -f "$MOAT_STATE_DIR/pending" ] && fail "pending left after the rollback"
open		# the rollback went back to open.conf
ns gw "$MOAT" apply -f "$A" >/dev/null || fail "apply A at last"
blocked

# 4. The state file system full: apply --confirm of a deny-all ruleset
# changes nothing in the kernel (the lockout --confirm exists to prevent).
cat >"$tmp/deny.conf" <<'CONF'
interface LAN device gwl0 address 192.168.50.1/24 default deny
interface WAN device gww0 address 198.51.100.1/24
anti-lockout off
CONF
mkdir "$tmp/fullfs"
ns gw unshare -m sh -c '
	set -e
	mount -t tmpfs -o size=256k tmpfs "$1"
	export MOAT_STATE_DIR="$1/state"
	"$2" apply -f "$3" >/dev/null
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
	if "$2" apply --confirm 3 -f "$4" >"$1/../full.out" 2>&1; then
		echo "applied"
	fi
	[ ! -f "$MOAT_STATE_DIR/pending" ] || echo "pending left"
	umount "$1"
' full "$tmp/fullfs" "$MOAT" "$A" "$tmp/deny.conf" >"$tmp/full.result" 2>&1 &
wait $!
[ -s "$tmp/full.result" ] && fail "full state file system: $(cat "$tmp/full.result")"
grep -q "No space left" "$tmp/full.out" || fail "no clear error: $(cat "$tmp/full.out")"
blocked		# A still holds: the mail server may send, nobody else
probe connected lan --from 192.168.50.10 198.51.100.25 25

# 5. An expired deadline found by moatd's start: restored before moatd
# applies its own config.
ns gw "$MOAT" apply --confirm 2 -f "$tmp/open.conf" >/dev/null || fail "apply open 5"
kill -9 "$(field 2)"
sleep 3
start_moatd "$A" applied
stop_moatd
grep -q "ran out unconfirmed" "$tmp/moatd.log" || fail "moatd did not revert first: $(cat "$tmp/moatd.log")"
ns gw "$MOAT" history | tail -2 | head -1 | grep -q revert || fail "history: no revert before moatd's apply"
blocked
finish
