#!/bin/sh
# setup.sh: install what moat needs to build and test on Debian 12.
# Safe to run again: it installs only what is missing.
set -eu
pkgs="gcc meson ninja-build pkg-config libcmocka-dev python3 libnftables-dev libjansson-dev libmnl-dev libnetfilter-conntrack-dev libsystemd-dev go-md2man nftables iproute2 libclamav-dev clamav-daemon swaks postfix openssl gnutls-bin clamav-milter util-linux debhelper dpkg-dev lintian man-db prometheus libmicrohttpd-dev libgnutls28-dev libcrypt-dev chromium chromium-driver python3-selenium python3-requests keepalived conntrackd conntrack mmdebstrap systemd-container libunbound-dev libidn2-dev libevent-dev dns-root-data nsd unbound ldnsutils libmaxminddb-dev libmaxmind-db-writer-perl mmdb-bin libexpat1-dev"
missing=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: run as root (or with sudo) to install packages" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
# The own users of the SMTP proxy, the console, the HA sync link's
# server and the firewall log (moatd; the package creates them too).
for u in moat-smtp moat-web moat-sync moat-log moat-feeds moat-ping; do
	if ! id "$u" >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$u"
	fi
done
