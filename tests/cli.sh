#!/bin/sh
# cli.sh MOAT EXAMPLES_DIR: the moat command line as a user drives it:
# the seed's acceptance cases, exit statuses, JSON and usage errors.
set -u
moat=$1
ex=$2
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Test builds: a core is taken as idle, so that moat apply and moat diff
# read, compile and lint in their threads whatever the machine's load
# (base/cores.h); the diff of two bad configs below runs both ways.
export MOAT_CORES_IDLE=1

# expect STATUS EXPECTED-STDOUT-LINE -- ARGS...
expect() {
	want_rc=$1 want_out=$2
	shift 3
	out=$("$moat" "$@" 2>"$tmp/err")
	rc=$?
	if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ]; then
		echo "FAIL: moat $*"
		echo "  want exit $want_rc: $want_out"
		echo "  got  exit $rc: $out"
		sed 's/^/  stderr: /' "$tmp/err"
		failed=1
	fi
}

# expect_err STATUS STDERR-SUBSTRING -- ARGS...
expect_err() {
	want_rc=$1 want=$2
	shift 3
	"$moat" "$@" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ "$rc" != "$want_rc" ] || ! grep -qF -- "$want" "$tmp/err"; then
		echo "FAIL: moat $*: want exit $want_rc and '$want' on stderr"
		echo "  got exit $rc:"
		sed 's/^/  stderr: /' "$tmp/err"
		failed=1
	fi
}

A="-f $ex/seed-a.conf"
B="-f $ex/seed-b.conf"

# Seed configuration A
expect 0 'accept by rule 1 (seed-a.conf:7): accept on LAN from 192.168.1.10 to ANY service SMTP  # mail server may send' \
	-- test $A --in LAN --src 192.168.1.10 --dst 8.8.8.8 --service SMTP
expect 1 'deny by rule 2 (seed-a.conf:8): deny on LAN from ANY to ANY service SMTP  # nobody else' \
	-- test $A --in LAN --src 192.168.1.50 --dst 8.8.8.8 --service SMTP
expect 0 'accept by the default of interface LAN (seed-a.conf:4): no rule matches' \
	-- test $A --in LAN --src 192.168.1.50 --dst 8.8.8.8 --proto tcp --dport 443
expect 1 'deny by rule 2 (seed-a.conf:8): deny on LAN from ANY to ANY service SMTP  # nobody else' \
	-- test $A --in eth1 --src 192.168.1.50 --dst 8.8.8.8 --proto tcp --dport 25

# Seed configuration B
expect 0 'accept by the default of interface LAN (seed-b.conf:3): no rule matches' \
	-- test $B --in LAN --src 192.168.1.50 --dst 192.168.1.1 --service SMTP
expect 1 'deny by rule 1 (seed-b.conf:6): deny on LAN from ANY to !LANIP service SMTP' \
	-- test $B --in LAN --src 192.168.1.50 --dst 8.8.8.8 --service SMTP

# The anti-lockout rule is visible
expect 0 'accept by the anti-lockout rule: accept on LAN from ANY to LANIP service { SSH, HTTP, HTTPS }  # anti-lockout: the LAN can always reach the gateway'"'"'s SSH and web UI' \
	-- test $A --in LAN --src 192.168.1.50 --dst 192.168.1.1 --service SSH

# JSON: the fields scripts rely on
out=$("$moat" test $A --in LAN --src 192.168.1.50 --dst 8.8.8.8 --service SMTP --json)
rc=$?
echo "$out" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert v["verdict"] == "deny", v
assert v["rule"] == 2 and v["line"] == 8, v
assert v["reason"].startswith("deny by rule 2 (seed-a.conf:8)"), v
assert v["flow"] == {"src": "192.168.1.50", "dst": "8.8.8.8", "protocol": "tcp", "port": 25}, v
' || failed=1
[ $rc = 1 ] || { echo "FAIL: --json deny exit $rc"; failed=1; }
out=$("$moat" test $A --in LAN --src 192.168.1.50 --dst 8.8.8.8 --service HTTP --json)
echo "$out" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert v["verdict"] == "accept" and v["rule"] is None and v["decided_by"] == "default", v
' || failed=1

# show --json parses and speaks the seed's vocabulary
"$moat" show --json $A | python3 -c '
import json, sys
p = json.load(sys.stdin)
r = p["rules"][0]
assert r["action"] == "accept" and r["interface"] == "LAN", r
assert r["source"] == {"match": "include", "addresses": [{"type": "host", "address": "192.168.1.10", "family": "ipv4"}]}, r
assert r["destination"]["addresses"] == [{"type": "object", "name": "ANY"}], r
assert r["services"] == {"match": "selected", "names": ["SMTP"]}, r
b = p["rules"][1]
assert b["number"] == 2 and b["line"] == 8 and b["comment"] == "nobody else", b
' || failed=1
"$moat" show --json $B | python3 -c '
import json, sys
r = json.load(sys.stdin)["rules"][0]
assert r["destination"]["match"] == "exclude", r
assert r["destination"]["addresses"] == [{"type": "object", "name": "LANIP"}], r
' || failed=1

# check: 0 clean, 1 warnings, 2 errors
expect 0 "$ex/seed-a.conf: valid: 2 rules on 2 interfaces, 0 warnings" -- check --offline $A
"$moat" check -f "$ex/seed-a-swapped.conf" >"$tmp/out"
[ $? = 1 ] && grep -q 'warning: rule 2 can never match: rule 1 ' "$tmp/out" ||
	{ echo "FAIL: swapped seed rules not reported"; failed=1; }
printf 'interface LAN device eth1\naccept on LAN from MAILSEVER\n' >"$tmp/bad.conf"
expect_err 2 "bad.conf:2:20: error: unknown object 'MAILSEVER'" -- check -f "$tmp/bad.conf"
expect_err 2 "bad.conf:2:20: error" -- show -f "$tmp/bad.conf"
expect_err 2 "bad.conf:2:20: error" -- test -f "$tmp/bad.conf" --in LAN --src 1.1.1.1 --dst 2.2.2.2 --service SMTP

# Usage errors exit 2
expect_err 2 "No such file" -- check -f "$tmp/missing.conf"
expect_err 2 "unknown command" -- frobnicate
expect_err 2 "test needs --in" -- test $A --src 1.1.1.1
expect_err 2 "unknown interface 'DMZ'" -- test $A --in DMZ --src 1.1.1.1 --dst 2.2.2.2 --service SMTP
expect_err 2 "one family" -- test $A --in LAN --src 1.1.1.1 --dst 2001:db8::1 --service SMTP
expect_err 2 "unknown service" -- test $A --in LAN --src 1.1.1.1 --dst 2.2.2.2 --service SMPT
expect_err 2 "tcp needs a port" -- test $A --in LAN --src 1.1.1.1 --dst 2.2.2.2 --proto tcp
expect_err 2 "not an IPv4 address" -- test $A --in LAN --src 1.1.1 --dst 2.2.2.2 --service SMTP

# Batch replay: flow lines and conntrack -L lines, one answer per flow
cat >"$tmp/flows" <<'FLOWS'
# a replay
LAN 192.168.1.10 8.8.8.8 tcp 25
eth1 192.168.1.50 8.8.8.8 tcp 25

LAN 2001:db8::5 2001:db8::25 icmpv6 echo-request
WAN 1.2.3.4 x tcp 25
tcp      6 431999 ESTABLISHED src=192.168.1.50 dst=198.51.100.25 sport=40000 dport=25 src=198.51.100.25 dst=192.168.1.50 sport=25 dport=40000 [ASSURED] mark=0 use=1
ipv4     2 udp      17 29 src=192.168.1.10 dst=9.9.9.9 sport=5353 dport=53 [UNREPLIED] src=9.9.9.9 dst=192.168.1.10 sport=53 dport=5353 mark=0 use=1
FLOWS
cat >"$tmp/want" <<'WANT'
LAN 192.168.1.10 -> 8.8.8.8 tcp/25: accept by rule 1 (seed-a.conf:7): accept on LAN from 192.168.1.10 to ANY service SMTP  # mail server may send
LAN 192.168.1.50 -> 8.8.8.8 tcp/25: deny by rule 2 (seed-a.conf:8): deny on LAN from ANY to ANY service SMTP  # nobody else
LAN 2001:db8::5 -> 2001:db8::25 icmpv6 echo-request: accept by the default of interface LAN (seed-a.conf:4): no rule matches
error: line 6: 'x' is not an IPv4 address
LAN 192.168.1.50 -> 198.51.100.25 tcp/25: deny by rule 2 (seed-a.conf:8): deny on LAN from ANY to ANY service SMTP  # nobody else
LAN 192.168.1.10 -> 9.9.9.9 udp/53: accept by the default of interface LAN (seed-a.conf:4): no rule matches
WANT
"$moat" test $A --batch "$tmp/flows" --in LAN >"$tmp/got" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] || { echo "FAIL: batch with a bad line exited $rc, not 2"; failed=1; }
diff -u "$tmp/want" "$tmp/got" || { echo "FAIL: batch output"; failed=1; }
grep -q "flows.*:6: 'x' is not an IPv4 address" "$tmp/err" || { echo "FAIL: batch error message"; failed=1; }
grep -v '^WAN' "$tmp/flows" | "$moat" test $A --batch - --in LAN --json >"$tmp/got" || { echo "FAIL: batch json"; failed=1; }
python3 -c '
import json, sys
v = [json.loads(l) for l in open(sys.argv[1])]
assert [x["verdict"] for x in v] == ["accept", "deny", "accept", "deny", "accept"], v
assert [x["rule"] for x in v] == [1, 2, None, 2, None], v
' "$tmp/got" || failed=1
printf 'tcp 6 1 SYN_SENT src=1.1.1.1 dst=2.2.2.2 sport=1 dport=25\n' |
	"$moat" test $A --batch - >/dev/null 2>"$tmp/err"
grep -q "give --in" "$tmp/err" || { echo "FAIL: conntrack line without --in"; failed=1; }
expect_err 2 "'0' is not a number of threads" -- test $A --batch "$tmp/flows" --threads 0
expect_err 2 "'x' is not a number of threads" -- test $A --batch "$tmp/flows" --threads x
expect_err 2 "--threads goes with --batch" -- test $A --in LAN --src 1.1.1.1 --dst 2.2.2.2 --service SMTP --threads 2
# --timing: the same answers, and the phases on standard error with the
# flows counted (5 decided; the bad line is not one).
"$moat" test $A --batch "$tmp/flows" --in LAN --timing >"$tmp/got" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] || { echo "FAIL: batch --timing with a bad line exited $rc, not 2"; failed=1; }
diff -u "$tmp/want" "$tmp/got" || { echo "FAIL: batch --timing output"; failed=1; }
grep -Eq '^moat: timing: test --batch: load [0-9]+ ms, index [0-9]+ ms \([0-9]+ kB\), replay [0-9]+ ms \(5 flows, [0-9.]+ M flows/s\), total [0-9]+ ms; peak memory [1-9][0-9]* kB$' "$tmp/err" ||
	{ echo "FAIL: batch --timing line"; cat "$tmp/err"; failed=1; }
expect_err 2 "--timing with test --batch" -- test $A --in LAN --src 1.1.1.1 --dst 2.2.2.2 --service SMTP --timing
expect_err 2 "--timing with test --batch" -- check $A --timing

# The replay's reader: a rule's answer twice (printed once, then copied),
# conntrack's "unknown N", a CRLF line, a line of 3 MB (longer than the
# reader's block), a last line without its newline.
{
	printf 'tcp 6 1 ESTABLISHED src=192.168.1.50 dst=8.8.8.8 sport=9 dport=25 src=8.8.8.8\n'
	printf 'tcp 6 1 ESTABLISHED src=192.168.1.50 dst=8.8.4.4 sport=9 dport=25\n'
	printf 'unknown  47 599 src=192.168.1.10 dst=9.9.9.9 src=9.9.9.9 dst=192.168.1.10 mark=0 use=1\n'
	printf 'LAN 192.168.1.10 8.8.8.8 tcp 25\r\n'
	python3 -c 'print("x" * 3000000)'
	printf 'LAN 192.168.1.50 8.8.8.8 tcp 25'
} >"$tmp/reader"
cat >"$tmp/want" <<'WANT'
LAN 192.168.1.50 -> 8.8.8.8 tcp/25: deny by rule 2 (seed-a.conf:8): deny on LAN from ANY to ANY service SMTP  # nobody else
LAN 192.168.1.50 -> 8.8.4.4 tcp/25: deny by rule 2 (seed-a.conf:8): deny on LAN from ANY to ANY service SMTP  # nobody else
LAN 192.168.1.10 -> 9.9.9.9 gre: accept by the default of interface LAN (seed-a.conf:4): no rule matches
LAN 192.168.1.10 -> 8.8.8.8 tcp/25: accept by rule 1 (seed-a.conf:7): accept on LAN from 192.168.1.10 to ANY service SMTP  # mail server may send
error: line 5: line longer than 4095 bytes
LAN 192.168.1.50 -> 8.8.8.8 tcp/25: deny by rule 2 (seed-a.conf:8): deny on LAN from ANY to ANY service SMTP  # nobody else
WANT
"$moat" test $A --batch "$tmp/reader" --in LAN >"$tmp/got" 2>"$tmp/err"
diff -u "$tmp/want" "$tmp/got" || { echo "FAIL: batch reader"; failed=1; }

# Standard input, and printing is stable
"$moat" show $A | "$moat" show -f - >"$tmp/again" && "$moat" show $A | cmp -s - "$tmp/again" ||
	{ echo "FAIL: show of show differs"; failed=1; }

# The README's tour of the Gateway Anti-Virus, on its example file
"$moat" test -f "$ex/av.conf" --in LAN --src 192.168.50.10 --dst 198.51.100.25 \
    --service SMTP >"$tmp/av" 2>&1
[ $? = 0 ] && grep -q '^accept by rule 1 (av.conf:6)' "$tmp/av" &&
    grep -q '^intercepted and scanned by the SMTP proxy' "$tmp/av" ||
	{ echo "FAIL: the tour's av.conf"; cat "$tmp/av"; failed=1; }

# --version, help for one command, one-line usage errors
"$moat" --version | grep -Eq '^moat [0-9]+\.[0-9]+\.[0-9]+' ||
	{ echo "FAIL: moat --version: $("$moat" --version)"; failed=1; }
for how in "help test" "test --help"; do
	"$moat" $how >"$tmp/help" 2>&1
	if [ $? != 0 ] || ! grep -q '^usage: moat test ' "$tmp/help" ||
	    grep -q 'moat apply' "$tmp/help"; then
		echo "FAIL: moat $how: not test's usage alone"
		sed 's/^/  /' "$tmp/help"
		failed=1
	fi
done
"$moat" frob >/dev/null 2>"$tmp/err"
if [ $? != 2 ] || [ "$(wc -l <"$tmp/err")" != 2 ] ||
    ! grep -q "^see 'moat --help'" "$tmp/err"; then
	echo "FAIL: a usage error is one line and a pointer to --help"
	sed 's/^/  stderr: /' "$tmp/err"
	failed=1
fi
expect_err 2 "no command 'frob'" -- help frob

# Issue 22: an IPv6 network never matches IPv4 traffic (::/0 is not ANY).
cat >"$tmp/v6.conf" <<'EOF6'
interface LAN device eth1 address 192.168.1.1/24 address 2001:db8:1::1/64
interface WAN device eth0.100 address 198.51.100.1/24
deny on LAN from ::/0 to ::/0 comment "block IPv6"
deny on LAN from ::/1 to 198.51.100.0/24
EOF6
V="-f $tmp/v6.conf"
expect 0 'accept by the default of interface LAN (v6.conf:1): no rule matches' \
	-- test $V --in LAN --src 192.168.1.10 --dst 198.51.100.25 --proto tcp --dport 443
expect 1 'deny by rule 1 (v6.conf:3): deny on LAN from ::/0 to ::/0  # block IPv6' \
	-- test $V --in LAN --src 2001:db8:1::10 --dst 2001:db8:2::1 --proto tcp --dport 443
expect_err 2 "IPv4-mapped address" -- test $V --in LAN --src ::ffff:192.168.1.10 --dst 198.51.100.25 --proto tcp --dport 443
printf 'LAN 192.168.1.10 198.51.100.25 tcp 443\nLAN 2001:db8:1::10 2001:db8:2::1 tcp 443\nLAN 192.168.1.10 198.51.100.25 udp 53\n' >"$tmp/v6flows"
"$moat" test $V --batch "$tmp/v6flows" --json >"$tmp/v6got" 2>"$tmp/err"
python3 - "$tmp/v6got" <<'PY' || { echo "FAIL: --batch over ::/0"; failed=1; }
import json, sys
v = [json.loads(l) for l in open(sys.argv[1])]
assert [x["verdict"] for x in v] == ["accept", "deny", "accept"], v
assert v[1]["rule"] == 1 and v[0]["rule"] is None and v[2]["rule"] is None, v
PY
"$moat" check --offline $V >"$tmp/out" 2>&1
grep -q "rule 2 can never match: its source is IPv6 only and its destination IPv4 only" "$tmp/out" ||
	{ echo "FAIL: lint does not say rule 2 mixes families"; cat "$tmp/out"; failed=1; }
"$moat" show --nft $V | grep -Eq 'meta nfproto ipv6 counter drop comment "rule [0-9a-f]{16}"' ||
	{ echo "FAIL: ::/0 is not compiled to IPv6 only"; failed=1; }
"$moat" show --nft $V | grep -q '"eth0.100" : jump zone_WAN' ||
	{ echo "FAIL: the VLAN device is not in the dispatch"; failed=1; }

# moat diff: files, history entries, --running; text, JSON, errors.
sed -n 7p "$ex/seed-a.conf" >"$tmp/r1"
{ head -6 "$ex/seed-a.conf"; sed -n 8p "$ex/seed-a.conf"; cat "$tmp/r1"; } >"$tmp/swapped.conf"
{ head -6 "$ex/seed-a.conf"; echo "deny on WAN from 198.51.100.7"; echo "deny on WAN from 198.51.100.9"; } >"$tmp/w1.conf"
{ head -6 "$ex/seed-a.conf"; echo "deny on WAN from 198.51.100.9"; echo "deny on WAN from 198.51.100.7"; } >"$tmp/w2.conf"
expect 0 "$ex/seed-a.conf -> $ex/seed-a.conf: no flow changes" -- diff "$ex/seed-a.conf" "$ex/seed-a.conf"
# A reordering that changes nothing says so.
expect 0 "$tmp/w1.conf -> $tmp/w2.conf: no flow changes" -- diff "$tmp/w1.conf" "$tmp/w2.conf"
expect 1 "$ex/seed-a.conf -> $tmp/swapped.conf: 1 region of flows changes

1. on LAN from 192.168.1.10 to any IPv4, tcp port 25: accept -> deny
   e.g.   LAN 192.168.1.10 -> 203.0.113.10 tcp/25
   before accept by rule 1 (seed-a.conf:7): accept on LAN from 192.168.1.10 to ANY service SMTP  # mail server may send
   after  deny by rule 1 (swapped.conf:7): deny on LAN from ANY to ANY service SMTP  # nobody else" \
	-- diff "$ex/seed-a.conf" "$tmp/swapped.conf"
"$moat" diff --json "$ex/seed-a.conf" "$ex/seed-b.conf" >"$tmp/diff.json"
[ $? = 1 ] || { echo "FAIL: diff --json of two policies that differ: exit 1"; failed=1; }
python3 - "$tmp/diff.json" <<'PY' || { echo "FAIL: moat diff --json"; failed=1; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["complete"] and d["note"] is None and d["interfaces_only_old"] == [], d
c = d["changes"]
# seed A -> seed B: the mail server may no longer send; SMTP to the
# gateway, refused by A's rule 2, is accepted by B's default.
assert {(x["before"]["verdict"], x["after"]["verdict"]) for x in c} == {("accept", "deny"), ("deny", "accept")}, c
srv = [x for x in c if x["before"]["verdict"] == "accept"][0]
assert srv["interface"] == "LAN" and srv["source"] == "192.168.1.10" and srv["service"] == "tcp port 25", srv
assert srv["before"]["rule"] == 1 and srv["after"]["rule"] == 1 and srv["after"]["file"] == "seed-b.conf", srv
gw = [x for x in c if x["before"]["verdict"] == "deny"]
assert all(x["destination"] == "192.168.1.1" and x["after"]["decided_by"] == "default" for x in gw), gw
PY
# History entries and the config in force, from a state directory.
mkdir -p "$tmp/hst/history"
cp "$ex/seed-a.conf" "$tmp/hst/history/1.conf"
cp "$tmp/swapped.conf" "$tmp/hst/history/2.conf"
printf '1 1733300000 0000000000000001 apply 0 /etc/moat/moat.conf\n2 1733300100 0000000000000002 apply 1 /etc/moat/moat.conf\n' >"$tmp/hst/history.log"
MOAT_STATE_DIR="$tmp/hst" "$moat" diff 1 2 >"$tmp/out"
[ $? = 1 ] && head -1 "$tmp/out" | grep -qx "history 1 -> history 2: 1 region of flows changes" ||
	{ echo "FAIL: diff of two history entries"; cat "$tmp/out"; failed=1; }
MOAT_STATE_DIR="$tmp/hst" expect 0 "running (history 2) -> $tmp/swapped.conf: no flow changes" -- diff --running "$tmp/swapped.conf"
MOAT_STATE_DIR="$tmp/hst" expect 0 "running (history 2) -> $tmp/swapped.conf: no flow changes" -- diff "$tmp/swapped.conf"
MOAT_STATE_DIR="$tmp/hst" "$moat" diff "$tmp/swapped.conf" --running >"$tmp/out"
head -1 "$tmp/out" | grep -qx "$tmp/swapped.conf -> running (history 2): no flow changes" ||
	{ echo "FAIL: diff FILE --running keeps the order"; cat "$tmp/out"; failed=1; }
MOAT_STATE_DIR="$tmp/hst" expect_err 2 "no history entry '9'" -- diff 1 9
MOAT_STATE_DIR="$tmp/empty" expect_err 2 "nothing is in force" -- diff "$ex/seed-a.conf"
printf 'interface LAN device eth1\naccept on LAN frm ANY\n' >"$tmp/bad.conf"
expect_err 2 "bad.conf:2:15: error" -- diff "$ex/seed-a.conf" "$tmp/bad.conf"
expect_err 2 "No such file" -- diff "$ex/seed-a.conf" "$tmp/none.conf"
# The two configs are read at once (two threads, when a core is idle:
# MOAT_CORES_IDLE says one is, in test builds); what is said is what
# reading them in order says: the first's errors, and nothing of the
# second's when the first cannot be read.
printf 'interface LAN device eth1\nbogus\n' >"$tmp/bad2.conf"
MOAT_CORES_IDLE=1 "$moat" diff "$tmp/bad.conf" "$tmp/bad2.conf" >/dev/null 2>"$tmp/err"
{ grep -q "bad.conf:2:15: error" "$tmp/err" && ! grep -q "bad2.conf" "$tmp/err"; } ||
	{ echo "FAIL: diff BAD BAD2 says the first's errors only"; cat "$tmp/err"; failed=1; }
MOAT_CORES_IDLE=1 "$moat" diff "$tmp/none.conf" "$tmp/bad2.conf" >/dev/null 2>"$tmp/err"
[ "$(cat "$tmp/err")" = "moat: $tmp/none.conf: No such file or directory" ] ||
	{ echo "FAIL: diff NONE BAD2 says the first's error only"; cat "$tmp/err"; failed=1; }
MOAT_CORES_IDLE=0 "$moat" diff "$tmp/none.conf" "$tmp/bad2.conf" >/dev/null 2>"$tmp/err"
[ "$(cat "$tmp/err")" = "moat: $tmp/none.conf: No such file or directory" ] ||
	{ echo "FAIL: diff NONE BAD2 in one thread"; cat "$tmp/err"; failed=1; }
expect_err 2 "two configs, not more" -- diff 1 2 3
expect_err 2 "unknown option" -- diff --nft "$ex/seed-a.conf"

# moat status, as text and --json, from one collection (observe/status.c).
# (Each namespace brings its loopback up, as any machine has it: a ruleset
# that intercepts SMTP goes in after its policy route, via lo.)
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	MOAT_STATE_DIR="$tmp/st" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		"$1" apply -f "$2/seed-a.conf" >/dev/null 2>&1 &&
		"$1" status >"$3/status.txt" && "$1" status --json >"$3/status.json"
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: status in a namespace"; failed=1; }
	python3 - "$tmp/status.txt" "$tmp/status.json" <<'PY' || { echo "FAIL: moat status --json"; failed=1; }
import json, re, sys
text = open(sys.argv[1]).read()
st = json.load(open(sys.argv[2]))
m = re.search(r"applied: history entry (\d+), .*hash ([0-9a-f]{16})", text)
assert m and st["applied"]["entry"] == int(m.group(1)), (text, st)
assert st["applied"]["hash"] == m.group(2) and st["applied"]["drift"] == "none", st
# A rule's counter is named by its id in the kernel (rule_ID), and told
# by its number in the config in force.
names = [f"rule {c['rule']}" if c.get("rule") else c["name"]
         for c in st["counters"]]
assert names == re.findall(r"^(rule \d+|\S+) +\d+ +\d+", text, re.M), (names, text)
r2 = [c for c in st["counters"] if c.get("rule") == 2]
assert len(r2) == 1 and re.fullmatch(r"[0-9a-f]{16}", r2[0]["rule_id"]), st
assert r2[0]["name"] == "rule_" + r2[0]["rule_id"], st
assert re.search(r"^rule 2 +\d+ +\d+  deny on LAN from ANY to ANY service SMTP$",
                 text, re.M), text
assert st["pending"] is None and st["ha"] is None, st
PY
	# A port forward's counters too: named by its id in the kernel
	# (forward_ID, forward_ID_accept), told as forward N (accept), with
	# its line.
	MOAT_STATE_DIR="$tmp/st4" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		"$1" apply -f "$2/office.conf" >/dev/null 2>&1 &&
		"$1" status >"$3/status4.txt" && "$1" status --json >"$3/status4.json"
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: status of office.conf in a namespace"; failed=1; }
	python3 - "$tmp/status4.txt" "$tmp/status4.json" <<'PY' || { echo "FAIL: moat status --json, forwards"; failed=1; }
import json, re, sys
text = open(sys.argv[1]).read()
st = json.load(open(sys.argv[2]))
def said(c):
    if c.get("rule"):
        return f"rule {c['rule']}"
    if c.get("forward"):
        return f"forward {c['forward']}" + (" accept" if c["name"].endswith("_accept") else "")
    return c["name"]
names = [said(c) for c in st["counters"]]
assert names == re.findall(r"^(rule \d+|forward \d+(?: accept)?|\S+) +\d+ +\d+",
                           text, re.M), (names, text)
fw = [c for c in st["counters"] if "forward" in c]
assert [said(c) for c in fw] == ["forward 1", "forward 1 accept", "forward 2",
                                 "forward 2 accept"], fw
for c in fw:
    assert re.fullmatch(r"[0-9a-f]{16}", c["forward_id"]), c
    assert re.fullmatch("forward_" + c["forward_id"] + "(_accept)?", c["name"]), c
assert fw[0]["forward_id"] != fw[2]["forward_id"], fw
assert re.search(r"^forward 2 accept +\d+ +\d+  forward on WAN service "
                 r"\{ HTTP, HTTPS \} to 172\.16\.20\.80$", text, re.M), text
PY
	# apply says what it changes before it loads; --dry-run says it and
	# loads nothing.
	MOAT_STATE_DIR="$tmp/st3" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		"$1" apply -f "$2/seed-a.conf" >"$3/apply0.txt" 2>&1 &&
		"$1" apply -f "$2/seed-a.conf" >"$3/apply1.txt" 2>&1 &&
		"$1" apply --dry-run -f "$2/seed-b.conf" >"$3/dry.txt" 2>&1 &&
		"$1" history >"$3/hist.txt"
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: apply --dry-run in a namespace"; cat "$tmp/dry.txt"; failed=1; }
	grep -q "^moat: what this apply changes: running (history 1) -> $ex/seed-a.conf: no flow changes" "$tmp/apply1.txt" ||
		{ echo "FAIL: apply of the config in force: no flow changes"; cat "$tmp/apply1.txt"; failed=1; }
	grep -q "^moat: what this apply changes: running (history 2) -> $ex/seed-b.conf: 4 regions of flows change" "$tmp/dry.txt" &&
		grep -q "before accept by rule 1 (history 2:7)" "$tmp/dry.txt" ||
		{ echo "FAIL: apply --dry-run does not say what changes"; cat "$tmp/dry.txt"; failed=1; }
	[ "$(wc -l <"$tmp/hist.txt")" = 2 ] && grep -q "nothing is in force yet" "$tmp/apply0.txt" ||
		{ echo "FAIL: apply --dry-run changed the history"; cat "$tmp/hist.txt"; failed=1; }
	# The whole ruleset goes over moat's own batch; through libnftables
	# (a test build's MOAT_WHOLE_NFT), and through it after the kernel
	# refused moat's batch, loaded by a child process (MOAT_WHOLE_REFUSE,
	# MOAT_WHOLE_APART): the same table each way, and the timing line says
	# which.
	MOAT_STATE_DIR="$tmp/st4" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		for how in 1 2 3; do
			case $how in
			2) export MOAT_WHOLE_NFT=1 ;;
			3) unset MOAT_WHOLE_NFT; export MOAT_WHOLE_REFUSE=1 MOAT_WHOLE_APART=1 ;;
			esac
			"$1" apply --whole --timing -f "$2/office.conf" >/dev/null 2>"$3/whole$how.txt" &&
			nft -s list table inet moat >"$3/table$how.txt" || exit 1
		done
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: whole applies in a namespace"; cat "$tmp"/whole*.txt; failed=1; }
	grep -q "kernel [0-9]* ms (over netlink)" "$tmp/whole1.txt" && [ -s "$tmp/table1.txt" ] ||
		{ echo "FAIL: a whole apply not over netlink"; cat "$tmp/whole1.txt"; failed=1; }
	if grep -q "kernel [0-9]* ms (through libnftables)" "$tmp/whole2.txt"; then
		grep -q "kernel [0-9]* ms (through libnftables: moat's batch: a refusal played by a test)" "$tmp/whole3.txt" ||
			{ echo "FAIL: a refused batch: not through libnftables"; cat "$tmp/whole3.txt"; failed=1; }
		cmp -s "$tmp/table1.txt" "$tmp/table2.txt" && cmp -s "$tmp/table1.txt" "$tmp/table3.txt" ||
			{ echo "FAIL: the whole applies' tables differ"; diff "$tmp/table1.txt" "$tmp/table2.txt" | head; failed=1; }
	fi
	# An apply keeps what lint found (lint.memo); the next apply of an
	# edit takes the findings the edit cannot change from it, and says
	# the same as moat check: here rule 3 (then 4) can never match, and
	# the rule put above it on WAN changes nothing on LAN.  After a
	# rollback the memo is of another config than the one in force: only
	# the interface whose rules are the same in both (LAN) is taken from
	# it.  A broken memo is not read.  The same is said each time.
	cat >"$tmp/memo-a.conf" <<-'EOF'
	interface LAN device eth1 address 192.168.1.1/24
	interface WAN device eth0 address 203.0.113.2/24
	accept on LAN from 192.168.1.10 service SMTP
	deny on LAN service SMTP
	deny on LAN from 192.168.1.20 service SMTP
	deny on WAN from 198.51.100.7
	EOF
	sed 's/^deny on WAN from 198.51.100.7$/deny on WAN from 198.51.100.9\n&/' \
	    "$tmp/memo-a.conf" >"$tmp/memo-b.conf"
	MOAT_STATE_DIR="$tmp/st6" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		"$1" apply -f "$2/memo-a.conf" >/dev/null 2>"$2/memo-a.txt" &&
		[ -s "$MOAT_STATE_DIR/lint.memo" ] &&
		"$1" apply --timing -f "$2/memo-b.conf" >/dev/null 2>"$2/memo-b.txt" &&
		"$1" rollback >/dev/null 2>&1 &&
		"$1" apply --timing -f "$2/memo-b.conf" >/dev/null 2>"$2/memo-c.txt" &&
		printf "moat lint memo 1\nbroken" >"$MOAT_STATE_DIR/lint.memo" &&
		"$1" apply --timing -f "$2/memo-a.conf" >/dev/null 2>"$2/memo-d.txt"
	' sh "$moat" "$tmp" || { echo "FAIL: applies with lint's memo"; cat "$tmp"/memo-*.txt; failed=1; }
	grep -q "memo-a.conf: 1 warning (moat check says which)" "$tmp/memo-a.txt" &&
		grep -q "memo-b.conf: 1 warning (moat check says which)" "$tmp/memo-b.txt" &&
		grep -q "check [0-9]* ms (4 rules found as before, 1 checked)" "$tmp/memo-b.txt" &&
		grep -q "memo-b.conf: 1 warning (moat check says which)" "$tmp/memo-c.txt" &&
		grep -q "check [0-9]* ms (3 rules found as before, 2 checked)" "$tmp/memo-c.txt" &&
		grep -q "check [0-9]* ms (0 rules found as before, 4 checked)" "$tmp/memo-d.txt" &&
		"$moat" check --offline -f "$tmp/memo-b.conf" 2>&1 | grep -q "rule 3 can never match" ||
		{ echo "FAIL: lint's memo: what the applies said"; cat "$tmp"/memo-*.txt; failed=1; }
	# The history keeps the rulesets of its last entries (2 here:
	# MOAT_HISTORY_RULESETS) and of the one the newest goes back to, and
	# their records in the kernel (SEQ.kernel) with them; a
	# rollback to an older entry compiles its config again: the kernel
	# then holds what the entry's apply put there.  One whose config
	# cannot be compiled fails, saying so, and changes nothing.
	MOAT_STATE_DIR="$tmp/st7" MOAT_RUN_DIR="$tmp/run" MOAT_HISTORY_RULESETS=2 unshare -n sh -c 'ip link set lo up
		for i in 1 2 3 4 5; do
			sed "s/^deny on WAN from 198.51.100.7$/deny on WAN from 198.51.100.$i/" \
			    "$2/memo-a.conf" >"$2/hist$i.conf"
			"$1" apply -f "$2/hist$i.conf" >/dev/null 2>&1 || exit 1
			nft list table inet moat >"$2/hist$i.table"
		done
		ls "$MOAT_STATE_DIR/history" | grep "\.nft$" | sort -n | tr "\n" " " >"$2/hist-files.txt"
		ls "$MOAT_STATE_DIR/history" | grep "\.kernel$" | sort -n | tr "\n" " " >>"$2/hist-files.txt"
		"$1" rollback >/dev/null 2>&1 && "$1" rollback >"$2/hist-rb.txt" 2>&1 || exit 2
		nft list table inet moat >"$2/hist-rb.table"
		# entry 2: its ruleset let go, its config broken
		echo "no such word" >"$MOAT_STATE_DIR/history/2.conf"
		"$1" rollback >/dev/null 2>"$2/hist-rb2.txt" && exit 3
		nft list table inet moat | cmp -s - "$2/hist-rb.table" || exit 4
	' sh "$moat" "$tmp" || { echo "FAIL: the history's rulesets let go ($?)"; cat "$tmp/hist-rb.txt" "$tmp/hist-rb2.txt"; failed=1; }
	# (its config no longer the text the history's hash names: damaged)
	grep -q "history entry 2's config cannot be read: it is damaged; nothing was changed" "$tmp/hist-rb2.txt" ||
		{ echo "FAIL: a rollback to a ruleset that cannot be had"; cat "$tmp/hist-rb2.txt"; failed=1; }
	[ "$(cat "$tmp/hist-files.txt")" = "4.nft 5.nft 4.kernel 5.kernel " ] &&
		grep -q "restored the ruleset of history entry 3" "$tmp/hist-rb.txt" &&
		cmp -s "$tmp/hist3.table" "$tmp/hist-rb.table" ||
		{ echo "FAIL: a rollback past the rulesets kept"; cat "$tmp/hist-files.txt" "$tmp/hist-rb.txt";
		  diff "$tmp/hist3.table" "$tmp/hist-rb.table" | head; failed=1; }
	# ... and at most so many bytes of them together, counted from the
	# newest (MOAT_HISTORY_RULESET_BYTES here 3.5 rulesets' worth): the
	# newest three stay, the older ones go, and a rollback past them
	# still gives the kernel what that entry's apply put there.
	MOAT_STATE_DIR="$tmp/st7b" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		"$1" apply -f "$2/hist1.conf" >/dev/null 2>&1 || exit 1
		size=$(stat -c %s "$MOAT_STATE_DIR/history/1.nft")
		export MOAT_HISTORY_RULESET_BYTES=$(( size * 7 / 2 ))
		for i in 2 3 4 5; do
			"$1" apply -f "$2/hist$i.conf" >/dev/null 2>&1 || exit 2
		done
		ls "$MOAT_STATE_DIR/history" | grep "\.nft$" | sort -n | tr "\n" " " >"$2/hb-files.txt"
		# each rollback is an entry with its target'"'"'s ruleset, and
		# keeps the one the next goes back to (3, then 2: gone)
		for i in 1 2 3; do
			"$1" rollback >"$2/hb-rb.txt" 2>&1 || exit 3
			ls "$MOAT_STATE_DIR/history" | grep "\.nft$" | sort -n | tr "\n" " " >>"$2/hb-files.txt"
		done
		nft list table inet moat >"$2/hb-rb.table"
	' sh "$moat" "$tmp" || { echo "FAIL: the history's ruleset bytes ($?)"; failed=1; }
	[ "$(cat "$tmp/hb-files.txt")" = "3.nft 4.nft 5.nft 3.nft 5.nft 6.nft 5.nft 6.nft 7.nft 6.nft 7.nft 8.nft " ] &&
		grep -q "restored the ruleset of history entry 2" "$tmp/hb-rb.txt" &&
		cmp -s "$tmp/hist2.table" "$tmp/hb-rb.table" ||
		{ echo "FAIL: the rulesets kept within their bytes"; cat "$tmp/hb-files.txt" "$tmp/hb-rb.txt";
		  diff "$tmp/hist2.table" "$tmp/hb-rb.table" | head; failed=1; }
	# The history keeps the configs of its last entries whole (2 here:
	# MOAT_HISTORY_CONFIGS) and an older one as its difference from the
	# next entry's (histdelta.h): each entry's config reads back the same
	# (moat diff: no flow changes, and a change where there is one), a
	# rollback compiles one again, and a difference that does not give
	# the text its hash names is refused.
	MOAT_STATE_DIR="$tmp/st8" MOAT_RUN_DIR="$tmp/run" MOAT_HISTORY_CONFIGS=2 MOAT_HISTORY_RULESETS=2 unshare -n sh -c 'ip link set lo up
		for i in 1 2 3 4 5 6; do
			{ head -6 "$2/seed-a.conf"; echo "accept on WAN from 198.51.100.$i"; } >"$3/hd$i.conf"
			"$1" apply -f "$3/hd$i.conf" >/dev/null 2>&1 || exit 1
			nft list table inet moat >"$3/hd$i.table"
		done
		ls "$MOAT_STATE_DIR/history" | grep -E "\.(conf|delta)$" | sort -n | tr "\n" " " >"$3/hd-files.txt"
		for i in 1 2 3 4 5 6; do
			"$1" diff $i "$3/hd$i.conf" >"$3/hd-diff$i.txt" 2>&1 || exit 2
		done
		"$1" diff 1 "$3/hd2.conf" >"$3/hd-diff12.txt" 2>&1
		[ $? = 1 ] || exit 3	# (1: flows change)
		"$1" rollback >/dev/null 2>&1 && "$1" rollback >"$3/hd-rb.txt" 2>&1 || exit 4
		nft list table inet moat | cmp -s - "$3/hd4.table" || exit 5
		# (its last byte is the old text'"'"'s: 1 of 198.51.100.1)
		printf 8 | dd of="$MOAT_STATE_DIR/history/1.delta" bs=1 conv=notrunc \
		    seek=$(( $(stat -c %s "$MOAT_STATE_DIR/history/1.delta") - 1 )) 2>/dev/null
		"$1" diff 1 "$3/hd1.conf" >"$3/hd-bad.txt" 2>&1 && exit 6
		exit 0
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: the history's old configs as differences ($?)"; cat "$tmp"/hd-*.txt; failed=1; }
	[ "$(cat "$tmp/hd-files.txt")" = "1.delta 2.delta 3.delta 4.delta 5.conf 6.conf " ] ||
		{ echo "FAIL: the history's files"; cat "$tmp/hd-files.txt"; failed=1; }
	for i in 1 2 3 4 5 6; do
		grep -q "history $i -> .*hd$i.conf: no flow changes" "$tmp/hd-diff$i.txt" ||
			{ echo "FAIL: history entry $i's config read back"; cat "$tmp/hd-diff$i.txt"; failed=1; }
	done
	grep -q "no flow changes" "$tmp/hd-diff12.txt" &&
		{ echo "FAIL: entries 1 and 2 read back the same"; failed=1; }
	grep -q "restored the ruleset of history entry 4" "$tmp/hd-rb.txt" ||
		{ echo "FAIL: a rollback to an entry kept as a difference"; cat "$tmp/hd-rb.txt"; failed=1; }
	grep -q "history entry 1's config in .* is damaged" "$tmp/hd-bad.txt" ||
		{ echo "FAIL: a difference that does not give its text was read"; cat "$tmp/hd-bad.txt"; failed=1; }
	# The compaction is made while the apply works (beside the difference,
	# or while the kernel takes a whole ruleset) and kept only when the
	# entry is recorded: an apply the kernel refuses, as a difference and
	# whole (loaded by a child, with the compaction meanwhile), leaves the
	# history's files as they were; the next apply compacts.
	MOAT_STATE_DIR="$tmp/st8r" MOAT_RUN_DIR="$tmp/run" MOAT_HISTORY_CONFIGS=2 unshare -n sh -c 'ip link set lo up
		files() { ls "$MOAT_STATE_DIR/history" | grep -E "\.(conf|delta)$" | sort -n | tr "\n" " "; echo; }
		for i in 1 2 3; do
			"$1" apply -f "$2/hd$i.conf" >/dev/null 2>&1 || exit 1
		done
		files >"$2/hx-files.txt"
		"$1" history >"$2/hx-hist.txt"
		MOAT_NFT_INJECT="add rule inet moat no_such_chain accept" \
		    "$1" apply -f "$2/hd4.conf" >"$2/hx-out.txt" 2>&1 && exit 2
		files >>"$2/hx-files.txt"
		MOAT_NFT_INJECT="add rule inet moat no_such_chain accept" MOAT_WHOLE_APART=1 \
		    "$1" apply --whole -f "$2/hd4.conf" >>"$2/hx-out.txt" 2>&1 && exit 3
		files >>"$2/hx-files.txt"
		"$1" history | cmp -s - "$2/hx-hist.txt" || exit 4
		# (every entry still reads back as it was applied)
		for i in 1 2 3; do
			"$1" diff $i "$2/hd$i.conf" 2>&1 | grep -q "no flow changes" || exit 6
		done
		"$1" apply -f "$2/hd4.conf" >/dev/null 2>&1 || exit 5
		files >>"$2/hx-files.txt"
		exit 0
	' sh "$moat" "$tmp" || { echo "FAIL: a refused apply past the configs kept ($?)"; cat "$tmp/hx-out.txt"; failed=1; }
	printf '1.delta 2.conf 3.conf \n1.delta 2.conf 3.conf \n1.delta 2.conf 3.conf \n1.delta 2.delta 3.conf 4.conf \n' |
		cmp -s - "$tmp/hx-files.txt" ||
		{ echo "FAIL: the history's files after a refused apply"; cat "$tmp/hx-files.txt"; failed=1; }
	# The history's line when the disk fails (played: MOAT_HISTORY_*_FAIL,
	# test builds).  Written but not synced: the entry stays in force and
	# in the history, with its files, and the apply warns (on stderr) that
	# a crash may drop it; a rollback from it works.  Written all but its
	# newline: the torn line is cut, the previous ruleset comes back, the
	# entry's files go, and the next apply takes its number.  Torn, and
	# the cut failing too: readers skip the torn line (moat history, the
	# next apply's entry in force); an apply that cannot cut it either
	# changes nothing, before the kernel; the next one cuts it first.
	MOAT_STATE_DIR="$tmp/st8s" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		last() { tail -c 1 "$MOAT_STATE_DIR/history.log" | od -An -tx1 | tr -d " "; }
		"$1" apply -f "$2/hd1.conf" >/dev/null 2>&1 || exit 1
		MOAT_HISTORY_SYNC_FAIL=1 "$1" apply -f "$2/hd2.conf" >"$2/hs-out.txt" 2>"$2/hs-err.txt" || exit 2
		nft list table inet moat | cmp -s - "$2/hd2.table" || exit 3
		[ -f "$MOAT_STATE_DIR/history/2.conf" ] && [ -f "$MOAT_STATE_DIR/history/2.nft" ] || exit 4
		"$1" history | grep -c "" | grep -qx 2 || exit 5
		"$1" diff 2 "$2/hd2.conf" 2>&1 | grep -q "no flow changes" || exit 6
		MOAT_HISTORY_SYNC_FAIL=1 "$1" rollback >"$2/hs-rb.txt" 2>&1 || exit 7
		nft list table inet moat | cmp -s - "$2/hd1.table" || exit 8
		cp "$MOAT_STATE_DIR/history.log" "$2/hs-log"
		nft list table inet moat >"$2/hs-before.table"
		MOAT_HISTORY_WRITE_FAIL=1 "$1" apply -f "$2/hd4.conf" >"$2/hs-out4.txt" 2>&1 && exit 9
		cmp -s "$MOAT_STATE_DIR/history.log" "$2/hs-log" || exit 10
		nft list table inet moat | cmp -s - "$2/hs-before.table" || exit 11
		ls "$MOAT_STATE_DIR/history" | grep -q "^4\." && exit 12
		MOAT_HISTORY_WRITE_FAIL=1 MOAT_HISTORY_CUT_FAIL=1 "$1" apply -f "$2/hd4.conf" >"$2/hs-out5.txt" 2>&1 && exit 13
		[ "$(last)" = 0a ] && exit 14
		[ -n "$(last)" ] || exit 26
		nft list table inet moat | cmp -s - "$2/hs-before.table" || exit 15
		ls "$MOAT_STATE_DIR/history" | grep -q "^4\." && exit 16
		"$1" history >"$2/hs-hist.txt" 2>&1 || exit 17
		grep -c "" "$2/hs-hist.txt" | grep -qx 3 || exit 18
		cp "$MOAT_STATE_DIR/history.log" "$2/hs-log"
		# a rollback that cannot cut it still puts back what was
		# before (entry 3 restored entry 1: nothing), unrecorded
		MOAT_HISTORY_CUT_FAIL=1 "$1" rollback >"$2/hs-rb2.txt" 2>&1 && exit 27
		nft list table inet moat >/dev/null 2>&1 && exit 28
		cmp -s "$MOAT_STATE_DIR/history.log" "$2/hs-log" || exit 29
		: >"$2/hs-before.table"
		MOAT_HISTORY_CUT_FAIL=1 "$1" apply -f "$2/hd4.conf" >"$2/hs-out6.txt" 2>&1 && exit 19
		cmp -s "$MOAT_STATE_DIR/history.log" "$2/hs-log" || exit 20
		nft list table inet moat 2>/dev/null | cmp -s - "$2/hs-before.table" || exit 21
		"$1" apply -f "$2/hd4.conf" >"$2/hs-out7.txt" 2>&1 || exit 22
		nft list table inet moat | cmp -s - "$2/hd4.table" || exit 23
		cut -d" " -f1 "$MOAT_STATE_DIR/history.log" | tr "\n" " " | grep -qx "1 2 3 4 " || exit 24
		awk "NF != 6 { bad = 1 } END { exit bad }" "$MOAT_STATE_DIR/history.log" || exit 25
		exit 0
	' sh "$moat" "$tmp" || { echo "FAIL: a history line the disk fails ($?)"; cat "$tmp"/hs-*.txt; failed=1; }
	grep -q "warning: .*history.log: Input/output error: history entry 2 is in force and in the history, but the disk did not confirm the history.s line: it may still lose it (a crash, a write it fails later), and the entry then drops from the history (entry 1 is then the last, and the next apply takes number 2 again)" "$tmp/hs-err.txt" &&
		! grep -q "warning" "$tmp/hs-out.txt" &&
		grep -q "applied .*hd2.conf as history entry 2" "$tmp/hs-out.txt" &&
		grep -q "rollback: restored the ruleset of history entry 1" "$tmp/hs-rb.txt" &&
		grep -q "history entry 3 is in force .*(entry 2 is then the last, and the next apply takes number 3 again)" "$tmp/hs-rb.txt" &&
		grep -q "history.log: No space left on device; the previous ruleset is back" "$tmp/hs-out4.txt" &&
		grep -q "history.log: No space left on device; the previous ruleset is back" "$tmp/hs-out5.txt" &&
		grep -q "history.log: its last line is torn and cannot be cut: Input/output error; nothing was changed" "$tmp/hs-out6.txt" &&
		grep -q "rollback: removed table inet moat (nothing was applied before)" "$tmp/hs-rb2.txt" &&
		grep -q "history.log: its last line is torn and cannot be cut: Input/output error (table inet moat is removed, but the history does not say so)" "$tmp/hs-rb2.txt" &&
		grep -q "applied .*hd4.conf as history entry 4" "$tmp/hs-out7.txt" ||
		{ echo "FAIL: a history line the disk fails: the messages"; cat "$tmp"/hs-*.txt; failed=1; }
	# The first apply's line torn: the history stays empty, the table is
	# not there (nothing was before), and the next apply is entry 1.
	MOAT_STATE_DIR="$tmp/st8t" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		MOAT_HISTORY_WRITE_FAIL=1 "$1" apply -f "$2/hd1.conf" >/dev/null 2>&1 && exit 1
		[ -s "$MOAT_STATE_DIR/history.log" ] && exit 2
		nft list table inet moat >/dev/null 2>&1 && exit 3
		"$1" history | grep -qx "nothing applied yet" || exit 4
		"$1" apply -f "$2/hd1.conf" >/dev/null 2>&1 || exit 5
		cut -d" " -f1 "$MOAT_STATE_DIR/history.log" | grep -qx 1 || exit 6
		# a tail longer than any line, not ours: closed, and skipped
		head -c 600 /dev/zero | tr "\\0" x >>"$MOAT_STATE_DIR/history.log"
		"$1" apply -f "$2/hd2.conf" >/dev/null 2>&1 || exit 7
		"$1" history | awk "{ print \$1 }" | tr "\\n" " " | grep -qx "1 2 " || exit 8
		[ "$(sed -n 2p "$MOAT_STATE_DIR/history.log" | tr -d x | od -An -tx1 | tr -d " ")" = 000a ] || exit 9
		[ "$(wc -l <"$MOAT_STATE_DIR/history.log")" = 3 ] || exit 10
		exit 0
	' sh "$moat" "$tmp" || { echo "FAIL: the first apply's history line torn ($?)"; failed=1; }
	# A rollback in a confirm's wait that cannot cut a torn line puts the
	# ruleset back all the same, unrecorded, and ends the wait (the
	# watchdog stopped, nothing left to confirm); a config whose name
	# begins with a space is an entry like any.
	MOAT_STATE_DIR="$tmp/st8c" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		m=$(readlink -f "$1") && cd "$2" || exit 1
		cp hd1.conf " sp1.conf" && chmod 600 " sp1.conf" || exit 1
		"$m" apply -f " sp1.conf" >/dev/null 2>&1 || exit 2
		"$m" apply --confirm 120 -f hd2.conf >"$2/hc-out.txt" 2>&1 || exit 3
		pid=$(sed -n "s/.*watchdog pid \([0-9]*\).*/\1/p" "$2/hc-out.txt")
		[ -n "$pid" ] && kill -0 "$pid" || exit 4
		trap "kill $pid 2>/dev/null" EXIT	# (when a step fails)
		printf "3 17960" >>"$MOAT_STATE_DIR/history.log"
		MOAT_HISTORY_CUT_FAIL=1 "$m" rollback >"$2/hc-rb.txt" 2>&1 && exit 5
		nft list table inet moat | cmp -s - "$2/hd1.table" || exit 6
		[ -e "$MOAT_STATE_DIR/pending" ] && exit 7
		# (gone, or a zombie nobody reaps here: ended either way)
		for i in 1 2 3 4 5 6 7 8 9 10; do
			st=$(cut -d" " -f3 "/proc/$pid/stat" 2>/dev/null)
			[ -z "$st" ] || [ "$st" = Z ] && break
			sleep 0.2
		done
		[ -z "$st" ] || [ "$st" = Z ] || exit 8
		"$m" confirm >"$2/hc-confirm.txt" 2>&1 && exit 9
		"$m" history | awk "{ print \$1, \$NF }" | tr "\\n" " " | grep -qx "1 sp1.conf 2 hd2.conf " || exit 10
		exit 0
	' sh "$moat" "$tmp" || { echo "FAIL: a rollback in a confirm's wait, the history not cut ($?)"; cat "$tmp"/hc-*.txt; failed=1; }
	grep -q "nothing to confirm" "$tmp/hc-confirm.txt" &&
		grep -q "cannot be cut: Input/output error (the ruleset of entry 1 is in the kernel, but the history does not say so)" "$tmp/hc-rb.txt" ||
		{ echo "FAIL: a rollback in a confirm's wait: the messages"; cat "$tmp"/hc-*.txt; failed=1; }
	# A history.log with lines a disk zeroed: a line of NULs is none, a
	# line after NULs is read from after them, but a piece of a line (its
	# head lost) or a number that does not grow is none either.
	mkdir -p "$tmp/st8z"
	{ echo "1 1796000000 00000000000000aa apply 0 /etc/one.conf"
	  printf "\0\0\0\0\n"
	  echo "2 1796000001 00000000000000bb apply 1 /etc/two.conf"
	  printf "\0\0\0"; echo "3 1796000002 00000000000000cc apply 2 /etc/three.conf"
	  printf "\0"; echo "1796000003 00000000000000dd apply 3 /etc/piece.conf"
	  printf "\0"; echo "2 1796000004 00000000000000ee apply 1 /etc/back.conf"
	  echo "4 1796000005 00000000000000ff apply 3  lead.conf"
	  printf "5 1796000006 0000000000000011 apply 4 /etc/torn"; } >"$tmp/st8z/history.log"
	MOAT_STATE_DIR="$tmp/st8z" MOAT_RUN_DIR="$tmp/run" "$moat" history >"$tmp/hz.txt" 2>&1
	awk "{ print \$1, \$NF }" "$tmp/hz.txt" | tr "\n" " " | grep -qx "1 /etc/one.conf 2 /etc/two.conf 3 /etc/three.conf 4 lead.conf " ||
		{ echo "FAIL: a history.log a disk zeroed in part"; cat "$tmp/hz.txt"; failed=1; }
	# A rollback to an entry whose ruleset is kept but whose config, kept
	# as a difference, is damaged changes nothing, and says so.
	MOAT_STATE_DIR="$tmp/st9" MOAT_RUN_DIR="$tmp/run" MOAT_HISTORY_CONFIGS=2 unshare -n sh -c 'ip link set lo up
		for i in 1 2 3 4; do
			"$1" apply -f "$3/hd$i.conf" >/dev/null 2>&1 || exit 1
		done
		[ -f "$MOAT_STATE_DIR/history/2.delta" ] && [ -f "$MOAT_STATE_DIR/history/2.nft" ] || exit 2
		printf 8 | dd of="$MOAT_STATE_DIR/history/2.delta" bs=1 conv=notrunc \
		    seek=$(( $(stat -c %s "$MOAT_STATE_DIR/history/2.delta") - 1 )) 2>/dev/null
		"$1" rollback >/dev/null 2>&1 || exit 3
		nft list table inet moat >"$3/hd-before.table"
		"$1" history >"$3/hd-hist-before.txt"
		"$1" rollback >"$3/hd-rb-bad.txt" 2>&1 && exit 4
		nft list table inet moat | cmp -s - "$3/hd-before.table" || exit 5
		"$1" history | cmp -s - "$3/hd-hist-before.txt" || exit 6
		exit 0
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: a rollback to a damaged config ($?)"; cat "$tmp/hd-rb-bad.txt"; failed=1; }
	grep -q "history entry 2's config cannot be read: it is damaged; nothing was changed" "$tmp/hd-rb-bad.txt" ||
		{ echo "FAIL: a rollback to a damaged config: its message"; cat "$tmp/hd-rb-bad.txt"; failed=1; }
	# Every so many entries a config stays whole (64; 4 here:
	# MOAT_HISTORY_FULL_EVERY), so that a reading goes through fewer
	# differences than that; the others read back through them.
	MOAT_STATE_DIR="$tmp/st10" MOAT_RUN_DIR="$tmp/run" MOAT_HISTORY_CONFIGS=2 MOAT_HISTORY_FULL_EVERY=4 unshare -n sh -c 'ip link set lo up
		for i in 1 2 3 4 5 6 7 8 9; do
			{ head -6 "$2/seed-a.conf"; echo "accept on WAN from 198.51.100.$i"; } >"$3/hf$i.conf"
			"$1" apply -f "$3/hf$i.conf" >/dev/null 2>&1 || exit 1
		done
		ls "$MOAT_STATE_DIR/history" | grep -E "\.(conf|delta)$" | sort -n | tr "\n" " " >"$3/hf-files.txt"
		for i in 1 2 3 4 5 6 7 8 9; do
			"$1" diff $i "$3/hf$i.conf" >"$3/hf-diff$i.txt" 2>&1 || exit 2
		done
		exit 0
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: the history's whole configs every 4 ($?)"; cat "$tmp"/hf-*.txt; failed=1; }
	[ "$(cat "$tmp/hf-files.txt")" = "1.delta 2.delta 3.delta 4.conf 5.delta 6.delta 7.delta 8.conf 9.conf " ] ||
		{ echo "FAIL: the history's files, a whole config every 4"; cat "$tmp/hf-files.txt"; failed=1; }
	for i in 1 2 3 4 5 6 7 8 9; do
		grep -q "history $i -> .*hf$i.conf: no flow changes" "$tmp/hf-diff$i.txt" ||
			{ echo "FAIL: history entry $i's config read back (a whole one every 4)"; cat "$tmp/hf-diff$i.txt"; failed=1; }
	done
	# A config that should be a difference and is whole (a compaction a
	# crash cut short: 2.conf put back, 2.delta gone or still there) is
	# made one by the next apply, from the text of the entry after it,
	# and reads back.
	for how in gone both damaged; do
		MOAT_STATE_DIR="$tmp/st13$how" MOAT_RUN_DIR="$tmp/run" MOAT_HISTORY_CONFIGS=2 unshare -n sh -c 'ip link set lo up
			for i in 1 2 3 4; do
				"$1" apply -f "$3/hd$i.conf" >/dev/null 2>&1 || exit 1
			done
			h=$MOAT_STATE_DIR/history
			[ -f "$h/2.delta" ] && [ ! -f "$h/2.conf" ] || exit 2
			cp "$3/hd2.conf" "$h/2.conf" || exit 3
			if [ $4 != both ]; then rm "$h/2.delta" || exit 3; fi
			# (damaged: not the text its entry applied, by a byte)
			if [ $4 = damaged ]; then sed -i "s/198.51.100.2/198.51.100.7/" "$h/2.conf" || exit 3; fi
			"$1" apply -f "$3/hd5.conf" >/dev/null 2>&1 || exit 4
			ls "$h" | grep -E "\.(conf|delta)$" | sort -n | tr "\n" " " >"$3/hr-files.txt"
			for i in 1 2 3 4 5; do
				[ $4 = damaged ] && [ $i -le 2 ] && continue
				"$1" diff $i "$3/hd$i.conf" >"$3/hr-diff$i.txt" 2>&1 || exit 5
			done
			exit 0
		' sh "$moat" "$ex" "$tmp" $how || { echo "FAIL: a compaction cut short, delta $how ($?)"; cat "$tmp"/hr-*.txt; failed=1; }
		# A damaged one stays as it is (a rollback to it says so), and
		# the walk stops there.
		want="1.delta 2.delta 3.delta 4.conf 5.conf "
		[ $how = damaged ] && want="1.delta 2.conf 3.delta 4.conf 5.conf "
		[ "$(cat "$tmp/hr-files.txt")" = "$want" ] ||
			{ echo "FAIL: a compaction cut short (delta $how)"; cat "$tmp/hr-files.txt"; failed=1; }
		for i in 1 2 3 4 5; do
			[ $how = damaged ] && [ $i -le 2 ] && continue
			grep -q "history $i -> .*hd$i.conf: no flow changes" "$tmp/hr-diff$i.txt" ||
				{ echo "FAIL: history entry $i's config read back (after a compaction done again, delta $how)"; cat "$tmp/hr-diff$i.txt"; failed=1; }
		done
	done
	# One cut short just behind an entry that stays whole by rule (4,
	# with a whole config every 4) is made from that entry's text.
	MOAT_STATE_DIR="$tmp/st14" MOAT_RUN_DIR="$tmp/run" MOAT_HISTORY_CONFIGS=2 MOAT_HISTORY_FULL_EVERY=4 unshare -n sh -c 'ip link set lo up
		for i in 1 2 3 4 5; do
			"$1" apply -f "$3/hf$i.conf" >/dev/null 2>&1 || exit 1
		done
		h=$MOAT_STATE_DIR/history
		[ -f "$h/3.delta" ] && cp "$3/hf3.conf" "$h/3.conf" && rm "$h/3.delta" || exit 2
		"$1" apply -f "$3/hf6.conf" >/dev/null 2>&1 || exit 3
		ls "$h" | grep -E "\.(conf|delta)$" | sort -n | tr "\n" " " >"$3/hw-files.txt"
		"$1" diff 3 "$3/hf3.conf" >"$3/hw-diff3.txt" 2>&1 || exit 4
		exit 0
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: a compaction cut short behind a whole one ($?)"; cat "$tmp"/hw-*.txt; failed=1; }
	[ "$(cat "$tmp/hw-files.txt")" = "1.delta 2.delta 3.delta 4.conf 5.conf 6.conf " ] &&
		grep -q "history 3 -> .*hf3.conf: no flow changes" "$tmp/hw-diff3.txt" ||
		{ echo "FAIL: a compaction cut short behind a whole one is not done again"; cat "$tmp"/hw-*.txt; failed=1; }
	# Chains made by hand, each difference well formed and giving the
	# text its hash names (the same text, all of it its prefix): 95
	# differences to a whole config are read, 96 are too many (a reading
	# never goes through more than 64 + 32); a difference whose base is
	# an earlier entry (a loop, or a chain never ending) is damaged.
	mkdir -p "$tmp/st11/history" "$tmp/st12/history"
	python3 - "$tmp/hd1.conf" "$tmp" <<'PY'
import sys
text = open(sys.argv[1], "rb").read()
h = 1469598103934665603	# base/hash.h's FNV1A_INIT
for b in text:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
def delta(base):
    return b"moat-history-delta 1 %d %d 0 0 %016x\n" % (base, len(text), h)
d = sys.argv[2]
open(d + "/st11/history/97.conf", "wb").write(text)
for i in range(1, 97):
    open(d + "/st11/history/%d.delta" % i, "wb").write(delta(i + 1))
open(d + "/st12/history/3.conf", "wb").write(text)
open(d + "/st12/history/4.delta", "wb").write(delta(3))
open(d + "/st12/history/6.delta", "wb").write(delta(7))
open(d + "/st12/history/7.conf", "wb").write(text)
PY
	for i in 2 1; do
		MOAT_STATE_DIR="$tmp/st11" "$moat" diff $i "$tmp/hd1.conf" >"$tmp/hc-diff$i.txt" 2>&1
	done
	for i in 4 6; do
		MOAT_STATE_DIR="$tmp/st12" "$moat" diff $i "$tmp/hd1.conf" >"$tmp/hc-diff$i.txt" 2>&1
	done
	grep -q "history 2 -> .*hd1.conf: no flow changes" "$tmp/hc-diff2.txt" ||
		{ echo "FAIL: a chain of 95 differences"; cat "$tmp/hc-diff2.txt"; failed=1; }
	grep -q "history entry 1's config in .* is damaged" "$tmp/hc-diff1.txt" ||
		{ echo "FAIL: a chain of 96 differences was read"; cat "$tmp/hc-diff1.txt"; failed=1; }
	grep -q "history entry 4's config in .* is damaged" "$tmp/hc-diff4.txt" ||
		{ echo "FAIL: a difference from an earlier entry was read"; cat "$tmp/hc-diff4.txt"; failed=1; }
	grep -q "history 6 -> .*hd1.conf: no flow changes" "$tmp/hc-diff6.txt" ||
		{ echo "FAIL: a difference from the next entry (made by hand)"; cat "$tmp/hc-diff6.txt"; failed=1; }
	# A load that never ends (MOAT_WHOLE_HANG, in the loading child) is
	# stopped at its deadline (MOAT_LOAD_DEADLINE_MS): the apply fails
	# saying so, and the history keeps the entry in force.
	MOAT_STATE_DIR="$tmp/st5" MOAT_RUN_DIR="$tmp/run" unshare -n sh -c 'ip link set lo up
		"$1" apply --whole -f "$2/seed-a.conf" >/dev/null 2>&1 || exit 1
		t0=$(date +%s)
		MOAT_WHOLE_APART=1 MOAT_WHOLE_HANG=1 MOAT_LOAD_DEADLINE_MS=2000 \
		    "$1" apply --whole --timing -f "$2/office.conf" >/dev/null 2>"$3/hang.txt" && exit 2
		[ $(( $(date +%s) - t0 )) -lt 30 ] || exit 3
		"$1" history >"$3/hang-hist.txt"
	' sh "$moat" "$ex" "$tmp" || { echo "FAIL: a load that never ends ($?)"; cat "$tmp/hang.txt"; failed=1; }
	grep -q "the ruleset's load did not finish within 2 s and was stopped" "$tmp/hang.txt" &&
		[ "$(wc -l <"$tmp/hang-hist.txt")" = 1 ] ||
		{ echo "FAIL: a stopped load: its error or the history"; cat "$tmp/hang.txt" "$tmp/hang-hist.txt"; failed=1; }
	MOAT_STATE_DIR="$tmp/st2" "$moat" status --json | python3 -c '
import json, sys
st = json.load(sys.stdin)
assert st["applied"] is None and st["counters"] == [], st
' || { echo "FAIL: status --json with nothing applied"; failed=1; }
fi

# Two links (examples/two-links.conf): the cameras' uploads leave
# through LTE, the rest by the default route; moat test says which.
T="-f $ex/two-links.conf"
expect 0 "$ex/two-links.conf: valid: 2 rules on 3 interfaces, 0 warnings" \
	-- check --offline $T
out=$("$moat" test $T --in LAN --src 192.168.10.70 --dst 93.184.216.34 --service HTTPS)
case $out in
*"leaves through gateway lte (LTE"*"leaves through LTE masqueraded"*) ;;
*) echo "FAIL: moat test, a camera's upload: $out"; failed=1 ;;
esac
out=$("$moat" test $T --in LAN --src 192.168.10.20 --dst 93.184.216.34 --service HTTPS)
case $out in
*"leaves through gateway"*) echo "FAIL: moat test, not a camera: $out"; failed=1 ;;
esac
"$moat" test $T --json --in LAN --src 192.168.10.70 --dst 93.184.216.34 --service HTTPS |
    python3 -c '
import json, sys
v = json.load(sys.stdin)
assert v["gateway"] == {"name": "lte", "kind": "gateway", "rule": 1}, v
assert v["nat"]["out"] == "LTE", v
' || { echo "FAIL: moat test --json, a camera's upload"; failed=1; }

if [ $failed = 0 ]; then echo "cli: all cases pass"; fi
exit $failed
