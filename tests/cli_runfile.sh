#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests `outrig run -f` and `outrig stop -f` with a Dapr multi-app run file (tests/data/runfile/dapr.yaml):
# two apps, one invoking the other through its sidecar; per-app prefixes and log files; env, paths and
# precedence as dapr reads them; Ctrl-C and `outrig stop -f` stop all; a wrong file starts nothing.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${OUTRIG_CLI:-$srcdir/core/outrig}
# Run files cannot say --plugin-dir; outrigd reads OUTRIG_PLUGIN_PATH.
OUTRIG_PLUGIN_PATH=${OUTRIG_PLUGIN_PATH:-$srcdir/plugins/.libs}
export OUTRIG_PLUGIN_PATH
export OUTRIGD="${OUTRIGD:-$(dirname "$cli")/outrigd}"

# pass, fail, summary, gone, wait_for_line, free_port, cli_sandbox.
. "$srcdir/tests/lib/test_sh_lib.sh"
cli_sandbox cli_runfile
HOME=$tmp/home
export HOME
mkdir -p "$HOME"

outrig() {
	timeout 90 "$cli" "$@"
}

# A copy of the run file's tree, with a free port for 'orders' instead of the quickstart's 6021.
copy_tree() {
	rm -rf "$tmp/rf"
	cp -R "$srcdir/tests/data/runfile" "$tmp/rf"
	sed "s/appPort: 6021/appPort: $(free_port)/" "$srcdir/tests/data/runfile/dapr.yaml" >"$tmp/rf/dapr.yaml"
}

# start OUT ARGS...: `outrig run ARGS` in the background from another folder, so that the run file's
# relative paths must be taken from its own folder; bg gets its pid.
start() {
	out=$1
	shift
	(cd / && exec "$cli" run "$@") >"$out" 2>&1 &
	bg=$!
	bgs="$bgs $bg"
}

# --- two apps, one calling the other through its sidecar; outrig stop -f -----------------------

copy_tree
start "$tmp/run1" -f "$tmp/rf"
if wait_for_line "$tmp/run1" '^== APP - checkout == checkout got'; then
	if grep -q '^== APP - checkout == checkout got {"accepted": 42, "by": "orders"}$' "$tmp/run1" &&
		grep -q '^== APP - orders == received order 42 (GREETING=hello)$' "$tmp/run1"; then
		pass "run file: checkout invokes orders through its sidecar; lines prefixed per app"
	else
		fail "run file: checkout invokes orders through its sidecar; lines prefixed per app" "$tmp/run1"
	fi
else
	fail "run file: checkout never got an answer from orders within 30 s" "$tmp/run1"
fi
if grep -q "^== APP - orders == orders listening on [0-9]* in $tmp/rf/orders\$" "$tmp/run1" &&
	grep -q '^== APP - checkout == checkout env GREETING=hello MODE=app$' "$tmp/run1" &&
	grep -q '^== OUTRIG - orders == .*component loaded: statestore (state.in-memory/v1)' "$tmp/run1" &&
	grep -q '^== OUTRIG - checkout == .*component loaded: statestore (state.in-memory/v1)' "$tmp/run1"; then
	pass "run file: each app in its appDirPath, common env under the app's, common resourcesPath from the file's folder"
else
	fail "run file: each app in its appDirPath, common env under the app's, common resourcesPath" "$tmp/run1"
fi
log=$(find "$tmp/rf/orders/.dapr/logs" -name 'orders_app_*.log' 2>/dev/null | head -n 1)
if [ -n "$log" ] && grep -q '^== APP - orders == received order 42' "$log" &&
	! ls "$tmp/rf/checkout/.dapr/logs" >/dev/null 2>&1; then
	pass "appLogDestination: fileAndConsole writes <appDirPath>/.dapr/logs/<id>_app_<time>.log too"
else
	fail "appLogDestination: fileAndConsole writes <appDirPath>/.dapr/logs/<id>_app_<time>.log too" "$tmp/run1"
fi
outrig list >"$tmp/list" 2>&1
outrig list -o json >"$tmp/list.json" 2>&1
if grep -q '^orders ' "$tmp/list" && grep -q '^checkout ' "$tmp/list" &&
	[ "$(grep -c "\"runTemplatePath\": \"$tmp/rf/dapr.yaml\"" "$tmp/list.json")" -eq 2 ]; then
	pass "outrig list shows both apps of the run file, with its path as runTemplatePath in JSON"
else
	fail "outrig list shows both apps of the run file, with its path as runTemplatePath in JSON" "$tmp/list" \
		"$tmp/list.json"
fi
(cd "$tmp/rf" && outrig stop -f .) >"$tmp/stop" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "app 'orders' stopped" "$tmp/stop" && grep -q "app 'checkout' stopped" "$tmp/stop" &&
	gone "$bg" 150; then
	wait "$bg"
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$XDG_RUNTIME_DIR/outrig")" ]; then
		pass "outrig stop -f DIR stops every app of the run file; outrig run -f exits 0; records removed"
	else
		fail "outrig stop -f DIR: outrig run -f exits 0 (got $rc); records removed" "$tmp/run1" "$tmp/stop"
	fi
else
	fail "outrig stop -f DIR stops every app of the run file (rc $rc)" "$tmp/stop" "$tmp/run1"
fi

outrig stop -f "$tmp/rf/dapr.yaml" >"$tmp/stop" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "no app started from the run file $tmp/rf/dapr.yaml is running" "$tmp/stop"; then
	pass "outrig stop -f with nothing running: exit 1 saying so"
else
	fail "outrig stop -f with nothing running: exit 1 saying so (rc $rc)" "$tmp/stop"
fi

# --- Ctrl-C (SIGINT to outrig run -f) stops all -------------------------------------------------

copy_tree
start "$tmp/run2" -f "$tmp/rf/dapr.yaml"
wait_for_line "$tmp/run2" '^== APP - checkout == checkout got'
kill -INT "$bg"
if gone "$bg" 200; then
	wait "$bg"
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q 'stopping all apps of' "$tmp/run2" &&
		[ -z "$(ls -A "$XDG_RUNTIME_DIR/outrig")" ] && ! pgrep -f "$tmp/rf" >/dev/null; then
		pass "Ctrl-C stops every app and sidecar of the run file; exit 0"
	else
		fail "Ctrl-C stops every app and sidecar of the run file; exit 0 (got $rc)" "$tmp/run2"
	fi
else
	fail "Ctrl-C: outrig run -f still running 20 s later" "$tmp/run2"
fi

# --- precedence and fields: .dapr/ of the app, ports, app ids from folders, info lines --------------

copy_tree
mkdir -p "$tmp/rf/orders/.dapr/resources" "$tmp/rf/other"
sed 's/name: statestore/name: localstore/' "$tmp/rf/components/statestore.yaml" \
	>"$tmp/rf/orders/.dapr/resources/localstore.yaml"
http=$(free_port)
mport=$(free_port)
cat >"$tmp/rf/fields.yaml" <<EOF
version: 1
common:
  resourcesPath: ./components
  logLevel: debug
  schedulerHostAddress: localhost
apps:
  - appDirPath: ./orders/
    daprHTTPPort: $http
    appProtocol: HTTP
    command: ["sh", "-c", "echo id=\$APP_ID http=\$DAPR_HTTP_PORT proto=\$APP_PROTOCOL; curl -s http://127.0.0.1:\$DAPR_HTTP_PORT/v1.0/metadata; echo"]
  - appID: second
    appDirPath: ./other
    daprdLogDestination: file
    metricsPort: $mport
    command: ["sh", "-c", "echo in \$(pwd); grep SigIgn /proc/self/status"]
EOF
outrig run -f "$tmp/rf/fields.yaml" >"$tmp/run3" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "^== APP - orders == id=orders http=$http proto=http\$" "$tmp/run3" &&
	grep -q '"name":"localstore"' "$tmp/run3" && ! grep -q '"name":"statestore"' "$tmp/run3" &&
	grep -q 'level=debug' "$tmp/run3"; then
	pass "run file: appID from the folder's name, daprHTTPPort, appProtocol in any case, <appDirPath>/.dapr/resources over common's, logLevel"
else
	fail "run file: appID from the folder's name, daprHTTPPort, appProtocol, .dapr/resources, logLevel (rc $rc)" \
		"$tmp/run3"
fi
# The app gets the signal dispositions this shell has (outrig run -f ignores SIGPIPE, its apps must not).
ignored=$(grep SigIgn "/proc/$$/status" | tr -d ' \t')
if grep -q "^== APP - second == in $tmp/rf/other\$" "$tmp/run3" && ! grep -q '^== OUTRIG - second ==' "$tmp/run3" &&
	[ "$(sed -n 's/^== APP - second == SigIgn:[[:space:]]*/SigIgn:/p' "$tmp/run3")" = "$ignored" ] &&
	grep -q 'ready: app id .second.' "$tmp/rf/other/.dapr/logs/"second_daprd_*.log &&
	grep -q "info: app 'second': metrics (Prometheus) on port $mport" "$tmp/run3" &&
	grep -q "info: $tmp/rf/fields.yaml:5: app 'orders': 'schedulerHostAddress' has no effect" "$tmp/run3"; then
	pass "run file: daprdLogDestination: file keeps outrigd's lines off the console; one info line per field with no effect; signals as given"
else
	fail "run file: daprdLogDestination: file; info lines for fields with no effect" "$tmp/run3"
fi

# --- a wrong run file starts nothing and names file:line --------------------------------------------

printf 'version: 1\napps:\n  - appID: a\n    command: ["true"]\n' >"$tmp/rf/nodir.yaml"
outrig run -f "$tmp/rf/nodir.yaml" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "$tmp/rf/nodir.yaml:3: this app has no 'appDirPath'" "$tmp/out" &&
	! grep -q 'started' "$tmp/out"; then
	pass "run file without appDirPath: exit 2 naming file:line, nothing started"
else
	fail "run file without appDirPath: exit 2 naming file:line, nothing started (rc $rc)" "$tmp/out"
fi
printf 'version: 1\napps:\n  - appDirPath: ./orders\n    unixDomainSocket: /tmp\n    command: ["true"]\n' \
	>"$tmp/rf/uds.yaml"
outrig run -f "$tmp/rf/uds.yaml" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "$tmp/rf/uds.yaml:4: app 'orders': 'unixDomainSocket' is not supported" "$tmp/out"; then
	pass "run file with unixDomainSocket: refused naming file:line"
else
	fail "run file with unixDomainSocket: refused naming file:line (rc $rc)" "$tmp/out"
fi
printf 'version: 1\napps:\n  - appDirPath: ./orders\n    resourcesPath: ./nowhere\n    comand: ["true"]\n' \
	>"$tmp/rf/typo.yaml"
outrig run -f "$tmp/rf/typo.yaml" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "typo.yaml:5: unknown field 'comand' in an app is ignored" "$tmp/out" &&
	grep -q "typo.yaml:4: 'resourcesPath': $tmp/rf/orders/./nowhere: No such file or directory" "$tmp/out"; then
	pass "run file: unknown field warned about by line; a missing path refused, relative to appDirPath"
else
	fail "run file: unknown field warned about by line; a missing path refused, relative to appDirPath (rc $rc)" \
		"$tmp/out"
fi
printf 'version: 1\napps:\n  - appDirPath: [./orders\n' >"$tmp/rf/broken.yaml"
outrig run -f "$tmp/rf/broken.yaml" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "$tmp/rf/broken.yaml:4:1: .*; fix the YAML" "$tmp/out"; then
	pass "run file that is not YAML: refused naming file:line:column"
else
	fail "run file that is not YAML: refused naming file:line:column (rc $rc)" "$tmp/out"
fi
printf 'apps:\n  - appDirPath: ./orders\n' >"$tmp/rf/nover.yaml"
outrig run -f "$tmp/rf/nover.yaml" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "'version' is missing" "$tmp/out"; then
	pass "run file without version: refused"
else
	fail "run file without version: refused (rc $rc)" "$tmp/out"
fi

summary
