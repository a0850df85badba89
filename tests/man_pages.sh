#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The man pages render without a warning (mandoc -T lint, else man --warnings), and outrigd(8) names every flag of outrigd --help.
set -eu

man_dir="$OUTRIG_SRCDIR/man"
pages="$man_dir/outrigd.8 $man_dir/outrig.1 $man_dir/outrig-components.5"
failed=0

if command -v mandoc >/dev/null 2>&1; then
	lint() { mandoc -T lint -W warning "$1" 2>&1; }
	tool="mandoc -T lint"
elif command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
	# man prints groff's and the mdoc package's warnings on stderr and exits 0: the text decides.
	lint() { { LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 "$1" >/dev/null; } 2>&1; }
	tool="man --warnings"
else
	echo "SKIP: neither mandoc nor man with groff is installed"
	exit 77
fi

for page in $pages; do
	out=$(lint "$page")
	if [ -n "$out" ]; then
		echo "FAIL: $tool $(basename "$page"):"
		echo "$out"
		failed=$((failed + 1))
	else
		echo "ok: $tool $(basename "$page") is clean"
	fi
done

# Every flag outrigd --help lists is documented: "Fl \-app\-id" is --app-id (Fl adds the first dash).
missing=
for flag in $("$OUTRIGD" --help | sed -n 's/^  *--\([a-z0-9-]*\).*/\1/p'); do
	roff=$(printf '%s' "$flag" | sed 's/-/\\\\-/g')
	grep -q -- "Fl \\\\-$roff\\b" "$man_dir/outrigd.8" || missing="$missing --$flag"
done
if [ -n "$missing" ]; then
	echo "FAIL: outrigd.8 does not describe:$missing"
	failed=$((failed + 1))
else
	echo "ok: outrigd.8 describes every flag of outrigd --help"
fi
[ "$failed" -eq 0 ]
