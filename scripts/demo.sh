#!/bin/sh
# demo.sh: build moat and walk through the seed article's two
# configurations: the rules, what `moat check` says, and the telnet test
# simulated with `moat test` for the mail server and a workstation.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release moat >/dev/null
moat=build-release/moat

if [ -t 1 ]; then
	say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
run() { printf '$ moat %s\n' "$*"; "$moat" "$@" || true; }

say "Seed configuration A: an internal mail server (examples/seed-a.conf)"
sed -n '/^[a-z]/p' examples/seed-a.conf
say "moat check: valid, and no rule is dead"
run check -f examples/seed-a.conf
say "The mail server sends to a public SMTP server: accepted by rule 1"
run test -f examples/seed-a.conf --in LAN --src 192.168.1.10 --dst 198.51.100.25 --service SMTP
say "A workstation tries the same: denied by rule 2"
run test -f examples/seed-a.conf --in LAN --src 192.168.1.50 --dst 198.51.100.25 --service SMTP
say "The workstation browses the web: no rule matches, the LAN default accepts"
run test -f examples/seed-a.conf --in LAN --src 192.168.1.50 --dst 198.51.100.25 --proto tcp --dport 443

say "The seed's warning: the Accept rule placed below the Deny rule"
sed -n '/^[a-z]/p' examples/seed-a-swapped.conf
run check -f examples/seed-a-swapped.conf

say "Seed configuration B: the gateway is the mail server (examples/seed-b.conf)"
sed -n '/^[a-z]/p' examples/seed-b.conf
run check -f examples/seed-b.conf
say "A workstation sends through the gateway's LAN address: accepted"
run test -f examples/seed-b.conf --in LAN --src 192.168.1.50 --dst 192.168.1.1 --service SMTP
say "A workstation sends to a public SMTP server: denied by rule 1"
run test -f examples/seed-b.conf --in LAN --src 192.168.1.50 --dst 198.51.100.25 --service SMTP
say "The same as JSON, for scripts"
run test -f examples/seed-b.conf --in LAN --src 192.168.1.50 --dst 198.51.100.25 --service SMTP --json

say "The anti-lockout rule: the LAN always reaches the gateway's SSH"
run test -f examples/seed-b.conf --in LAN --src 192.168.1.50 --dst 192.168.1.1 --service SSH

say "A larger office policy (examples/office.conf): check, and one port forward"
run check -f examples/office.conf
run test -f examples/office.conf --in WAN --src 198.51.100.7 --dst 203.0.113.2 --service SMTP
printf '\nKernel enforcement (nftables) and the namespace lab come with the next\n'
printf 'milestone; today moat validates, explains and simulates policies.\n'
