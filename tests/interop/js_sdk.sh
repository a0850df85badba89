#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the real Dapr JS SDK (tests/interop/state_sdk.mjs) against outrigd: embedded SQLite store, then state.in-memory.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${OUTRIG_BUILDDIR:-$srcdir}
outrigd=${OUTRIGD:-$builddir/core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$builddir/plugins/.libs}
interop=$srcdir/tests/interop

tmp=
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}

# The SDK comes from the npm registry (`npm ci --prefix tests/interop`), which a plain build or a
# distcheck does not reach; CI sets OUTRIG_REQUIRE_INTEROP=1 so that a missing install fails loudly.
missing=
if ! command -v node >/dev/null 2>&1; then
	missing="node is not on PATH"
elif [ ! -d "$interop/node_modules/@dapr/dapr" ]; then
	missing="$interop/node_modules/@dapr/dapr is missing; run: npm ci --prefix tests/interop"
fi
if [ -n "$missing" ]; then
	if [ "${OUTRIG_REQUIRE_INTEROP:-0}" = 1 ]; then
		echo "FAIL: JS SDK interop test required (OUTRIG_REQUIRE_INTEROP=1) but $missing" >&2
		exit 1
	fi
	echo "SKIP: JS SDK interop test: $missing"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/js_sdk.XXXXXX")
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port the kernel just handed out and released; start_daemon retries if something takes it meanwhile.
free_port() {
	node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Exit 0 once GET /v1.0/healthz answers 204, 1 otherwise; node instead of curl, which may be absent.
healthz_ok() {
	node -e 'require("http").get({ host: "127.0.0.1", port: process.argv[1], path: "/v1.0/healthz" },
  (r) => process.exit(r.statusCode === 204 ? 0 : 1)).on("error", () => process.exit(1));' "$1"
}

# start_daemon LABEL [RESOURCES_DIR]: sets pid and port, or returns 1 with the daemon's log printed.
start_daemon() {
	label=$1
	shift
	for attempt in 1 2 3; do
		port=$(free_port) || return 1
		log=$tmp/outrigd-$label.log
		XDG_DATA_HOME=$tmp/data-$label "$outrigd" --app-id myapp --dapr-http-port "$port" \
			--plugin-dir "$plugins" "$@" >"$log" 2>&1 &
		pid=$!
		tries=0
		while [ "$tries" -lt 100 ]; do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if healthz_ok "$port"; then
				return 0
			fi
			tries=$((tries + 1))
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
		echo "outrigd ($label, attempt $attempt, port $port) did not become healthy; its log:" >&2
		sed 's/^/  | /' "$log" >&2
	done
	return 1
}

# stop_daemon LABEL: SIGTERM must end outrigd cleanly; a crash on shutdown is a failure too.
stop_daemon() {
	kill "$pid"
	wait "$pid"
	rc=$?
	pid=
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: outrigd ($1) exited with status $rc after SIGTERM; its log:" >&2
		sed 's/^/  | /' "$tmp/outrigd-$1.log" >&2
		return 1
	fi
}

failed=0

# run_case LABEL STORE TYPE [outrigd flags...]
run_case() {
	label=$1 store=$2 type=$3
	shift 3
	echo "== JS SDK against $type (store '$store')"
	if ! start_daemon "$label" "$@"; then
		echo "FAIL: could not start outrigd for $label" >&2
		failed=1
		return
	fi
	if ! DAPR_HTTP_PORT=$port OUTRIG_STORE=$store OUTRIG_STORE_TYPE=$type OUTRIG_APP_ID=myapp \
		node --test --test-timeout=60000 "$interop/state_sdk.mjs"; then
		echo "FAIL: state_sdk.mjs against $type; outrigd's log:" >&2
		sed 's/^/  | /' "$tmp/outrigd-$label.log" >&2
		failed=1
	fi
	stop_daemon "$label" || failed=1
}

# No --resources-path: outrigd's embedded SQLite store, named statestore.
run_case sqlite statestore state.sqlite

run_case memory mem state.in-memory --resources-path "$OUTRIG_SRCDIR/tests/data/components/in-memory"

# The script's status is that of its last command (an explicit `exit` here trips shellcheck 0.9's SC2317).
[ "$failed" -eq 0 ]
