#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The wall between layers (shared/LAYOUT.md): nothing under core/blocks, core/components or
# core/base may include, directly or through another header, libevent's HTTP headers or a file
# of core/api/. The preprocessor follows every include, so an indirect one is caught too.
#
# Usage: wall.sh SRCDIR CC CPPFLAGS...   (make check-local passes the core's flags)
set -u
srcdir=$1
shift
cc=$1
shift
failed=0
checked=0
for f in $(cd "$srcdir" && find core/blocks core/components core/base -name '*.c' -o -name '*.h' | sort); do
	checked=$((checked + 1))
	# -MM lists every header the file pulls in (system ones too, with -M); -MG tolerates
	# generated headers that are not built yet.
	deps=$($cc -M -MG "$@" -x c "$srcdir/$f" 2>&1) || {
		echo "wall: cannot preprocess $f:" >&2
		echo "$deps" >&2
		failed=1
		continue
	}
	bad=$(printf '%s\n' "$deps" | tr ' \\' '\n\n' |
		grep -E '(^|/)event2/(http|http_struct|http_compat|keyvalq_struct)\.h$|(^|/)core/api/' | sort -u)
	if [ -n "$bad" ]; then
		echo "wall: $f reaches the HTTP front end (move the HTTP part to core/api/ or core/channels/):" >&2
		printf '  %s\n' $bad >&2
		failed=1
	fi
done
if [ "$checked" -eq 0 ]; then
	echo "wall: no files found under $srcdir/core" >&2
	exit 1
fi
[ "$failed" -eq 0 ] && echo "wall: $checked files under core/blocks, core/components and core/base stay clear of HTTP"
exit $failed
