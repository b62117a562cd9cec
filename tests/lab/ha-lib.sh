# ha-lib.sh: what the HA pair's lab tests share (ha.sh, ha-trickle.sh,
# ha-fds.sh).  Source it after lib.sh and smtp/lab-lib.sh, with LAB set to
# scripts/halab.sh.
hastream="$here/hastream.py"

# node_conf NODE [console]: the node's config; with console, the console
# block both nodes must have (it is part of the policy they share: the
# master sends its config to a backup that runs another one).
node_conf() {
	case $1 in
	a) me=2 sync=1 peer=2 prio=150 ;;
	b) me=3 sync=2 peer=1 prio=100 ;;
	esac
	mkdir -p "$tmp/$1"
	if [ "${2:-}" = console ]; then
		console="console {
    users $tmp/users
    certificate $tmp/console.pem
    key $tmp/console.key
}"
	else
		console="console off"
	fi
	cat >"$tmp/$1/moat.conf" <<CONF
interface LAN device gwl0 address 192.168.50.$me/24
interface WAN device gww0 address 198.51.100.$me/24
interface SYNC device gws0 address 10.99.0.$sync/24

service NINE tcp 9002
deny on LAN from ANY to ANY service NINE comment "not 9002"
nat masquerade on WAN
$console

antivirus {
    engine clamav $db
    smtp-local-scanning on
    smtp-other-scanning on
    smtp-relay-to 198.51.100.25:25
    smtp-max-client-rate 0          # the mail test's one client sends fast
}

ha {
    peer 10.99.0.$peer
    sync-interface SYNC
    vip LAN 192.168.50.1/24
    vip WAN 198.51.100.1/24
    priority $prio
    secret "shared secret"
    preempt-delay 2
}
CONF
	chmod 600 "$tmp/$1/moat.conf"
}

# console_setup: a console user (admin, admin-pass-1) and the web root,
# readable by the console's own user.
console_setup() {
	chmod 755 "$tmp"
	cp -r "$top/web" "$tmp/web"
	chmod -R a+rX "$tmp/web"
	export MOAT_WEB_ROOT="$tmp/web"
	printf 'admin-pass-1\n' | "$MOAT" passwd -f "$tmp/users" admin >/dev/null ||
		fail "moat passwd"
}

on() {	# on NODE CMD...: CMD in the node's namespace, with its directories
	n=$1
	shift
	ip netns exec "${MOAT_LAB}gw$n" env MOAT_STATE_DIR="$tmp/$n/state" \
	    MOAT_RUN_DIR="$tmp/$n/run" MOAT_LOG_DIR="$tmp/$n/log" "$@"
}

# start_node NODE: moatd of the node (with close_stdin set, its standard
# input closed, as issue 21 found moatd could not take)
start_node() {
	set -- "$1" ip netns exec "${MOAT_LAB}gw$1" env ${node_env:-} \
	    MOAT_STATE_DIR="$tmp/$1/state" MOAT_RUN_DIR="$tmp/$1/run" \
	    MOAT_LOG_DIR="$tmp/$1/log" "$MOATD" -f "$tmp/$1/moat.conf"
	n=$1
	shift
	if [ -n "${close_stdin:-}" ]; then
		"$@" >>"$tmp/$n/moatd.log" 2>&1 <&- &
	else
		"$@" >>"$tmp/$n/moatd.log" 2>&1 </dev/null &
	fi
	eval "pid_$n=$!"
	pids="$pids $!"
}

console_up() {	# console_up NODE: its console serves (30 s: a loaded CI)
	for _ in $(seq 300); do
		grep -q "console: serving" "$tmp/$1/moatd.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "gw$1's console did not start: $(tail -3 "$tmp/$1/moatd.log")"
}

ha_field() {	# ha_field NODE EXPR: a field of the node's ha.json
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" \
	    "$tmp/$1/run/ha.json" 2>/dev/null
}

wait_state() {	# wait_state NODE STATE [SECONDS]
	for _ in $(seq $((${3:-15} * 10))); do
		[ "$(ha_field "$1" "d['state']")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "gw$1 is not $2 but $(ha_field "$1" "d['state']"): $(tail -5 "$tmp/$1/moatd.log")"
	return 1
}

reach_within() {	# reach_within WHAT: a new connection within 3 s
	ms=$(ns lan python3 "$hastream" reach 198.51.100.25 9001 6)
	if [ "$ms" -ge 0 ] 2>/dev/null && [ "$ms" -le 3000 ]; then
		echo "ok: $1: a new connection after $ms ms"
		echo "$1 $ms" >>"$tmp/figures"
	else
		fail "$1: no new connection within 3 s ($ms)"
	fi
}
