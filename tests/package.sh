#!/bin/sh
# package.sh SOURCE_DIR: the Debian package as an admin gets it: built
# with dpkg-buildpackage from a copy of the tree, lintian without errors,
# installed with dpkg -i (the proxy's user, /var/lib/moat 0700, the man
# pages, the unit, the default config), the installed moatd run as its
# unit would start it against the lab, then purged: nothing of it left,
# and the machine as it was (the moat-smtp, moat-web, moat-sync and moat-log users the test command made
# comes back).  Root only; runs alone (it installs into the system).
set -u
top=$(cd "$1" && pwd)
if [ "$(id -u)" != 0 ] || ! command -v dpkg-buildpackage >/dev/null; then
	echo "skip: needs root and dpkg-buildpackage"
	exit 77
fi
if dpkg -s moat >/dev/null 2>&1; then
	echo "skip: a moat package is installed on this machine already"
	exit 77
fi
work=$(mktemp -d)
had_users=""
for u in moat-smtp moat-web moat-sync moat-log moat-feeds moat-ping; do
	getent passwd "$u" >/dev/null && had_users="$had_users $u"
done
failed=0
fail() { echo "FAIL: $*"; failed=1; }
cleanup() {
	dpkg --purge moat >/dev/null 2>&1
	for u in $had_users; do
		getent passwd "$u" >/dev/null ||
			useradd --system --no-create-home --home-dir /nonexistent \
			    --shell /usr/sbin/nologin "$u"
	done
	rm -rf "$work"
}
trap cleanup EXIT

# Build, from the files git knows (what a clone has).
mkdir "$work/src"
git -C "$top" ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$work/src")
(cd "$work/src" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log"; fail "dpkg-buildpackage"; exit 1; }
deb=$(ls "$work"/moat_*.deb)
echo "built $(basename "$deb")"
if command -v lintian >/dev/null; then
	lintian --fail-on error "$work"/moat_*.changes >"$work/lintian" 2>&1 ||
		{ cat "$work/lintian"; fail "lintian reports errors"; }
fi

# Install.
dpkg -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i"; exit 1; }
moat --version | grep -q '^moat [0-9]' || fail "moat --version"
moatd --version | grep -q '^moatd [0-9]' || fail "moatd --version"
man -w moat moat.conf moatd >/dev/null 2>&1 || fail "man -w moat moat.conf moatd"
getent passwd moat-smtp >/dev/null || fail "no moat-smtp user"
getent passwd moat-web >/dev/null || fail "no moat-web user"
getent passwd moat-sync >/dev/null || fail "no moat-sync user"
getent passwd moat-log >/dev/null || fail "no moat-log user"
getent passwd moat-feeds >/dev/null || fail "no moat-feeds user"
getent passwd moat-ping >/dev/null || fail "no moat-ping user"
[ "$(stat -c %a /var/lib/moat 2>/dev/null)" = 700 ] || fail "/var/lib/moat is not 0700"
[ "$(stat -c %a /etc/moat/moat.conf 2>/dev/null)" = 600 ] ||
	fail "/etc/moat/moat.conf is $(stat -c %a /etc/moat/moat.conf), not 0600 (it may hold the HA secret)"
moat check --offline -f /etc/moat/moat.conf >/dev/null || fail "the default config"
unit=/usr/lib/systemd/system/moatd.service
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" >"$work/verify" 2>&1 ||
		{ cat "$work/verify"; fail "systemd-analyze verify"; }
else
	echo "note: no systemd-analyze here: the unit is not verified"
fi

# The installed moatd, as its unit starts it (ExecStart), in the lab.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
set -- $exec_start
[ "$1" = /usr/sbin/moatd ] && [ "$3" = /etc/moat/moat.conf ] ||
	fail "ExecStart is '$exec_start'"
sh "$top/tests/lab/installed.sh" /usr/bin/moat /usr/sbin/moatd >"$work/lab.log" 2>&1 ||
	{ cat "$work/lab.log"; fail "the installed moatd in the lab"; }

# Purge: nothing of the package is left.
dpkg --purge moat >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
for f in /usr/bin/moat /usr/sbin/moatd "$unit" /etc/moat /var/lib/moat \
    /var/log/moat /usr/share/man/man1/moat.1.gz /usr/share/moat/web; do
	[ -e "$f" ] && fail "$f is still there after the purge"
done
getent passwd moat-smtp >/dev/null && fail "the moat-smtp user is still there"
getent passwd moat-web >/dev/null && fail "the moat-web user is still there"
getent passwd moat-sync >/dev/null && fail "the moat-sync user is still there"
getent passwd moat-log >/dev/null && fail "the moat-log user is still there"
getent passwd moat-feeds >/dev/null && fail "the moat-feeds user is still there"
getent passwd moat-ping >/dev/null && fail "the moat-ping user is still there"
[ $failed = 0 ] && echo "package: built, installed, run, purged"
exit $failed
