#!/bin/sh
# bench_smtp.sh [BUILD_DIR]: the scanning SMTP proxy against Postfix's
# smtp-sink, next to the same load sent straight to the sink, in one run:
# 1, 10 and 100 parallel sessions of smtp-source, 4 KB, 100 KB and 2 MB
# messages; then memory per idle session (1 and 1,000 sessions open).
# moatd runs the relay (smtp-local-scanning) with libclamav and a
# two-signature database.  Then where the CPU goes at 100 sessions, 4 KB
# (per message, for smtp-source, smtp-sink and the proxy, from /proc), and
# the same load through a proxy that does not scan (engine clamd with no
# clamd, on-scan-failure pass): what the proxy's SMTP costs without the
# scan.  Prints figures; never fails on time.  Root: it runs in a network
# namespace of its own.
set -eu
build=$(cd "${1:-build-release}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ "${MOAT_BENCH_INNER:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench_smtp: needs root"; exit 1; }
	MOAT_BENCH_INNER=1 exec unshare -n sh "$0" "$build"
fi
ip link set lo up
tmp=$(mktemp -d)
chmod 755 "$tmp"
# The proxy's scratch directory on tmpfs, as /run/moat is on a systemd
# host (here /run may be a disk, and libclamav's files then cost).
run=$(mktemp -d /dev/shm/moat-bench.XXXXXX)
chmod 755 "$run"
pids=""
# (|| true: under set -e a pid that already ended, such as a moatd stopped
# on the way, would end the trap before the others are stopped)
trap 'for p in $pids; do kill $p 2>/dev/null || true; done; rm -rf "$tmp" "$run"' EXIT
sh "$here/../tests/smtp/sigdb.sh" "$tmp/db"
# conf NAME ENGINE [LINE]: a relay configuration
conf() {
	cat >"$tmp/$1.conf" <<CONF
interface LAN device lo address 127.0.0.1/8
antivirus {
    engine $2
    smtp-local-scanning on
    smtp-relay-to 127.0.0.1:2526
    max-message-size 50M
    smtp-max-client-rate 0
    smtp-max-client-sessions 1000
    ${3:-}
}
CONF
}
conf scan "clamav $tmp/db"
conf noscan "clamd $tmp/no-clamd.sock" "on-scan-failure pass"
smtp-sink -u nobody -m 2000 127.0.0.1:2526 4096 &
sink=$!
pids="$pids $sink"

# start_moatd NAME: moatd with that configuration; sets moatd and proxy
start_moatd() {
	: >"$tmp/moatd.log"
	MOAT_STATE_DIR="$tmp/state" MOAT_RUN_DIR="$run" "$build/moatd" -f "$tmp/$1.conf" \
	    2>"$tmp/moatd.log" &
	moatd=$!
	pids="$pids $moatd"
	for _ in $(seq 100); do
		grep -q "proxy running" "$tmp/moatd.log" && break
		sleep 0.1
	done
	proxy=$(pgrep -x -P "$moatd" moatd-smtp | head -1)
}

stop_moatd() {
	kill "$moatd"
	wait "$moatd" 2>/dev/null || true
}
start_moatd scan

now() { date +%s.%N; }

# run HOST:PORT SESSIONS MESSAGES SIZE: seconds for smtp-source
run() {
	t0=$(now)
	smtp-source -s "$2" -m "$3" -l "$4" -f a@x.test -t b@y.test "$1" \
	    >/dev/null 2>&1 || echo "smtp-source failed" >&2
	t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.4f", $2 - $1 }'
}

echo "SMTP proxy (moatd relay, libclamav, 2 signatures) vs straight to smtp-sink"
"$build/bench/bench_scan" "$tmp/db"
printf '%-8s %-9s %8s | %12s %9s | %12s %9s | %6s\n' size sessions messages \
    "direct msg/s" "MB/s" "proxy msg/s" "MB/s" "ratio"
for size in 4096 102400 2097152; do
	for s in 1 10 100; do
		case $size in
		4096) m=3000 ;;
		102400) m=1000 ;;
		*) m=100 ;;
		esac
		[ "$s" = 100 ] && [ "$size" = 2097152 ] && m=200
		d=$(run 127.0.0.1:2526 "$s" "$m" "$size")
		p=$(run 127.0.0.1:25 "$s" "$m" "$size")
		echo "$size $s $m $d $p" | awk '{
		    mb = $1 * $3 / 1048576;
		    printf "%-8s %-9s %8d | %12.0f %9.1f | %12.0f %9.1f | %5.0f%%\n",
		        $1, $2, $3, $3 / $4, mb / $4, $3 / $5, mb / $5,
		        100 * $4 / $5 }'
		if [ "$s" = 1 ] && [ "$size" = 4096 ]; then
			echo "$d $p $m" | awk '{ printf "  1 session, 4 KB: %.3f ms added per message by the proxy, scan included\n", 1000 * ($2 - $1) / $3 }'
		fi
	done
done

python3 - "$proxy" <<'PY'
import socket, sys, time
pid = sys.argv[1]
def rss():
    with open("/proc/%s/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS"):
                return int(l.split()[1])
def open_sessions(n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", 25), timeout=60)
        s.makefile("rb").readline()        # the greeting: the session is up
        socks.append(s)
    time.sleep(0.5)
    return socks
base = rss()
one = open_sessions(1)
r1 = rss()
more = open_sessions(999)
r1000 = rss()
print("memory: proxy RSS %d KB idle, %d KB with 1 session, %d KB with 1,000 "
      "sessions open: %.1f KB per idle session" % (base, r1, r1000,
      (r1000 - base) / 1000.0))
for s in one + more:
    s.close()
PY

# ticks PID: CPU time used so far, in clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# cpu HOST:PORT WHAT: msg/s and CPU ms per message at 100 sessions, 4 KB;
# moatd's own (root: the proxy's log lines come through it) apart
cpu() {
	m=5000
	s0=$(ticks "$sink")
	p0=$(ticks "$proxy")
	r0=$(ticks "$moatd")
	t0=$(now)
	/usr/bin/time -f "%U %S" -o "$tmp/time" smtp-source -s 100 -m "$m" \
	    -l 4096 -f a@x.test -t b@y.test "$1" >/dev/null 2>&1 ||
	    echo "smtp-source failed" >&2
	t1=$(now)
	echo "$t0 $t1 $m $(cat "$tmp/time") $s0 $(ticks "$sink") $p0 \
	    $(ticks "$proxy") $(getconf CLK_TCK) $r0 $(ticks "$moatd")" |
	    awk -v what="$2" '{
	    hz = $10; m = $3; src = ($4 + $5) * 1000 / m;
	    snk = ($7 - $6) * 1000 / hz / m; px = ($9 - $8) * 1000 / hz / m;
	    rt = ($12 - $11) * 1000 / hz / m;
	    printf "  %-24s %6.0f msg/s | CPU ms per message: smtp-source %.3f, smtp-sink %.3f, proxy %.3f (moatd %.3f), total %.3f\n",
	        what, m / ($2 - $1), src, snk, px, rt, src + snk + px + rt }'
}

echo "where the CPU goes, 100 sessions, 4 KB (this machine has $(nproc) cores):"
cpu 127.0.0.1:2526 direct
cpu 127.0.0.1:25 "proxy, libclamav"
stop_moatd
start_moatd noscan
cpu 127.0.0.1:2526 direct
cpu 127.0.0.1:25 "proxy, no scan"
stop_moatd

# A clamd farm: one instance, then two, same signatures, on loopback.
clamd=$(command -v clamd || echo /usr/sbin/clamd)
for c in A B; do
	cat >"$tmp/clamd$c.conf" <<CONF
LocalSocket $tmp/clamd$c.sock
DatabaseDirectory $tmp/db
Foreground yes
User root
ScanMail yes
LogFile $tmp/clamd$c.log
TemporaryDirectory $tmp
CONF
	"$clamd" -c "$tmp/clamd$c.conf" >/dev/null 2>&1 &
	pids="$pids $!"
done
for _ in $(seq 300); do
	[ -S "$tmp/clamdA.sock" ] && [ -S "$tmp/clamdB.sock" ] && break
	sleep 0.1
done
conf farm1 "clamd $tmp/clamdA.sock"
conf farm2 "clamd $tmp/clamdA.sock $tmp/clamdB.sock"
echo "clamd farm (engine clamd A [B]), 100 sessions, 4 KB:"
start_moatd farm1
cpu 127.0.0.1:25 "proxy, one clamd"
stop_moatd
start_moatd farm2
cpu 127.0.0.1:25 "proxy, two clamd"
stop_moatd
