#!/bin/sh
# The console end to end in a real browser (chromium, headless), against
# the lab: tests/web/test_browser.py (with ClamAV and a sink on the WAN
# for the Gateway Anti-Virus part).  Screenshots in $MOAT_SHOTS (default
# the test's own directory).
. "$(dirname "$0")/lib.sh"
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
if ! [ -x /usr/bin/chromedriver ] || ! /usr/bin/python3 -c "import selenium" 2>/dev/null; then
	echo "skip: chromium-driver and python3-selenium are needed"
	exit 77
fi
chmod 755 "$tmp"
cp -r "$top/web" "$tmp/web"
chmod -R a+rX "$tmp/web"
export MOAT_WEB_ROOT="$tmp/web"
shots=${MOAT_SHOTS:-$tmp/shots}
mkdir -p "$shots"
printf 'admin-pass-1\n' | "$MOAT" passwd -f "$tmp/users" admin >/dev/null
cat >"$tmp/moat.conf" <<CONF
interface LAN device gwl0 address 192.168.50.1/24 address 2001:db8:50::1/64
interface WAN device gww0 address 198.51.100.1/24 address 2001:db8:51::1/64
gateway ISP on WAN via 198.51.100.25
console {
    users $tmp/users
    certificate $tmp/console.pem
    key $tmp/console.key
}
CONF
chmod 600 "$tmp/moat.conf"
sink wan 198.51.100.25 "$tmp/out-wan"
# Another table at the forward hook (as Docker's is): the dashboard says
# what it can do (doc/design/other-tables.md).
ns gw nft -f - <<'NFT' || fail "the other table"
table ip sidecar {
	chain passing {
		type filter hook forward priority 10; policy accept;
		tcp dport 9 drop
	}
}
NFT
start_moatd "$tmp/moat.conf" "console: https://"
# (TMPDIR: chromium's own scratch goes with $tmp, not left in /tmp)
HOME=$tmp TMPDIR=$tmp ns lan /usr/bin/python3 "$top/tests/web/test_browser.py" \
	https://192.168.50.1 admin-pass-1 "$MOAT" "$shots" "$db" "$smtp" || failed=1
echo "screenshots: $shots"
finish
