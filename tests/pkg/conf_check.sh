#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The default /etc/outrig tree (conf/) as shipped: outrigd --check accepts it, with the env file's arguments.
# ok and fail always succeed, so "test && ok || fail" is a plain if-else here.
# shellcheck disable=SC2015
set -eu

conf="$OUTRIG_SRCDIR/conf"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-conf-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# The embedded defaults, as files: the same two components under the same names and types.
for c in statestore:state.sqlite pubsub:pubsub.in-memory; do
	name=${c%%:*} type=${c#*:}
	f="$conf/components/$name.yaml"
	if grep -q "^  name: $name\$" "$f" && grep -q "^  type: $type\$" "$f"; then
		ok "$f: component $name of type $type"
	else
		fail "$f: want component $name of type $type"
	fi
done

# As the unit runs it, plus the env file's OUTRIGD_ARGS (read as systemd would: one assignment).
OUTRIGD_ARGS=
# shellcheck disable=SC1091 # the file is conf/outrigd.env
. "$conf/outrigd.env"
[ -n "$OUTRIGD_ARGS" ] && ok "outrigd.env sets OUTRIGD_ARGS" || fail "outrigd.env sets no OUTRIGD_ARGS"
# shellcheck disable=SC2086 # OUTRIGD_ARGS is a list of flags, split as systemd splits $OUTRIGD_ARGS
if out=$("$OUTRIGD" --check --resources-path "$conf/components" --config "$conf/config.yaml" \
	--data-dir "$tmp/data" --plugin-dir "$OUTRIG_PLUGIN_PATH" $OUTRIGD_ARGS 2>&1); then
	ok "outrigd --check --resources-path conf/components --config conf/config.yaml $OUTRIGD_ARGS"
else
	fail "outrigd --check on conf/: $out"
fi
# Nothing to warn about in the files we ship, and both components and the Configuration read.
case $out in
*"2 components, 0 subscriptions and 1 configuration file OK, 0 warnings"*) ok "2 components, 1 configuration, no warning" ;;
*) fail "outrigd --check on conf/ says: $out" ;;
esac

OUTRIGD_ARGS=
# shellcheck disable=SC1091
. "$conf/app.env.example"
# shellcheck disable=SC2086
if out=$("$OUTRIGD" --check --app-id example --resources-path "$conf/components" --config "$conf/config.yaml" \
	--data-dir "$tmp/data" --plugin-dir "$OUTRIG_PLUGIN_PATH" $OUTRIGD_ARGS 2>&1); then
	ok "outrigd --check with app.env.example's OUTRIGD_ARGS"
else
	fail "outrigd --check with app.env.example: $out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
