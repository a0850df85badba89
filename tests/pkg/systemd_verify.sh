#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# systemd-analyze verify on the units in pkg/systemd, pointed at the built outrigd; skips (77) without systemd-analyze.
# ok and fail always succeed, so "test && ok || fail" is a plain if-else here.
# shellcheck disable=SC2015
set -eu

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (Debian: systemd)"
	exit 77
fi

units="$OUTRIG_SRCDIR/pkg/systemd"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-units-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

for unit in outrigd.service outrigd@.service; do
	f="$units/$unit"
	# The check must run what the daemon runs: ExecStartPre is ExecStart with --check.
	pre=$(sed -n 's/^ExecStartPre=//p' "$f")
	start=$(sed -n 's/^ExecStart=//p' "$f")
	[ "$pre" = "$(echo "$start" | sed 's|^/usr/bin/outrigd |/usr/bin/outrigd --check |')" ] &&
		ok "$unit: ExecStartPre is ExecStart with --check" || fail "$unit: ExecStartPre '$pre' vs ExecStart '$start'"
	# shellcheck disable=SC2016 # $MAINPID is systemd's
	for want in Type=notify User=outrig StateDirectory=outrig 'ExecReload=/bin/kill -HUP $MAINPID' \
		NoNewPrivileges=yes ProtectSystem=strict 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
		grep -qxF "$want" "$f" && ok "$unit: $want" || fail "$unit: no line $want"
	done
	# systemd-analyze checks that the commands exist: point them at the built outrigd. The man page
	# is not looked for (--man=no): it is installed with the packages, not in the build tree.
	sed "s|/usr/bin/outrigd|$OUTRIGD|g" "$f" >"$tmp/$unit"
	if out=$(systemd-analyze verify --man=no "$tmp/$unit" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify $unit"
	else
		fail "systemd-analyze verify $unit: $out"
	fi
done
grep -q -- '--app-id %i ' "$units/outrigd@.service" && ok "outrigd@.service passes %i as --app-id" ||
	fail "outrigd@.service: no --app-id %i"
grep -qxF 'EnvironmentFile=/etc/outrig/%i.env' "$units/outrigd@.service" &&
	ok "outrigd@.service reads /etc/outrig/%i.env" || fail "outrigd@.service: no EnvironmentFile=/etc/outrig/%i.env"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
