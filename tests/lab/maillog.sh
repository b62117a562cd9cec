#!/bin/sh
# The mail log and the Gateway Anti-Virus figures, with real mail through
# the relay: every message is one record of mail.jsonl (verdict, signature,
# Message-ID, reply), moat mail-log says it in words, and the counters in
# moat status match exactly what was sent; they survive moatd's restart
# (since-start begins again).  A scan that fails counts as a failure and a
# temporary one.
. "$(dirname "$0")/lib.sh"
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
export MOAT_LOG_DIR="$tmp/log"
conf="$tmp/moat.conf"
cat "$top/examples/lab/seed-b.conf" - >"$conf" <<CONF
antivirus {
    engine clamav $db
    smtp-local-scanning on
    smtp-relay-to 127.0.0.1:10026
    max-message-size 64K
}
logging {
    metrics-file $tmp/moat.prom
    metrics-interval 1s
}
CONF
sink gw 127.0.0.1 "$tmp/out-relay" 10026
start_moatd "$conf"

send() {	# send WANT ARGS...: one message from the LAN to the relay
	want=$1
	shift
	out=$(ns lan python3 "$smtp/send.py" 192.168.50.1 25 --from 192.168.50.11 "$@")
	case $out in "$want"*) echo "ok: $* -> $out" ;; *) fail "$*: $out, want $want" ;; esac
}
send 250 --message-id "<clean-1@lab.test>"
send 250 --message-id "<clean-2@lab.test>"
send 250 --message-id "<clean-3@lab.test>"
send "554 5.7.1" --virus --message-id "<virus-1@lab.test>"
send "554 5.7.1" --virus
send "552 5.3.4" --size 100000 --message-id "<big-1@lab.test>"

# records N: wait until mail.jsonl has N records
records() {
	for _ in $(seq 30); do
		[ "$("$MOAT" mail-log --json 2>/dev/null | wc -l)" -ge "$1" ] && break
		sleep 0.1
	done
	"$MOAT" mail-log --json
}
records 6 >"$tmp/mail.json"
python3 - "$tmp/mail.json" <<'PY' || fail "the mail log's records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 6, len(recs)
v = [r["verdict"] for r in recs]
assert v == ["clean"] * 3 + ["virus"] * 2 + ["too-big"], v
assert [r["message_id"] for r in recs] == ["<clean-1@lab.test>", "<clean-2@lab.test>",
    "<clean-3@lab.test>", "<virus-1@lab.test>", "", "<big-1@lab.test>"], recs
assert all(r["client"].startswith("192.168.50.11:") for r in recs), recs
assert all(r["mode"] == "relay" and r["rcpts"] == 1 for r in recs), recs
assert "EICAR" in recs[3]["signature"].upper(), recs[3]
assert recs[4]["signature"] == recs[3]["signature"], recs[4]
assert recs[0]["signature"] == "", recs[0]
assert recs[0]["reply"].startswith("250"), recs[0]
assert recs[0]["from"] == "<sender@lab.test>", recs[0]
print("ok: six records, in order, with verdicts, Message-IDs and replies")
PY
"$MOAT" mail-log | grep -q "virus [^ ]*EICAR[^ ]* relay from=<sender@lab.test> client=192.168.50.11:[0-9]* rcpts=1 .*message-id=<virus-1@lab.test>" &&
	echo "ok: moat mail-log in words" || fail "moat mail-log: $("$MOAT" mail-log)"

# figures WHAT: the counts moat status gives for WHAT (since start, today,
# in total), once moatd saved them
figures() {
	sleep 1.2
	ns gw "$MOAT" status | grep -A4 "^antivirus:" >"$tmp/status"
	grep -E "^  $1 " "$tmp/status" | head -1
}
want="6 messages: 3 clean, 2 virus, 0 not scanned (engine), 1 too big, 0 temporary failures"
for what in "" "today:" "in total:"; do
	line=$(figures "$what")
	case $line in *"$want"*) echo "ok: moat status ${what:-since start}: $line" ;;
	*) fail "moat status ${what:-since start}: $line; want $want: $(cat "$tmp/status")" ;; esac
done
grep -Eq "^antivirus: clamav [0-9.]*, 2 signatures(, [0-9]+ MB, loaded in [0-9.]+ s)?; 0 open sessions" "$tmp/status" ||
	fail "the engine: $(cat "$tmp/status")"
ns gw "$MOAT" status | grep -q "last virus: [^ ]*EICAR[^ ]* at .* from 192.168.50.11:" ||
	fail "the last virus: $(ns gw "$MOAT" status)"

# The same figures for Prometheus: moat metrics, and the textfile moatd
# writes for node_exporter, both as promtool wants them.
ns gw "$MOAT" metrics >"$tmp/metrics" || fail "moat metrics"
if promtool check metrics <"$tmp/metrics" >"$tmp/promtool" 2>&1; then
	echo "ok: promtool accepts moat metrics"
else
	fail "promtool: $(cat "$tmp/promtool")"
fi
for want in "moat_mail_messages_total 6" "moat_mail_clean_total 3" \
    "moat_mail_virus_total 2" "moat_mail_size_rejects_total 1" \
    "moat_mail_scan_seconds_count 5" 'moat_mail_scan_seconds_bucket{le="+Inf"} 5' \
    "moat_smtp_sessions 0" "moat_antivirus_signatures 2" \
    'moat_default_packets_total{interface="WAN",action="deny"}' \
    'moat_rule_packets_total{rule="1",line="' \
    'moat_policy_info{hash="'; do
	grep -qF "$want" "$tmp/metrics" || fail "moat metrics has no '$want'"
done
for _ in $(seq 30); do
	grep -q "moat_mail_messages_total 6" "$tmp/moat.prom" 2>/dev/null && break
	sleep 0.1
done
promtool check metrics <"$tmp/moat.prom" >/dev/null 2>&1 &&
	grep -q "moat_mail_messages_total 6" "$tmp/moat.prom" &&
	echo "ok: moatd writes the textfile for node_exporter" ||
	fail "the textfile: $(cat "$tmp/moat.prom" 2>&1 | head -5)"

# A restart: the totals stay, since-start begins again.
stop_moatd
start_moatd "$conf"
send 250 --message-id "<clean-4@lab.test>"
line=$(figures "in total:")
case $line in *" 7 messages: 4 clean, 2 virus"*) echo "ok: after a restart, in total: $line" ;;
*) fail "after a restart, in total: $line" ;; esac
line=$(figures "")
case $line in *" 1 messages: 1 clean, 0 virus"*) echo "ok: after a restart, since start: $line" ;;
*) fail "after a restart, since start: $line" ;; esac

# An engine that fails: the message gets 451, counted as such.
stop_moatd
sed "s|engine clamav $db|engine clamd $tmp/no-clamd.sock|" "$conf" >"$tmp/clamd.conf"
start_moatd "$tmp/clamd.conf"
send "451 4.7.0"
line=$(figures "in total:")
case $line in *" 8 messages: 4 clean, 2 virus, 1 not scanned (engine), 1 too big, 1 temporary failures"*)
	echo "ok: a failed scan: $line" ;;
*) fail "a failed scan: $line" ;; esac
[ "$(count "$tmp/out-relay")" = 4 ] || fail "the next hop has $(count "$tmp/out-relay") messages, want 4"
finish
