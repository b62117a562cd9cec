#!/bin/bash
# Mail over TLS through the Gateway Anti-Virus (issue 23), with real
# Postfix on both sides: "client" in lan (the internal mail server,
# 192.168.50.10, smarthost [198.51.100.25]), "next" in wan (the public
# server 198.51.100.25, STARTTLS with a certificate of the lab's CA,
# delivering to a Maildir).
#  1. Seed A, smtp-other-scanning on, TLS settings at their defaults
#     (smtp-intercept-tls terminate): client `may` and then `encrypt`
#     delivers, with TLS on both legs (the client's log, next's Received
#     header says ESMTPS, mail.jsonl's tls_in and tls_out); EICAR over TLS
#     gets 554 5.7.1; moat's STARTTLS shows a certificate that is not
#     next's.
#  2. Seed B (the relay, smtp-relay-to next): the relay offers STARTTLS
#     to the client Postfix; TLS on both legs; EICAR 554.
#  3. smtp-relay-require-tls on (and moat's certificate from the lab CA):
#     a client without TLS gets 530 on MAIL; with STARTTLS it sees moat's
#     certificate and may send.
#  4. smtp-tls-passthrough-from an object: its client's TLS reaches next
#     end to end (next's certificate), the mail is delivered unscanned and
#     mail.jsonl says so; other clients still see moat's certificate.
#  5. smtp-intercept-tls strip: the client leg in plain text on purpose
#     (the client's encrypt defers), the next hop's leg still TLS; with
#     smtp-tls-upstream none as well, the proxy of before issue 23: plain
#     text on both legs.
# bash: postfix-lib.sh reads BASH_SOURCE.
. "$(dirname "$0")/lib.sh"
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
. "$here/postfix-lib.sh"
# The Postfix instances stop before lib.sh removes the lab and $tmp.
trap 'pf_stop_all; cleanup' EXIT
conf="$tmp/moat.conf"
pki="$tmp/pki"
pf_ca "$pki"
pf_cert "$pki" next mx.next.lab.test 198.51.100.25
pf_cert "$pki" gw gw.lab.test 192.168.50.1
der_sha256() { openssl x509 -in "$1" -outform der | sha256sum | cut -d' ' -f1; }
next_fp=$(der_sha256 "$pki/next.crt")
gw_fp=$(der_sha256 "$pki/gw.crt")

pf_new next wan 198.51.100.25:25 $(pf_mailbox_conf next.lab.test) \
    smtpd_tls_security_level=may smtpd_tls_cert_file="$pki/next.crt" \
    smtpd_tls_key_file="$pki/next.key"
pf_new client lan 127.0.0.1:25 relayhost=[198.51.100.25]:25 \
    smtp_bind_address=192.168.50.10 smtp_tls_security_level=may
pf_start next
pf_start client

# knows SETTING: this moat parses the antivirus setting (issue 23's are new)
knows() {
	printf 'interface LAN device gwl0 address 192.168.50.1/24\nantivirus {\n    engine clamav %s\n    %s\n}\n' \
	    "$db" "$1" >"$tmp/knows.conf"
	! "$MOAT" check -f "$tmp/knows.conf" 2>&1 | grep -q "unknown antivirus setting"
}

msgno=0
# send WHAT [pfsubmit args]: a message from the client Postfix; sets qid,
# st (its delivery log line) and subj
send() {
	msgno=$((msgno + 1))
	subj="tls-lab-$msgno-$1"
	shift
	qid=$(pf_submit client 127.0.0.1:25 sender@client.lab.test user@next.lab.test \
	    --subject "$subj" "$@") || { fail "submit $subj: $qid"; st=; return; }
	st=$(pf_wait_status client "$qid" 15) || st="(no delivery attempt logged)"
}

# delivered WHAT: the last message sent reached next's Maildir; sets msg
delivered() {
	case $st in
	*status=sent*) ;;
	*) fail "$1: not sent: $st"; msg=; return 1 ;;
	esac
	if msg=$(pf_wait_mail next "Subject: $subj" 10); then
		echo "ok: $1: delivered"
	else
		fail "$1: sent but not in next's mailbox"
		return 1
	fi
}

# received_by_next: next's own Received header of $msg, on one line
received_by_next() {
	awk '/^Received:/ { if (h) exit; h = 1 } h && /^[^ \t]/ && !/^Received:/ { exit }
	    h { printf "%s ", $0 }' "$msg" | tr -s ' \t' ' '
}

# esmtps WHAT: next received $msg with TLS (its Received says ESMTPS)
esmtps() {
	r=$(received_by_next)
	case $r in
	*"with ESMTPS "*) echo "ok: $1: next's Received says ESMTPS" ;;
	*) fail "$1: next received it without TLS"
	   echo "seen: $r" ;;
	esac
}

# client_tls WHAT HOST: the client Postfix's log says TLS to HOST for $qid
client_tls() {
	pid=$(echo "$st" | sed -n 's/.*postfix-client\/smtp\[\([0-9]*\)\].*/\1/p')
	l=$(pf_log client | grep "smtp\[$pid\]: .*TLS connection established to $2" | tail -1)
	if [ -n "$l" ]; then
		echo "ok: $1: the client used TLS: ${l#*established to }"
	else
		fail "$1: the client did not use TLS to $2"
		echo "seen: $st"
	fi
}

# mailrec WHAT: the mail.jsonl record of $qid (the Message-ID Postfix
# made holds the queue id), in $tmp/rec
mailrec() {
	for _ in $(seq 30); do
		"$MOAT" mail-log --json 2>/dev/null | grep "$qid@" | tail -1 >"$tmp/rec"
		[ -s "$tmp/rec" ] && return 0
		sleep 0.1
	done
	fail "$1: no mail.jsonl record for $qid"
	return 1
}

# rec_tls WHAT VERDICT MODE: the record says TLS on both legs
rec_tls() {
	mailrec "$1" || return
	if out=$(python3 - "$tmp/rec" "$2" "$3" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read())
why = []
if r["verdict"] != sys.argv[2] or r["mode"] != sys.argv[3]:
    why.append("verdict %s, mode %s" % (r["verdict"], r["mode"]))
for k in ("tls_in", "tls_out"):
    if not str(r.get(k, "")).startswith("TLS1."):
        why.append("%s is %s" % (k, json.dumps(r.get(k, "missing"))))
if r.get("tls_verify") not in ("none", "ca", "dane", "mta-sts"):
    why.append("tls_verify is %s" % json.dumps(r.get("tls_verify", "missing")))
if why:
    print(", ".join(why))
    sys.exit(1)
print("%s, tls_in %s, tls_out %s, tls_verify %s" % (
    r["verdict"], r["tls_in"], r["tls_out"], r["tls_verify"]))
PY
	); then
		echo "ok: $1: mail.jsonl: $out"
	else
		fail "$1: mail.jsonl's record: $out"
	fi
}

# refused_554 WHAT: the last message (a virus) bounced with 554 5.7.1
refused_554() {
	case $st in
	*status=bounced*"554 5.7.1"*) echo "ok: $1: 554 5.7.1: ${st##*said: }" ;;
	*) fail "$1: want a bounce with 554 5.7.1: $st" ;;
	esac
	pf_wait_mail next "Subject: $subj" 1 >/dev/null && fail "$1: the virus was delivered"
}

# probe WHAT FROM HOST: starttls.py from the LAN, in $tmp/probe
tlsprobe() {
	ns lan python3 "$here/starttls.py" "$3" 25 --from "$2" "${@:4}" >"$tmp/probe"
}
pget() { python3 -c 'import json,sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$tmp/probe" "$1"; }

client_mode() {	# client_mode LEVEL [RELAYHOST [BIND]]
	pf_conf client smtp_tls_security_level="$1" \
	    relayhost="${2:-[198.51.100.25]:25}" smtp_bind_address="${3:-192.168.50.10}"
	# The mail of an earlier part that is still deferred goes.
	postsuper -c "$(pf_dir client)/etc" -d ALL >/dev/null 2>&1
	sleep 0.5
}

# ---- 1. seed A, intercepted, TLS at its defaults ---------------------------
intercept_conf() {	# intercept_conf [SETTING...]: seed A, scanning on
	cat >"$conf" <<CONF
interface LAN device gwl0 address 192.168.50.1/24
interface WAN device gww0 address 198.51.100.1/24
object MAILSERVER 192.168.50.10
object TLSDIRECT 192.168.50.13
accept on LAN from { MAILSERVER, TLSDIRECT } to ANY service SMTP comment "mail servers may send"
deny   on LAN from ANY to ANY service SMTP comment "nobody else"
antivirus {
    engine clamav $db
    smtp-other-scanning on
    smtp-local-scanning off
CONF
	for l in "$@"; do echo "    $l"; done >>"$conf"
	echo "}" >>"$conf"
}
intercept_conf
start_moatd "$conf"

send may-clean
if delivered "intercepted, client may"; then
	grep -q "^X-Virus-Scanned: clean by moat" "$msg" &&
	    echo "ok: intercepted, client may: scanned by moat" ||
	    fail "intercepted, client may: no X-Virus-Scanned header"
	esmtps "intercepted, client may"
fi
client_tls "intercepted, client may" 198.51.100.25
rec_tls "intercepted, client may" clean intercept

send may-virus --virus
refused_554 "intercepted, client may, EICAR"
rec_tls "intercepted, client may, EICAR" virus intercept

# moat answers STARTTLS itself: the LAN sees a certificate, not next's.
tlsprobe - 192.168.50.10 198.51.100.25
if [ "$(pget starttls)" = True ]; then
	fp=$(pget cert_sha256)
	[ -n "$fp" ] && [ "$fp" != "$next_fp" ] &&
	    echo "ok: intercepted: STARTTLS answered by moat ($(pget tls)), not by next" ||
	    fail "intercepted: the certificate the LAN sees: $(cat "$tmp/probe")"
else
	fail "intercepted: moat offers no STARTTLS to the LAN"
	echo "seen: $(cat "$tmp/probe")"
fi

client_mode encrypt
send encrypt-clean
if delivered "intercepted, client encrypt"; then
	esmtps "intercepted, client encrypt"
	client_tls "intercepted, client encrypt" 198.51.100.25
	rec_tls "intercepted, client encrypt" clean intercept
else
	case $st in *"TLS is required, but was not offered"*)
		echo "seen: the client's encrypt defers: ${st##*status=}" ;;
	esac
fi
send encrypt-virus --virus
refused_554 "intercepted, client encrypt, EICAR"
stop_moatd

# ---- 2. seed B: the relay, smtp-relay-to next ------------------------------
relay_conf() {	# relay_conf [SETTING...]: seed B, the relay to next
	{
		cat "$top/examples/lab/seed-b.conf"
		echo "antivirus {"
		echo "    engine clamav $db"
		echo "    smtp-local-scanning on"
		echo "    smtp-relay-to 198.51.100.25:25"
		for l in "$@"; do echo "    $l"; done
		echo "}"
	} >"$conf"
}
relay_conf
start_moatd "$conf"
client_mode may "[192.168.50.1]:25"
send relay-may-clean
if delivered "relay, client may"; then
	grep -q "^X-Virus-Scanned: clean by moat" "$msg" &&
	    echo "ok: relay, client may: scanned by moat" ||
	    fail "relay, client may: no X-Virus-Scanned header"
	esmtps "relay, client may"
fi
client_tls "relay, client may" 192.168.50.1
rec_tls "relay, client may" clean relay
send relay-may-virus --virus
refused_554 "relay, client may, EICAR"
client_mode encrypt "[192.168.50.1]:25"
send relay-encrypt-clean
if delivered "relay, client encrypt"; then
	esmtps "relay, client encrypt"
	client_tls "relay, client encrypt" 192.168.50.1
else
	case $st in *"TLS is required, but was not offered"*)
		echo "seen: the client's encrypt defers: ${st##*status=}" ;;
	esac
fi
stop_moatd

# ---- 3. smtp-relay-require-tls on, moat's own certificate ------------------
if knows "smtp-relay-require-tls on" && knows "smtp-tls-certificate $pki/gw.crt"; then
	relay_conf "smtp-relay-require-tls on" "smtp-tls-certificate $pki/gw.crt" \
	    "smtp-tls-key $pki/gw.key"
	start_moatd "$conf"
	client_mode encrypt "[192.168.50.1]:25"
	tlsprobe - 192.168.50.11 192.168.50.1 --no-tls
	case $(pget mail) in
	530*) echo "ok: require-tls: MAIL without TLS: $(pget mail)" ;;
	*) fail "require-tls: MAIL without TLS: $(cat "$tmp/probe")" ;;
	esac
	tlsprobe - 192.168.50.11 192.168.50.1
	case $(pget mail) in
	250*) echo "ok: require-tls: MAIL after STARTTLS ($(pget tls)): $(pget mail)" ;;
	*) fail "require-tls: MAIL after STARTTLS: $(cat "$tmp/probe")" ;;
	esac
	[ "$(pget cert_sha256)" = "$gw_fp" ] &&
	    echo "ok: require-tls: the relay shows smtp-tls-certificate" ||
	    fail "require-tls: the relay's certificate is not smtp-tls-certificate"
	send relay-require-encrypt
	delivered "require-tls, client encrypt" && esmtps "require-tls, client encrypt"
	client_tls "require-tls, client encrypt" 192.168.50.1
	stop_moatd
else
	fail "moat does not know smtp-relay-require-tls / smtp-tls-certificate (issue 23)"
fi

# ---- 4. smtp-tls-passthrough-from: TLS end to end, not scanned ------------
if knows "smtp-tls-passthrough-from 192.168.50.13"; then
	intercept_conf "smtp-tls-passthrough-from TLSDIRECT"
	start_moatd "$conf"
	tlsprobe - 192.168.50.13 198.51.100.25
	[ "$(pget cert_sha256)" = "$next_fp" ] &&
	    echo "ok: passthrough: the client sees next's certificate ($(pget tls))" ||
	    fail "passthrough: the client from TLSDIRECT does not see next's certificate: $(cat "$tmp/probe")"
	tlsprobe - 192.168.50.10 198.51.100.25
	fp=$(pget cert_sha256)
	[ -n "$fp" ] && [ "$fp" != "$next_fp" ] &&
	    echo "ok: passthrough: other clients still see moat's certificate" ||
	    fail "passthrough: the client outside TLSDIRECT: $(cat "$tmp/probe")"
	client_mode encrypt "[198.51.100.25]:25" 192.168.50.13
	send passthrough
	if delivered "passthrough, client encrypt"; then
		esmtps "passthrough, client encrypt"
		grep -q "^X-Virus-Scanned" "$msg" &&
		    fail "passthrough: moat added X-Virus-Scanned to mail it could not read"
	fi
	client_tls "passthrough, client encrypt" 198.51.100.25
	for _ in $(seq 30); do
		"$MOAT" mail-log --json 2>/dev/null | grep '"192.168.50.13:' |
		    grep "not scanned: tls passthrough" | tail -1 >"$tmp/rec"
		[ -s "$tmp/rec" ] && break
		sleep 0.1
	done
	grep -q "not scanned: tls passthrough" "$tmp/rec" &&
	    echo "ok: passthrough: mail.jsonl: $(cat "$tmp/rec")" ||
	    fail "passthrough: no mail.jsonl record of 192.168.50.13 says 'not scanned: tls passthrough': $("$MOAT" mail-log --json 2>/dev/null | grep '"192.168.50.13:' | tail -1)"
	stop_moatd
else
	fail "moat does not know smtp-tls-passthrough-from (issue 23)"
fi

# ---- 5. smtp-intercept-tls strip: STARTTLS taken out, on purpose -----------
if knows "smtp-intercept-tls strip"; then
	intercept_conf "smtp-intercept-tls strip"
	start_moatd "$conf"
	client_mode may
	send strip-may
	if delivered "strip, client may"; then
		case $(received_by_next) in
		*"with ESMTPS "*) echo "ok: strip: next received it over TLS (smtp-tls-upstream is apart)" ;;
		*) fail "strip: next's Received: $(received_by_next)" ;;
		esac
		mailrec "strip" && grep -q '"tls_in":"none"' "$tmp/rec" &&
			echo "ok: strip: mail.jsonl says the client leg was plain" ||
			fail "strip: mail.jsonl: $(cat "$tmp/rec")"
	fi
	client_mode encrypt
	send strip-encrypt
	case $st in
	*status=deferred*"TLS is required, but was not offered"*)
		echo "ok: strip: the client's encrypt defers" ;;
	*) fail "strip: the client's encrypt: $st" ;;
	esac
	stop_moatd
	intercept_conf "smtp-intercept-tls strip" "smtp-tls-upstream none"
	start_moatd "$conf"
	client_mode may
	send strip-none
	if delivered "strip and upstream none, client may"; then
		case $(received_by_next) in
		*"with ESMTP "*) echo "ok: strip, upstream none: next received it without TLS" ;;
		*) fail "strip, upstream none: next's Received: $(received_by_next)" ;;
		esac
	fi
	stop_moatd
else
	fail "moat does not know smtp-intercept-tls (issue 23)"
fi
finish
