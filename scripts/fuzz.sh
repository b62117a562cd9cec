#!/bin/sh
# fuzz.sh [SECONDS] [conf|smtp|control|http|sync|tlspol|urllist|geoip|feedmsg|import|nfscript|lintmemo|flowline|fwlog]: fuzz with libFuzzer (clang), growing the
# target's corpus: conf, the config parser and compiler (fuzz/corpus);
# smtp, a proxy session with both ends fuzzed (fuzz/corpus-smtp);
# control, the console's requests to moatd's parent (fuzz/corpus-control);
# http, the console's HTTP request handling (fuzz/corpus-http); sync, what
# the HA sync link's server reads (fuzz/corpus-sync); tlspol, what the
# upstream TLS policy reads: MTA-STS policies, TXT records, HTTP responses,
# TLSA data, wire names (fuzz/corpus-tlspol); urllist, a url object's list
# (fuzz/corpus-urllist); geoip, a country database's bytes
# (fuzz/corpus-geoip); feedmsg, a report of the feed process as moatd's
# parent checks it (fuzz/corpus-feedmsg); import, moat import of a
# config.xml (fuzz/corpus-import); nfscript, moat's compiled nft text
# read into its own nf_tables batch, never sent (fuzz/corpus-nfscript);
# flowline, the replay's reader of flow lines (fuzz/corpus-flowline);
# fwlog, a logged packet as the firewall log reads it: its headers, an
# NFLOG message, a line of firewall.jsonl (fuzz/corpus-fwlog).
# Needs clang and libclang-rt-14-dev.
#
# FUZZ_RUNS=N (the import and nfscript targets): N runs instead of
# SECONDS, going on after a crash (each crash's input is kept in fuzz/,
# named crash-*, timeout-* or oom-*); it ends by saying how many runs and
# crashes, and exits 1 if there was any:
#   FUZZ_RUNS=1000000 nice -n 10 scripts/fuzz.sh 0 import
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
target=${2:-conf}
out=${FUZZ_OUT:-build-fuzz}	# another for a second run beside the first
mkdir -p "$out"

# fuzz_run BIN OPTIONS... CORPUS...: for $secs seconds, or FUZZ_RUNS runs
fuzz_run() {
	bin=$1
	shift
	if [ -z "${FUZZ_RUNS:-}" ]; then
		"$bin" -max_total_time="$secs" "$@"
		return
	fi
	left=$FUZZ_RUNS
	runs=0
	crashes=0
	log=$out/fuzz-runs.log
	while [ "$left" -gt 0 ]; do
		if "$bin" -runs="$left" -print_final_stats=1 "$@" >"$log" 2>&1; then
			n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		else
			crashes=$((crashes + 1))
			n=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
			grep -E "^(SUMMARY|==[0-9]+== ERROR)|Test unit written" "$log" || true
		fi
		[ "${n:-0}" -gt 0 ] || n=1
		runs=$((runs + n))
		left=$((left - n))
		echo "fuzz: $runs runs, $crashes crashes so far"
	done
	echo "fuzz: $runs runs, $crashes crashes"
	[ "$crashes" = 0 ]
}
case $target in
import)
	# iptables chains that unfold past 1,000 rule lines are cut there
	# (100,000 in moat): the same code, at a cost per run of ms, not s
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-DIMPORT_MAX_FLAT=1000 \
		-fsanitize-coverage-ignorelist=fuzz/import-cov-ignore.txt \
		-fno-sanitize-recover=undefined -o "$out/fuzz_import" fuzz/fuzz_import.c \
		src/base/*.c src/policy/*.c src/analyze/*.c src/import/*.c -lexpat -lcrypt -pthread
	fuzz_run "$out/fuzz_import" -max_len=16384 -timeout=10 \
		-artifact_prefix=fuzz/ -dict=fuzz/import.dict fuzz/corpus-import
	;;
conf)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_conf" fuzz/fuzz_conf.c \
		src/base/*.c src/policy/*.c src/analyze/*.c src/output/*.c src/enforce/*.c \
		-lnftables -ljansson -lmnl -lnetfilter_conntrack -lcrypt -pthread
	"$out/fuzz_conf" -max_total_time="$secs" -max_len=4096 -timeout=5 \
		-artifact_prefix=fuzz/ -dict=fuzz/conf.dict fuzz/corpus
	;;
smtp)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-DMOAT_TEST_SEAMS=1 -fno-sanitize-recover=undefined -o "$out/fuzz_smtp" \
		fuzz/fuzz_smtp.c src/base/*.c src/net/*.c src/policy/*.c src/smtp/*.c src/web/tls.c \
		-lclamav -lgnutls -lunbound -lcrypt -pthread
	"$out/fuzz_smtp" -max_total_time="$secs" -max_len=8192 -timeout=10 \
		-artifact_prefix=fuzz/ -dict=fuzz/smtp.dict fuzz/corpus-smtp
	;;
control)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_control" fuzz/fuzz_control.c \
		src/daemon/control.c src/daemon/control_conf.c src/daemon/answer.c src/daemon/identity.c src/base/*.c src/policy/*.c src/analyze/*.c \
		src/output/*.c src/enforce/*.c src/observe/*.c \
		-lnftables -ljansson -lmnl -lnetfilter_conntrack -lcrypt -pthread
	"$out/fuzz_control" -max_total_time="$secs" -max_len=8192 -timeout=10 \
		-artifact_prefix=fuzz/ -dict=fuzz/control.dict fuzz/corpus-control
	;;
http)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_http" fuzz/fuzz_http.c \
		src/web/console.c src/web/edit.c src/base/*.c src/policy/*.c src/analyze/*.c \
		src/output/*.c -lmicrohttpd -ljansson -lcrypt -pthread
	"$out/fuzz_http" -max_total_time="$secs" -max_len=8192 -timeout=10 \
		-artifact_prefix=fuzz/ -dict=fuzz/http.dict fuzz/corpus-http
	;;
sync)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_sync" fuzz/fuzz_sync.c \
		src/ha/peer.c src/base/*.c src/policy/*.c src/analyze/*.c \
		src/output/*.c -lgnutls -ljansson -lcrypt -pthread
	"$out/fuzz_sync" -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-artifact_prefix=fuzz/ fuzz/corpus-sync
	;;
tlspol)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_tlspol" fuzz/fuzz_tlspol.c \
		src/smtp/mtasts.c src/smtp/dane.c src/net/*.c src/base/*.c \
		-lgnutls -lunbound -lcrypt -pthread
	"$out/fuzz_tlspol" -max_total_time="$secs" -max_len=8192 -timeout=10 \
		-artifact_prefix=fuzz/ fuzz/corpus-tlspol
	;;
flowline)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_flowline" fuzz/fuzz_flowline.c \
		src/base/*.c src/policy/*.c src/analyze/*.c -lcrypt -pthread
	"$out/fuzz_flowline" -max_total_time="$secs" -max_len=8192 -timeout=10 \
		-artifact_prefix=fuzz/ fuzz/corpus-flowline
	;;
urllist)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_urllist" fuzz/fuzz_urllist.c \
		src/feeds/urllist.c src/base/*.c -lcrypt
	"$out/fuzz_urllist" -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-artifact_prefix=fuzz/ fuzz/corpus-urllist
	;;
geoip)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_geoip" fuzz/fuzz_geoip.c \
		src/feeds/geoip.c src/base/*.c -lmaxminddb -lcrypt
	LSAN_OPTIONS=suppressions=fuzz/lsan-geoip.supp \
	"$out/fuzz_geoip" -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-artifact_prefix=fuzz/ fuzz/corpus-geoip
	;;
feedmsg)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_feedmsg" fuzz/fuzz_feedmsg.c \
		src/feeds/feedmsg.c src/base/*.c -lcrypt
	"$out/fuzz_feedmsg" -max_total_time="$secs" -max_len=8192 -timeout=10 \
		-artifact_prefix=fuzz/ fuzz/corpus-feedmsg
	;;
nfscript)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_nfscript" fuzz/fuzz_nfscript.c \
		src/enforce/nfdelta.c src/enforce/nfrule.c src/enforce/nfset.c \
		src/base/*.c -lmnl -lcrypt -pthread
	fuzz_run "$out/fuzz_nfscript" -max_len=16384 -timeout=10 \
		-artifact_prefix=fuzz/ -dict=fuzz/nfscript.dict fuzz/corpus-nfscript
	;;
lintmemo)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_lintmemo" fuzz/fuzz_lintmemo.c \
		src/base/*.c src/policy/*.c src/analyze/*.c -lcrypt -pthread
	fuzz_run "$out/fuzz_lintmemo" -max_len=4096 -timeout=10 \
		-artifact_prefix=fuzz/ fuzz/corpus-lintmemo
	;;
fwlog)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -I"$out/src" -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_fwlog" fuzz/fuzz_fwlog.c \
		src/observe/fwlog.c src/observe/logfile.c src/enforce/nflog.c src/output/*.c \
		src/analyze/*.c src/base/*.c src/policy/*.c -lmnl -ljansson -lcrypt -pthread
	fuzz_run "$out/fuzz_fwlog" -max_len=2048 -timeout=10 \
		-artifact_prefix=fuzz/ fuzz/corpus-fwlog
	;;
*)
	echo "usage: fuzz.sh [SECONDS] [conf|smtp|control|http|sync|tlspol|urllist|geoip|feedmsg|import|nfscript|lintmemo|flowline|fwlog]" >&2
	exit 2
	;;
esac
