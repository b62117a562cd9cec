#!/bin/sh
# fuzz.sh [SECONDS] [conf|smtp|control|http|sync|tlspol|urllist|geoip|feedmsg|import]: fuzz with libFuzzer (clang), growing the
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
# config.xml (fuzz/corpus-import).  Needs
# clang and libclang-rt-14-dev.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
target=${2:-conf}
out=build-fuzz
mkdir -p "$out"
case $target in
import)
	clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o "$out/fuzz_import" fuzz/fuzz_import.c \
		src/base/*.c src/policy/*.c src/analyze/*.c src/import/*.c -lexpat -lcrypt -pthread
	"$out/fuzz_import" -max_total_time="$secs" -max_len=16384 -timeout=10 \
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
*)
	echo "usage: fuzz.sh [SECONDS] [conf|smtp|control|http|sync|tlspol|urllist|geoip|feedmsg|import]" >&2
	exit 2
	;;
esac
