#!/bin/sh
# install.sh BUILD_DIR: `meson install` puts in place what an admin needs:
# the two programs, the three man pages (roff), the default config (and
# never over one that is there), bash completion, the examples.
set -u
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
failed=0
meson install -C "$build" --destdir "$dest" --no-rebuild >"$dest.log" 2>&1 ||
	{ echo "FAIL: meson install"; cat "$dest.log"; rm -f "$dest.log"; exit 1; }
rm -f "$dest.log"
prefix=$(meson introspect "$build" --buildoptions |
    python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
sysconf=$(meson introspect "$build" --buildoptions |
    python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="sysconfdir"][0])')
case $sysconf in /*) ;; *) sysconf=$prefix/$sysconf ;; esac
for f in bin/moat sbin/moatd lib/systemd/system/moatd.service \
    share/man/man1/moat.1 share/man/man5/moat.conf.5 \
    share/man/man8/moatd.8 share/bash-completion/completions/moat \
    share/doc/moat/examples/seed-a.conf; do
	[ -e "$dest$prefix/$f" ] || { echo "FAIL: not installed: $prefix/$f"; failed=1; }
done
conf=$dest$sysconf/moat/moat.conf
[ -f "$conf" ] || { echo "FAIL: no default config at $sysconf/moat/moat.conf"; failed=1; }
"$dest$prefix/bin/moat" check --offline -f "$conf" >/dev/null ||
	{ echo "FAIL: the default config is not valid"; failed=1; }
man -l "$dest$prefix/share/man/man1/moat.1" 2>/dev/null | grep -q "moat check" ||
	{ echo "FAIL: moat(1) does not render"; failed=1; }
unit=$dest$prefix/lib/systemd/system/moatd.service
[ -f "$unit" ] || { echo "FAIL: no moatd.service"; failed=1; }
if command -v systemd-analyze >/dev/null; then
	# verify resolves ExecStart on the real file system: point it there.
	sed "s|^ExecStart=[^ ]*|ExecStart=$dest$prefix/sbin/moatd|" "$unit" \
	    >"$dest/moatd.service"
	MANPATH=$dest$prefix/share/man systemd-analyze verify "$dest/moatd.service" \
	    >"$dest/verify" 2>&1 ||
		{ echo "FAIL: systemd-analyze verify"; cat "$dest/verify"; failed=1; }
	grep -v "^$" "$dest/verify" | grep -qi "moatd" &&
		{ echo "FAIL: systemd-analyze warns:"; cat "$dest/verify"; failed=1; }
fi
echo "# mine" >>"$conf"
meson install -C "$build" --destdir "$dest" --no-rebuild >/dev/null 2>&1
tail -1 "$conf" | grep -q "# mine" || { echo "FAIL: install overwrote the admin's config"; failed=1; }
[ $failed = 0 ] && echo "install: everything in place"
exit $failed
