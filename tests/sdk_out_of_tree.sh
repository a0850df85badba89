#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds a plugin out of tree against a temporary `make install`, as a third party would, and serves state through it.
# ok and fail always succeed, so "test && ok || fail" is a plain if-else here.
# shellcheck disable=SC2015
set -eu

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-sdk-XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# 1. Install into a scratch root, the way a package build would.
if ! make -s -C "$OUTRIG_BUILDDIR" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: make install DESTDIR=... failed"
	exit 1
fi
pc=$(find "$tmp/root" -name outrig-plugin.pc)
outrigd=$(find "$tmp/root" -path '*/bin/outrigd')
[ -n "$pc" ] && ok "outrig-plugin.pc installed" || fail "outrig-plugin.pc not installed"
[ -n "$outrigd" ] && ok "outrigd installed" || { fail "outrigd not installed"; exit 1; }
installed_plugins=$(find "$tmp/root" -type d -path '*/lib/outrig/plugins')
if [ -f "$installed_plugins/state_sqlite.so" ] && ! ls "$installed_plugins"/*.la >/dev/null 2>&1; then
	ok "plugins installed in lib/outrig/plugins without libtool files"
else
	fail "plugin folder: $(ls "$installed_plugins" 2>&1)"
fi

# 2. Build the in-memory plugin with nothing but the installed SDK: no core headers on the path.
PKG_CONFIG_SYSROOT_DIR="$tmp/root"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
mkdir "$tmp/plugins"
# shellcheck disable=SC2046 # pkg-config prints several flags on purpose
if ${CC:-cc} -shared $(pkg-config --cflags outrig-plugin) -Wall -Wextra -Werror -pthread \
	-o "$tmp/plugins/state_in_memory.so" "$OUTRIG_SRCDIR/plugins/state_in_memory/state_in_memory.c" \
	>"$tmp/cc.log" 2>&1; then
	ok "plugin builds out of tree with pkg-config outrig-plugin"
else
	cat "$tmp/cc.log"
	fail "out-of-tree build"
	exit 1
fi
exports=$(nm -D --defined-only "$tmp/plugins/state_in_memory.so" | awk '{print $3}')
[ "$exports" = "outrig_plugin_entry" ] && ok "exports only outrig_plugin_entry" || fail "exports: $exports"
plugindir=$(pkg-config --variable=plugindir outrig-plugin)
case "$plugindir" in
"$tmp"/root/*/lib/outrig/plugins) ok "pkg-config names the plugin folder" ;;
*) fail "plugindir is $plugindir" ;;
esac

# 3. The installed outrigd accepts it and serves state through it.
components="$OUTRIG_TEST_DATA/components/in-memory"
if out=$("$outrigd" --check --resources-path "$components" --plugin-dir "$tmp/plugins" 2>&1); then
	ok "outrigd --check: $out"
else
	fail "outrigd --check: $out"
fi

for attempt in 1 2 3 4 5; do
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
	XDG_DATA_HOME="$tmp/xdg" "$outrigd" --app-id sdk --dapr-http-port "$port" \
		--resources-path "$components" --plugin-dir "$tmp/plugins" >"$tmp/outrigd.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$port/v1.0/healthz" >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && break
	wait "$pid" 2>/dev/null || true
	pid=
	echo "attempt $attempt: port $port busy?"
done
[ -n "$pid" ] || { cat "$tmp/outrigd.log"; fail "outrigd did not start"; exit 1; }

curl -sf -X POST "http://127.0.0.1:$port/v1.0/state/mem" -H 'Content-Type: application/json' \
	-d '[{"key":"k","value":{"built":"out of tree"}}]' && ok "save through the out-of-tree plugin" || fail "save"
got=$(curl -sf "http://127.0.0.1:$port/v1.0/state/mem/k" || true)
[ "$got" = '{"built":"out of tree"}' ] && ok "get returns what was saved" || fail "get returned: $got"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
