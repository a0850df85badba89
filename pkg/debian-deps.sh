#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages needed to build and test outrig; does nothing when all are there.
set -eu

packages="build-essential autoconf automake libtool pkg-config libevent-dev libssl-dev libjansson-dev rpm rpmlint python3-yaml
libyaml-dev libsqlite3-dev libhiredis-dev libpq-dev libpaho-mqtt-dev librdkafka-dev check curl wrk nodejs npm ca-certificates git
redis-server redis-tools postgresql postgresql-client mosquitto mosquitto-clients openssl
iproute2 dnsmasq-base clang libfuzzer-14-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler nghttp2-client
systemd dpkg-dev debhelper lintian debootstrap prometheus"

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "debian-deps: needs dpkg-query and apt-get (Debian or Ubuntu); install the equivalents of: $packages" >&2
	exit 1
fi

# Only what is missing, so a re-run costs no apt-get update and upgrades nothing.
set --
for p in $packages; do
	# NodeSource's nodejs ships npm itself and conflicts with Debian's npm package.
	if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
		continue
	fi
	# shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not a shell variable
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) set -- "$@" "$p" ;;
	esac
done
if [ "$#" -eq 0 ]; then
	echo "debian-deps: all build and test packages are installed"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "debian-deps: not root and no sudo; as root run: apt-get install $*" >&2
	exit 1
fi

echo "debian-deps: installing $*"
# env passes the variable through sudo, which would otherwise drop it.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
