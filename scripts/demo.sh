#!/bin/sh
# demo.sh: build moat, bring up the lab (three network namespaces: lan,
# gw, wan), and show the seed article's two configurations enforced by the
# kernel: the telnet test from the mail server and from a workstation,
# next to what `moat test` says decides each, then tear the lab down.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release moat >/dev/null
moat=$(pwd)/build-release/moat

if [ -t 1 ]; then
	say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
run() { printf '$ moat %s\n' "$*"; "$moat" "$@" || true; }

export MOAT_LAB=demo- MOAT_STATE_DIR
MOAT_STATE_DIR=$(mktemp -d)
tmp=$(mktemp -d)
srv=""
cleanup() {
	[ -n "$srv" ] && kill $srv 2>/dev/null
	sh scripts/lab.sh down
	rm -rf "$MOAT_STATE_DIR" "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
lab() { ns=$1; shift; ip netns exec "demo-$ns" "$@"; }
# telnet FROM-NAME FROM-IP HOST: the probe from the LAN, and moat test's answer
telnet() {
	printf '\n%s (%s) -> %s:25\n' "$1" "$2" "$3"
	printf '  real:      '
	lab lan "$moat" probe --timeout 2 --from "$2" "$3" 25 || true
	printf '  moat test: '
	"$moat" test -f "$conf" --in LAN --src "$2" --dst "$3" --service SMTP || true
}

say "The lab: lan (192.168.50.10 mail server, .11 workstation), gw (moat), wan (198.51.100.25 a public mail server)"
sh scripts/lab.sh up
lab wan python3 tests/lab/listen.py "$tmp/wan.log" 198.51.100.25:25 >"$tmp/wan.out" 2>&1 &
srv="$!"
lab gw python3 tests/lab/listen.py "$tmp/gw.log" 192.168.50.1:25 >"$tmp/gw.out" 2>&1 &
srv="$srv $!"
sleep 1

conf=examples/lab/seed-a.conf
say "Seed configuration A: an internal mail server ($conf)"
sed -n '/^[a-z]/p' "$conf"
run check -f "$conf"
lab gw "$moat" apply -f "$conf"
telnet "the mail server" 192.168.50.10 198.51.100.25
telnet "a workstation" 192.168.50.11 198.51.100.25
say "Per-rule counters read back from the kernel"
lab gw "$moat" status

say "The seed's warning: the Accept rule below the Deny rule can never match"
run check -f examples/seed-a-swapped.conf

conf=examples/lab/seed-b.conf
say "Seed configuration B: the gateway is the mail server ($conf)"
sed -n '/^[a-z]/p' "$conf"
lab gw "$moat" apply -f "$conf"
telnet "a workstation, to the gateway" 192.168.50.11 192.168.50.1
telnet "a workstation, to the Internet" 192.168.50.11 198.51.100.25

say "Lockout protection: apply --confirm, and nobody confirms"
lab gw "$moat" apply --confirm 2 -f examples/lab/forward.conf
sleep 3
lab gw "$moat" history

say "The compiled ruleset of seed configuration A (moat show --nft)"
"$moat" show --nft -f examples/lab/seed-a.conf | sed -n '/chain zone_LAN/,/^	}/p'
say "Tearing the lab down"
