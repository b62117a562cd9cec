#!/bin/sh
# moat import for real: a pfSense config.xml of the lab's shape is
# imported, its equivalence report must say both interfaces are
# equivalent, and the applied result must decide real connections as pf
# would: an alias and an inverted source, reject, a quick floating block
# before the interface's rules, a non-quick floating block that the
# interface's quick pass overrides, a port forward, the default block.
. "$(dirname "$0")/lib.sh"
cat >"$tmp/config.xml" <<'XML'
<?xml version="1.0"?>
<pfsense>
	<interfaces>
		<wan><enable/><if>gww0</if><ipaddr>198.51.100.1</ipaddr><subnet>24</subnet></wan>
		<lan><enable/><if>gwl0</if><ipaddr>192.168.50.1</ipaddr><subnet>24</subnet></lan>
	</interfaces>
	<aliases>
		<alias><name>MAILHOSTS</name><type>host</type><address>192.168.50.10</address></alias>
	</aliases>
	<filter>
		<rule><type>block</type><interface>lan</interface><floating>yes</floating>
			<quick>yes</quick><direction>in</direction><ipprotocol>inet</ipprotocol>
			<protocol>tcp</protocol><source><any/></source>
			<destination><address>198.51.100.26</address><port>80</port></destination>
			<descr>quick floating block</descr></rule>
		<rule><type>block</type><interface>lan</interface><floating>yes</floating>
			<direction>in</direction><ipprotocol>inet</ipprotocol>
			<protocol>tcp</protocol><source><any/></source>
			<destination><address>198.51.100.28</address><port>80</port></destination>
			<descr>non-quick floating block</descr></rule>
		<rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
			<protocol>tcp</protocol><source><address>MAILHOSTS</address></source>
			<destination><any/><port>25</port></destination></rule>
		<rule><type>reject</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
			<protocol>tcp</protocol><source><not/><address>MAILHOSTS</address></source>
			<destination><any/><port>25</port></destination></rule>
		<rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
			<source><network>lan</network></source><destination><any/></destination></rule>
		<rule><type>pass</type><interface>wan</interface><ipprotocol>inet</ipprotocol>
			<protocol>tcp</protocol><source><any/></source>
			<destination><address>192.168.50.10</address><port>25</port></destination>
			<associated-rule-id>nat_mail</associated-rule-id></rule>
	</filter>
	<nat>
		<outbound><mode>automatic</mode></outbound>
		<rule><interface>wan</interface><protocol>tcp</protocol><source><any/></source>
			<destination><network>wanip</network><port>25</port></destination>
			<target>192.168.50.10</target><local-port>25</local-port>
			<associated-rule-id>nat_mail</associated-rule-id></rule>
	</nat>
</pfsense>
XML
"$MOAT" import pfsense "$tmp/config.xml" -o "$tmp/moat.conf" 2>"$tmp/import.err"
[ $? -le 1 ] || fail "import: $(cat "$tmp/import.err")"
grep -q "^  LAN: equivalent" "$tmp/import.err" || fail "LAN not equivalent: $(cat "$tmp/import.err")"
grep -q "^  WAN: equivalent" "$tmp/import.err" || fail "WAN not equivalent: $(cat "$tmp/import.err")"
ns gw "$MOAT" apply -f "$tmp/moat.conf" >/dev/null || fail "apply: $(cat "$tmp/moat.conf")"

listen wan 198.51.100.25:25 198.51.100.25:80 198.51.100.26:80 198.51.100.28:80
listen lan 192.168.50.10:25
probe connected lan --from 192.168.50.10 198.51.100.25 25
probe refused lan --from 192.168.50.11 198.51.100.25 25
probe connected lan --from 192.168.50.11 198.51.100.25 80
probe "timed out" lan --from 192.168.50.11 198.51.100.26 80
probe connected lan --from 192.168.50.11 198.51.100.28 80
probe connected wan --from 198.51.100.25 198.51.100.1 25
probe "timed out" wan --from 198.51.100.25 198.51.100.1 22
finish
