#!/bin/sh
# bench_console.sh [BUILD] [OLD_BUILD] [SIZES]: figures for the web console
# (root; builds its own namespaces; prints, never fails on time).  For
# each size of the generated office policy (bench/nftgen.c; default 1,000,
# 10,000 and 100,000 rules), moatd serving it with the console on the
# lab's LAN (bench/console_bench.py):
#  1. GET /api/v1/status requests a second, one client, keep-alive;
#  2. the Policies page drawn in headless chromium, from the click to its
#     last row (chromium-driver and python3-selenium; else left out);
#  3. a rule edit as the page makes it: the config read, a rule added in
#     the middle (saved), applied, the page of it read, deleted, applied.
# With OLD_BUILD, the same of an older moat after each (before/after in
# one run; each build with the pages of its own tree, BUILD/../web; an
# older console may refuse a large config, which is said).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }
build=$(abs "${1:-build-release}")
old=${2:-}
[ -n "$old" ] && old=$(abs "$old")
sizes=${3:-1000 10000 100000}
tmp=$(mktemp -d)
chmod 755 "$tmp"
export MOAT_LAB=benchweb-
pid=
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=
}
cleanup() {
	stop
	sh scripts/lab.sh down
	rm -rf "$tmp"
}
trap cleanup EXIT
sh scripts/lab.sh up
printf 'bench-pass-1\n' | "$build/moat" passwd -f "$tmp/users" admin >/dev/null
browser=
[ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c "import selenium" \
    2>/dev/null && browser=yes

# serve BUILD N: moatd of BUILD on the N-rule policy (a state of its own),
# with the pages of BUILD's tree, until its console serves.
serve() {
	stop
	id=$(echo "$1" | md5sum | cut -c1-8)
	d=$tmp/$2 st=$tmp/$2/state-$id
	rm -rf "$st" "$tmp/web-$id"
	cp -r "$1/../web" "$tmp/web-$id"
	chmod -R a+rX "$tmp/web-$id"
	mkdir -p "$st" "$d/log" "$d/run"
	cp "$d/policy.conf" "$d/moat.conf"
	chmod 600 "$d/moat.conf"
	MOAT_CONF_DIR=$tmp MOAT_STATE_DIR=$st MOAT_LOG_DIR=$d/log \
	    MOAT_RUN_DIR=$d/run MOAT_WEB_ROOT=$tmp/web-$id ip netns exec "${MOAT_LAB}gw" "$1/moatd" \
	    -f "$d/moat.conf" >"$d/moatd.log" 2>&1 &
	pid=$!
	for _ in $(seq 1200); do
		grep -q "console: serving" "$d/moatd.log" && return 0
		sleep 0.1
	done
	echo "moatd did not serve: $(tail -3 "$d/moatd.log")" >&2
	exit 1
}

figures() {
	ip netns exec "${MOAT_LAB}lan" python3 bench/console_bench.py status "$1"
	if [ -n "$browser" ]; then
		HOME=$tmp ip netns exec "${MOAT_LAB}lan" /usr/bin/python3 \
		    bench/console_bench.py draw "$1"
	fi
	ip netns exec "${MOAT_LAB}lan" python3 bench/console_bench.py edit "$1"
}

for n in $sizes; do
	d=$tmp/$n
	mkdir -p "$d"
	"$build/bench/nftgen" "$n" office "$d" >/dev/null
	# The lab's devices; the console on the LAN's lab address, which the
	# anti-lockout rule admits whatever the rules say.
	sed -i 's/^interface LAN device eth1 /interface LAN device gwl0 address 192.168.50.1\/24 /;
	    s/^interface WAN device eth0 /interface WAN device gww0 /' "$d/policy.conf"
	cat >>"$d/policy.conf" <<CONF
console {
    listen 192.168.50.1:443
    users $tmp/users
    certificate $tmp/console.pem
    key $tmp/console.key
}
CONF
	echo "$n rules:"
	serve "$build" "$n"
	figures "$n" | sed 's/^/  /'
	if [ -n "$old" ]; then
		serve "$old" "$n"
		figures "$n" | sed 's/^/  old: /'
	fi
done
