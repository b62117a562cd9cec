#!/bin/sh
# tlspol.sh: the upstream TLS policy library against a real signed DNS
# (dnssec-lib.sh: nsd, unbound, a child zone per case) and a real MTA-STS
# server, driven by tests/tlspol_probe in the gateway's namespace, which
# resolves through the lab's resolver and validates from the lab's anchor:
# DANE with a matching TLSA record and with a wrong one, unusable records,
# the same zone unsigned (opportunistic), bogus signatures (tempfail), a
# next hop that is no MX (plain), MTA-STS enforce (names, mx patterns, the
# cache when the server is gone, a refetch when the id changes), testing.
# Usage: tlspol.sh MOAT TLSPOL_PROBE
. "$(dirname "$0")/lib.sh"
for c in nsd unbound ldns-signzone ldns-keygen certtool openssl; do
	command -v "$c" >/dev/null || { echo "skip: needs $c"; exit 77; }
done
. "$here/dnssec-lib.sh"
PROBE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")

dnssec_up || finish
dnssec_attach "${MOAT_LAB}gw"
P=$DNSSEC_PARENT
D=dane.$P
S=sts.$P
C=$DNSSEC_DIR/certs

# probe NAME ARGS...: the probe in the gateway, output in $tmp/NAME.out
probe() {
	out=$tmp/$1.out
	shift
	ns gw "$PROBE" -a "$(dnssec_anchor)" -c "$DNSSEC_CA" -w "$tmp" "$@" \
	    >"$out" 2>&1 || fail "probe $*: $(cat "$out")"
}

# want NAME N REGEX: line N of the probe's output matches
want() {
	line=$(sed -n "$2p" "$tmp/$1.out")
	if echo "$line" | grep -Eq -- "$3"; then
		echo "ok: $1:$2: $line"
	else
		fail "$1 line $2: want /$3/, got: $line (all: $(cat "$tmp/$1.out"))"
	fi
}

for h in mx1.$D mx2.$D mx.$S other.$S; do
	dnssec_cert "$h"
done
dnssec_cert impostor "mx1.$D"		# the right name, not the right key

dane_zone() {	# dane_zone TLSA-OF-MX1
	dnssec_clear "$D"
	dnssec_rr "$D" "@ IN MX 10 mx1.$D." "@ IN MX 20 mx2.$D." \
	    "mx1 IN A 10.60.0.25" "mx2 IN A 10.60.0.26" \
	    "_25._tcp.mx1 IN TLSA $1" \
	    "_25._tcp.mx2 IN TLSA $(dnssec_tlsa "$C/mx2.$D.pem" 1 0 1)"
}
dnssec_zone "$D"
dane_zone "$(dnssec_tlsa "$C/mx1.$D.pem" 3 1 1)"
# The same records in a zone that is not signed (no DS in the parent).
dnssec_zone "plain.$P"
dnssec_state "plain.$P" unsigned
dnssec_rr "plain.$P" "@ IN MX 10 mx1.plain.$P." "mx1 IN A 10.60.3.25" \
    "_25._tcp.mx1 IN TLSA $(dnssec_tlsa "$C/mx1.$D.pem" 3 1 1)"
# MTA-STS: an unsigned zone, as most are.
dnssec_zone "$S"
dnssec_state "$S" unsigned
sts_zone() {	# sts_zone ID
	dnssec_clear "$S"
	dnssec_rr "$S" "@ IN MX 10 mx.$S." "@ IN MX 20 other.$S." \
	    "mx IN A 10.60.1.25" "other IN A 10.60.1.26" \
	    "_mta-sts IN TXT \"v=STSv1; id=$1;\"" "mta-sts IN A 10.54.0.10"
}
sts_zone 1
# A signed domain without TLSA whose MTA-STS server does not exist.
dnssec_rr "$P" "nosts IN MX 10 mx.nosts" "mx.nosts IN A 10.60.2.25" \
    "_mta-sts.nosts IN TXT \"v=STSv1; id=1\""
dnssec_publish || finish
printf 'version: STSv1\nmode: enforce\nmx: mx.%s\nmax_age: 86400\n' "$S" >"$tmp/policy"
dnssec_mtasts "$S" 10.54.0.10 "$tmp/policy"

# DANE, signed zone, matching TLSA (3 1 1 of mx1's key).
probe dane lookup "$D" 10.60.0.25 check "$C/mx1.$D.chain.pem" \
    check "$C/impostor.chain.pem" check - \
    lookup "$D" 10.60.0.26 check "$C/mx1.$D.chain.pem" check - \
    lookup "$D" 10.60.0.99 check - \
    lookup "nosts.$P" 10.60.2.25 lookup "plain.$P" 10.60.3.25
want dane 1 "^policy kind=dane require_tls=1 tempfail=0 name=mx1.$D verified=dane "
want dane 2 "^check ok: DANE-EE matched"
want dane 3 "^check fail: no TLSA record matches"
want dane 4 "^check fail: TLS required"
# mx2 publishes only PKIX-TA (1 0 1): TLS required, unauthenticated
want dane 5 "^policy kind=dane require_tls=1 tempfail=0 name=mx2.$D verified=none .*none usable"
want dane 6 "^check ok: DANE: no usable TLSA record"
want dane 7 "^check fail: TLS required"
# no MX of the domain: the plain level (opportunistic)
want dane 8 "^policy kind=none require_tls=0 tempfail=0 name=- .*no MX host"
want dane 9 "^check ok"
# signed, no TLSA, no MTA-STS server: opportunistic, no tempfail
want dane 10 "^policy kind=none require_tls=0 tempfail=0 .*policy fetch failed"
# a TLSA record in an unsigned zone counts for nothing
want dane 11 "^policy kind=none require_tls=0 tempfail=0 "

# verify: not an MX, relaying: the relay's name
probe verify -l verify -r "mx2.$D" lookup "$D" 10.60.0.99 \
    check "$C/mx2.$D.chain.pem" check "$C/mx1.$D.chain.pem" \
    lookup "$D" 10.60.0.25
want verify 1 "^policy kind=verify require_tls=1 tempfail=0 name=mx2.$D verified=ca"
want verify 2 "^check ok: certificate verified for mx2.$D"
want verify 3 "^check fail: verify:"
want verify 4 "^policy kind=dane "
# may and none: no lookups at all
probe may -l may lookup "$D" 10.60.0.25
want may 1 "^policy kind=none require_tls=0 tempfail=0 .*smtp-tls-upstream may"

# A wrong TLSA record (the impostor's key) is published: mx1 fails.
dane_zone "$(dnssec_tlsa "$C/impostor.pem" 3 0 1)"
dnssec_publish || finish
probe wrong lookup "$D" 10.60.0.25 check "$C/mx1.$D.chain.pem" \
    check "$C/impostor.chain.pem"
want wrong 1 "^policy kind=dane require_tls=1 tempfail=0"
want wrong 2 "^check fail"
want wrong 3 "^check ok: DANE-EE matched \(3 0 1\)"

# DANE-TA: the lab CA, 2 0 1; the name must be mx1's.
dane_zone "$(dnssec_tlsa "$DNSSEC_CA" 2 0 1)"
dnssec_publish || finish
probe ta lookup "$D" 10.60.0.25 check "$C/mx1.$D.chain.pem" \
    check "$C/mx2.$D.chain.pem" check "$C/mx1.$D.pem"
want ta 2 "^check ok: DANE-TA matched"
want ta 3 "^check fail: DANE-TA: certificate not for"
want ta 4 "^check fail"

# The same zone unsigned: no DANE, opportunistic.
dnssec_state "$D" unsigned
dnssec_publish || finish
probe unsigned lookup "$D" 10.60.0.25 check -
want unsigned 1 "^policy kind=none require_tls=0 tempfail=0 "
want unsigned 2 "^check ok"

# Bogus: the MX RRset's signatures broken: a tempfail, never a downgrade;
# then the TLSA RRset's (the MX secure): a tempfail too.
dnssec_state "$D" bogus MX
dnssec_publish || finish
probe bogus lookup "$D" 10.60.0.25 check "$C/mx1.$D.chain.pem"
want bogus 1 "^policy kind=none require_tls=0 tempfail=1 .*MX lookup: DNSSEC bogus"
want bogus 2 "^check fail"
dnssec_state "$D" bogus TLSA
dnssec_publish || finish
probe bogus-tlsa lookup "$D" 10.60.0.25
want bogus-tlsa 1 "tempfail=1 .*TLSA lookup: DNSSEC bogus"

# MTA-STS, one process (its cache): enforce, a name that is not the MX's,
# an MX that matches no pattern; the server gone and the id changed: the
# cached policy; a new id and policy (testing): fetched again.
probe sts lookup "$S" 10.60.1.25 check "$C/mx.$S.chain.pem" \
    check "$C/other.$S.chain.pem" check - \
    lookup "$S" 10.60.1.26 check "$C/other.$S.chain.pem" \
    wait stopped lookup "$S" 10.60.1.25 check "$C/mx.$S.chain.pem" \
    check "$C/other.$S.chain.pem" \
    wait changed lookup "$S" 10.60.1.25 check "$C/other.$S.chain.pem" check - &
probe_pid=$!
pids="$pids $probe_pid"
for _ in $(seq 200); do
	grep -q "waiting stopped" "$tmp/sts.out" 2>/dev/null && break
	sleep 0.1
done
dnssec_mtasts_stop "$S"
sts_zone 2
dnssec_publish
sleep 3		# the TXT record's TTL (2 s), in the probe's own cache
touch "$tmp/stopped"
for _ in $(seq 200); do
	grep -q "waiting changed" "$tmp/sts.out" 2>/dev/null && break
	sleep 0.1
done
printf 'version: STSv1\nmode: testing\nmx: mx.%s\nmax_age: 86400\n' "$S" >"$tmp/policy"
dnssec_mtasts "$S" 10.54.0.10 "$tmp/policy"
sts_zone 3
dnssec_publish
sleep 3
touch "$tmp/changed"
wait "$probe_pid" || fail "the MTA-STS probe: $(cat "$tmp/sts.out")"
want sts 1 "^policy kind=mta-sts require_tls=1 tempfail=0 name=mx.$S verified=mta-sts .*policy fetched \(id 1\)"
want sts 2 "^check ok: MTA-STS: certificate verified for mx.$S"
want sts 3 "^check fail: MTA-STS: "
want sts 4 "^check fail: TLS required \(MTA-STS\)"
want sts 5 "^policy kind=mta-sts require_tls=1 tempfail=0 name=other.$S .*matches no mx pattern"
want sts 6 "^check fail: MTA-STS: MX other.$S matches no mx pattern"
want sts 7 "^waiting stopped"
want sts 8 "^policy kind=mta-sts require_tls=1 tempfail=0 name=mx.$S .*policy fetch failed.*the cached policy applies"
want sts 9 "^check ok"
want sts 10 "^check fail"
want sts 11 "^waiting changed"
want sts 12 "^policy kind=mta-sts require_tls=0 tempfail=0 name=mx.$S verified=none .*MTA-STS testing.*policy fetched \(id 3\)"
want sts 13 "^check ok: MTA-STS testing, would fail"
want sts 14 "^check ok: no TLS, none required"
finish
