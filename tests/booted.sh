#!/bin/sh
# booted.sh SOURCE_DIR: the package under a real systemd, as PID 1 of a
# Debian 12 container (systemd-nspawn), not moatd run by hand.  The .deb is
# built from the files git knows, installed with dpkg -i into a root file
# system made by mmdebstrap (cached in $MOAT_ROOTFS_CACHE, default
# /var/cache/moat-test, made again when missing or when the package's
# dependencies change; each run boots an overlay of it), and the unit is
# enabled with the console on.  Then: the unit is active, the rules are in
# the container's kernel namespace, the console answers HTTPS, makes its
# certificate, saves a config and applies it, the firewall log and the
# mail log are written under /var/log/moat, systemctl reload applies a
# changed config, an upgrade (dpkg -i again) restarts moatd and leaves
# the config 0600, nothing in moatd's journal says a write was refused,
# and a reboot (the container stopped and booted again from the same
# directory) has the rules in before network-pre.target, the console
# serving once the network comes.  systemd-analyze security's figure is
# printed.  The container has its own network namespace; a client
# namespace joined to it by a veth is the LAN.  MOAT_DEB=FILE skips the
# build (to try a package already built).  Root only; runs alone.
set -u
top=$(cd "$1" && pwd)
skip() {
	echo "skip: $*"
	exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root"
for c in systemd-nspawn mmdebstrap dpkg-buildpackage nsenter ip python3; do
	command -v "$c" >/dev/null ||
		skip "no $c here (scripts/setup.sh installs it)"
done
unshare --pid --mount --net --uts --ipc --fork true 2>/dev/null ||
	skip "this machine cannot make the namespaces of a container"
python3 -c 'import requests' 2>/dev/null || skip "no python3-requests"

cache=${MOAT_ROOTFS_CACHE:-/var/cache/moat-test}
work=$(mktemp -d /tmp/moat-booted.XXXXXX)
root=$work/root
cns=moatboot$$		# the client's network namespace: the LAN
nspawn=""
leader=""
failed=0
t0=$(date +%s)
fail() {
	echo "FAIL: $*"
	failed=1
}
say() {
	echo "[$(($(date +%s) - t0)) s] $*"
}

# stop: the container powered off (SIGRTMIN+3 to its systemd, through
# nspawn's --kill-signal), killed if it does not stop in 60 s
stop() {
	[ -n "$nspawn" ] || return 0
	kill -TERM "$nspawn" 2>/dev/null
	for _ in $(seq 600); do
		kill -0 "$nspawn" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$nspawn" 2>/dev/null; then
		fail "the container did not power off in 60 s"
		kill -KILL "$nspawn" 2>/dev/null
	fi
	wait "$nspawn" 2>/dev/null
	nspawn=""
	leader=""
}
cleanup() {
	stop
	ip netns del "$cns" 2>/dev/null
	umount "$root" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ct CMD...: CMD inside the container (its namespaces and root)
ct() {
	nsenter -t "$leader" -m -u -i -n -p -r -w env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
# ctnet CMD...: one of this machine's commands in the container's network
ctnet() {
	nsenter -t "$leader" -n "$@"
}
# lan CMD...: CMD on the client, a host of the LAN
lan() {
	ip netns exec "$cns" "$@"
}

# 1. The package.
if [ -n "${MOAT_DEB:-}" ]; then
	deb=$MOAT_DEB
else
	mkdir "$work/src"
	git -C "$top" ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$work/src")
	(cd "$work/src" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1 ||
		{ tail -30 "$work/build.log"; fail "dpkg-buildpackage"; exit 1; }
	deb=$(ls "$work"/moat_*.deb)
fi
say "built $(basename "$deb")"

# 2. The root file system: Debian 12 with systemd and the package's
# dependencies (the container cannot reach a mirror: it has no network).
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
    sed 's/(.*)//; s/|.*//; s/ //g; /^$/d' | sort -u | paste -sd, -)
include="systemd,systemd-sysv,dbus,iproute2,nftables,$deps"
rootfs=$cache/rootfs-bookworm
mkdir -p "$cache"
(
	flock 9
	if [ "$(cat "$rootfs.include" 2>/dev/null)" != "$include" ] ||
	    [ ! -x "$rootfs/lib/systemd/systemd" ]; then
		rm -rf "$rootfs" "$rootfs.new" "$rootfs.include"
		mmdebstrap --variant=minbase --include="$include" bookworm \
		    "$rootfs.new" \
		    "deb http://deb.debian.org/debian bookworm main" \
		    "deb http://deb.debian.org/debian bookworm-updates main" \
		    "deb http://deb.debian.org/debian-security bookworm-security main" \
		    >"$work/mmdebstrap.log" 2>&1 ||
			{ tail -20 "$work/mmdebstrap.log"; exit 1; }
		mv "$rootfs.new" "$rootfs" && echo "$include" >"$rootfs.include"
		echo "made $rootfs"
	fi
) 9>"$cache/.lock" || { fail "mmdebstrap"; exit 1; }
mkdir -p "$work/upper" "$work/ovl" "$root"
if ! mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$work/upper,workdir=$work/ovl" "$root" 2>/dev/null; then
	echo "note: no overlayfs here: a copy of the root file system"
	cp -a "$rootfs/." "$root/"
fi
say "root file system ready"

# boot: the container's systemd as its PID 1, until it is running
boot() {
	systemd-nspawn -D "$root" --register=no --keep-unit --private-network \
	    --kill-signal=SIGRTMIN+3 --console=pipe -M "$cns" \
	    /lib/systemd/systemd </dev/null >>"$work/console.log" 2>&1 &
	nspawn=$!
	for _ in $(seq 100); do
		# nspawn's child that became the container's systemd (not
		# the short-lived one that sets it up)
		leader=$(pgrep -x -P "$nspawn" systemd | head -1)
		[ -n "$leader" ] && break
		sleep 0.1
	done
	[ -n "$leader" ] || { cat "$work/console.log"; fail "no container"; exit 1; }
	for _ in $(seq 600); do
		state=$(ct systemctl is-system-running 2>/dev/null)
		case $state in running | degraded) break ;; esac
		sleep 0.1
	done
	say "booted: $state"
	[ "$state" = running ] || {
		ct systemctl --failed --no-pager
		tail -20 "$work/console.log"
		fail "the container's systemd is $state, not running"
	}
}

# net_up: the LAN: a veth from the client's namespace into the
# container's, what a network would bring up after network-pre.target
net_up() {
	ip netns del "$cns" 2>/dev/null
	ip netns add "$cns"
	ip -n "$cns" link add cl0 type veth peer name lan0 netns "$leader"
	ip -n "$cns" addr add 192.168.77.10/24 dev cl0
	ip -n "$cns" link set cl0 up
	ip -n "$cns" link set lo up
	ctnet ip addr add 192.168.77.1/24 dev lan0
	ctnet ip link set lan0 up
}

# 3. The machine: the package, a config with the console and the relay, the
# users file, a signature database; a unit that looks at the kernel's rules
# when the network may start.
boot
cp "$deb" "$root/root/moat.deb"
ct dpkg -i /root/moat.deb >"$work/dpkg.log" 2>&1 ||
	{ cat "$work/dpkg.log"; fail "dpkg -i"; exit 1; }
say "installed"
[ "$(stat -c %a "$root/etc/moat/moat.conf")" = 600 ] ||
	fail "the packaged config is $(stat -c %a "$root/etc/moat/moat.conf"), not 0600"
sh "$top/tests/smtp/sigdb.sh" "$root/var/lib/clamav"
cat >"$root/etc/moat/moat.conf" <<'CONF'
interface LAN device lan0 address 192.168.77.1/24
interface WAN device wan0 address 198.51.100.1/24
service ALT1 tcp 2323
service ALT2 tcp 2424
service ALT3 tcp 2525
deny on LAN from ANY to LANIP service TELNET log comment "booted: no telnet"
antivirus {
    engine clamav /var/lib/clamav
    smtp-local-scanning on
    smtp-relay-to 127.0.0.1:10026
}
console {
    session-timeout 5m
}
CONF
printf 'booted-pass-1\n' | ct moat passwd admin >/dev/null ||
	fail "moat passwd"
cat >"$root/etc/systemd/system/moat-at-network.service" <<'UNIT'
[Unit]
Description=the rules at network-pre.target (moat's boot test)
DefaultDependencies=no
After=network-pre.target
Before=network.target
Wants=network-pre.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'nft list table inet moat >/root/at-network 2>&1; echo "exit $?" >>/root/at-network'

[Install]
WantedBy=multi-user.target
UNIT
ct systemctl enable moat-at-network.service >/dev/null 2>&1
net_up
if ! ct timeout 120 systemctl enable --now moatd >"$work/enable.log" 2>&1; then
	cat "$work/enable.log"
	fail "systemctl enable --now moatd"
fi
say "enabled and started"
ct systemd-analyze security --no-pager moatd.service >"$work/security" 2>&1
sed -n '/Overall exposure/p' "$work/security"
ct systemctl is-active moatd >/dev/null || fail "moatd is $(ct systemctl is-active moatd)"
ctnet nft list table inet moat >"$work/nft" 2>&1 &&
	grep -qw 23 "$work/nft" &&
	echo "ok: the rules are in the container's kernel namespace" ||
	fail "no rules: $(head -5 "$work/nft")"

# 4. The console: its certificate made at the first start, HTTPS from the
# LAN, log in, save a changed config through the API, apply it.
for _ in $(seq 100); do
	lan python3 -c 'import socket; socket.create_connection(("192.168.77.1", 443), 1)' \
	    2>/dev/null && break
	sleep 0.1
done
[ -s "$root/etc/moat/console.pem" ] && [ "$(stat -c %a "$root/etc/moat/console.key" 2>/dev/null)" = 600 ] &&
	echo "ok: the console made its certificate in /etc/moat" ||
	fail "no certificate in /etc/moat: $(ls -l "$root/etc/moat")"
cat >"$work/api.py" <<'PY'
import sys, requests, urllib3
urllib3.disable_warnings()
sys.excepthook = lambda t, v, tb: print(f"FAIL: {t.__name__}: {str(v)[:300]}")
base, password, add, want = sys.argv[1:5]
API = base + "/api/v1/"
s = requests.Session()
s.verify = False
r = s.post(API + "login", json={"user": "admin", "password": password}, timeout=10, verify=False)
assert r.status_code == 200, ("login", r.status_code, r.text[:200])
H = {"X-CSRF-Token": r.json()["csrf"]}
r = s.get(API + "config", timeout=10, verify=False)
assert r.status_code == 200, ("GET config", r.status_code)
text, h = r.json()["text"], r.json()["hash"]
r = s.put(API + "config", json={"text": text + add + "\n"},
          headers=dict(H, **{"If-Match": h}), timeout=10, verify=False)
assert r.status_code == 200, ("PUT config", r.status_code, r.text[:300])
r = s.post(API + "apply", json={"confirm": 600}, headers=H, timeout=30,
           verify=False)
assert r.status_code == 200, ("apply", r.status_code, r.text[:300])
r = s.post(API + "confirm", json={}, headers=H, timeout=30, verify=False)
assert r.status_code == 200, ("confirm", r.status_code, r.text[:300])
r = s.get(API + "status", timeout=10, verify=False)
assert r.status_code == 200, ("status", r.status_code)
print("ok: HTTPS, logged in, saved and applied:", want)
PY
if [ "$(ct systemctl is-active moatd)" = active ]; then
	lan python3 "$work/api.py" https://192.168.77.1 booted-pass-1 \
	    'deny on LAN from ANY to LANIP service ALT1 comment "booted: saved by the console"' \
	    "rule 2" || fail "the console's API"
	grep -q 'saved by the console' "$root/etc/moat/moat.conf" ||
		fail "/etc/moat/moat.conf does not hold the console's save"
	ctnet nft list table inet moat | grep -qw 2323 &&
		echo "ok: the console's config is in the kernel" ||
		fail "the console's apply is not in the kernel"
fi

# 5. The logs: a logged deny and an EICAR message through the relay.
mkdir -p "$work/sink"
nsenter -t "$leader" -n python3 "$top/tests/smtp/sink.py" 10026 "$work/sink" --host 127.0.0.1 \
    >"$work/sink.log" 2>&1 &
sinkpid=$!
for _ in $(seq 50); do
	grep -q ready "$work/sink.log" 2>/dev/null && break
	sleep 0.1
done
lan python3 -c 'import socket
try:
    socket.create_connection(("192.168.77.1", 23), 1)
except OSError:
    pass' 2>/dev/null
out=$(lan python3 "$top/tests/smtp/send.py" 192.168.77.1 25 --virus)
case $out in 554*) echo "ok: EICAR through the relay: $out" ;;
*) fail "EICAR through the relay: $out" ;; esac
out=$(lan python3 "$top/tests/smtp/send.py" 192.168.77.1 25)
case $out in 250*) echo "ok: clean mail through the relay: $out" ;;
*) fail "clean mail through the relay: $out" ;; esac
kill "$sinkpid" 2>/dev/null
wait "$sinkpid" 2>/dev/null
for _ in $(seq 50); do
	grep -q 'no telnet' "$root/var/log/moat/firewall.jsonl" 2>/dev/null &&
	    grep -q '"virus"' "$root/var/log/moat/mail.jsonl" 2>/dev/null && break
	sleep 0.1
done
grep -q 'no telnet' "$root/var/log/moat/firewall.jsonl" 2>/dev/null &&
	echo "ok: /var/log/moat/firewall.jsonl has the logged deny" ||
	fail "no firewall log: $(ls -l "$root/var/log/moat" 2>&1)"
grep -q '"virus"' "$root/var/log/moat/mail.jsonl" 2>/dev/null &&
	echo "ok: /var/log/moat/mail.jsonl has the virus" ||
	fail "no mail log: $(ls -l "$root/var/log/moat" 2>&1)"

lp=$(ct pgrep -x moatd-log)
st=$(ct cat "/proc/$lp/status" 2>/dev/null)
echo "$st" | grep -q "^CapEff:	0000000000000000$" &&
    [ "$(echo "$st" | awk '/^Uid:/ { print $2 }')" = "$(ct id -u moat-log)" ] &&
	echo "ok: the firewall log runs as moat-log, no capability left" ||
	fail "the firewall log process: $(echo "$st" | grep -E '^(Uid|CapEff)')"

# 6. A changed config by hand, and systemctl reload.
pid=$(ct systemctl show -p MainPID --value moatd)
echo 'deny on LAN from ANY to LANIP service ALT2 comment "booted: reloaded"' \
    >>"$root/etc/moat/moat.conf"
ct timeout 60 systemctl reload moatd || fail "systemctl reload moatd"
ctnet nft list table inet moat | grep -qw 2424 &&
	echo "ok: systemctl reload applied the changed config" ||
	fail "systemctl reload did not apply the changed config"
[ "$(ct systemctl show -p MainPID --value moatd)" = "$pid" ] ||
	fail "the reload restarted moatd"

# 6b. An upgrade (the package installed again over itself): moatd runs
# after it, a new process (try-restart; it was left stopped), the rules
# are in, and a config of 0644 (as a version before made it) is root's
# alone.
chmod 644 "$root/etc/moat/moat.conf"
pid=$(ct systemctl show -p MainPID --value moatd)
ct dpkg -i /root/moat.deb >"$work/upgrade.log" 2>&1 ||
	{ cat "$work/upgrade.log"; fail "dpkg -i over itself (an upgrade)"; }
for _ in $(seq 100); do
	[ "$(ct systemctl is-active moatd)" = active ] && break
	sleep 0.1
done
now=$(ct systemctl show -p MainPID --value moatd)
[ "$(ct systemctl is-active moatd)" = active ] && [ "$now" != "$pid" ] &&
    [ "$now" != 0 ] &&
	echo "ok: an upgrade restarted moatd ($pid, then $now)" ||
	fail "after an upgrade moatd is $(ct systemctl is-active moatd) (pid $pid, then $now)"
ctnet nft list table inet moat | grep -qw 2424 ||
	fail "after the upgrade the rules are not in"
[ "$(stat -c %a "$root/etc/moat/moat.conf")" = 600 ] &&
	echo "ok: the upgrade made the config 0600" ||
	fail "after the upgrade the config is $(stat -c %a "$root/etc/moat/moat.conf")"
ct journalctl -u moatd --no-pager >"$work/journal1" 2>&1

# 7. A reboot: the rules are in before network-pre.target, from the saved
# config; once the network comes, the console serves.
rm -f "$root/root/at-network"
stop
say "powered off"
boot
ct systemctl is-active moatd >/dev/null || fail "after the reboot, moatd is $(ct systemctl is-active moatd)"
ct systemctl show -p Before --value moatd | tr ' ' '\n' | grep -qx network-pre.target ||
	fail "moatd is not ordered before network-pre.target"
m=$(ct systemctl show -p ActiveEnterTimestampMonotonic --value moatd)
n=$(ct systemctl show -p ActiveEnterTimestampMonotonic --value network-pre.target)
[ "${m:-0}" -gt 0 ] && [ "${n:-0}" -ge "$m" ] &&
	echo "ok: moatd was ready (rules in) at $m us, network-pre.target at $n us" ||
	fail "moatd ready at ${m:-?} us, network-pre.target at ${n:-?} us"
grep -qw 2424 "$root/root/at-network" 2>/dev/null &&
	echo "ok: at network-pre.target the kernel has the saved rules" ||
	fail "at network-pre.target: $(cat "$root/root/at-network" 2>&1)"
net_up
lan python3 "$work/api.py" https://192.168.77.1 booted-pass-1 \
    'deny on LAN from ANY to LANIP service ALT3 comment "booted: after the reboot"' \
    "after the reboot" || fail "the console after the reboot"
ctnet nft list table inet moat | grep -qw 2525 ||
	fail "the console's apply after the reboot is not in the kernel"
# The logger still writes its file, which systemd gave back to root at
# the start (LogsDirectory=).
n=$(wc -l <"$root/var/log/moat/firewall.jsonl")
lan python3 -c 'import socket
try:
    socket.create_connection(("192.168.77.1", 23), 1)
except OSError:
    pass' 2>/dev/null
for _ in $(seq 50); do
	[ "$(wc -l <"$root/var/log/moat/firewall.jsonl")" -gt "$n" ] && break
	sleep 0.1
done
[ "$(wc -l <"$root/var/log/moat/firewall.jsonl")" -gt "$n" ] &&
	echo "ok: after the reboot the firewall log is written" ||
	fail "after the reboot the firewall log is not written: $(ls -l "$root/var/log/moat")"
ct journalctl -u moatd --no-pager -b >"$work/journal2" 2>&1
cat "$work/journal1" "$work/journal2" >"$work/journal"
# Children log through moatd, never to the journal's sockets themselves,
# which are not there in the unit's sandbox (a taken-over child would log
# as moatd, at any priority).
grep -q 'moatd-log: firewall log: NFLOG group' "$work/journal" &&
	echo "ok: a child's line reaches the journal through moatd" ||
	fail "no line of moatd-log's in the journal"
pid=$(ct systemctl show -p MainPID --value moatd)
m=$(ct stat -c %a "/proc/$pid/root/run/systemd/journal" 2>&1)
[ "$m" = 0 ] || fail "in moatd's sandbox /run/systemd/journal is $m"
for j in socket stdout dev-log syslog; do
	ct test -e "/proc/$pid/root/run/systemd/journal/$j" &&
		fail "in moatd's sandbox /run/systemd/journal/$j is there"
done
echo "ok: the journal's sockets are not in moatd's sandbox"
if grep -Ei 'read-only file system|permission denied|operation not permitted|cannot' "$work/journal"; then
	fail "moatd's journal says something was refused (above)"
else
	echo "ok: nothing refused in moatd's journal"
fi

cat "$work/security"
say "done"
if [ $failed = 0 ]; then
	echo "booted: installed, started, served, logged, reloaded, rebooted under systemd"
else
	echo "--- moatd's journal"
	cat "$work/journal"
fi
exit $failed
