#!/bin/bash
# The recipients' TLS policy (issue 23) through the Gateway Anti-Virus,
# with real Postfix on both sides and a real signed DNS: "client" in lan
# (192.168.50.10, smarthost [198.51.100.25]) sends through moatd
# (intercepting, seed A, smtp-other-scanning on) to "next" in wan
# (198.51.100.25, the MX host of the lab's domains, delivering to a
# Maildir).  moatd resolves through the lab's resolver (dnssec-lib.sh)
# and validates from the lab's trust anchor.
#  1. DANE: dane.lab.example (signed) has MX mx.dane.lab.example ->
#     198.51.100.25 and a TLSA 3 1 1 of next's key: delivered, ESMTPS at
#     next, mail.jsonl tls_verify "dane".
#  2. A TLSA record of another key: the client is deferred with 451 4.7.5,
#     nothing delivered, a tls-deferred record (policy dane).
#  3. The same zone unsigned: no DANE; delivered, opportunistic
#     (tls_verify "none", TLS on both legs).
#  4. MTA-STS (sts.lab.example, unsigned, policy enforce naming the MX,
#     smtp-tls-ca-file the lab CA): next with a lab-CA certificate for the
#     MX's name: delivered, tls_verify "mta-sts"; next without STARTTLS:
#     451 4.7.5, nothing delivered, no recipient or data in plain text.
#  5. smtp-tls-upstream verify (ca.lab.example: MX only): next's
#     certificate from the lab CA: delivered, tls_verify "ca"; from a CA
#     moat does not trust: 451 4.7.5, nothing delivered.
# Usage: tls-dane.sh MOAT MOATD
# bash: postfix-lib.sh reads BASH_SOURCE.
. "$(dirname "$0")/lib.sh"
for c in nsd unbound ldns-signzone ldns-keygen certtool openssl postfix; do
	command -v "$c" >/dev/null || { echo "skip: needs $c"; exit 77; }
done
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
. "$here/postfix-lib.sh"
. "$here/dnssec-lib.sh"
# The Postfix instances and the lab DNS go before lib.sh removes the lab
# and $tmp.
trap 'pf_stop_all; dnssec_down; cleanup' EXIT
conf="$tmp/moat.conf"
P=$DNSSEC_PARENT
D=dane.$P
S=sts.$P
V=ca.$P

dnssec_up || finish
dnssec_attach "${MOAT_LAB}gw"
C=$DNSSEC_DIR/certs
# next's certificate: the lab CA's, for the three MX names; an impostor
# with the same names and another key; one from a CA moat does not know.
dnssec_cert next "mx.$D" "mx.$S" "mx.$V"
dnssec_cert impostor "mx.$D" "mx.$S" "mx.$V"
pf_ca "$tmp/other"
pf_cert "$tmp/other" next "mx.$V" 198.51.100.25

dane_zone() {	# dane_zone TLSA-DATA
	dnssec_clear "$D"
	dnssec_rr "$D" "@ IN MX 10 mx.$D." "mx IN A 198.51.100.25" \
	    "_25._tcp.mx IN TLSA $1"
}
dnssec_zone "$D"
dane_zone "$(dnssec_tlsa "$C/next.pem" 3 1 1)"
dnssec_zone "$S"
dnssec_state "$S" unsigned
dnssec_rr "$S" "@ IN MX 10 mx.$S." "mx IN A 198.51.100.25" \
    "_mta-sts IN TXT \"v=STSv1; id=1;\"" "mta-sts IN A 10.54.0.10"
dnssec_zone "$V"
dnssec_state "$V" unsigned
dnssec_rr "$V" "@ IN MX 10 mx.$V." "mx IN A 198.51.100.25"
dnssec_publish || finish
printf 'version: STSv1\nmode: enforce\nmx: mx.%s\nmax_age: 86400\n' "$S" >"$tmp/policy"
dnssec_mtasts "$S" 10.54.0.10 "$tmp/policy"

pf_new next wan 198.51.100.25:25 $(pf_mailbox_conf "$D,$S,$V") \
    smtpd_tls_security_level=may smtpd_tls_cert_file="$C/next.chain.pem" \
    smtpd_tls_key_file="$C/next.key"
pf_new client lan 127.0.0.1:25 relayhost=[198.51.100.25]:25 \
    smtp_bind_address=192.168.50.10 smtp_tls_security_level=may
pf_start next || finish
pf_start client || finish

moat_conf() {	# moat_conf [SETTING...]: seed A, scanning on, the lab's DNS
	cat >"$conf" <<CONF
interface LAN device gwl0 address 192.168.50.1/24
interface WAN device gww0 address 198.51.100.1/24
object MAILSERVER 192.168.50.10
accept on LAN from MAILSERVER to ANY service SMTP comment "the mail server may send"
deny   on LAN from ANY to ANY service SMTP comment "nobody else"
antivirus {
    engine clamav $db
    smtp-other-scanning on
    smtp-local-scanning off
    dnssec-trust-anchor $(dnssec_anchor)
    smtp-tls-ca-file $DNSSEC_CA
CONF
	for l in "$@"; do echo "    $l"; done >>"$conf"
	echo "}" >>"$conf"
}

# next_cert NAME: next shows $C/NAME (or the other CA's) from now on
next_cert() {
	case $1 in
	other) pf_conf next smtpd_tls_cert_file="$tmp/other/next.crt" \
	    smtpd_tls_key_file="$tmp/other/next.key" ;;
	*) pf_conf next smtpd_tls_cert_file="$C/$1.chain.pem" \
	    smtpd_tls_key_file="$C/$1.key" ;;
	esac
}

# fresh: forget the client's deferred mail, and let the lab's records
# (TTL 2 s) leave every cache
fresh() {
	postsuper -c "$(pf_dir client)/etc" -d ALL >/dev/null 2>&1
	sleep 0.5
}

boxed() { ls "$(pf_mailbox next)/new" 2>/dev/null | wc -l; }

msgno=0
# send WHAT DOMAIN: a message from the client Postfix to user@DOMAIN, its
# sender s<N>@client.lab.test; sets qid, st (its delivery log line), subj,
# from, and before (next's mailbox count before it)
send() {
	msgno=$((msgno + 1))
	subj="tls-dane-$msgno-$1"
	from="s$msgno@client.lab.test"
	before=$(boxed)
	qid=$(pf_submit client 127.0.0.1:25 "$from" "user@$2" \
	    --subject "$subj") || { fail "submit $subj: $qid"; st=; return; }
	st=$(pf_wait_status client "$qid" 20) || st="(no delivery attempt logged)"
}

# delivered WHAT: the last message reached next's Maildir, as its only new
# one, over TLS (ESMTPS in next's Received); sets msg
delivered() {
	case $st in
	*status=sent*) ;;
	*) fail "$1: not sent: $st"; msg=; return 1 ;;
	esac
	if ! msg=$(pf_wait_mail next "Subject: $subj" 10); then
		fail "$1: sent but not in next's mailbox"
		return 1
	fi
	n=$(boxed)
	[ "$n" = $((before + 1)) ] && echo "ok: $1: delivered (next has $n)" ||
	    fail "$1: next has $n messages, want $((before + 1))"
	r=$(awk '/^Received:/ { if (h) exit; h = 1 }
	    h && /^[^ \t]/ && !/^Received:/ { exit } h { printf "%s ", $0 }' "$msg" |
	    tr -s ' \t' ' ')
	case $r in
	*"with ESMTPS "*) echo "ok: $1: next's Received says ESMTPS" ;;
	*) fail "$1: next received it without TLS: $r" ;;
	esac
}

# rec_tls WHAT VERIFY: the mail.jsonl record of $qid (its Message-ID holds
# the queue id): clean, TLS on both legs, tls_verify VERIFY
rec_tls() {
	for _ in $(seq 30); do
		"$MOAT" mail-log --json 2>/dev/null | grep "$qid@" | tail -1 >"$tmp/rec"
		[ -s "$tmp/rec" ] && break
		sleep 0.1
	done
	if out=$(python3 - "$tmp/rec" "$2" <<'PY'
import json, sys
try:
    r = json.loads(open(sys.argv[1]).read())
except ValueError:
    print("no record")
    sys.exit(1)
why = []
if r["verdict"] != "clean":
    why.append("verdict %s" % r["verdict"])
for k in ("tls_in", "tls_out"):
    if not str(r.get(k, "")).startswith("TLS1."):
        why.append("%s is %s" % (k, json.dumps(r.get(k, "missing"))))
if r.get("tls_verify") != sys.argv[2]:
    why.append("tls_verify is %s" % json.dumps(r.get("tls_verify", "missing")))
if why:
    print(", ".join(why))
    sys.exit(1)
print("tls_in %s, tls_out %s, tls_verify %s" % (r["tls_in"], r["tls_out"],
      r["tls_verify"]))
PY
	); then
		echo "ok: $1: mail.jsonl: $out"
	else
		fail "$1: mail.jsonl's record of $qid: $out: $(cat "$tmp/rec")"
	fi
}

# deferred WHAT DOMAIN POLICY: the client was told 451 4.7.5 at RCPT for
# DOMAIN's POLICY, nothing reached next's mailbox, and mail.jsonl has the
# tls-deferred record of $from
deferred() {
	case $st in
	*status=deferred*"said: 451 4.7.5 the next hop does not meet the TLS policy of $2 ($3)"*"(in reply to RCPT TO command)"*)
		echo "ok: $1: the client deferred: ${st##*said: }" ;;
	*) fail "$1: want a deferral with 451 4.7.5 at RCPT ($2, $3): $st" ;;
	esac
	sleep 0.5
	n=$(boxed)
	[ "$n" = "$before" ] && echo "ok: $1: nothing delivered (next has $n)" ||
	    fail "$1: next has $n messages, want $before"
	for _ in $(seq 30); do
		"$MOAT" mail-log --json 2>/dev/null | grep "\"<$from>\"" |
		    grep '"verdict":"tls-deferred"' | tail -1 >"$tmp/rec"
		[ -s "$tmp/rec" ] && break
		sleep 0.1
	done
	if grep -q "\"rcpt_domain\":\"$2\",\"policy\":\"$3\",\"reply\":\"451 4.7.5 " "$tmp/rec"; then
		echo "ok: $1: mail.jsonl: tls-deferred, rcpt_domain $2, policy $3"
	else
		fail "$1: no tls-deferred record of <$from> for $2 ($3): $(cat "$tmp/rec"; "$MOAT" mail-log --json 2>/dev/null | tail -2)"
	fi
}

# ---- 1. DANE: a matching TLSA record (3 1 1) -------------------------------
moat_conf
start_moatd "$conf"
send dane "$D"
delivered "dane" && rec_tls "dane" dane

# ---- 2. DANE: a TLSA record of another key ---------------------------------
dane_zone "$(dnssec_tlsa "$C/impostor.pem" 3 1 1)"
dnssec_publish || finish
fresh
sleep 2.5	# moatd's resolver cache: the records' TTL is 2 s
send dane-wrong "$D"
deferred "dane, wrong TLSA" "$D" dane

# ---- 3. the same zone unsigned: no DANE, opportunistic ---------------------
dnssec_state "$D" unsigned
dnssec_publish || finish
fresh
sleep 2.5
send dane-unsigned "$D"
delivered "unsigned" && rec_tls "unsigned" none

# ---- 4. MTA-STS enforce ----------------------------------------------------
fresh
send sts "$S"
delivered "mta-sts" && rec_tls "mta-sts" mta-sts
# next without STARTTLS: the policy asks for TLS, moat never sends the
# recipient (nor the message) in plain text.
pf_conf next smtpd_tls_security_level=none
sleep 0.5
send sts-plain "$S"
deferred "mta-sts, no STARTTLS" "$S" mta-sts
l=$(pf_log next | grep "disconnect from" | tail -1)
case $l in
*" ehlo="*) case $l in
	*" rcpt="*|*" data="*|*" bdat="*) fail "mta-sts, no STARTTLS: next saw: $l" ;;
	*) echo "ok: mta-sts, no STARTTLS: next saw no RCPT or DATA: ${l#*disconnect from }" ;;
	esac ;;
*) fail "mta-sts, no STARTTLS: next's last session: $l" ;;
esac
pf_conf next smtpd_tls_security_level=may
stop_moatd

# ---- 5. smtp-tls-upstream verify --------------------------------------------
moat_conf "smtp-tls-upstream verify"
start_moatd "$conf"
fresh
send verify "$V"
delivered "verify" && rec_tls "verify" ca
next_cert other
sleep 0.5
send verify-other-ca "$V"
deferred "verify, a CA moat does not trust" "$V" verify
stop_moatd
finish
