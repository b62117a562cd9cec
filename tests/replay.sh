#!/bin/sh
# replay.sh MOAT CTGEN NFTGEN SOURCE_ROOT: `moat test --batch` on
# conntrack dumps of bench/ctgen.c.  Every interface of every golden ok-
# config and example (addresses dynamic and feeds' objects, empty until
# filled, included): ctgen writes its dump and every line is answered.
# Then one thread against several (--threads): a 2,000-rule office policy
# (bench/nftgen.c) and a dump of 100,000 flows (some 30 chunks of the
# reader) with bad lines in the middle (an address, an ICMP type of 300,
# a line of 5,000 bytes, one cut by a NUL), a CRLF line, and the last
# line without its newline: the same answers, messages and exit status,
# byte for byte.
set -u
moat=$1 ctgen=$2 nftgen=$3 root=$4
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
for c in "$root"/tests/golden/ok-*.conf "$root"/examples/*.conf; do
	for i in $(sed -n 's/^interface[ 	]\{1,\}\([^ 	]*\).*/\1/p' "$c"); do
		n=$((n + 1))
		if ! "$ctgen" "$c" 300 "$i" >"$tmp/dump" 2>"$tmp/err"; then
			echo "FAIL: ctgen $c $i"
			sed 's/^/  /' "$tmp/err"
			failed=1
			continue
		fi
		"$moat" test -f "$c" --in "$i" --batch "$tmp/dump" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ $rc != 0 ] || [ "$(wc -l <"$tmp/out")" != 300 ]; then
			echo "FAIL: replay of ctgen's dump of $c, $i: exit $rc, $(wc -l <"$tmp/out") answers"
			sed 's/^/  /' "$tmp/err" | head -5
			failed=1
		fi
	done
done
"$nftgen" 2000 office "$tmp" >/dev/null || { echo "FAIL: nftgen"; exit 1; }
"$ctgen" "$tmp/policy.conf" 100000 LAN 7 >"$tmp/flows" || { echo "FAIL: ctgen"; exit 1; }
{
	sed -n '1,50000p' "$tmp/flows"
	printf 'tcp 6 1 SYN_SENT src=10.1.1.300 dst=2.2.2.2 sport=1 dport=25\n'
	printf 'tcp 6 1 src=10.0.0.1 dst=10.0.0.2 dport=25\r\n'
	printf 'icmp 1 29 src=10.0.0.1 dst=10.0.0.2 type=300 code=0 id=1\n'
	python3 -c 'print("tcp 6 src=10.0.0.1 dst=" + "9" * 5000)'
	printf 'tcp 6 1 src=10.0.0.1 dst=10.0.0.2\0 dport=25\n'
	sed -n '50001,$p' "$tmp/flows"
} | head -c -1 >"$tmp/dump"
[ "$(tail -c 1 "$tmp/dump" | od -An -c | tr -d ' ')" != '\n' ] &&
    [ "$(wc -c <"$tmp/dump")" -gt 12000000 ] ||
	{ echo "FAIL: the dump is not what the test needs"; failed=1; }
for t in 1 2 3 default; do
	case $t in default) opt= ;; *) opt="--threads $t" ;; esac
	"$moat" test -f "$tmp/policy.conf" --in LAN --batch "$tmp/dump" $opt \
	    >"$tmp/out.$t" 2>"$tmp/err.$t"
	echo $? >"$tmp/rc.$t"
done
[ "$(cat "$tmp/rc.1")" = 2 ] && [ "$(wc -l <"$tmp/out.1")" = 100005 ] &&
    [ "$(grep -c '^error: ' "$tmp/out.1")" = 3 ] &&
    grep -q '^error: line 50001: .10.1.1.300. is not an IPv4 address$' "$tmp/out.1" &&
    grep -q "^error: line 50003: bad type '300' (0-255)$" "$tmp/out.1" &&
    grep -q "dump:50003: bad type '300' (0-255)$" "$tmp/err.1" &&
    grep -q '^error: line 50004: line longer than 4095 bytes$' "$tmp/out.1" &&
    grep -q 'dump:50001: .10.1.1.300. is not an IPv4 address' "$tmp/err.1" &&
    grep -q '100002 flows decided, 3 lines not understood' "$tmp/err.1" ||
	{ echo "FAIL: the replay by one thread"; head -5 "$tmp/err.1"; failed=1; }
for t in 2 3 default; do
	for f in out err rc; do
		cmp -s "$tmp/$f.1" "$tmp/$f.$t" ||
			{ echo "FAIL: --threads $t: its $f differs from one thread's"; failed=1; }
	done
done
for t in 1 3; do
	"$moat" test -f "$tmp/policy.conf" --in LAN --batch "$tmp/dump" --json \
	    --threads $t >"$tmp/json.$t" 2>"$tmp/jerr.$t"
done
cmp -s "$tmp/json.1" "$tmp/json.3" && cmp -s "$tmp/jerr.1" "$tmp/jerr.3" &&
    [ "$(wc -l <"$tmp/json.1")" = 100005 ] ||
	{ echo "FAIL: --json --threads 3 differs from one thread's"; failed=1; }
echo "the replay of 100,005 lines: the same output by 1, 2, 3 and the default threads (and JSON by 1 and 3)"
# A chunk's first line number is the newlines of the chunks before it,
# counted: 10,000 blank lines (a newline in every byte) in a chunk before
# the one of a bad line, the first chunk or the second.
for skip in 0 600000; do
	{
		head -c "$skip" "$tmp/flows" | sed '$d'
		head -c 10000 /dev/zero | tr '\0' '\n'
		head -c 700000 "$tmp/flows" | sed '$d'
		printf 'tcp 6 1 src=10.1.1.300 dst=2.2.2.2 dport=25\n'
	} >"$tmp/blank"
	want=$(wc -l <"$tmp/blank")
	"$moat" test -f "$tmp/policy.conf" --in LAN --batch "$tmp/blank" \
	    >"$tmp/out.b" 2>/dev/null
	grep -q "^error: line $want: .10.1.1.300. is not an IPv4 address$" \
	    "$tmp/out.b" ||
		{ echo "FAIL: the bad line after 10,000 blank ones is not line $want"; failed=1; }
done
[ $n -ge 20 ] || { echo "FAIL: only $n interfaces"; failed=1; }
echo "ctgen and the replay: $n interfaces of the golden configs and examples"
exit $failed
