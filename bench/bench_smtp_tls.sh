#!/bin/bash
# bench_smtp_tls.sh [BUILD_DIR]: mail over TLS through the scanning proxy
# (issue 23).  4 KB messages, one message per session, 1 and 100 sessions
# at a time, sent by smtp_tls_load.py (Postfix's smtp-source has no TLS) to
# a sink of the same script (discards; counts what it got):
#   direct      load -> sink, plaintext and TLS: what the tools cost alone
#   moat        load -> moatd's relay (engine clamd) -> sink, plaintext on
#               both legs, then TLS on both legs (STARTTLS to moat, moat's
#               STARTTLS to the sink)
#   postfix     load -> Postfix (smtpd + clamav-milter on the same clamd
#               and database) -> its queue -> smtp -> sink, TLS on both
#               legs, then plaintext: the peer that does the same job
# msg/s counts until the sink has every message (Postfix answers 250 once
# queued).  CPU per message from /proc: the proxy (moatd-smtp); the whole
# pipeline (moatd and all its processes, or Postfix's master and all its
# processes and clamav-milter, and clamd for both, those that ended
# included: proctree.py); the load generator and the sink.  Not the
# machine's total (/proc/stat): others may use the machine meanwhile.  The
# proxy's CPU with TLS less without it is what its two handshakes a
# message cost.  Prints figures, never fails on time.  The
# issue's aim: moat with TLS on both legs >= 70% of moat in plaintext, and
# >= 2x Postfix + clamav-milter with TLS.  Root: it runs in a network
# namespace of its own.  BENCH_MESSAGES_1 / BENCH_MESSAGES_100 change the
# number of messages of the runs at 1 and 100 sessions.
set -eu
build=$(cd "${1:-build-release}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if [ "${MOAT_BENCH_INNER:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench_smtp_tls: needs root"; exit 1; }
	MOAT_BENCH_INNER=1 exec unshare -n bash "$0" "$build"
fi
ip link set lo up
m1=${BENCH_MESSAGES_1:-300}
m100=${BENCH_MESSAGES_100:-3000}
# On disk, as a mail queue is: Postfix's queue is in here.
tmp=$(mktemp -d)
chmod 755 "$tmp"
# The proxy's scratch directory on tmpfs, as /run/moat is on a systemd host.
run=$(mktemp -d /dev/shm/moat-bench.XXXXXX)
chmod 755 "$run"
pids=""
failed=0
MOAT_LAB=
. "$top/tests/lab/postfix-lib.sh"
trap 'pf_stop_all; for p in $pids; do kill $p 2>/dev/null || true; done; rm -rf "$tmp" "$run"' EXIT
sh "$top/tests/smtp/sigdb.sh" "$tmp/db"
pf_ca "$tmp/pki"
for c in sink moat postfix; do pf_cert "$tmp/pki" $c $c.bench.test 127.0.0.1; done
load="$here/smtp_tls_load.py"

# One clamd, for moat (engine clamd) and clamav-milter alike.
cat >"$tmp/clamd.conf" <<CONF
LocalSocket $tmp/clamd.sock
LocalSocketMode 666
DatabaseDirectory $tmp/db
Foreground yes
User root
ScanMail yes
LogFile $tmp/clamd.log
TemporaryDirectory $tmp
CONF
clamd -c "$tmp/clamd.conf" >/dev/null 2>&1 &
clamd_pid=$!
pids="$pids $clamd_pid"
cat >"$tmp/milter.conf" <<CONF
MilterSocket unix:$tmp/milter.sock
MilterSocketMode 666
ClamdSocket unix:$tmp/clamd.sock
Foreground yes
OnInfected Reject
OnFail Defer
AddHeader Replace
LogFile $tmp/milter.log
CONF
for _ in $(seq 300); do [ -S "$tmp/clamd.sock" ] && break; sleep 0.1; done
clamav-milter -c "$tmp/milter.conf" >"$tmp/milter.out" 2>&1 &
milter_pid=$!
pids="$pids $milter_pid"
for _ in $(seq 100); do [ -S "$tmp/milter.sock" ] && break; sleep 0.1; done
[ -S "$tmp/milter.sock" ] || echo "clamav-milter did not start: $(cat "$tmp/milter.out" "$tmp/milter.log" 2>/dev/null)"

# The sinks: 2526 plaintext, 2536 with STARTTLS.
sink() {	# sink PORT NAME [--tls CERT KEY]
	python3 "$load" sink "$1" "$tmp/$2.count" "${@:3}" >"$tmp/$2.out" 2>&1 &
	pids="$pids $!"
	eval "${2}_pid=$!"
	for _ in $(seq 50); do grep -q ready "$tmp/$2.out" && return; sleep 0.1; done
	echo "sink $2 did not start: $(cat "$tmp/$2.out")"
}
sink 2526 plain
sink 2536 tls --tls "$tmp/pki/sink.crt" "$tmp/pki/sink.key"

# moat: the relay on 127.0.0.1:25, to sink NAME; its certificate when this
# moat knows the setting (before issue 23 it offers no STARTTLS at all).
moat_conf() {	# moat_conf PORT
	cat >"$tmp/moat.conf" <<CONF
interface LAN device lo address 127.0.0.1/8
antivirus {
    engine clamd $tmp/clamd.sock
    smtp-local-scanning on
    smtp-relay-to 127.0.0.1:$1
    max-message-size 50M
    smtp-max-client-rate 0
    smtp-max-client-sessions 1000
CONF
	printf 'interface LAN device lo address 127.0.0.1/8\nantivirus {\n    engine clamd %s\n    smtp-tls-certificate %s\n    smtp-tls-key %s\n}\n' \
	    "$tmp/clamd.sock" "$tmp/pki/moat.crt" "$tmp/pki/moat.key" >"$tmp/knows.conf"
	if MOAT_CONF_DIR="$tmp" "$build/moat" check -f "$tmp/knows.conf" >/dev/null 2>&1; then
		echo "    smtp-tls-certificate $tmp/pki/moat.crt" >>"$tmp/moat.conf"
		echo "    smtp-tls-key $tmp/pki/moat.key" >>"$tmp/moat.conf"
	fi
	echo "}" >>"$tmp/moat.conf"
}
start_moatd() {
	: >"$tmp/moatd.log"
	MOAT_STATE_DIR="$tmp/state" MOAT_RUN_DIR="$run" MOAT_LOG_DIR="$tmp/log" \
	    MOAT_CONF_DIR="$tmp" "$build/moatd" -f "$tmp/moat.conf" 2>"$tmp/moatd.log" &
	moatd=$!
	pids="$pids $moatd"
	for _ in $(seq 100); do
		grep -q "proxy running" "$tmp/moatd.log" && break
		sleep 0.1
	done
	proxy=$(pgrep -x -P "$moatd" moatd-smtp | head -1 || true)
	[ -n "$proxy" ] || echo "moatd did not start: $(cat "$tmp/moatd.log")"
}
stop_moatd() {
	kill "$moatd" 2>/dev/null || true
	wait "$moatd" 2>/dev/null || true
}

# Postfix + clamav-milter: smtpd on 127.0.0.1:2527, the milter, the queue,
# smtp to a sink; TLS as a Debian Postfix has it (session caches on).
pf_new postfix - 127.0.0.1:2527 \
    smtpd_milters="unix:$tmp/milter.sock" milter_default_action=tempfail \
    smtpd_tls_cert_file="$tmp/pki/postfix.crt" smtpd_tls_key_file="$tmp/pki/postfix.key" \
    smtpd_tls_session_cache_database="btree:\$data_directory/smtpd_scache" \
    smtp_tls_session_cache_database="btree:\$data_directory/smtp_scache" \
    smtpd_tls_loglevel=0 smtp_tls_loglevel=0
pf_start postfix >/dev/null
postfix_mode() {	# postfix_mode tls|plain
	if [ "$1" = tls ]; then
		pf_conf postfix smtpd_tls_security_level=may smtp_tls_security_level=may \
		    relayhost=[127.0.0.1]:2536
	else
		pf_conf postfix smtpd_tls_security_level=none smtp_tls_security_level=none \
		    relayhost=[127.0.0.1]:2526
	fi
	sleep 1
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
tree() { if [ -n "$pp" ]; then python3 "$here/proctree.py" $pp; else echo 0; fi; }
count() { cut -d' ' -f1 "$tmp/$1.count" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)

echo "SMTP with STARTTLS: moat's relay vs Postfix + clamav-milter, one clamd, 4 KB, one message a session ($(nproc) cores)"
printf '%-34s %8s %8s %8s | %-27s\n' "" "" "" "" "CPU ms per message"
printf '%-34s %8s %8s %8s | %7s %9s %9s\n' pipeline sessions messages "msg/s" \
    proxy pipeline "load+sink"
# measure NAME PORT SESSIONS MESSAGES SINK [--tls]: one run, one line;
# its msg/s in $rate (empty when the run failed)
measure() {
	name=$1 port=$2 s=$3 m=$4 sk=$5
	shift 5
	# A few messages first: processes and caches warm.
	python3 "$load" send "127.0.0.1:$port" 2 20 4096 "$@" \
	    --wait "$tmp/$sk.count" $(($(count "$sk") + 20)) >/dev/null
	target=$(($(count "$sk") + m))
	sk_pid=$(eval echo "\$${sk}_pid")
	p0=0; [ -n "${px:-}" ] && p0=$(ticks "$px")
	k0=$(ticks "$sk_pid")
	b0=$(tree)
	l0=$(pf_log postfix | wc -l)
	python3 "$load" send "127.0.0.1:$port" "$s" "$m" 4096 "$@" \
	    --wait "$tmp/$sk.count" "$target" >"$tmp/res" || true
	b1=$(tree)
	k1=$(ticks "$sk_pid")
	p1=0; [ -n "${px:-}" ] && p1=$(ticks "$px")
	rate=$(python3 - "$tmp/res" "$name" "$s" "$m" "$((p1 - p0))" "$((k1 - k0))" \
	    "$((b1 - b0))" "$hz" "${px:+1}" "$(count "$sk")" "$target" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
name, s, m = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
px, sk, tree, hz = (int(x) for x in sys.argv[5:9])
has_px = sys.argv[9] == "1"
got, target = int(sys.argv[10]), int(sys.argv[11])
if r["failed"] or got < target:
    print("%-34s %8d %8d %8s | %s" % (name, s, m, "n/a",
          "%d of %d failed (%s), the sink got %d of %d" % (
              r["failed"], m, r["first_error"], m - (target - got), m)),
          file=sys.stderr)
    sys.exit(0)
secs = r.get("delivered_seconds", r["seconds"])
ms = lambda t: 1000.0 * t / hz / m
load_sink = 1000.0 * r["cpu"] / m + ms(sk)
print("%-34s %8d %8d %8.0f | %7s %9s %9.3f" % (
      name, s, m, m / secs, "%.3f" % ms(px) if has_px else "-",
      "%.3f" % ms(tree) if tree else "-", load_sink), file=sys.stderr)
print("%.1f %.4f" % (m / secs, ms(px) if has_px else 0))
PY
)
	case $name in postfix*)
		pf_log postfix | tail -n +$((l0 + 1)) | python3 -c '
import re, sys
d = [[float(x) for x in m.group(1).split("/")] for m in
     (re.search(r"delays=([0-9./]+), .*status=sent", l) for l in sys.stdin) if m]
if d:
    a = [sum(c) / len(d) for c in zip(*d)]
    print("  Postfix'"'"'s delays, average of %d: before the queue %.3f s, in the queue %.3f s, "
          "connection %.3f s, transmission %.3f s" % (len(d), *a))' >&2
	esac
}

declare -A R P
px= pp=
for s in 1 100; do
	m=$m1; [ "$s" = 100 ] && m=$m100
	measure "direct, plaintext" 2526 "$s" "$m" plain
	R[direct-plain-$s]=${rate%% *}
	measure "direct, TLS" 2536 "$s" "$m" tls --tls
	R[direct-tls-$s]=${rate%% *}
done

moat_conf 2526
start_moatd
px=$proxy pp="$moatd $clamd_pid"
for s in 1 100; do
	m=$m1; [ "$s" = 100 ] && m=$m100
	measure "moat, plaintext both legs" 25 "$s" "$m" plain
	R[moat-plain-$s]=${rate%% *} P[moat-plain-$s]=${rate##* }
done
eicar_moat=$(python3 "$load" send 127.0.0.1:25 1 1 4096 --virus | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_reply"])')
stop_moatd
moat_conf 2536
start_moatd
px=$proxy pp="$moatd $clamd_pid"
for s in 1 100; do
	m=$m1; [ "$s" = 100 ] && m=$m100
	measure "moat, TLS both legs" 25 "$s" "$m" tls --tls
	R[moat-tls-$s]=${rate%% *} P[moat-tls-$s]=${rate##* }
done
stop_moatd
px= pp="$(pf_master_pid postfix) $milter_pid $clamd_pid"

postfix_mode tls
for s in 1 100; do
	m=$m1; [ "$s" = 100 ] && m=$m100
	measure "postfix+clamav-milter, TLS" 2527 "$s" "$m" tls --tls
	R[pf-tls-$s]=${rate%% *}
done
eicar_pf=$(python3 "$load" send 127.0.0.1:2527 1 1 4096 --virus --tls | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_reply"])')
postfix_mode plain
for s in 1 100; do
	m=$m1; [ "$s" = 100 ] && m=$m100
	measure "postfix+clamav-milter, plaintext" 2527 "$s" "$m" plain
	R[pf-plain-$s]=${rate%% *}
done

echo "EICAR through moat: $eicar_moat"
echo "EICAR through Postfix + clamav-milter: $eicar_pf"
# ratio A B: A / B, or n/a
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.0f%%", 100 * a / b }'; }
for s in 1 100; do
	echo "$s session(s): moat TLS both legs / plaintext both legs: $(pct "${R[moat-tls-$s]:-}" "${R[moat-plain-$s]:-}") (aim >= 70%);" \
	    "moat TLS / Postfix + clamav-milter TLS: $(ratio "${R[moat-tls-$s]:-}" "${R[pf-tls-$s]:-}")x (aim >= 2x);" \
	    "moat plaintext / Postfix plaintext: $(ratio "${R[moat-plain-$s]:-}" "${R[pf-plain-$s]:-}")x"
	if [ -n "${R[moat-tls-$s]:-}" ] && [ -n "${R[moat-plain-$s]:-}" ]; then
		awk -v t="${P[moat-tls-$s]}" -v p="${P[moat-plain-$s]}" -v s="$s" 'BEGIN {
		    printf "  %s session(s): the proxy'"'"'s TLS handshakes (one server, one client a message): %.3f ms CPU per message\n", s, t - p }'
	fi
done
