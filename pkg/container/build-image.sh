#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds outrig's OCI image from its .debs without any registry image: a debootstrap --variant=minbase
# root (the one pkg/deb-install-test.sh caches), the outrig package installed there with apt, apt's and
# dpkg's leftovers trimmed, committed with buildah. The image runs outrigd as the outrig user, works with
# a read-only root file system (state under /var/lib/outrig, a volume), and serves on every address
# so that a container port can be published.
# Then checks the image: with podman when this machine lets containers run, else (podman refused here:
# crun cannot set RLIMIT_NOFILE in this VM) by running the image's own outrigd as the outrig user from
# the committed image's files mounted read-only, answering /v1.0/healthz.
# Usage: pkg/container/build-image.sh DEBDIR [IMAGE]   (IMAGE defaults to localhost/outrig:VERSION)
# Root only (chroot, mount, buildah). Prints the image's size.
set -eu

if [ "$#" -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 DEBDIR [IMAGE]" >&2
	exit 2
fi
debs=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
for deb in "$debs"/outrig_*.deb; do break; done
[ -f "$deb" ] || { echo "build-image: no outrig_*.deb in $debs (pkg/build-deb.sh makes them)" >&2; exit 2; }
version=$(dpkg-deb -f "$deb" Version)
version=${version%-*} # the upstream version, as pkg/kubernetes/app.yaml names the image
image=${2:-localhost/outrig:$version}
for tool in buildah chroot curl; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "build-image: $tool not found (apt-get install buildah)" >&2
		exit 1
	}
done
cache=${OUTRIG_DEB_CACHE:-/var/cache/outrig-ci}
roottar="$cache/bookworm-minbase-root.tar"
[ -f "$roottar" ] || "$here/../deb-install-test.sh" --prepare

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-image-XXXXXX")
root="$tmp/root"
ctr=
pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; }
	for m in "$root/proc" "$root/dev" "$tmp/check/var/lib/outrig" "$tmp/check/proc" "$tmp/check/dev" "$tmp/check"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	[ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# 1. The root, with the outrig package (the plugins stay out: an image per need is added FROM this one).
mkdir "$root"
tar -C "$root" -xf "$roottar"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mkdir "$root/tmp/debs"
cp "$debs"/outrig_*.deb "$root/tmp/debs/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
in_root apt-get update -q >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; exit 1; }
# The file's name as the root sees it (the shell inside the root expands nothing).
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "/tmp/debs/${deb##*/}" \
	>"$tmp/install.log" 2>&1 || { tail -30 "$tmp/install.log"; exit 1; }
umount "$root/proc" "$root/dev"

# 2. Trimmed: what apt, dpkg's documentation and the package lists need no container keeps.
rm -rf "$root/tmp/debs" "$root/var/lib/apt/lists"/* "$root/var/cache/apt"/*.bin "$root/var/cache/apt/archives"/*.deb \
	"$root/usr/share/doc"/* "$root/usr/share/man"/* "$root/usr/share/info"/* "$root/var/log"/*
: >"$root/etc/resolv.conf"

# 3. The image.
ctr=$(buildah from scratch)
mnt=$(buildah mount "$ctr")
tar -C "$root" -cf - . | tar -C "$mnt" -xf -
buildah umount "$ctr" >/dev/null
buildah config \
	--user outrig \
	--workingdir /var/lib/outrig \
	--volume /var/lib/outrig \
	--port 3500 --port 50001 --port 50002 \
	--env XDG_DATA_HOME=/var/lib/outrig \
	--entrypoint '["/usr/bin/outrigd"]' \
	--cmd '["--resources-path","/etc/outrig/components","--config","/etc/outrig/config.yaml","--data-dir","/var/lib/outrig","--dapr-listen-addresses","0.0.0.0","--dapr-internal-grpc-listen-address","0.0.0.0","--dapr-internal-grpc-port","50002"]' \
	--label org.opencontainers.image.title=outrig \
	--label "org.opencontainers.image.version=$version" \
	"$ctr"
buildah commit -q "$ctr" "$image" >/dev/null
buildah rm "$ctr" >/dev/null
ctr=
echo "image $image: $(buildah images --format '{{.Size}}' "$image") ($(du -sh "$root" | cut -f1) of files)"

# 4. Does it run? podman if allowed; else the image's own files, read-only, as its user.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if podman run --rm --read-only "$image" --version >"$tmp/podman.out" 2>&1; then
	podman run -d --rm --read-only -p "127.0.0.1:$port:3500" -v outrig-state:/var/lib/outrig "$image" >"$tmp/cid"
	check="podman"
else
	echo "podman run refused here ($(tail -1 "$tmp/podman.out")); checking the image's files read-only instead"
	ctr=$(buildah from "$image")
	mnt=$(buildah mount "$ctr")
	mkdir "$tmp/check" "$tmp/state"
	mount --bind -o ro "$mnt" "$tmp/check"
	mount -o remount,bind,ro "$tmp/check"
	mount -t proc proc "$tmp/check/proc"
	mount --bind /dev "$tmp/check/dev"
	ids="$(in_root id -u outrig):$(in_root id -g outrig)"
	chown "$ids" "$tmp/state"
	mount --bind "$tmp/state" "$tmp/check/var/lib/outrig"
	touch "$tmp/check/probe" 2>/dev/null && { echo "FAIL: the root is writable" >&2; exit 1; }
	chroot --userspec="$ids" "$tmp/check" /usr/bin/env -i HOME=/var/lib/outrig XDG_DATA_HOME=/var/lib/outrig \
		/usr/bin/outrigd --resources-path /etc/outrig/components --config /etc/outrig/config.yaml \
		--data-dir /var/lib/outrig --dapr-http-port "$port" >"$tmp/outrigd.log" 2>&1 &
	pid=$!
	check="chroot, read-only root, user outrig"
fi
i=0
until curl -fsS -o /dev/null "http://127.0.0.1:$port/v1.0/healthz" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		echo "FAIL: outrigd from the image did not answer /v1.0/healthz ($check); its log:" >&2
		cat "$tmp/outrigd.log" 2>/dev/null || podman logs "$(cat "$tmp/cid")"
		exit 1
	fi
	sleep 0.1
done
curl -fsS -X POST -H 'Content-Type: application/json' -d '[{"key":"k","value":"v"}]' \
	"http://127.0.0.1:$port/v1.0/state/statestore" >/dev/null
[ "$(curl -fsS "http://127.0.0.1:$port/v1.0/state/statestore/k")" = '"v"' ] || {
	echo "FAIL: a state save and get through the image's outrigd" >&2
	exit 1
}
echo "ok: outrigd from $image answers /v1.0/healthz and saves state ($check)"
[ -f "$tmp/cid" ] && podman stop "$(cat "$tmp/cid")" >/dev/null
exit 0
