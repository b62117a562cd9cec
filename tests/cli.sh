#!/bin/sh
# cli.sh MOAT EXAMPLES_DIR: the moat command line as a user drives it:
# the seed's acceptance cases, exit statuses, JSON and usage errors.
set -u
moat=$1
ex=$2
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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
expect 0 "$ex/seed-a.conf: valid: 2 rules on 2 interfaces, 0 warnings" -- check $A
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
expect_err 2 "needs --dport" -- test $A --in LAN --src 1.1.1.1 --dst 2.2.2.2 --proto tcp
expect_err 2 "not an IPv4 address" -- test $A --in LAN --src 1.1.1 --dst 2.2.2.2 --service SMTP

# Standard input, and printing is stable
"$moat" show $A | "$moat" show -f - >"$tmp/again" && "$moat" show $A | cmp -s - "$tmp/again" ||
	{ echo "FAIL: show of show differs"; failed=1; }

if [ $failed = 0 ]; then echo "cli: all cases pass"; fi
exit $failed
