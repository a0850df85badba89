#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds outrig's .debs: copies the source tree (without build products) to a temporary folder,
# puts pkg/debian there as debian/, runs dpkg-buildpackage -us -uc -b and moves the .debs to OUTDIR.
# Usage: pkg/build-deb.sh OUTDIR   (needs dpkg-dev, debhelper and the Build-Depends of pkg/debian/control;
# DEB_BUILD_OPTIONS=check also runs the test suite, which needs what pkg/debian-deps.sh installs)
set -eu

if [ "$#" -ne 1 ]; then
	echo "usage: $0 OUTDIR (the folder that receives the .deb files; created if missing)" >&2
	exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
for tool in dpkg-buildpackage dh; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build-deb: $tool not found; install dpkg-dev and debhelper (apt-get install dpkg-dev debhelper)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-deb-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/outrig"
mkdir "$tree"

# Only the sources: from git, the tracked and new files that .gitignore does not exclude (so an
# uncommitted change is packaged too, and an in-tree build is not); without git, a tree that was
# never configured.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# shellcheck disable=SC2016 # $f belongs to the inner shell
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -C "$tree" -xf -
else
	if [ -f "$src/config.status" ]; then
		echo "build-deb: $src was configured; run 'make distclean' there first, or build from a git checkout" >&2
		exit 1
	fi
	cp -a "$src/." "$tree/"
fi
rm -rf "$tree/debian"
cp -a "$tree/pkg/debian" "$tree/debian"

echo "build-deb: building in $tree"
(cd "$tree" && dpkg-buildpackage -us -uc -b -Jauto) >"$tmp/build.log" 2>&1 || {
	tail -80 "$tmp/build.log"
	echo "build-deb: dpkg-buildpackage failed (the last lines of its log are above)" >&2
	exit 1
}
mv "$tmp"/*.deb "$out"/
ls -l "$out"/*.deb
