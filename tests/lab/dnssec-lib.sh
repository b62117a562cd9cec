# dnssec-lib.sh: a small DNSSEC-signed Internet for lab tests, in a
# namespace of its own ("${MOAT_LAB}dns"): an authoritative server (nsd,
# zones signed with ldns-signzone) and a resolver (unbound, a plain
# iterator with a stub-zone to nsd: it does not validate, so bogus answers
# reach the validator under test), plus HTTPS servers for MTA-STS
# policies, and a lab CA for their certificates and the MX hosts'.
#
# Source it (after lib.sh, or alone with $tmp set) and:
#   dnssec_up                  the namespace, nsd, unbound, the parent zone
#   dnssec_attach NS           a link from namespace NS to it, and
#                              /etc/netns/NS/resolv.conf naming the resolver
#   dnssec_zone ZONE           a child zone of $DNSSEC_PARENT (signed)
#   dnssec_rr ZONE RR...       add records ("name ttl IN type data")
#   dnssec_clear ZONE          forget a zone's records
#   dnssec_state ZONE signed|unsigned|bogus TYPE
#                              how it is published (bogus: the signatures
#                              of TYPE broken after signing)
#   dnssec_publish             sign and serve everything again (restarts
#                              nsd and unbound: no stale cache)
#   dnssec_anchor              the trust anchor file (the parent's DS)
#   dnssec_cert NAME [DNS...]  a key and certificate from the lab CA:
#                              $DNSSEC_DIR/certs/NAME.{key,pem,chain.pem}
#   dnssec_tlsa PEM U S M      TLSA data for a certificate ("U S M hex")
#   dnssec_mtasts DOMAIN ADDR POLICYFILE
#                              serve the policy at https://mta-sts.DOMAIN
#                              from ADDR (10.54.x.y) and publish its A
#   dnssec_mtasts_stop DOMAIN  stop that server
#   dnssec_down                stop all, remove namespaces and files
# The resolver is 10.53.0.1; HTTPS servers live on 10.54.0.0/16; both are
# routed from each attached namespace.  When sourced after lib.sh, the
# EXIT trap runs dnssec_down, then lib.sh's cleanup.
DNSSEC_NS=${MOAT_LAB:-moat-}dns
DNSSEC_PARENT=${DNSSEC_PARENT:-lab.example}
DNSSEC_RESOLVER=10.53.0.1
DNSSEC_DIR=${tmp:?}/dnssec
dnssec_pids=""
dnssec_links=0
dnssec_attached=""

_dnssec_fail() {
	if command -v fail >/dev/null 2>&1; then fail "$*"; else echo "FAIL: $*"; fi
}

dnssec_down() {
	for p in $dnssec_pids; do
		kill "$p" 2>/dev/null
	done
	for f in "$DNSSEC_DIR"/*.pid "$DNSSEC_DIR"/www/*.pid; do
		# (unbound.run.pid, its own, goes as unbound exits)
		[ -f "$f" ] && kill "$(cat "$f" 2>/dev/null)" 2>/dev/null
	done
	# Whatever still runs in the namespace was started here (servers
	# fork): by its pid, before the namespace goes.
	pids_left=$(ip netns pids "$DNSSEC_NS" 2>/dev/null)
	[ -n "$pids_left" ] && kill $pids_left 2>/dev/null
	for n in $dnssec_attached; do
		rm -rf "/etc/netns/$n"
	done
	ip netns del "$DNSSEC_NS" 2>/dev/null || true
	rm -rf "$DNSSEC_DIR"
}
if command -v cleanup >/dev/null 2>&1; then
	trap 'dnssec_down; cleanup' EXIT
else
	trap dnssec_down EXIT
fi

_dnssec_ns() {
	ip netns exec "$DNSSEC_NS" "$@"
}

# _dnssec_keys ZONE: a KSK and a ZSK (ECDSA P-256), once
_dnssec_keys() {
	d=$DNSSEC_DIR/zones/$1
	[ -f "$d/ksk" ] && return 0
	(cd "$d" && ldns-keygen -a ECDSAP256SHA256 -k "$1" >ksk &&
	    ldns-keygen -a ECDSAP256SHA256 "$1" >zsk) ||
	    _dnssec_fail "ldns-keygen $1"
}

dnssec_zone() {
	d=$DNSSEC_DIR/zones/$1
	mkdir -p "$d"
	: >"$d/records"
	echo signed >"$d/state"
	_dnssec_keys "$1"
	[ "$1" = "$DNSSEC_PARENT" ] || echo "$1" >>"$DNSSEC_DIR/children"
}

dnssec_rr() {
	z=$1
	shift
	for rr in "$@"; do
		echo "$rr" >>"$DNSSEC_DIR/zones/$z/records"
	done
}

dnssec_clear() {
	: >"$DNSSEC_DIR/zones/$1/records"
}

dnssec_state() {
	echo "$2" >"$DNSSEC_DIR/zones/$1/state"
	echo "${3:-MX}" >"$DNSSEC_DIR/zones/$1/break"
}

dnssec_anchor() {
	echo "$DNSSEC_DIR/zones/$DNSSEC_PARENT/$(cat "$DNSSEC_DIR/zones/$DNSSEC_PARENT/ksk").ds"
}

# _dnssec_build ZONE: its zone file for nsd, as its state says
_dnssec_build() {
	z=$1
	d=$DNSSEC_DIR/zones/$z
	state=$(cat "$d/state")
	{
		echo "\$ORIGIN $z."
		echo "\$TTL 2"
		echo "@ IN SOA ns.$DNSSEC_PARENT. hostmaster.$z. $(date +%s) 60 60 600 1"
		echo "@ IN NS ns.$DNSSEC_PARENT."
		[ "$z" = "$DNSSEC_PARENT" ] && echo "ns IN A 127.0.0.1"
		cat "$d/records"
		if [ "$z" = "$DNSSEC_PARENT" ] && [ -f "$DNSSEC_DIR/children" ]; then
			for c in $(cat "$DNSSEC_DIR/children"); do
				echo "$c. IN NS ns.$DNSSEC_PARENT."
				# A DS only for a child that is signed (or
				# pretends to be): none makes it insecure.
				[ "$(cat "$DNSSEC_DIR/zones/$c/state")" != unsigned ] &&
				    cat "$DNSSEC_DIR/zones/$c/$(cat "$DNSSEC_DIR/zones/$c/ksk").ds"
			done
		fi
	} >"$d/zone"
	if [ "$state" = unsigned ]; then
		cp "$d/zone" "$DNSSEC_DIR/nsd/$z.zone"
		return 0
	fi
	(cd "$d" && ldns-signzone -e "$(date -u -d '+30 days' +%Y%m%d%H%M%S)" \
	    -f "$d/zone.signed" zone "$(cat ksk)" "$(cat zsk)") ||
	    _dnssec_fail "ldns-signzone $z"
	if [ "$state" = bogus ]; then
		# One character of each signature over the type changed:
		# the data stays, its proof does not hold.
		awk -v t="$(cat "$d/break")" '$4 == "RRSIG" && $5 == t {
			s = $NF; c = substr(s, 10, 1)
			$NF = substr(s, 1, 9) (c == "A" ? "B" : "A") substr(s, 11)
		} { print }' "$d/zone.signed" >"$DNSSEC_DIR/nsd/$z.zone"
	else
		cp "$d/zone.signed" "$DNSSEC_DIR/nsd/$z.zone"
	fi
}

_dnssec_start() {	# _dnssec_start NAME CMD...: a server, pid in NAME.pid
	n=$1
	shift
	# Not through _dnssec_ns: bash forks a subshell for a function in the
	# background, and $! would be that shell, not the server.
	ip netns exec "$DNSSEC_NS" "$@" >"$DNSSEC_DIR/$n.out" 2>&1 &
	echo $! >"$DNSSEC_DIR/$n.pid"
}

_dnssec_stop() {
	if [ -f "$DNSSEC_DIR/$1.pid" ]; then
		p=$(cat "$DNSSEC_DIR/$1.pid")
		kill "$p" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		rm -f "$DNSSEC_DIR/$1.pid"
	fi
}

dnssec_publish() {
	_dnssec_stop nsd
	_dnssec_stop unbound
	for z in $(cat "$DNSSEC_DIR/children" 2>/dev/null) "$DNSSEC_PARENT"; do
		_dnssec_build "$z"
	done
	{
		cat <<-CONF
		server:
		  ip-address: 127.0.0.1
		  port: 53
		  username: ""
		  chroot: ""
		  zonesdir: "$DNSSEC_DIR/nsd"
		  database: ""
		  pidfile: "$DNSSEC_DIR/nsd/nsd.run.pid"
		  xfrdfile: "$DNSSEC_DIR/nsd/xfrd.state"
		  zonelistfile: "$DNSSEC_DIR/nsd/zone.list"
		  logfile: "$DNSSEC_DIR/nsd/nsd.log"
		  server-count: 1
		  verbosity: 1
		remote-control:
		  control-enable: no
		CONF
		for z in $(cat "$DNSSEC_DIR/children" 2>/dev/null) "$DNSSEC_PARENT"; do
			printf 'zone:\n  name: "%s"\n  zonefile: "%s.zone"\n' "$z" "$z"
		done
	} >"$DNSSEC_DIR/nsd/nsd.conf"
	_dnssec_start nsd nsd -d -c "$DNSSEC_DIR/nsd/nsd.conf"
	_dnssec_start unbound unbound -d -c "$DNSSEC_DIR/unbound.conf"
	# Up when the resolver answers for the parent's SOA.
	for _ in $(seq 100); do
		_dnssec_ns python3 - "$DNSSEC_RESOLVER" "$DNSSEC_PARENT" <<-'PY' 2>/dev/null && return 0
		import socket, struct, sys
		q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
		for l in sys.argv[2].split("."):
		    q += bytes([len(l)]) + l.encode()
		q += b"\0" + struct.pack(">HH", 6, 1)
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(0.2)
		s.sendto(q, (sys.argv[1], 53))
		r = s.recv(512)
		sys.exit(0 if (r[3] & 15) == 0 and r[7] > 0 else 1)
		PY
		sleep 0.1
	done
	_dnssec_fail "the lab's DNS did not come up: $(cat "$DNSSEC_DIR"/nsd.out "$DNSSEC_DIR"/unbound.out "$DNSSEC_DIR"/nsd/nsd.log 2>/dev/null | tail -20)"
	return 1
}

dnssec_up() {
	mkdir -p "$DNSSEC_DIR/nsd" "$DNSSEC_DIR/zones" "$DNSSEC_DIR/certs" \
	    "$DNSSEC_DIR/www"
	ip netns add "$DNSSEC_NS" || { _dnssec_fail "netns $DNSSEC_NS"; return 1; }
	_dnssec_ns ip link set lo up
	_dnssec_ns ip addr add "$DNSSEC_RESOLVER/32" dev lo
	cat >"$DNSSEC_DIR/unbound.conf" <<-CONF
	server:
	  interface: $DNSSEC_RESOLVER
	  port: 53
	  access-control: 0.0.0.0/0 allow
	  do-not-query-localhost: no
	  do-ip6: no
	  module-config: "iterator"
	  username: ""
	  chroot: ""
	  directory: "$DNSSEC_DIR"
	  pidfile: "$DNSSEC_DIR/unbound.run.pid"
	  use-syslog: no
	  logfile: ""
	  qname-minimisation: no
	  cache-max-ttl: ${DNSSEC_CACHE_MAX_TTL:-1}
	  cache-max-negative-ttl: 1
	  local-zone: "example." nodefault
	stub-zone:
	  name: "$DNSSEC_PARENT"
	  stub-addr: 127.0.0.1
	remote-control:
	  control-enable: no
	CONF
	dnssec_zone "$DNSSEC_PARENT"
	# the lab CA
	cat >"$DNSSEC_DIR/certs/ca.tmpl" <<-T
	cn = "moat lab CA"
	ca
	cert_signing_key
	expiration_days = 30
	T
	certtool --generate-privkey --key-type=ecdsa --outfile "$DNSSEC_DIR/certs/ca.key" 2>/dev/null &&
	certtool --generate-self-signed --load-privkey "$DNSSEC_DIR/certs/ca.key" \
	    --template "$DNSSEC_DIR/certs/ca.tmpl" --outfile "$DNSSEC_DIR/certs/ca.pem" 2>/dev/null ||
	    _dnssec_fail "the lab CA"
	DNSSEC_CA=$DNSSEC_DIR/certs/ca.pem
	dnssec_publish
}

dnssec_attach() {
	dnssec_links=$((dnssec_links + 1))
	k=$dnssec_links
	ip -n "$1" link add "dns$k" type veth peer name "dnsl$k" netns "$DNSSEC_NS"
	ip -n "$1" addr add "10.55.$k.2/24" dev "dns$k"
	_dnssec_ns ip addr add "10.55.$k.1/24" dev "dnsl$k"
	ip -n "$1" link set "dns$k" up
	_dnssec_ns ip link set "dnsl$k" up
	ip -n "$1" route add 10.53.0.0/16 via "10.55.$k.1"
	ip -n "$1" route add 10.54.0.0/16 via "10.55.$k.1"
	mkdir -p "/etc/netns/$1"
	echo "nameserver $DNSSEC_RESOLVER" >"/etc/netns/$1/resolv.conf"
	dnssec_attached="$dnssec_attached $1"
}

dnssec_cert() {
	name=$1
	shift
	[ $# -eq 0 ] && set -- "$name"
	{
		echo "cn = \"$name\""
		for dn in "$@"; do
			echo "dns_name = \"$dn\""
		done
		echo "tls_www_server"
		echo "signing_key"
		echo "expiration_days = 30"
	} >"$DNSSEC_DIR/certs/$name.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$DNSSEC_DIR/certs/$name.key" 2>/dev/null &&
	certtool --generate-certificate --load-privkey "$DNSSEC_DIR/certs/$name.key" \
	    --load-ca-certificate "$DNSSEC_DIR/certs/ca.pem" \
	    --load-ca-privkey "$DNSSEC_DIR/certs/ca.key" \
	    --template "$DNSSEC_DIR/certs/$name.tmpl" \
	    --outfile "$DNSSEC_DIR/certs/$name.pem" 2>/dev/null ||
	    _dnssec_fail "certificate $name"
	cat "$DNSSEC_DIR/certs/$name.pem" "$DNSSEC_DIR/certs/ca.pem" \
	    >"$DNSSEC_DIR/certs/$name.chain.pem"
}

dnssec_tlsa() {
	if [ "$3" = 1 ]; then
		der() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER; }
	else
		der() { openssl x509 -in "$1" -outform DER; }
	fi
	case $4 in
	0) hex=$(der "$1" | od -An -v -tx1 | tr -d ' \n') ;;
	1) hex=$(der "$1" | sha256sum | cut -d' ' -f1) ;;
	2) hex=$(der "$1" | sha512sum | cut -d' ' -f1) ;;
	esac
	echo "$2 $3 $4 $hex"
}

dnssec_mtasts() {
	dom=$1
	addr=$2
	_dnssec_ns ip addr add "$addr/32" dev lo 2>/dev/null
	[ -f "$DNSSEC_DIR/certs/mta-sts.$dom.pem" ] || dnssec_cert "mta-sts.$dom"
	ip netns exec "$DNSSEC_NS" python3 "$(dirname "$0")/mtasts_server.py" "$addr" \
	    "$DNSSEC_DIR/certs/mta-sts.$dom.pem" "$DNSSEC_DIR/certs/mta-sts.$dom.key" \
	    "$3" >"$DNSSEC_DIR/www/$dom.out" 2>&1 &
	echo $! >"$DNSSEC_DIR/www/$dom.pid"
	for _ in $(seq 50); do
		grep -q listening "$DNSSEC_DIR/www/$dom.out" 2>/dev/null && return 0
		sleep 0.1
	done
	_dnssec_fail "the MTA-STS server of $dom: $(cat "$DNSSEC_DIR/www/$dom.out")"
}

dnssec_mtasts_stop() {
	f=$DNSSEC_DIR/www/$1.pid
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}
