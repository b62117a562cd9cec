#!/bin/sh
# The firewall log, with real traffic: a denied WAN -> LAN connection is
# recorded as the WAN's default deny, a LAN host's mail as the rule that
# denies it (line, comment, zones, ports, flags), accepted traffic not at
# all; moat log filters and follows; a flood of 200,000 logged packets
# neither stalls forwarding nor moatd, and every one is either written or
# counted as lost; a full or read-only log directory loses records
# (counted, said), and nothing else.  The logger is moat-log, with no
# capability once NFLOG is bound.
. "$(dirname "$0")/lib.sh"
conf="$top/examples/lab/fwlog.conf"
export MOAT_LOG_DIR="$tmp/log"
mnt="$tmp/small"
trap 'umount "$mnt" 2>/dev/null; cleanup' EXIT

listen wan 198.51.100.25:25 [2001:db8:51::25]:25
listen lan 192.168.50.10:22
start_moatd "$conf" "firewall log: NFLOG"

# The logger runs as moat-log, no new privileges, and without the
# CAP_NET_ADMIN it bound NFLOG with: none is left once the group is its.
lp=$(pgrep -x -P "$moatd_pid" moatd-log)
st=$(cat "/proc/$lp/status" 2>/dev/null)
uid=$(echo "$st" | awk '/^Uid:/ { print $2 $3 $4 $5 }')
if [ -n "$lp" ] && [ "$uid" = "$(id -u moat-log)$(id -u moat-log)$(id -u moat-log)$(id -u moat-log)" ] &&
    echo "$st" | grep -q "^CapEff:	0000000000000000$" &&
    echo "$st" | grep -q "^CapPrm:	0000000000000000$" &&
    echo "$st" | grep -q "^NoNewPrivs:	1$" &&
    echo "$st" | grep -q "^Seccomp:	2$"; then
	echo "ok: the firewall log runs as moat-log with no capability left"
else
	fail "the firewall log process: $(echo "$st" | grep -E '^(Uid|CapEff|CapPrm|NoNewPrivs|Seccomp)')"
fi

# records N [ARGS]: wait until moat log ARGS --json has N lines, print them
records() {
	want=$1
	shift
	for _ in $(seq 30); do
		[ "$("$MOAT" log --json "$@" 2>/dev/null | wc -l)" -ge "$want" ] && break
		sleep 0.1
	done
	"$MOAT" log --json "$@" 2>/dev/null
}

probe "timed out" wan --from 198.51.100.26 192.168.50.10 22
probe "timed out" lan --from 192.168.50.12 198.51.100.25 25
probe "timed out" lan --from 2001:db8:50::12 2001:db8:51::25 25
probe connected lan --from 192.168.50.10 198.51.100.25 25
hash=$(ns gw "$MOAT" history | awk 'END { print $5 }')
records 3 >"$tmp/all.json"
python3 - "$tmp/all.json" "$hash" <<'PY' || fail "the records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
hash = sys.argv[2]
need = {"time", "action", "rule", "line", "in", "proto", "src", "dst", "sport", "dport"}
for r in recs:
    assert need <= set(r), ("keys", r)
    assert r["policy"] == hash, ("hash", r, hash)
d = [r for r in recs if r["by"] == "default"]
assert d, "no default-deny record"
r = d[0]
assert (r["rule"], r["action"], r["interface"], r["line"], r["in"], r["in_device"]) == \
    (None, "deny", "WAN", 5, "WAN", "gww0"), r
assert (r["src"], r["dst"], r["dport"], r["proto"], r["tcp_flags"]) == \
    ("198.51.100.26", "192.168.50.10", 22, "tcp", "SYN"), r
assert r["out"] == "LAN" and r["length"] == 60 and r["sport"] > 0, r
m = [r for r in recs if r["rule"] == 2]
assert len({r["src"] for r in m}) == 2, ("rule 2, both families", m)
for r in m:
    assert (r["line"], r["file"], r["comment"], r["in"], r["out"], r["dport"]) == \
        (8, "fwlog.conf", "nobody else", "LAN", "WAN", 25), r
assert not [r for r in recs if r["src"] == "192.168.50.10"], "accepted traffic logged"
print("ok: the records name the default deny and rule 2, with their lines")
PY
out=$("$MOAT" log --rule 2 | head -1)
case $out in
*" deny by rule 2 (fwlog.conf:8) LAN 192.168.50.12:"*" -> 198.51.100.25:25 tcp SYN") echo "ok: $out" ;;
*) fail "moat log --rule 2: $out" ;;
esac
[ "$("$MOAT" log --src 198.51.100.0/24 | grep -vc "by the default of WAN")" = 0 ] ||
	fail "--src: $("$MOAT" log --src 198.51.100.0/24)"
[ "$("$MOAT" log --dst 2001:db8:51::25 | wc -l)" -ge 1 ] || fail "--dst (IPv6)"
[ "$("$MOAT" log --since 23:59:59 | wc -l)" = 0 ] || [ "$(date +%H%M)" = 2359 ] ||
	fail "--since: records from the future"
[ "$("$MOAT" log --since 10m | wc -l)" -ge 3 ] || fail "--since 10m"

# -f: a new record shows up while it follows
"$MOAT" log -f --rule default >"$tmp/follow" 2>&1 &
follow=$!
pids="$pids $follow"
sleep 0.5
probe "timed out" wan --from 198.51.100.27 192.168.50.10 22
for _ in $(seq 30); do
	grep -q "198.51.100.27" "$tmp/follow" && break
	sleep 0.1
done
grep -q "deny by the default of WAN (fwlog.conf:5) WAN 198.51.100.27:" "$tmp/follow" &&
	echo "ok: moat log -f shows the new record" ||
	fail "moat log -f: $(cat "$tmp/follow")"
kill "$follow"

# A flood: 200,000 logged packets, each one the WAN's default deny.
figures() {	# written lost_kernel lost_disk, once they stop changing
	last=
	for _ in $(seq 120); do
		sleep 1.1
		now=$(python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))
print(s["written"], s["lost_kernel"], s["lost_disk"])' "$MOAT_RUN_DIR/firewall-log.json")
		[ "$now" = "$last" ] && break
		last=$now
	done
	echo "$now"
}
set -- $(figures)
w0=$1 k0=$2
c0=$(counter default_WAN)
start=$(date +%s%N)
ns wan python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.28", 40000))
for i in range(200000):
    s.sendto(b"x" * 32, ("192.168.50.10", 9))' &
flood=$!
sleep 0.3
probe connected lan --from 192.168.50.10 198.51.100.25 25
wait $flood
echo "info: 200,000 packets sent in $(( ($(date +%s%N) - start) / 1000000 )) ms"
kill -0 "$moatd_pid" 2>/dev/null || fail "moatd died in the flood"
figures >/dev/null
# What the kernel lost at the very end shows in the next record's
# sequence number: one more logged packet.
probe "timed out" wan --from 198.51.100.26 192.168.50.10 22
set -- $(figures)
c1=$(counter default_WAN)
echo "info: the default deny counted $((c1 - c0)); the log wrote $(($1 - w0)), the kernel lost $(($2 - k0))"
[ $((c1 - c0)) -ge 200000 ] || fail "the flood did not arrive: $((c1 - c0))"
[ $(($1 - w0 + $2 - k0)) = $((c1 - c0)) ] ||
	fail "records written + lost ($(($1 - w0)) + $(($2 - k0))) != packets logged ($((c1 - c0)))"
[ "$(wc -l <"$MOAT_LOG_DIR/firewall.jsonl")" -ge 1 ] || fail "no log file"
probe connected lan --from 192.168.50.10 198.51.100.25 25
ns gw "$MOAT" status | grep "^firewall log:" || fail "moat status says nothing of the log"

# A log directory that fills up, then one that is read-only.
stop_moatd
mkdir -p "$mnt"
mount -t tmpfs -o size=64k tmpfs "$mnt" || fail "mount"
export MOAT_LOG_DIR="$mnt"
start_moatd "$conf" "firewall log: NFLOG"
ns wan python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.28", 40001))
for i in range(3000):
    s.sendto(b"x", ("192.168.50.10", 9))'
set -- $(figures)
[ "$3" -gt 0 ] && echo "ok: a full disk lost $3 records (counted), wrote $1" ||
	fail "a full disk: written $1, lost $3"
grep -q "firewall log: .*No space left on device" "$tmp/moatd.log" ||
	fail "moatd did not say the disk is full: $(cat "$tmp/moatd.log")"
probe connected lan --from 192.168.50.10 198.51.100.25 25
kill -0 "$moatd_pid" 2>/dev/null || fail "moatd died of a full disk"
rm -f "$mnt"/firewall.jsonl*
mount -o remount,ro "$mnt"
sleep 2.5	# the disk is asked again 2 s after a failure
probe "timed out" wan --from 198.51.100.26 192.168.50.10 22
set -- $(figures)
ns gw "$MOAT" status | grep -q "Read-only file system" &&
	echo "ok: moat status says the log's directory is read-only" ||
	fail "read-only: $(ns gw "$MOAT" status | grep "firewall log")"
probe connected lan --from 192.168.50.10 198.51.100.25 25
kill -0 "$moatd_pid" 2>/dev/null || fail "moatd died of a read-only disk"
finish
