#!/bin/sh
# install-conf.sh SOURCE SYSCONFDIR: meson's install step for the default
# config: SYSCONFDIR/moat/moat.conf from SOURCE, only when there is none
# (an admin's config is never overwritten).
set -eu
case $2 in
/*) dir="${DESTDIR:-}$2/moat" ;;			# /etc, with prefix /usr
*) dir="$MESON_INSTALL_DESTDIR_PREFIX/$2/moat" ;;	# under the prefix
esac
mkdir -p "$dir"
chmod 755 "$dir"
if [ ! -e "$dir/moat.conf" ]; then
	cp "$MESON_SOURCE_ROOT/$1" "$dir/moat.conf"
	chmod 600 "$dir/moat.conf"	# it holds the HA secret when there is one
	echo "Installing the default config to $dir/moat.conf"
else
	echo "Keeping $dir/moat.conf"
fi
