#!/bin/sh
# ha.sh: an HA pair in the lab (scripts/halab.sh: lan, gwa, gwb, wan,
# joined by switches; a sync cable from gwa to gwb), with moatd driving
# keepalived and conntrackd on each node:
#  - gwa (priority 150) is master, gwb backup; both say so in moat status
#    and run the same policy;
#  - three long TCP streams from lan to wan through the VIPs outlive the
#    master's death (its links cut, the sync cable first) and the fail
#    back: every byte arrives, in order, none is reset; new connections
#    work within 3 s each time;
#  - mail sent without pause through the scanning relay on the LAN VIP
#    while the master dies and comes back: every message the client got
#    250 for is in the sink exactly once, every other one was sent again
#    and delivered (twice only where the relay was cut after the message's
#    end: RFC 1047's window, which no relay can close);
#  - SMTP passing through is intercepted and scanned by whichever node is
#    master (EICAR gets 554 through gwa, then through gwb);
#  - a config applied on gwa reaches gwb, made gwb's own (its addresses,
#    its ha block), and gwb enforces it once master;
#  - a config gwb cannot take is refused there and reported on gwa;
#  - a node whose moatd, keepalived and conntrackd are all killed -9
#    starts again cleanly (no stale lock, no orphan), and catches up with
#    the config the master applied while it was down;
#  - a node whose config loses its ha block leaves the pair.
LAB=$(cd "$(dirname "$0")/../.." && pwd)/scripts/halab.sh
. "$(dirname "$0")/lib.sh"
for t in keepalived conntrackd; do
	if ! command -v "$t" >/dev/null; then
		echo "skip: $t is needed (apt-get install keepalived conntrackd)"
		exit 77
	fi
done
eicar_through() {	# eicar_through NODE: intercepted and refused there
	for _ in $(seq 40); do
		out=$(ns lan python3 "$smtp/send.py" 198.51.100.25 25 \
		    --from 192.168.50.10 --virus 2>&1)
		case $out in 554*) break ;; esac
		sleep 0.25
	done
	case $out in
	"554 5.7.1"*) echo "ok: EICAR to the WAN's server, intercepted by gw$1 (master): $out" ;;
	*) fail "EICAR through gw$1: $out" ;;
	esac
}
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"

. "$here/ha-lib.sh"

node_conf a
node_conf b
sink wan 198.51.100.25 "$tmp/sink"
start_node a
start_node b
wait_state a master
wait_state b backup
for _ in $(seq 50); do
	[ "$(ha_field a "d['same_policy']")" = True ] && break
	sleep 0.1
done
out=$(on a "$MOAT" status)
case $out in
*"ha: this node (10.99.0.1, priority 150) is master"*"ha: peer 10.99.0.2 is backup"*"ha: the two run the same policy"*)
	echo "ok: moat status on gwa: master, the peer backup, the same policy" ;;
*) fail "moat status on gwa: $out" ;;
esac
out=$(on b "$MOAT" status)
case $out in
*"is backup"*"ha: peer 10.99.0.1 is master"*"the same policy"*)
	echo "ok: moat status on gwb: backup, the peer master" ;;
*) fail "moat status on gwb: $out" ;;
esac
eicar_through a
on a "$MOAT" show --nft -f "$tmp/a/moat.conf" | grep -q 'iifname "gws0" ip saddr 10.99.0.2 meta l4proto vrrp accept' ||
    fail "moat show --nft: no VRRP from the peer on the sync link"

# The servers: streams on 9000, plain connections on 9001 and 9003.
ip netns exec "${MOAT_LAB}wan" python3 "$hastream" serve 9000 "$tmp/streams" &
pids="$pids $!"
listen wan 198.51.100.25:9001 198.51.100.25:9003
reach_within "through gwa"

# Three streams; the master dies under them, and comes back.
ip netns exec "${MOAT_LAB}lan" python3 "$hastream" send 198.51.100.25 9000 22 3 \
    >"$tmp/sent" &
sender=$!
pids="$pids $sender"
sleep 4
ip -n "${MOAT_LAB}gwa" link set gws0 down	# the sync cable first: no
sh "$LAB" cut gwa				# goodbye advert from gwa
reach_within "failover to gwb"
wait_state b master 5
sleep 3
sh "$LAB" mend gwa
wait_state a master 15
reach_within "fail back to gwa"
wait_state b backup 5
wait "$sender"
for _ in $(seq 50); do
	[ "$(wc -l <"$tmp/streams" 2>/dev/null)" = 3 ] && break
	sleep 0.1
done
python3 - "$tmp/sent" "$tmp/streams" <<'PY' || failed=1
import json, sys
sent = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
ok = len(sent) == 3 and len(got) == 3
ok = ok and all(s["error"] == "" for s in sent)
ok = ok and sorted(s["sent"] for s in sent) == sorted(g["bytes"] for g in got)
ok = ok and all(g["pattern"] and g["end"] == "closed" for g in got)
print(("ok: " if ok else "FAIL: ") + "three streams through a failover and a "
      "fail back: every byte, in order, no reset: sent %s, received %s; "
      "longest gaps %s ms" % ([s["sent"] for s in sent],
      [(g["bytes"], g["end"], g["pattern"]) for g in got],
      [g["max_gap_ms"] for g in got]))
sys.exit(0 if ok else 1)
PY

# Mail through the relay on the LAN VIP while the master dies and
# comes back.
ip netns exec "${MOAT_LAB}lan" python3 "$here/hamail.py" 192.168.50.1 25 14 \
    >"$tmp/mail" &
mailer=$!
pids="$pids $mailer"
sleep 4
ip -n "${MOAT_LAB}gwa" link set gws0 down
sh "$LAB" cut gwa
wait_state b master 5
sleep 3
sh "$LAB" mend gwa
wait_state a master 15
wait "$mailer"
sleep 0.5
python3 - "$tmp/mail" "$tmp/sink" <<'PY' || failed=1
import collections, json, os, re, sys
sent = json.load(open(sys.argv[1]))
seqs = collections.Counter()
for f in os.listdir(sys.argv[2]):
    if f.endswith(".eml"):
        m = re.search(rb"^X-Seq: (\d+)", open(os.path.join(sys.argv[2], f),
                      "rb").read(), re.M)
        seqs[int(m.group(1))] += 1
acked = sent["acked"]
tries = {int(k): v for k, v in sent["attempts"].items()}
retried = {n: t for n, t in tries.items() if len(t) > 1}
window = {n for n, t in tries.items() if "cut after DATA's end" in t}
ok = len(acked) > 20 and sorted(tries) == acked
ok = ok and all(seqs[n] == 1 or (n in window and seqs[n] == 2) for n in acked)
ok = ok and set(seqs) == set(acked)
print(("ok: " if ok else "FAIL: ") + "mail through a failover and a fail "
      "back: %d messages accepted, each delivered once%s; %d sent again "
      "(%s)" % (len(acked), "" if not [n for n in acked if seqs[n] > 1] else
      " but %s twice (cut after the end of DATA)" %
      [n for n in acked if seqs[n] > 1], len(retried),
      "; ".join("%d: %s" % (n, ", ".join(t)) for n, t in
                sorted(retried.items())[:4])))
sys.exit(0 if ok else 1)
PY

# A config applied on gwa reaches gwb, and the sync link does not carry
# the secret (the push is signed, not sealed): what gwb's sync device
# sees, captured while it comes.
on b python3 - "$tmp/sniff" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("gws0", 0))
s.settimeout(0.2)
seen = b""
end = time.time() + 20
while time.time() < end and b"NINE3" not in seen[-200000:]:
    try:
        seen += s.recv(65536)
    except socket.timeout:
        pass
time.sleep(0.5)
s.settimeout(0.1)
try:
    while True:
        seen += s.recv(65536)
except OSError:
    pass
open(sys.argv[1], "w").write("push %d secret %d\n" % (
    b"NINE3" in seen, seen.count(b"shared secret")))
PY
sniff=$!
sleep 0.5
sed -i 's/^nat masquerade on WAN/service NINE3 tcp 9003\ndeny on LAN from ANY to ANY service NINE3 comment "not 9003"\nnat masquerade on WAN/' \
    "$tmp/a/moat.conf"
on a "$MOAT" apply -f "$tmp/a/moat.conf" >/dev/null || fail "moat apply on gwa"
for _ in $(seq 100); do
	grep -q "NINE3" "$tmp/b/moat.conf" &&
	    [ "$(ha_field a "d['same_policy']")" = True ] && break
	sleep 0.1
done
wait $sniff || true
case $(cat "$tmp/sniff" 2>/dev/null) in
"push 1 secret 0") echo "ok: the config pushed over the sync link holds no secret" ;;
*) fail "what the sync link carried: $(cat "$tmp/sniff" 2>/dev/null)" ;;
esac
if grep -q 'deny on LAN from ANY to ANY service NINE3' "$tmp/b/moat.conf" &&
    grep -q 'address 192.168.50.3/24' "$tmp/b/moat.conf" &&
    grep -q 'priority 100' "$tmp/b/moat.conf"; then
	echo "ok: the config applied on gwa is gwb's, with gwb's own addresses and ha block"
else
	fail "gwb's config after the sync: $(cat "$tmp/b/moat.conf")"
fi
out=$(on a "$MOAT" status)
case $out in
*"the two run the same policy"*"sent to the peer at"*": applied"*)
	echo "ok: gwa: the peer applied it, the same policy" ;;
*) fail "moat status on gwa after the sync: $out" ;;
esac
# gwb enforces it once master.
sh "$LAB" cut gwa
wait_state b master 5
sleep 0.5
probe "timed out" lan 198.51.100.25 9003
probe connected lan 198.51.100.25 9001
eicar_through b
sh "$LAB" mend gwa
wait_state a master 15

# A config gwb cannot take: refused there, said on gwa.
sed -i 's/^interface SYNC/interface DMZ device dmz0 address 172.16.0.1\/24\ninterface SYNC/' \
    "$tmp/a/moat.conf"
before=$(ha_field b "d['hash']")
on a "$MOAT" apply -f "$tmp/a/moat.conf" >/dev/null || fail "moat apply on gwa (DMZ)"
for _ in $(seq 100); do
	ha_field a "d.get('push', {}).get('result', '')" | grep -q refused && break
	sleep 0.1
done
out=$(on a "$MOAT" status)
case $out in
*"ha: the two run different policies"*"refused: interface DMZ is new"*)
	echo "ok: gwb refused a config with an interface it does not have; gwa says so" ;;
*) fail "moat status on gwa after a refused sync: $out" ;;
esac
[ "$(ha_field b "d['hash']")" = "$before" ] ||
    fail "gwb's policy changed all the same"
grep -q "DMZ" "$tmp/b/moat.conf" && fail "gwb's config took the DMZ"

# gwb crashes whole (moatd, keepalived, conntrackd: kill -9) and starts
# again: no stale lock, no orphan, backup again.
ka=$(cat "$tmp/b/state/ha/keepalived.pid")
ct=$(cat "$tmp/b/state/ha/conntrackd.pid")
eval "kill -9 \$pid_b $ka $ct"
sleep 0.5
# While gwb is down, gwa's config changes (the DMZ gone, a rule more):
# gwb catches up when it is back, the master sending its newest entry.
sed -i '/^interface DMZ/d; s/^nat masquerade on WAN/service NINE4 tcp 9004\ndeny on LAN from ANY to ANY service NINE4\nnat masquerade on WAN/' \
    "$tmp/a/moat.conf"
on a "$MOAT" apply -f "$tmp/a/moat.conf" >/dev/null || fail "moat apply on gwa (NINE4)"
for _ in $(seq 100); do	# gwa tried to send it, and could not
	ha_field a "d.get('push', {}).get('result', '')" | grep -q "not sent" && break
	sleep 0.1
done
ha_field a "d.get('push', {}).get('result', '')" | grep -q "not sent" ||
    fail "gwa did not say that gwb is not there: $(ha_field a "d.get('push')")"
start_node b
wait_state b backup 15
for _ in $(seq 100); do
	[ "$(ha_field a "d['same_policy']")" = True ] && break
	sleep 0.1
done
if grep -q 'service NINE4' "$tmp/b/moat.conf" &&
    [ "$(ha_field b "d['same_policy']")" = True ]; then
	echo "ok: gwb, back after a crash, caught up with what gwa applied meanwhile"
else
	fail "gwb did not catch up: $(grep -h 'ha:' "$tmp/a/moatd.log" | tail -4)"
fi
ct2=$(cat "$tmp/b/state/ha/conntrackd.pid" 2>/dev/null)
if [ -n "$ct2" ] && [ "$ct2" != "$ct" ] && kill -0 "$ct2" 2>/dev/null; then
	echo "ok: gwb started again after kill -9: conntrackd runs (its stale lock removed), backup"
else
	fail "gwb after kill -9: conntrackd $ct2: $(tail -5 "$tmp/b/state/ha/conntrackd.log")"
fi
[ "$(pgrep -c -f "$tmp/b/state/ha/keepalived.conf")" -ge 1 ] ||
    fail "no keepalived for gwb"

# A config without the ha block, applied on gwa: gwa leaves the pair
# (its engines stop, the VIPs go to gwb), and says nothing of a pair.
sed -i '/^ha {/,/^}/d' "$tmp/a/moat.conf"
on a "$MOAT" apply -f "$tmp/a/moat.conf" >/dev/null || fail "moat apply on gwa (no ha)"
wait_state b master 10
for _ in $(seq 50); do
	[ -f "$tmp/a/run/ha.json" ] || break
	sleep 0.1
done
if [ ! -f "$tmp/a/run/ha.json" ] &&
    ! pgrep -f "$tmp/a/state/ha/keepalived.conf" >/dev/null; then
	echo "ok: gwa without its ha block: out of the pair, gwb master"
else
	fail "gwa after a config without ha: $(tail -12 "$tmp/a/moatd.log"; ls -l "$tmp/a/run"; pgrep -af "$tmp/a/")"
fi
case $(on a "$MOAT" status) in
*"ha:"*) fail "moat status on gwa still speaks of a pair" ;;
esac

echo "figures: $(tr '\n' ' ' <"$tmp/figures")"
kill $pid_a $pid_b 2>/dev/null
wait $pid_a $pid_b 2>/dev/null
sleep 0.5
if pgrep -f "$tmp/[ab]/state/ha/" >/dev/null; then
	fail "engines left running after moatd stopped: $(pgrep -af "$tmp/[ab]/state/ha/")"
fi
finish
