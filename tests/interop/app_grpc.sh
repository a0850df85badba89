#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# outrigd --app-protocol grpc against gRPC apps (issue 12 part 3): app_grpc_sdk.mjs with the real Dapr JS SDK's gRPC
# DaprServer as the app (invocation from HTTP and gRPC, pub/sub SUCCESS/RETRY/DROP, bindings.cron, health checks),
# and app_grpc_raw.mjs with tests/app_grpc/raw_app.mjs (typed data, status codes, details, callers through a second
# outrigd, ListInputBindings choosing, an app that turns unhealthy), and grpc_proxy.mjs with tests/app_grpc/echo_app.mjs
# (gRPC proxying: a non-Dapr method called on a sidecar's gRPC port with dapr-app-id reaches that app, through another
# sidecar or the caller's own). Skips (77) without node or `npm ci --prefix tests/interop`, unless
# OUTRIG_REQUIRE_INTEROP=1.
# Usage: app_grpc.sh [sdk] [raw] [proxy] (all by default).
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${OUTRIG_BUILDDIR:-$srcdir}
outrigd=${OUTRIGD:-$builddir/core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$builddir/plugins/.libs}
interop=$srcdir/tests/interop
data=$srcdir/tests/data/interop

parts=${*:-sdk raw proxy}

tmp=
pid=
app_pid=
raw_pid=
proxy_pids=
cleanup() {
	for p in $pid $app_pid $raw_pid $proxy_pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}

missing=
if ! command -v node >/dev/null 2>&1; then
	missing="node is not on PATH"
elif [ ! -d "$interop/node_modules/@dapr/dapr" ]; then
	missing="$interop/node_modules/@dapr/dapr is missing; run: npm ci --prefix tests/interop"
fi
if [ -n "$missing" ]; then
	if [ "${OUTRIG_REQUIRE_INTEROP:-0}" = 1 ]; then
		echo "FAIL: gRPC app interop test required (OUTRIG_REQUIRE_INTEROP=1) but $missing" >&2
		exit 1
	fi
	echo "SKIP: gRPC app interop test: $missing"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/app_grpc.XXXXXX")
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

port_open() {
	node -e 'require("net").connect({ host: "127.0.0.1", port: process.argv[1] })
  .on("connect", () => process.exit(0)).on("error", () => process.exit(1));' "$1"
}

# wait_port PORT: until something listens on PORT of 127.0.0.1, for at most 10 s; returns 1 if nothing does.
wait_port() {
	tries=0
	while [ "$tries" -lt 100 ]; do
		port_open "$1" && return 0
		tries=$((tries + 1))
		sleep 0.1
	done
	return 1
}

healthz_ok() {
	node -e 'require("http").get({ host: "127.0.0.1", port: process.argv[1], path: "/v1.0/healthz" },
  (r) => process.exit(r.statusCode === 204 ? 0 : 1)).on("error", () => process.exit(1));' "$1"
}

# start_daemon LABEL [outrigd flags...]: sets pid, port and grpc_port, or returns 1 with the daemon's log printed.
# The daemon's --app-id is $app_id.
app_id=myapp
start_daemon() {
	label=$1
	shift
	for attempt in 1 2 3; do
		port=$(free_port) || return 1
		grpc_port=$(free_port) || return 1
		log=$tmp/outrigd-$label.log
		env XDG_DATA_HOME="$tmp/data-$label" "$outrigd" --app-id "$app_id" --dapr-http-port "$port" \
			--dapr-grpc-port "$grpc_port" --plugin-dir "$plugins" "$@" >"$log" 2>&1 &
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
		echo "outrigd ($label, attempt $attempt) did not become healthy; its log:" >&2
		sed 's/^/  | /' "$log" >&2
	done
	return 1
}

# stop_daemon LABEL: SIGTERM must end outrigd cleanly.
stop_daemon() {
	kill "$pid" 2>/dev/null # it may have stopped already (grpc_proxy.mjs stops one): wait still gives its status
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

# The SDK's DaprServer starts inside the test (its start() needs outrigd's gRPC port); outrigd waits for it.
run_sdk_case() {
	echo "== gRPC app: the JS SDK's DaprServer (GRPC)"
	if ! app_port=$(free_port) || ! start_daemon sdk --app-protocol grpc --app-port "$app_port" \
		--resources-path "$data/app_grpc" --enable-app-health-check --app-health-probe-interval 1; then
		echo "FAIL: could not start outrigd for the SDK app" >&2
		failed=1
		return
	fi
	if ! DAPR_HTTP_PORT=$port DAPR_GRPC_PORT=$grpc_port OUTRIG_APP_PORT=$app_port \
		node --test --test-timeout=60000 "$interop/app_grpc_sdk.mjs"; then
		echo "FAIL: app_grpc_sdk.mjs; outrigd's log:" >&2
		sed 's/^/  | /' "$tmp/outrigd-sdk.log" >&2
		failed=1
	fi
	stop_daemon sdk || failed=1
}

run_raw_case() {
	echo "== gRPC app: grpc-js with Dapr's schemas (tests/app_grpc/raw_app.mjs)"
	if ! app_port=$(free_port); then
		failed=1
		return
	fi
	node "$srcdir/tests/app_grpc/raw_app.mjs" "$app_port" >"$tmp/raw_app.log" 2>&1 &
	app_pid=$!
	wait_port "$app_port"
	# The app gets it as dapr-api-token metadata (app_grpc_raw.mjs checks).
	APP_API_TOKEN=token-for-the-app
	export APP_API_TOKEN
	# A second outrigd without an app ("caller") reaches myapp's through the sidecar-to-sidecar protocol: both
	# share a --data-dir (the embedded name resolver) and each has a free internal port.
	shared=$tmp/raw-shared
	mkdir -p "$shared" "$tmp/caller-resources"
	if ! internal=$(free_port) || ! start_daemon raw --app-protocol grpc --app-port "$app_port" \
		--resources-path "$data/app_grpc_raw" --data-dir "$shared" --dapr-internal-grpc-port "$internal" \
		--enable-app-health-check --app-health-probe-interval 1 --app-health-threshold 1; then
		echo "FAIL: could not start outrigd for raw_app.mjs" >&2
		failed=1
	else
		raw_pid=$pid raw_port=$port raw_grpc_port=$grpc_port
		app_id=caller
		if ! internal=$(free_port) || ! start_daemon caller --data-dir "$shared" \
			--resources-path "$tmp/caller-resources" --dapr-internal-grpc-port "$internal"; then
			echo "FAIL: could not start the caller's outrigd" >&2
			failed=1
		else
				if ! DAPR_HTTP_PORT=$raw_port DAPR_GRPC_PORT=$raw_grpc_port CALLER_HTTP_PORT=$port \
				CALLER_GRPC_PORT=$grpc_port node --test --test-timeout=60000 "$interop/app_grpc_raw.mjs"; then
				echo "FAIL: app_grpc_raw.mjs; outrigd's log:" >&2
				sed 's/^/  | /' "$tmp/outrigd-raw.log" >&2
				echo "the caller's outrigd's log:" >&2
				sed 's/^/  | /' "$tmp/outrigd-caller.log" >&2
				sed 's/^/  app | /' "$tmp/raw_app.log" >&2
				failed=1
			fi
			stop_daemon caller || failed=1
		fi
		app_id=myapp
		pid=$raw_pid
	fi
	unset APP_API_TOKEN
	if [ -n "$pid" ]; then
		stop_daemon raw || failed=1
	fi
	raw_pid=
	kill "$app_pid" 2>/dev/null
	wait "$app_pid" 2>/dev/null
	app_pid=
}

# start_echo LABEL: starts tests/app_grpc/echo_app.mjs on a free port; sets echo_port and echo_pid.
start_echo() {
	echo_port=$(free_port) || return 1
	node "$srcdir/tests/app_grpc/echo_app.mjs" "$echo_port" >"$tmp/echo-$1.log" 2>&1 &
	echo_pid=$!
	proxy_pids="$proxy_pids $echo_pid"
	if ! wait_port "$echo_port"; then
		echo "echo_app.mjs ($1) did not listen on $echo_port; its log:" >&2
		sed 's/^/  | /' "$tmp/echo-$1.log" >&2
		return 1
	fi
}

# start_sidecar ID [outrigd flags...]: an outrigd with --app-id ID sharing the proxy part's --data-dir, with its own
# internal port; sets pid (also kept in proxy_pids for cleanup).
start_sidecar() {
	app_id=$1
	shift
	internal=$(free_port) || return 1
	start_daemon "$app_id" --data-dir "$shared" --resources-path "$tmp/proxy-resources" \
		--dapr-internal-grpc-port "$internal" "$@" || return 1
	proxy_pids="$proxy_pids $pid"
}

# Sidecars caller (an echo app), callee (an echo app, APP_API_TOKEN), downapp (an echo app that a case kills), noapp
# (no app), httpapp (--app-protocol http on callee's echo app: a call proxied there by mistake succeeds) and stopper
# (no app; a case sends it SIGTERM mid-stream).
run_proxy_case() {
	echo "== gRPC proxying: grpc_proxy.mjs with tests/app_grpc/echo_app.mjs"
	shared=$tmp/proxy-shared
	mkdir -p "$shared" "$tmp/proxy-resources"
	sidecars="callee downapp noapp httpapp stopper caller"
	if ! start_echo callee; then
		failed=1
		return
	fi
	callee_echo_port=$echo_port callee_echo_pid=$echo_pid
	ok=0
	APP_API_TOKEN=token-for-echo
	export APP_API_TOKEN
	start_sidecar callee --app-protocol grpc --app-port "$callee_echo_port" && ok=1
	callee_pid=$pid
	unset APP_API_TOKEN
	if [ "$ok" = 1 ] && start_echo downapp && down_echo_port=$echo_port &&
		start_sidecar downapp --app-protocol grpc --app-port "$echo_port" && downapp_pid=$pid &&
		start_sidecar noapp && noapp_pid=$pid &&
		start_sidecar httpapp --app-protocol http --app-port "$callee_echo_port" && httpapp_pid=$pid &&
		start_sidecar stopper && stopper_pid=$pid && stopper_grpc_port=$grpc_port &&
		start_echo caller && caller_echo_port=$echo_port &&
		start_sidecar caller --app-protocol grpc --app-port "$caller_echo_port"; then
		caller_pid=$pid
		# node --test's timeout also bounds the whole file, whose 64 MB cases take a while on a slow machine.
		if ! CALLER_GRPC_PORT=$grpc_port ECHO_PORT=$callee_echo_port CALLER_ECHO_PORT=$caller_echo_port \
			DOWN_ECHO_PORT=$down_echo_port STOPPER_GRPC_PORT=$stopper_grpc_port \
			CALLER_PID=$caller_pid CALLEE_PID=$callee_pid ECHO_PID=$callee_echo_pid STOPPER_PID=$stopper_pid \
			node --test --test-timeout=300000 "$interop/grpc_proxy.mjs"; then
			echo "FAIL: grpc_proxy.mjs; the daemons' logs:" >&2
			for s in $sidecars; do
				echo "outrigd $s:" >&2
				sed "s/^/  $s | /" "$tmp/outrigd-$s.log" >&2
			done
			for s in callee caller; do
				echo "echo_app.mjs of $s:" >&2
				sed "s/^/  echo $s | /" "$tmp/echo-$s.log" >&2
			done
			failed=1
		fi
		# grpc_proxy.mjs stops stopper itself: its exit status must be 0 (stop_daemon stops it if the case did not).
		for s in caller stopper httpapp noapp downapp callee; do
			eval "pid=\$${s}_pid"
			stop_daemon "$s" || failed=1
		done
	else
		echo "FAIL: could not start the proxy part's apps and sidecars" >&2
		failed=1
	fi
	for p in $proxy_pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	proxy_pids=
	pid=
	app_id=myapp
}

for part in $parts; do
	case $part in
	sdk) run_sdk_case ;;
	raw) run_raw_case ;;
	proxy) run_proxy_case ;;
	*)
		echo "app_grpc.sh: unknown part '$part' (known: sdk, raw, proxy)" >&2
		failed=1
		;;
	esac
done

[ "$failed" -eq 0 ]
