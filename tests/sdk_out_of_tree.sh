#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A third party's path: make install into a scratch root, copy that prefix elsewhere, build and unit-test the installed example plugin from the installed files only, serve state through it.
# ok and fail always succeed, so "test && ok || fail" is a plain if-else here.
# shellcheck disable=SC2015
# ${pcfiledir} is pkg-config's variable, quoted on purpose.
# shellcheck disable=SC2016
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
[ -n "$pc" ] && ok "outrig-plugin.pc installed" || { fail "outrig-plugin.pc not installed"; exit 1; }
[ -n "$outrigd" ] && ok "outrigd installed" || { fail "outrigd not installed"; exit 1; }
installed_plugins=$(find "$tmp/root" -type d -path '*/lib/outrig/plugins')
if [ -f "$installed_plugins/state_sqlite.so" ] && ! ls "$installed_plugins"/*.la >/dev/null 2>&1; then
	ok "plugins installed in lib/outrig/plugins without libtool files"
else
	fail "plugin folder: $(ls "$installed_plugins" 2>&1)"
fi
grep -q '^prefix=${pcfiledir}/' "$pc" && ok "outrig-plugin.pc: $(grep '^prefix=' "$pc")" ||
	fail "outrig-plugin.pc has an absolute prefix: $(grep '^prefix=' "$pc")"

# 2. Copy the installed prefix elsewhere: pkg-config's paths follow the .pc file. No sysroot.
prefix_in_root=$(cd "$(dirname "$pc")" && cd "$(sed -n 's|^prefix=${pcfiledir}/||p' "$pc")" && pwd)
cp -a "$prefix_in_root" "$tmp/moved"
PKG_CONFIG_PATH="$tmp/moved/${pc#"$prefix_in_root"/}"
PKG_CONFIG_PATH=$(dirname "$PKG_CONFIG_PATH")
export PKG_CONFIG_PATH
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR 2>/dev/null || true
cflags=$(pkg-config --cflags outrig-plugin)
case "$cflags" in
"-I$tmp/moved/"*) ok "pkg-config --cflags in the copied prefix: $cflags" ;;
*) fail "pkg-config --cflags: $cflags" ;;
esac
plugindir=$(pkg-config --variable=plugindir outrig-plugin)
[ -d "$plugindir" ] && [ "${plugindir#"$tmp/moved/"}" != "$plugindir" ] &&
	ok "pkg-config names the copied plugin folder" || fail "plugindir is $plugindir"
sdkdir=$(pkg-config --variable=sdkdir outrig-plugin)
for f in README.md example/Makefile example/state_example.c example/test_state_example.c \
	testing/outrig_fake_host.h; do
	[ -f "$sdkdir/$f" ] && ok "installed: sdk/$f" || fail "not installed: $sdkdir/$f"
done
# The guide names installed files, not files of outrig's source tree that a reader does not have.
if grep -n 'tests/\|plugins/state_in_memory' "$sdkdir/README.md"; then
	fail "the installed guide points at the source tree (lines above)"
else
	ok "the installed guide points at installed files"
fi

# 3. Build and unit-test the example from the copy only: no source tree on any path.
cp -r "$sdkdir/example" "$tmp/work"
# Not a sub-make of make check: its flags and directory messages would leak into the log.
unset MAKEFLAGS MFLAGS MAKELEVEL 2>/dev/null || true
if make -C "$tmp/work" check CFLAGS="-O2 -Werror" >"$tmp/make.log" 2>&1; then
	ok "example: make check ($(grep 'all checks passed' "$tmp/make.log"))"
else
	cat "$tmp/make.log"
	fail "example: make check"
	exit 1
fi
if grep -n "$OUTRIG_SRCDIR\|$OUTRIG_BUILDDIR" "$tmp/make.log"; then
	fail "the example's build used the source or build tree (lines above)"
else
	ok "the example's build used installed files only"
fi
mkdir "$tmp/plugins"
make -C "$tmp/work" install PLUGINDIR="$tmp/plugins" >/dev/null && [ -f "$tmp/plugins/state_example.so" ] &&
	ok "example: make install PLUGINDIR=..." || fail "example: make install"

# 4. The installed outrigd describes it, checks it, creates it and serves state through it. Only the
# installed plugin folders are searched (a colon list); the default resolver must still be found.
unset OUTRIG_PLUGIN_PATH
dirs="$tmp/plugins:$installed_plugins"
out=$("$outrigd" --describe-plugin state.example --plugin-dir "$dirs" 2>&1) || true
case "$out" in
*"capabilities: ETAG TRANSACTIONAL TTL ACTOR"*"maxItems"*) ok "outrigd --describe-plugin state.example" ;;
*) fail "outrigd --describe-plugin: $out" ;;
esac
mkdir "$tmp/components"
cat >"$tmp/components/store.yaml" <<'YAML'
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: store
spec:
  type: state.example
  version: v1
  metadata:
  - name: maxItems
    value: "100"
YAML
if out=$("$outrigd" --check-create --data-dir "$tmp/data" --resources-path "$tmp/components" \
	--plugin-dir "$dirs" 2>&1); then
	ok "outrigd --check-create: $out"
else
	fail "outrigd --check-create: $out"
fi
case "$out" in
*"default resolver"*) fail "the default resolver was not found beside --plugin-dir: $out" ;;
esac

for attempt in 1 2 3 4 5; do
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
	"$outrigd" --app-id sdk --dapr-http-port "$port" --data-dir "$tmp/data" \
		--resources-path "$tmp/components" --plugin-dir "$dirs" >"$tmp/outrigd.log" 2>&1 &
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

curl -sf -X POST "http://127.0.0.1:$port/v1.0/state/store" -H 'Content-Type: application/json' \
	-d '[{"key":"k","value":{"built":"out of tree"}}]' && ok "save through the example plugin" || fail "save"
got=$(curl -sf "http://127.0.0.1:$port/v1.0/state/store/k" || true)
[ "$got" = '{"built":"out of tree"}' ] && ok "get returns what was saved" || fail "get returned: $got"
curl -sf -X POST "http://127.0.0.1:$port/v1.0/state/store/transaction" -H 'Content-Type: application/json' \
	-d '{"operations":[{"operation":"upsert","request":{"key":"a","value":1}},{"operation":"delete","request":{"key":"k"}}]}' &&
	ok "transaction through the example plugin" || fail "transaction"
got=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1.0/state/store/k" || true)
[ "$got" = 204 ] && ok "the transaction deleted k" || fail "get k after the transaction: $got"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
