#!/bin/sh
# demo.sh: build moat and moatd, bring up the lab (three network namespaces: lan,
# gw, wan), and show the seed article's two configurations enforced by the
# kernel: the telnet test from the mail server and from a workstation,
# next to what `moat test` says decides each; then both again with the
# Gateway Anti-Virus (moatd scanning real mail, EICAR refused), and tear
# the lab down.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release moat moatd >/dev/null
moat=$(pwd)/build-release/moat
moatd=$(pwd)/build-release/moatd

if [ -t 1 ]; then
	say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
run() { printf '$ moat %s\n' "$*"; "$moat" "$@" || true; }

export MOAT_LAB=demo- MOAT_STATE_DIR MOAT_RUN_DIR
MOAT_STATE_DIR=$(mktemp -d)
tmp=$(mktemp -d)
MOAT_RUN_DIR=$tmp/run
srv=""
cleanup() {
	# Each waited for: a daemon still stopping writes into the
	# directories removed below.
	for pid in $srv ${daemon:-}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
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
ip netns exec demo-wan python3 tests/lab/listen.py "$tmp/wan.log" 198.51.100.25:25 >"$tmp/wan.out" 2>&1 &
srv="$!"
ip netns exec demo-gw python3 tests/lab/listen.py "$tmp/gw.log" 192.168.50.1:25 >"$tmp/gw.out" 2>&1 &
srv="$srv $!"
sleep 1

conf=examples/lab/seed-a.conf
say "Seed configuration A: an internal mail server ($conf)"
sed -n '/^[a-z]/p' "$conf"
run check --offline -f "$conf"
lab gw "$moat" apply -f "$conf"
telnet "the mail server" 192.168.50.10 198.51.100.25
telnet "a workstation" 192.168.50.11 198.51.100.25
say "Per-rule counters read back from the kernel"
lab gw "$moat" status

say "The seed's warning: the Accept rule below the Deny rule can never match"
run check --offline -f examples/seed-a-swapped.conf

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

say "Gateway Anti-Virus: seed A with smtp-other-scanning on (examples/lab/seed-a-av.conf)"
kill $srv 2>/dev/null || true
wait $srv 2>/dev/null || true
srv=""
# The signature database is written here: ClamAV's test file, by hash and
# by its text (there is no download on these machines).
chmod 755 "$tmp"
sh tests/smtp/sigdb.sh "$tmp/db"
sed "s|engine clamav /var/lib/clamav|engine clamav $tmp/db|" examples/lab/seed-a-av.conf >"$tmp/seed-a-av.conf"
conf="$tmp/seed-a-av.conf"
sed -n '/^antivirus/,/^}/p' "$conf"
run check --offline -f "$conf"
mkdir "$tmp/wanmail" "$tmp/relaymail"
ip netns exec demo-wan python3 tests/smtp/sink.py 25 "$tmp/wanmail" --host 198.51.100.25 >/dev/null 2>&1 &
srv="$!"
ip netns exec demo-gw python3 tests/smtp/sink.py 10026 "$tmp/relaymail" --host 127.0.0.1 >/dev/null 2>&1 &
srv="$srv $!"
ip netns exec demo-gw "$moatd" -f "$conf" 2>"$tmp/moatd.log" &
daemon=$!
sleep 2
mail() {	# mail LABEL FROM-IP TO-IP [--virus]
	printf '%s: ' "$1"
	lab lan python3 tests/smtp/send.py "$3" 25 --from "$2" --timeout 3 ${4:-}
}
mail "the mail server, a clean message" 192.168.50.10 198.51.100.25
mail "the mail server, EICAR          " 192.168.50.10 198.51.100.25 --virus
mail "a workstation                   " 192.168.50.11 198.51.100.25
printf 'moat test: '
"$moat" test -f "$conf" --in LAN --src 192.168.50.10 --dst 198.51.100.25 --service SMTP || true
echo "what the public server received first:"
head -1 "$tmp/wanmail/1.eml" 2>/dev/null || echo "(nothing)"
echo "moatd's log:"
grep -v '^$' "$tmp/moatd.log" | sed 's/^/  /'
kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true

say "Gateway Anti-Virus: seed B, the gateway as the LAN's relay (examples/lab/seed-b-av.conf)"
sed "s|engine clamav /var/lib/clamav|engine clamav $tmp/db|" examples/lab/seed-b-av.conf >"$tmp/seed-b-av.conf"
conf="$tmp/seed-b-av.conf"
ip netns exec demo-gw "$moatd" -f "$conf" 2>"$tmp/moatd.log" &
daemon=$!
sleep 2
mail "a workstation to the relay, clean" 192.168.50.11 192.168.50.1
mail "a workstation to the relay, EICAR" 192.168.50.11 192.168.50.1 --virus
mail "a workstation around the relay  " 192.168.50.11 198.51.100.25
echo "moatd's log:"
grep 'S[0-9]*:' "$tmp/moatd.log" | sed 's/^/  /'
kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true
daemon=""

say "The compiled ruleset of seed configuration A (moat show --nft)"
"$moat" show --nft -f examples/lab/seed-a.conf | sed -n '/chain zone_LAN/,/^	}/p'
say "Tearing the lab down"
