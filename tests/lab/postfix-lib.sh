# postfix-lib.sh: real Postfix instances for the lab tests and the mail
# benchmarks.  Source it after tests/lab/lib.sh (or set $tmp, a directory
# the postfix user can traverse, and MOAT_LAB, and define pids).  Each
# instance is its own Postfix: its own config_directory, queue_directory,
# data_directory and mail log under $tmp/pf-NAME, started with
# `postfix -c DIR start` inside a lab namespace ("-" for the current one);
# never the system's default instance.  No chroot, no DNS, no syslog:
# everything it logs is in $tmp/pf-NAME/maillog.
#
#   pf_new NAME NS LISTEN [KEY=VALUE...]  make an instance whose smtpd
#                         listens on LISTEN (ADDR:PORT; "" for none), with
#                         main.cf overrides
#   pf_conf NAME KEY=VALUE...   change main.cf (reloads a running instance)
#   pf_start NAME / pf_stop NAME / pf_stop_all
#   pf_log NAME           its mail log
#   pf_submit NAME ADDR:PORT FROM TO [--virus] [--subject S] [--size N]
#                         hand a message to an instance's smtpd, in its
#                         namespace; prints the queue id (or the error)
#   pf_wait_status NAME QID [SECONDS]   the delivery log line of QID
#                         (status=sent|bounced|deferred), "" on timeout
#   pf_wait_mail NAME PATTERN [SECONDS] the file of the first message in
#                         the instance's Maildir (pf_mailbox) matching PATTERN
#   pf_flush NAME         try the deferred mail again now
#   pf_ca DIR / pf_cert DIR NAME CN [IP]   a lab CA; a key and certificate
#                         it signs ($DIR/NAME.key, $DIR/NAME.crt)
# A mailbox instance: pf_mailbox_conf DOMAIN gives the overrides that
# deliver DOMAIN's mail to the Maildir $tmp/pf-NAME/mail/box/.
pf_instances=""
pf_here=$(cd "$(dirname "${BASH_SOURCE:-$0}")" 2>/dev/null && pwd)

pf_dir() { echo "$tmp/pf-$1"; }

pf_ns() {	# pf_ns NAME CMD...: CMD in the instance's namespace
	_n=$(cat "$(pf_dir "$1")/ns")
	shift
	if [ "$_n" = - ]; then
		"$@"
	else
		ip netns exec "$MOAT_LAB$_n" "$@"
	fi
}

pf_new() {
	_name=$1 _nsname=$2 _listen=$3
	shift 3
	_d=$(pf_dir "$_name")
	mkdir -p "$_d/etc" "$_d/spool" "$_d/data" "$_d/mail"
	chmod 755 "$_d" "$_d/etc"
	chown postfix "$_d/data"
	chown 65534:65534 "$_d/mail"
	echo "$_nsname" >"$_d/ns"
	cat >"$_d/etc/main.cf" <<MAIN
compatibility_level = 3.6
queue_directory = $_d/spool
data_directory = $_d/data
myhostname = $_name.lab.test
mydomain = lab.test
myorigin = \$myhostname
mydestination =
relay_domains =
inet_interfaces = all
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
maillog_file = $_d/maillog
maillog_file_prefixes = $_d
syslog_name = postfix-$_name
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_loglevel = 1
smtp_tls_loglevel = 1
smtpd_tls_received_header = yes
local_transport = discard
# The lab's messages are retried by hand (pf_flush), not in minutes.
maximal_queue_lifetime = 1h
MAIN
	{
		[ -n "$_listen" ] &&
		    echo "$_listen inet n - n - - smtpd"
		cat <<'MASTER'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
MASTER
	} >"$_d/etc/master.cf"
	[ $# -gt 0 ] && postconf -c "$_d/etc" -e "$@"
	pf_instances="$pf_instances $_name"
}

# pf_mailbox_conf DOMAIN: overrides that deliver DOMAIN to pf_mailbox
pf_mailbox_conf() {
	echo "virtual_mailbox_domains=$1 virtual_mailbox_base=\$queue_directory/../mail virtual_mailbox_maps=static:box/ virtual_uid_maps=static:65534 virtual_gid_maps=static:65534"
}

pf_mailbox() { echo "$(pf_dir "$1")/mail/box"; }

pf_conf() {
	_d=$(pf_dir "$1")
	shift
	postconf -c "$_d/etc" -e "$@"
	[ -f "$_d/spool/pid/master.pid" ] &&
	    pf_ns "$(basename "$_d" | sed 's/^pf-//')" postfix -c "$_d/etc" reload >/dev/null 2>&1
	return 0
}

pf_master_pid() {
	_p=$(tr -d ' ' <"$(pf_dir "$1")/spool/pid/master.pid" 2>/dev/null)
	[ -n "$_p" ] && kill -0 "$_p" 2>/dev/null && echo "$_p"
}

pf_start() {
	_d=$(pf_dir "$1")
	if ! pf_ns "$1" postfix -c "$_d/etc" start >"$_d/start.out" 2>&1; then
		echo "FAIL: postfix $1 did not start: $(cat "$_d/start.out")"
		failed=1
		return 1
	fi
	for _ in $(seq 100); do
		[ -n "$(pf_master_pid "$1")" ] && return 0
		sleep 0.05
	done
	echo "FAIL: postfix $1: no master: $(cat "$_d/start.out")"
	failed=1
	return 1
}

pf_stop() {
	_d=$(pf_dir "$1")
	_p=$(pf_master_pid "$1") || return 0
	pf_ns "$1" postfix -c "$_d/etc" stop >/dev/null 2>&1
	for _ in $(seq 100); do
		kill -0 "$_p" 2>/dev/null || return 0
		sleep 0.05
	done
	# The master we started, by its pid: it takes its children along.
	kill -9 "$_p" 2>/dev/null
	return 0
}

pf_stop_all() {
	for _i in $pf_instances; do
		pf_stop "$_i"
	done
}

pf_log() { cat "$(pf_dir "$1")/maillog" 2>/dev/null; }

pf_submit() {
	_name=$1
	shift
	pf_ns "$_name" python3 "$pf_here/pfsubmit.py" "$@"
}

pf_wait_status() {
	for _ in $(seq $((${3:-10} * 10))); do
		_l=$(pf_log "$1" | grep -E " $2: to=<.*status=(sent|bounced|deferred)" | tail -1)
		[ -n "$_l" ] && { echo "$_l"; return 0; }
		sleep 0.1
	done
	return 1
}

pf_wait_mail() {
	_box=$(pf_mailbox "$1")
	for _ in $(seq $((${3:-10} * 10))); do
		_f=$(grep -l -- "$2" "$_box"/new/* 2>/dev/null | head -1)
		[ -n "$_f" ] && { echo "$_f"; return 0; }
		sleep 0.1
	done
	return 1
}

pf_flush() {
	_d=$(pf_dir "$1")
	# postqueue is set-gid: it takes -c only for listed directories.
	# postsuper (root) requeues; pickup takes the mail again at once.
	postsuper -c "$_d/etc" -r ALL deferred >/dev/null 2>&1
	pf_ns "$1" postfix -c "$_d/etc" flush >/dev/null 2>&1 || true
}

pf_ca() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 30 -subj "/CN=moat lab CA" -keyout "$1/ca.key" -out "$1/ca.crt" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

pf_cert() {
	_san="DNS:$3"
	[ -n "${4:-}" ] && _san="$_san,IP:$4"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$3" -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null &&
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$_san" >"$1/$2.ext" &&
	openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" \
	    -CAcreateserial -days 30 -extfile "$1/$2.ext" -out "$1/$2.crt" 2>/dev/null
	chmod 600 "$1/$2.key"; chmod 644 "$1/$2.crt"
}
