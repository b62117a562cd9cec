#!/bin/sh
# ha-fds.sh: issue 21's finding 3 and its contract's "Descriptors".  Every
# process of a node (gwb: console on, the SMTP proxy, the firewall log,
# the HA engines, the sync link's server) holds exactly the descriptors
# its job needs: compared, by what each points to, with a list per
# process (tests/lab/fds.py).  moatd is started with its standard input
# closed: 0-2 stay on /dev/null (or its log), no socket becomes one.
# moatd-sync, which reads the sync link, is moatd executed again: nothing
# of the parent's memory is in it (tests/lab/memgrep.py).
LAB=$(cd "$(dirname "$0")/../.." && pwd)/scripts/halab.sh
. "$(dirname "$0")/lib.sh"
for t in keepalived conntrackd; do
	if ! command -v "$t" >/dev/null; then
		echo "skip: $t is needed"
		exit 77
	fi
done
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
. "$here/ha-lib.sh"
fds="$here/fds.py"
close_stdin=1

check() {	# check WHAT PID EXPECTED...
	what=$1
	shift
	if out=$(python3 "$fds" "$@"); then
		echo "ok: $what holds only its own: ${out#ok: }"
	else
		fail "$what: $out"
	fi
}

console_setup
node_conf a console
node_conf b console
start_node a
console_up a
start_node b
console_up b
wait_state a master
wait_state b backup
for _ in $(seq 100); do
	[ "$(ha_field b "d['peer']['state']")" = master ] && break
	sleep 0.1
done
sleep 1
if [ -n "${HA_FDS_DUMP:-}" ]; then
	for p in $pid_b $(pgrep -P "$pid_b") $(pgrep -f "$tmp/b/state/ha/"); do
		echo "== $p $(cat /proc/$p/comm) (parent $(ps -o ppid= -p $p))"
		python3 "$fds" "$p"
	done
	cp "$tmp/b/moatd.log" /tmp/sync-b-moatd.log
fi

# moatd itself: 0-2 where they belong, though it started with 0 closed.
for fd in 0 1 2; do
	t=$(readlink "/proc/$pid_b/fd/$fd")
	case $fd:$t in
	0:/dev/null|[12]:*/moatd.log) ;;
	*) fail "moatd's descriptor $fd is $t" ;;
	esac
done
[ $failed = 0 ] && echo "ok: moatd's 0-2: standard input /dev/null, 1 and 2 its log"

child() {	# child NAME [PARENT]: the pid of moatd's child (or PARENT's)
	pgrep -x -P "${2:-$pid_b}" "$1" | head -1
}
# A child's standard output and error: its pipe to moatd, which logs its
# lines after its name (daemon/childlog.h), not moatd's own log.
log="null pipe*2"
# The console: its listener, its channel to the parent, and the eventfd
# libmicrohttpd makes for itself.
check "the console (moatd-web)" "$(child moatd-web)" $log tcp-listen:443 unix \
    eventfd
# (and libunbound's two socketpairs, between its callers and its worker:
# the recipients' DNSSEC-validated lookups, doc/design/tls-policy.md)
check "the SMTP proxy (moatd-smtp)" "$(child moatd-smtp)" $log \
    tcp-listen:25*2 tcp-listen:10025*2 pipe*2 unix*4
# The proxy parses what the Internet sends: moatd executed afresh, and
# handed the config without the HA pair's secret (the parent holds it).
smtp=$(child moatd-smtp)
[ -n "$smtp" ] || smtp=none
case $(tr '\0' ' ' <"/proc/$smtp/cmdline" 2>&1) in
"moatd-smtp --smtp-process "*) echo "ok: moatd-smtp is moatd executed again" ;;
*) fail "moatd-smtp's command line: $(tr '\0' ' ' <"/proc/$smtp/cmdline" 2>&1)" ;;
esac
in_parent=$(python3 "$here/memgrep.py" "$pid_b" 'secret "shared secret"')
in_smtp=$(python3 "$here/memgrep.py" "$smtp" 'secret "shared secret"')
if [ "$in_parent" = found ] && [ "$in_smtp" = absent ]; then
	echo "ok: the HA secret is in moatd's memory, not in the proxy's"
else
	fail "the HA secret in memory: moatd $in_parent, moatd-smtp $in_smtp"
fi
# So is the console, which whoever reaches its port talks to.
web=$(child moatd-web)
[ -n "$web" ] || web=none
case $(tr '\0' ' ' <"/proc/$web/cmdline" 2>&1) in
"moatd-web --console-process "*) echo "ok: moatd-web is moatd executed again" ;;
*) fail "moatd-web's command line: $(tr '\0' ' ' <"/proc/$web/cmdline" 2>&1)" ;;
esac
[ "$(python3 "$here/memgrep.py" "$web" 'secret "shared secret"')" = absent ] &&
	echo "ok: the HA secret is not in the console's memory" ||
	fail "the HA secret is in the console's memory"
# And the firewall log, which parses everyone's packets.
lg=$(child moatd-log)
[ -n "$lg" ] || lg=none
case $(tr '\0' ' ' <"/proc/$lg/cmdline" 2>&1) in
"moatd-log --log-process "*) echo "ok: moatd-log is moatd executed again" ;;
*) fail "moatd-log's command line: $(tr '\0' ' ' <"/proc/$lg/cmdline" 2>&1)" ;;
esac
[ "$(python3 "$here/memgrep.py" "$lg" 'secret "shared secret"')" = absent ] &&
	echo "ok: the HA secret is not in the firewall log's memory" ||
	fail "the HA secret is in the firewall log's memory"
# The firewall log: NFLOG, and its channel to ask the parent for configs.
check "the firewall log (moatd-log)" "$(child moatd-log)" $log netlink:12 \
    unix
# The peer's exchanges are a connection each, which the server holds
# while it answers: one caught in flight is not a leak, so the listing
# is taken again (a descriptor leaked stays in every one of them), and
# the first clean one is the answer (a last listing taken after it for
# the check could catch an exchange again: it did, in a whole run).
sync_fds() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		if out=$(python3 "$fds" "$(child moatd-sync)" $log \
		    tcp-listen:28016 unix); then
			echo "ok: the sync link's server (moatd-sync) holds only" \
			    "its own: ${out#ok: }"
			return 0
		fi
		sleep 0.2
	done
	fail "the sync link's server (moatd-sync): $out"
}
sync_fds
[ "$(stat -c %U "/proc/$(child moatd-sync)")" = moat-sync ] &&
    grep -q "^CapEff:	0000000000000000" "/proc/$(child moatd-sync)/status" &&
    grep -q "^Seccomp:	2" "/proc/$(child moatd-sync)/status" &&
    echo "ok: moatd-sync runs as moat-sync, without capabilities, filtered" ||
    fail "moatd-sync: $(grep -E "^(Uid|CapEff|Seccomp)" "/proc/$(child moatd-sync)/status")"
# moatd-sync is moatd executed afresh, not a fork: the config the parent
# holds (its comment "not 9002") is not in its memory.
sync=$(child moatd-sync)
[ -n "$sync" ] || sync=none	# not /proc//cmdline: the kernel's
case $(tr '\0' ' ' <"/proc/$sync/cmdline" 2>&1) in
"moatd-sync --ha-sync-server ") echo "ok: moatd-sync is moatd executed again" ;;
*) fail "moatd-sync's command line: $(tr '\0' ' ' <"/proc/$sync/cmdline")" ;;
esac
in_parent=$(python3 "$here/memgrep.py" "$pid_b" 'not 9002')
in_sync=$(python3 "$here/memgrep.py" "$sync" 'not 9002')
if [ "$in_parent" = found ] && [ "$in_sync" = absent ]; then
	echo "ok: the config is in moatd's memory, not in moatd-sync's"
else
	fail "the config's text in memory: moatd $in_parent, moatd-sync $in_sync"
fi
# The engines: what they open themselves, nothing of moatd's.
ka=$(child keepalived)
ka_common="null keepalived.log*2 consolidated_configuration eventpoll timerfd signalfd eventfd"
check "keepalived" "$ka" $ka_common pipe*4
check "keepalived's VRRP process" "$(child keepalived "$ka")" $ka_common \
    pipe netlink:0*2 notify.fifo packet raw*2
check "conntrackd" "$(child conntrackd)" conntrackd.log*3 unix \
    udp:ephemeral udp:3780 netlink:0 netlink:12*6 pipe*4

# The askers (the hellos, a push: each reads what the peer answers) are
# moatd executed afresh as moat-sync, not forks that held the parent's
# memory (the console's sessions, the users' hashes, the TLS keys); the
# hellos' is executed once and asked each hello on its channel.
new_child() {	# new_child NAME [NOT]: moatd's child NAME (not pid NOT), 15 s
	for _ in $(seq 150); do
		c=$(child "$1")
		[ -n "$c" ] && [ "$c" != "${2:-}" ] && { echo "$c"; return 0; }
		sleep 0.1
	done
	echo none
}
ask=$(new_child moatd-ask)
case $(tr '\0' ' ' <"/proc/$ask/cmdline" 2>&1) in
"moatd-ask --ha-ask hello ") echo "ok: moatd-ask (the hellos) is moatd executed again" ;;
*) fail "moatd-ask's command line: $(tr '\0' ' ' <"/proc/$ask/cmdline" 2>&1)" ;;
esac
[ "$(stat -c %U "/proc/$ask")" = moat-sync ] &&
    grep -q "^CapEff:	0000000000000000" "/proc/$ask/status" &&
    grep -q "^Seccomp:	2" "/proc/$ask/status" &&
    echo "ok: moatd-ask runs as moat-sync, without capabilities, filtered" ||
    fail "moatd-ask: $(grep -E "^(Uid|CapEff|Seccomp)" "/proc/$ask/status")"
# (its exchange with the peer, every 2 s, is a connection it holds a
# moment: the first clean listing is the answer, as for moatd-sync)
ask_fds() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		if out=$(python3 "$fds" "$ask" $log unix); then
			echo "ok: the hellos' asker (moatd-ask) holds only its own:" \
			    "${out#ok: }"
			return 0
		fi
		sleep 0.2
	done
	fail "the hellos' asker (moatd-ask): $out"
}
ask_fds
in_parent=$(python3 "$here/memgrep.py" "$pid_b" 'not 9002')
in_ask=$(python3 "$here/memgrep.py" "$ask" 'not 9002')
if [ "$in_parent" = found ] && [ "$in_ask" = absent ]; then
	echo "ok: the config is in moatd's memory, not in moatd-ask's"
else
	fail "the config's text in memory: moatd $in_parent, moatd-ask $in_ask"
fi
# One asker for the hellos, not one each: the same after three more.
sleep 6
if [ "$(child moatd-ask)" = "$ask" ] &&
    ! grep -q "the hello asker:" "$tmp/b/moatd.log"; then
	echo "ok: the same asker says each hello (pid $ask)"
else
	fail "the hellos' asker: $(child moatd-ask) after $ask; $(grep 'hello asker' "$tmp/b/moatd.log" | tail -2)"
fi
# gwb again with its hellos held (MOAT_ASK_HOLD_MS, a test build's): past
# the hello's deadline moatd must end the asker (and start another), or no
# hello would go again.
kill "$pid_b"
wait "$pid_b" 2>/dev/null
node_env=MOAT_ASK_HOLD_MS=60000
start_node b
node_env=
held=$(new_child moatd-ask)
for _ in $(seq 100); do
	grep -q "the hello to the peer did not end in time" "$tmp/b/moatd.log" &&
	    ! kill -0 "$held" 2>/dev/null && break
	sleep 0.1
done
if grep -q "the hello to the peer did not end in time" "$tmp/b/moatd.log" &&
    ! kill -0 "$held" 2>/dev/null; then
	echo "ok: an asker past its deadline is ended by moatd"
else
	fail "the held asker: $(grep 'ha:' "$tmp/b/moatd.log" | tail -3)"
fi
# ... and another says the next hello
next=$(new_child moatd-ask "$held")
[ "$next" != none ] &&
    echo "ok: and another asker is started for the next hello" ||
    fail "no asker after the held one ended: '$next'"
finish
