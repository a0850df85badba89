#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs outrig's .debs into a fresh minimal Debian root (debootstrap --variant=minbase) with apt,
# runs outrigd --check and outrigd from the installed files there, then purges the packages and
# checks that nothing is left. Root only (debootstrap, chroot, mount).
# Usage: pkg/deb-install-test.sh DEBDIR   (the .debs that pkg/build-deb.sh left there)
#        pkg/deb-install-test.sh --prepare  (only debootstrap into the cache, e.g. while the .debs build)
# The debootstrapped root is kept as a tarball in $OUTRIG_DEB_CACHE (default /var/cache/outrig-ci)
# and unpacked anew for every run; delete it to debootstrap again.
# ok and fail always succeed, so "test && ok || fail" is a plain if-else here.
# shellcheck disable=SC2015
set -eu

prepare=false
if [ "$#" -eq 1 ] && [ "$1" = --prepare ]; then
	prepare=true
elif [ "$#" -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 DEBDIR (a folder holding the outrig .debs) | --prepare" >&2
	exit 2
else
	debs=$(cd "$1" && pwd)
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deb-install-test: needs root (debootstrap, chroot, mount)" >&2
	exit 1
fi
for tool in debootstrap curl; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "deb-install-test: $tool not found (apt-get install $tool)" >&2
		exit 1
	}
done
suite=bookworm
cache=${OUTRIG_DEB_CACHE:-/var/cache/outrig-ci}
roottar="$cache/$suite-minbase-root.tar"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-chroot-XXXXXX")
root="$tmp/root"
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	for m in proc dev; do
		mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# 1. A fresh root: debootstrap once, then a new copy of that pristine root for every run.
mkdir "$root"
t=$(now)
if $prepare && [ -f "$roottar" ]; then
	echo "deb-install-test: $roottar is there"
	exit 0
elif [ -f "$roottar" ]; then
	tar -C "$root" -xf "$roottar"
	echo "fresh $suite minbase root from $roottar in $(since "$t") s"
else
	echo "debootstrap --variant=minbase $suite (cached afterwards in $roottar)"
	debootstrap --variant=minbase "$suite" "$root" >"$tmp/debootstrap.log" 2>&1 || {
		tail -30 "$tmp/debootstrap.log"
		echo "deb-install-test: debootstrap failed (the last lines of its log are above)" >&2
		exit 1
	}
	mkdir -p "$cache"
	tar -C "$root" -cf "$roottar.new.$$" . && mv "$roottar.new.$$" "$roottar"
	echo "debootstrap took $(since "$t") s"
	$prepare && exit 0
fi
[ -x "$root/usr/bin/apt-get" ] && ! [ -e "$root/usr/bin/outrigd" ] && ok "fresh $suite root without outrig" ||
	fail "the root is not a fresh Debian root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

# 2. Install with apt, as an admin would, dependencies from the Debian mirror. No -dbgsym.
mkdir "$root/tmp/debs"
for f in "$debs"/*.deb; do
	case $f in *-dbgsym_*) continue ;; esac
	cp "$f" "$root/tmp/debs/"
done
echo "packages:"
(cd "$root/tmp/debs" && for f in *.deb; do
	printf '  %-44s %8s bytes, installed %6s KiB\n' "$f" "$(stat -c %s "$f")" \
		"$(dpkg-deb -f "$f" Installed-Size)"
done)
in_root apt-get update -q >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; fail "apt-get update in the root"; exit 1; }
t=$(now)
# One argument per .deb, named as the root sees it.
# shellcheck disable=SC2046,SC2012
if in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	$(cd "$root" && ls tmp/debs/*.deb | sed 's|^|/|') >"$tmp/install.log" 2>&1; then
	ok "apt-get install of $(find "$root/tmp/debs" -name '*.deb' | wc -l) packages in $(since "$t") s (dependencies downloaded included)"
else
	tail -40 "$tmp/install.log"
	fail "apt-get install"
	exit 1
fi
grep -E '^(Get|Need to get|After this operation)' "$tmp/install.log" | grep -v '^Get:' || true

# 3. What the packages promise.
getent_root() { in_root getent "$@" >/dev/null; }
getent_root passwd outrig && ok "system user outrig" || fail "no user outrig"
[ "$(in_root stat -c %U:%G /var/lib/outrig 2>/dev/null)" = outrig:outrig ] && ok "/var/lib/outrig belongs to outrig" ||
	fail "/var/lib/outrig: $(in_root ls -ld /var/lib/outrig 2>&1)"
for f in /etc/outrig/components/statestore.yaml /etc/outrig/config.yaml /etc/outrig/outrigd.env; do
	grep -qx "$f" "$root/var/lib/dpkg/info/outrig.conffiles" && ok "conffile $f" || fail "$f is not a conffile"
done
for u in outrigd.service outrigd@.service; do
	[ -f "$root/lib/systemd/system/$u" ] && ok "unit $u installed" || fail "no /lib/systemd/system/$u"
done
abi=$(dpkg-deb -f "$debs"/outrig_*.deb Provides)
case $abi in outrig-plugin-abi-*) ok "outrig provides $abi" ;; *) fail "outrig provides '$abi'" ;; esac

# 4. The check and the daemon, as the unit runs them: its ExecStart line, the env file's
# OUTRIGD_ARGS, the outrig user. Ports of our own, in case the machine's defaults are taken.
unit="$root/lib/systemd/system/outrigd.service"
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
OUTRIGD_ARGS=
# shellcheck disable=SC1090,SC1091
. "$root/etc/outrig/outrigd.env"
pre_cmd=$(echo "$pre" | sed "s|\$OUTRIGD_ARGS|$OUTRIGD_ARGS|")
start_cmd=$(echo "$start" | sed "s|\$OUTRIGD_ARGS|$OUTRIGD_ARGS|")
# The unit's command lines are split into words as systemd splits them.
# shellcheck disable=SC2086
if out=$(chroot --userspec=outrig:outrig "$root" /usr/bin/env -i HOME=/var/lib/outrig $pre_cmd 2>&1); then
	ok "ExecStartPre as outrig: $out"
else
	fail "ExecStartPre ($pre) as outrig: $out"
fi

# The template unit's check for an app "ci", with the example env file as its /etc/outrig/ci.env.
tpl="$root/lib/systemd/system/outrigd@.service"
cp "$root/usr/share/doc/outrig/examples/app.env.example" "$root/etc/outrig/ci.env"
OUTRIGD_ARGS=
# shellcheck disable=SC1091
. "$root/etc/outrig/ci.env"
tpl_cmd=$(sed -n 's/^ExecStartPre=//p' "$tpl" | sed "s|%i|ci|g; s|\$OUTRIGD_ARGS|$OUTRIGD_ARGS|")
# shellcheck disable=SC2086
if out=$(chroot --userspec=outrig:outrig "$root" /usr/bin/env -i HOME=/var/lib/outrig $tpl_cmd 2>&1); then
	ok "outrigd@ci.service's ExecStartPre with the example env file: $out"
else
	fail "outrigd@ci.service's ExecStartPre ($tpl_cmd): $out"
fi
rm "$root/etc/outrig/ci.env"
OUTRIGD_ARGS=
# shellcheck disable=SC1091
. "$root/etc/outrig/outrigd.env"

# Each plugin package's plugin loads, with its libraries, in the fresh root.
for t in state.sqlite pubsub.in-memory nameresolution.sqlite state.redis state.postgresql pubsub.mqtt3 \
	pubsub.kafka bindings.kafka; do
	if out=$(in_root outrigd --describe-plugin "$t" 2>&1); then
		ok "$t loads: $(echo "$out" | head -1 | cut -c1-80)"
	else
		fail "outrigd --describe-plugin $t: $out"
	fi
done

port=
for attempt in 1 2 3 4 5; do
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
	gport=$((port + 1))
	# shellcheck disable=SC2086
	chroot --userspec=outrig:outrig "$root" /usr/bin/env -i HOME=/var/lib/outrig \
		$start_cmd --dapr-http-port "$port" --dapr-grpc-port "$gport" >"$tmp/outrigd.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$port/v1.0/healthz" >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && break
	wait "$pid" 2>/dev/null || true
	pid=
	echo "attempt $attempt: port $port or $gport busy?"
	cat "$tmp/outrigd.log"
done
if [ -n "$pid" ] && curl -sf "http://127.0.0.1:$port/v1.0/healthz" >/dev/null; then
	ok "installed outrigd answers /v1.0/healthz"
else
	cat "$tmp/outrigd.log"
	fail "installed outrigd did not become healthy"
fi
curl -sf -X POST "http://127.0.0.1:$port/v1.0/state/statestore" -H 'Content-Type: application/json' \
	-d '[{"key":"k","value":"installed"}]' && ok "save to /etc/outrig's statestore" || fail "save"
got=$(curl -sf "http://127.0.0.1:$port/v1.0/state/statestore/k" || true)
[ "$got" = '"installed"' ] && ok "get returns what was saved" || fail "get returned: $got"
[ -f "$root/var/lib/outrig/state.db" ] && ok "state in /var/lib/outrig/state.db" || fail "no /var/lib/outrig/state.db"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=

# 5. An upgrade keeps the admin's conffiles: the same outrig repacked as a newer version.
echo 'OUTRIGD_ARGS="--app-id edited-by-admin"' >>"$root/etc/outrig/outrigd.env"
dpkg-deb -R "$root"/tmp/debs/outrig_*.deb "$tmp/repack"
version=$(sed -n 's/^Version: //p' "$tmp/repack/DEBIAN/control")
sed -i "s/^Version: .*/Version: $version+upgrade1/" "$tmp/repack/DEBIAN/control"
dpkg-deb -b "$tmp/repack" "$root/tmp/outrig-upgrade.deb" >/dev/null
# shellcheck disable=SC2016 # ${Version} is dpkg-query's field
if in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/outrig-upgrade.deb >"$tmp/upgrade.log" 2>&1 &&
	[ "$(in_root dpkg-query -W -f '${Version}' outrig)" = "$version+upgrade1" ]; then
	ok "upgrade to $version+upgrade1"
else
	tail -30 "$tmp/upgrade.log"
	fail "upgrade to $version+upgrade1"
fi
grep -q edited-by-admin "$root/etc/outrig/outrigd.env" && ok "the edited /etc/outrig/outrigd.env is kept on upgrade" ||
	fail "the upgrade replaced the edited /etc/outrig/outrigd.env"
in_root getent passwd outrig >/dev/null && ok "user outrig still there after the upgrade" || fail "no user outrig after the upgrade"

# 6. Purge: nothing of outrig may stay behind.
t=$(now)
if in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q outrig outrig-dev outrig-plugin-redis \
	outrig-plugin-postgresql outrig-plugin-mqtt outrig-plugin-kafka >"$tmp/purge.log" 2>&1; then
	ok "apt-get purge in $(since "$t") s"
else
	tail -30 "$tmp/purge.log"
	fail "apt-get purge"
fi
left=$(cd "$root" && ls -d etc/outrig usr/lib/*/outrig var/lib/outrig usr/include/outrig \
	lib/systemd/system/outrigd*.service etc/systemd/system/*/outrigd*.service usr/share/doc/outrig* \
	usr/bin/outrig usr/bin/outrigd 2>/dev/null || true)
[ -z "$left" ] && ok "no file of outrig left" || fail "left behind: $left"
getent_root passwd outrig && fail "user outrig is still there" || ok "user outrig removed"
getent_root group outrig && fail "group outrig is still there" || ok "group outrig removed"
# shellcheck disable=SC2016 # ${Package} is dpkg-query's field
pkgs=$(in_root dpkg-query -W -f '${Package} ${Status}\n' 'outrig*' 2>/dev/null | grep -v 'not-installed$' || true)
[ -z "$pkgs" ] && ok "dpkg knows no outrig package" || fail "dpkg still has: $pkgs"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
