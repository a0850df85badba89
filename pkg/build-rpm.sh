#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds outrig's RPMs with rpmbuild -bb from a `make dist` tarball and pkg/rpm/outrig.spec, and
# moves them to OUTDIR. Usage: pkg/build-rpm.sh OUTDIR [TARBALL]
# Without TARBALL it runs `make dist` (in the tree when it is configured, else in a temporary copy).
# On Debian (its `rpm` package has rpmbuild) the spec's BuildRequires cannot be checked against
# dpkg's database, so rpmbuild runs with --nodeps: pkg/debian-deps.sh installs the build
# dependencies instead. Lint the result with: rpmlint -r pkg/rpm/outrig.rpmlintrc OUTDIR/*.rpm
set -eu

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
	echo "usage: $0 OUTDIR [TARBALL] (OUTDIR receives the .rpm files; created if missing)" >&2
	exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
spec="$src/pkg/rpm/outrig.spec"
for tool in rpmbuild tar; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build-rpm: $tool not found; on Debian: apt-get install rpm" >&2
		exit 1
	fi
done
mkdir -p "$1"
out=$(cd "$1" && pwd)
start=$(date +%s)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-rpm-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/rpmbuild/SOURCES"

if [ "$#" -eq 2 ]; then
	tarball=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
	[ -f "$tarball" ] || { echo "build-rpm: $2: no such file (give a make dist tarball)" >&2; exit 1; }
elif [ -f "$src/Makefile" ]; then
	echo "build-rpm: make dist in $src"
	make -C "$src" dist >"$tmp/dist.log" 2>&1 || { tail -40 "$tmp/dist.log"; echo "build-rpm: make dist failed" >&2; exit 1; }
	version=$(sed -n 's/^PACKAGE_VERSION = //p' "$src/Makefile")
	tarball="$src/outrig-$version.tar.gz"
else
	# An unconfigured tree: configure a copy of its sources (tracked and new files that .gitignore
	# does not exclude), so the tree itself stays as it is.
	echo "build-rpm: $src is not configured; making the tarball in a temporary copy"
	mkdir "$tmp/tree"
	if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# shellcheck disable=SC2016 # $f is the inner shell's
		(cd "$src" && git ls-files -z --cached --others --exclude-standard |
			xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
			tar --null -T - -cf -) | tar -C "$tmp/tree" -xf -
	else
		cp -a "$src/." "$tmp/tree/"
	fi
	(cd "$tmp/tree" && { [ -x configure ] || autoreconf -fi; } && ./configure && make dist) >"$tmp/dist.log" 2>&1 || {
		tail -40 "$tmp/dist.log"
		echo "build-rpm: configure or make dist failed in the copy (its log's last lines are above)" >&2
		exit 1
	}
	tarball=$(ls "$tmp"/tree/outrig-*.tar.gz)
fi

# The spec's Version must be the tarball's: Source0 is named after it.
spec_version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
case $(basename "$tarball") in
"outrig-$spec_version.tar.gz") ;;
*)
	echo "build-rpm: $spec has Version $spec_version but the tarball is $(basename "$tarball");" \
		"set Version (and add a %changelog entry) to configure.ac's version" >&2
	exit 1
	;;
esac
cp "$tarball" "$tmp/rpmbuild/SOURCES/"

echo "build-rpm: rpmbuild -bb --nodeps $spec"
rpmbuild -bb --nodeps --define "_topdir $tmp/rpmbuild" "$spec" >"$tmp/build.log" 2>&1 || {
	tail -80 "$tmp/build.log"
	echo "build-rpm: rpmbuild failed (the last lines of its log are above)" >&2
	exit 1
}
find "$tmp/rpmbuild/RPMS" -name '*.rpm' -exec mv {} "$out"/ \;
ls -l "$out"/*.rpm
echo "build-rpm: done in $(($(date +%s) - start)) s"
