# lib.sh: what the lab tests share.  Source it with the moat binary as $1
# (and moatd as $2, for the tests that run it).
# Each test builds its own lab (namespaces prefixed t<pid>-), its own state
# directory, and removes both, and stops the processes it started, on exit.
set -u
MOAT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
MOATD=
[ $# -ge 2 ] && MOATD=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
LAB=${LAB:-$top/scripts/lab.sh}	# halab.sh for the HA pair's tests
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
	echo "skip: the lab needs root, iproute2 and nftables"
	exit 77
fi
export MOAT_LAB="t$$-"
export MOAT_STATE_DIR MOAT_RUN_DIR MOAT_LOG_DIR
MOAT_STATE_DIR=$(mktemp -d)
tmp=$(mktemp -d)
# moatd's unprivileged children (the firewall log's moat-log) reach their
# directories (the log and run directories) through it.
chmod 711 "$tmp"
MOAT_RUN_DIR=$tmp/run
# Never the host's /var/log/moat: moatd logs there by default.
MOAT_LOG_DIR=$tmp/log
# The test's /etc/moat: paths in a config (the console's users file,
# certificate and key, metrics-file) must lie under moat's directories
# or these roots (moat.conf(5)).
export MOAT_CONF_DIR="$tmp"
pids=""
failed=0

# pid_runs PID: PID runs (an exited child not yet waited for does not)
pid_runs() {
	_pst=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$_pst" ] && [ "$_pst" != Z ]
}

cleanup() {
	# A watchdog of apply --confirm that is still waiting.
	if [ -f "$MOAT_STATE_DIR/pending" ]; then
		pids="$pids $(cut -d' ' -f2 "$MOAT_STATE_DIR/pending")"
	fi
	for pid in $pids; do
		kill "$pid" 2>/dev/null
	done
	# Each gone before their directories are: moatd still stopping
	# wrote mail-stats.json into a state directory rm -rf was emptying,
	# which then stayed behind.
	for pid in $pids; do
		for _ in $(seq 50); do
			pid_runs "$pid" || break
			sleep 0.1
		done
	done
	sh "$LAB" down
	rm -rf "$MOAT_STATE_DIR" "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
sh "$LAB" up || { echo "FAIL: lab up"; exit 1; }

ns() {	# ns NS CMD...: run CMD in a namespace of this lab
	n=$1
	shift
	ip netns exec "$MOAT_LAB$n" "$@"
}

fail() {
	echo "FAIL: $*"
	failed=1
}

# listen NS ADDR:PORT...: start the lab's servers, log in $tmp/NS.log
listen() {
	n=$1
	shift
	ip netns exec "$MOAT_LAB$n" python3 "$here/listen.py" "$tmp/$n.log" "$@" >"$tmp/$n.out" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 50); do
		grep -q listening "$tmp/$n.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "servers in $n did not start: $(cat "$tmp/$n.out")"
}

# probe WANT NS [--from IP] HOST PORT: WANT is connected, refused or "timed out"
probe() {
	want=$1
	n=$2
	shift 2
	out=$(ns "$n" "$MOAT" probe --timeout 1 "$@")
	case $out in
	*" $want"*) echo "ok: $n: $out" ;;
	*) fail "probe $* from $n: want $want, got: $out" ;;
	esac
}

# rule_counter CONF N: the name of rule N's counter (rule_ID, ID the rule's
# id), as moat status in gw tells it; CONF must be the config in force there.
rule_counter() {
	ns gw "$MOAT" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = [c["name"] for c in d["counters"] if c.get("rule") == int(sys.argv[1])]
print(c[0] if c else "")
' "$2"
}

# entry_counter KIND N [_accept]: the name of the counter of forward N
# (KIND forward; with _accept, its accept's), nat source rule N
# (nat_source) or one-to-one line N (one_to_one): KIND_ID, ID the entry's
# id, as moat status in gw tells it from the config in force there.
entry_counter() {
	ns gw "$MOAT" status --json | python3 -c '
import json, sys
kind, n, suffix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
d = json.load(sys.stdin)
c = [c["name"] for c in d["counters"] if c.get(kind) == n and
     c["name"].endswith("_accept") == (suffix == "_accept")]
print(c[0] if c else "")
' "$1" "$2" "${3:-}"
}

# counter NAME: packets counted by counter NAME of table inet moat in gw,
# read from nft's listing (nftcount.py): a rule's counter, rule_ID, adds up
# the counters of its kernel rules and map elements.
counter() {
	ns gw nft -j list table inet moat 2>/dev/null |
	    python3 "$here/nftcount.py" "$1"
}

# start_moatd CONF [PATTERN [LOG]]: moatd in the gateway (started directly,
# so that its pid is moatd's), until LOG (default $tmp/moatd.log) shows
# PATTERN (default: its proxy runs)
start_moatd() {
	log=${3:-$tmp/moatd.log}
	ip netns exec "${MOAT_LAB}gw" "$MOATD" -f "$1" >"$log" 2>&1 &
	moatd_pid=$!
	pids="$pids $moatd_pid"
	for _ in $(seq 100); do
		grep -Eq "${2:-proxy running}" "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "moatd did not start: $(cat "$log")"
}

# stop_moatd: stop the moatd start_moatd started, and wait for it
stop_moatd() {
	kill "$moatd_pid" 2>/dev/null
	wait "$moatd_pid" 2>/dev/null || true
}

# holds SET ADDR [SECONDS]: table inet moat's set SET in gw holds ADDR
# within SECONDS (5); the time taken is printed
holds() {
	start=$(date +%s%N)
	for _ in $(seq $((${3:-5} * 10))); do
		if ns gw nft list set inet moat "$1" 2>/dev/null |
		    grep -q "[ {]$2[ ,}]"; then
			echo "ok: $1 holds $2 after $(( ($(date +%s%N) - start) / 1000000 )) ms"
			return 0
		fi
		sleep 0.1
	done
	fail "$1 does not hold $2 after ${3:-5} s: $(ns gw nft list set inet moat "$1" | tr -d '\n\t')"
	return 1
}
# lacks SET ADDR [SECONDS]: the set no longer holds ADDR within SECONDS
lacks() {
	start=$(date +%s%N)
	for _ in $(seq $((${3:-5} * 10))); do
		if ! ns gw nft list set inet moat "$1" 2>/dev/null |
		    grep -q "[ {]$2[ ,}]"; then
			echo "ok: $1 lost $2 after $(( ($(date +%s%N) - start) / 1000000 )) ms"
			return 0
		fi
		sleep 0.1
	done
	fail "$1 still holds $2 after ${3:-5} s"
	return 1
}

finish() {
	[ $failed = 0 ] && echo "$(basename "$0"): all checks pass"
	exit $failed
}
