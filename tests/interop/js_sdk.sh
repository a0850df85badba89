#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the real Dapr JS SDK against outrigd: state_sdk.mjs (embedded SQLite, state.in-memory) and pubsub_sdk.mjs
# (embedded in-memory pub/sub, pubsub.in-memory with declarative subscriptions, pubsub.mqtt3 on a mosquitto),
# invoke_sdk.mjs (service invocation between two outrigd sharing a --data-dir), bindings_sdk.mjs (secret stores
# local.file and local.env, bindings.cron into a DaprServer app, output binding errors).
# Each part runs once per client protocol, HTTP then gRPC (OUTRIG_SDK_PROTOCOLS, default "http grpc"), each time
# against fresh daemons that serve both APIs; only the DaprClient under test changes protocol, apps stay HTTP.
# Usage: js_sdk.sh [state] [pubsub] [invoke] [bindings] (all by default).
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${OUTRIG_BUILDDIR:-$srcdir}
outrigd=${OUTRIGD:-$builddir/core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$builddir/plugins/.libs}
interop=$srcdir/tests/interop
data=$srcdir/tests/data/interop

parts=${*:-state pubsub invoke bindings}
protocols=${OUTRIG_SDK_PROTOCOLS:-http grpc}

tmp=
tmp_root=
proto=http
pid=
peer_pid=
mqtt_pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if [ -n "$peer_pid" ]; then
		kill "$peer_pid" 2>/dev/null
		wait "$peer_pid" 2>/dev/null
	fi
	if [ -n "$mqtt_pid" ]; then
		kill "$mqtt_pid" 2>/dev/null
		wait "$mqtt_pid" 2>/dev/null
	fi
	rm -rf "$tmp_root"
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

tmp_root=$(mktemp -d "${TMPDIR:-/tmp}/js_sdk.XXXXXX")
# The bindings part starts outrigd in another directory: the paths it gets must not depend on ours.
case $tmp_root in /*) ;; *) tmp_root=$(pwd)/$tmp_root ;; esac
case $outrigd in /*) ;; *) outrigd=$(pwd)/$outrigd ;; esac
case $plugins in /*) ;; *) plugins=$(pwd)/$plugins ;; esac
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port the kernel just handed out and released; start_daemon retries if something takes it meanwhile.
free_port() {
	node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Exit 0 if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
	node -e 'require("net").connect({ host: "127.0.0.1", port: process.argv[1] })
  .on("connect", () => process.exit(0)).on("error", () => process.exit(1));' "$1"
}

# Exit 0 once GET /v1.0/healthz answers 204, 1 otherwise; node instead of curl, which may be absent.
healthz_ok() {
	node -e 'require("http").get({ host: "127.0.0.1", port: process.argv[1], path: "/v1.0/healthz" },
  (r) => process.exit(r.statusCode === 204 ? 0 : 1)).on("error", () => process.exit(1));' "$1"
}

# start_daemon LABEL [outrigd flags...]: sets pid, port and grpc_port (its --dapr-grpc-port), or returns 1 with the
# daemon's log printed. The daemon's --app-id is $app_id; it runs in the directory $daemon_dir.
app_id=myapp
daemon_dir=.
start_daemon() {
	label=$1
	shift
	for attempt in 1 2 3; do
		port=$(free_port) || return 1
		grpc_port=$(free_port) || return 1
		log=$tmp/outrigd-$label.log
		(cd "$daemon_dir" && exec env XDG_DATA_HOME="$tmp/data-$label" "$outrigd" --app-id "$app_id" \
			--dapr-http-port "$port" --dapr-grpc-port "$grpc_port" --plugin-dir "$plugins" "$@") >"$log" 2>&1 &
		pid=$!
		tries=0
		while [ "$tries" -lt 100 ]; do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if healthz_ok "$port" && port_open "$grpc_port"; then
				return 0
			fi
			tries=$((tries + 1))
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
		echo "outrigd ($label, attempt $attempt, ports $port and gRPC $grpc_port) did not become healthy; its log:" >&2
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
		echo "FAIL: [$proto] outrigd ($1) exited with status $rc after SIGTERM; its log:" >&2
		sed 's/^/  | /' "$tmp/outrigd-$1.log" >&2
		return 1
	fi
}

failed=0

# run_case LABEL STORE TYPE [outrigd flags...]
run_case() {
	label=$1 store=$2 type=$3
	shift 3
	echo "== [$proto] JS SDK state API against $type (store '$store')"
	if ! start_daemon "$label" "$@"; then
		echo "FAIL: [$proto] could not start outrigd for $label" >&2
		failed=1
		return
	fi
	if ! OUTRIG_SDK_PROTOCOL=$proto DAPR_HTTP_PORT=$port DAPR_GRPC_PORT=$grpc_port \
		OUTRIG_STORE=$store OUTRIG_STORE_TYPE=$type OUTRIG_APP_ID=myapp \
		node --test --test-timeout=60000 "$interop/state_sdk.mjs"; then
		echo "FAIL: [$proto] state_sdk.mjs against $type; outrigd's log:" >&2
		sed 's/^/  | /' "$tmp/outrigd-$label.log" >&2
		failed=1
	fi
	stop_daemon "$label" || failed=1
}

# run_pubsub_case LABEL TYPE DECLARATIVE(0|1) [outrigd flags...]: outrigd gets --app-port, where
# pubsub_sdk.mjs's DaprServer will listen; outrigd is healthy before the app is up and subscribes once it is.
run_pubsub_case() {
	label=$1 type=$2 declarative=$3
	shift 3
	if [ "$declarative" = 1 ]; then
		echo "== [$proto] JS SDK pub/sub against $type, with declarative subscriptions"
	else
		echo "== [$proto] JS SDK pub/sub against $type"
	fi
	if ! app_port=$(free_port) || ! start_daemon "$label" --app-port "$app_port" "$@"; then
		echo "FAIL: [$proto] could not start outrigd for $label" >&2
		failed=1
		return
	fi
	if ! OUTRIG_SDK_PROTOCOL=$proto DAPR_HTTP_PORT=$port DAPR_GRPC_PORT=$grpc_port OUTRIG_APP_PORT=$app_port \
		OUTRIG_PUBSUB_TYPE=$type \
		OUTRIG_DECLARATIVE=$declarative OUTRIG_APP_ID=myapp \
		node --test --test-timeout=60000 "$interop/pubsub_sdk.mjs"; then
		echo "FAIL: [$proto] pubsub_sdk.mjs against $type; outrigd's log:" >&2
		sed 's/^/  | /' "$tmp/outrigd-$label.log" >&2
		failed=1
	fi
	stop_daemon "$label" || failed=1
}

# start_mosquitto BINARY: a broker on a free loopback port; sets mqtt_pid and mqtt_port, or returns 1.
start_mosquitto() {
	mqtt_dir=$tmp/mosquitto
	mkdir -p "$mqtt_dir"
	mqtt_port=$(free_port) || return 1
	{
		echo "listener $mqtt_port 127.0.0.1"
		echo "allow_anonymous true"
		# As root, mosquitto would otherwise switch to the "mosquitto" user.
		if [ "$(id -u)" = 0 ]; then
			echo "user root"
		fi
	} >"$mqtt_dir/mosquitto.conf"
	"$1" -c "$mqtt_dir/mosquitto.conf" >"$mqtt_dir/log" 2>&1 &
	mqtt_pid=$!
	tries=0
	while [ "$tries" -lt 50 ]; do
		if ! kill -0 "$mqtt_pid" 2>/dev/null; then
			break
		fi
		if port_open "$mqtt_port"; then
			return 0
		fi
		tries=$((tries + 1))
		sleep 0.1
	done
	echo "mosquitto did not listen on port $mqtt_port; its log:" >&2
	sed 's/^/  | /' "$mqtt_dir/log" >&2
	stop_mosquitto
	return 1
}

stop_mosquitto() {
	kill "$mqtt_pid" 2>/dev/null
	wait "$mqtt_pid" 2>/dev/null
	mqtt_pid=
}

# A missing server or plugin skips the pubsub.mqtt3 part, unless OUTRIG_REQUIRE_SERVERS=1 (as in the C tests).
skip_or_fail() {
	if [ "${OUTRIG_REQUIRE_SERVERS:-0}" = 1 ]; then
		echo "FAIL: [$proto] JS SDK pub/sub against pubsub.mqtt3: $1 (OUTRIG_REQUIRE_SERVERS=1)" >&2
		failed=1
	else
		echo "SKIP: [$proto] JS SDK pub/sub against pubsub.mqtt3: $1"
	fi
}

run_mqtt3_case() {
	mosquitto=/usr/sbin/mosquitto
	if [ ! -x "$mosquitto" ] && ! mosquitto=$(command -v mosquitto); then
		skip_or_fail "mosquitto is not installed"
		return
	fi
	if [ ! -e "$plugins/pubsub_mqtt3.so" ]; then
		skip_or_fail "the plugin was not built ($plugins/pubsub_mqtt3.so is missing)"
		return
	fi
	if ! start_mosquitto "$mosquitto"; then
		echo "FAIL: could not start mosquitto" >&2
		failed=1
		return
	fi
	mkdir -p "$tmp/mqtt3"
	cat >"$tmp/mqtt3/pubsub.yaml" <<YAML
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.mqtt3
  version: v1
  metadata:
    - name: url
      value: tcp://127.0.0.1:$mqtt_port
    - name: consumerID
      value: myapp-interop
    - name: qos
      value: "1"
YAML
	run_pubsub_case mqtt3 pubsub.mqtt3 1 --resources-path "$tmp/mqtt3" --resources-path "$data/subscriptions"
	stop_mosquitto
}

# Two outrigd with one --data-dir (the embedded SQLite name resolver) and an empty --resources-path: app-b's has
# --app-port, where invoke_sdk.mjs's DaprServer will listen; app-a's has no app. Each gets a free internal port, not
# the one derived from its app id, so that concurrent runs do not collide.
run_invoke_case() {
	echo "== [$proto] JS SDK service invocation: app-a -> app-b, two outrigd sharing --data-dir"
	shared=$tmp/invoke-data
	mkdir -p "$shared" "$tmp/invoke-resources"
	app_id=app-b
	if ! app_port=$(free_port) || ! internal_b=$(free_port) ||
		! start_daemon invoke-b --app-port "$app_port" --dapr-internal-grpc-port "$internal_b" \
			--data-dir "$shared" --resources-path "$tmp/invoke-resources"; then
		echo "FAIL: [$proto] could not start outrigd for app-b" >&2
		app_id=myapp
		failed=1
		return
	fi
	peer_pid=$pid port_b=$port grpc_b=$grpc_port
	pid=
	app_id=app-a
	if ! internal_a=$(free_port) ||
		! start_daemon invoke-a --dapr-internal-grpc-port "$internal_a" \
			--data-dir "$shared" --resources-path "$tmp/invoke-resources"; then
		echo "FAIL: [$proto] could not start outrigd for app-a" >&2
		failed=1
	elif ! OUTRIG_SDK_PROTOCOL=$proto DAPR_HTTP_PORT=$port DAPR_GRPC_PORT=$grpc_port OUTRIG_CALLEE_HTTP_PORT=$port_b \
		OUTRIG_CALLEE_GRPC_PORT=$grpc_b OUTRIG_APP_PORT=$app_port \
		OUTRIG_CALLER_ID=app-a OUTRIG_CALLEE_ID=app-b \
		node --test --test-timeout=60000 "$interop/invoke_sdk.mjs"; then
		for side in a b; do
			echo "FAIL: [$proto] invoke_sdk.mjs; outrigd app-$side's log:" >&2
			sed 's/^/  | /' "$tmp/outrigd-invoke-$side.log" >&2
		done
		failed=1
	fi
	app_id=myapp
	if [ -n "$pid" ]; then
		stop_daemon invoke-a || failed=1
	fi
	pid=$peer_pid
	peer_pid=
	stop_daemon invoke-b || failed=1
}

# One outrigd with tests/data/interop/bindings, run in that directory (local.file's secretsFile is relative to the
# daemon's working directory, as with daprd), with --app-port for bindings_sdk.mjs's DaprServer and OUTRIGIT_*
# variables for the local.env stores. No Kafka broker is started: output bindings are checked through their errors.
run_bindings_case() {
	echo "== [$proto] JS SDK secrets (local.file, local.env) and bindings (bindings.cron in, output errors)"
	OUTRIGIT_GREETING='hello, env = ok'
	OUTRIGIT_OTHER=second
	export OUTRIGIT_GREETING OUTRIGIT_OTHER
	daemon_dir=$data/bindings
	if ! app_port=$(free_port) || ! start_daemon bindings --app-port "$app_port" --resources-path "$data/bindings"; then
		echo "FAIL: [$proto] could not start outrigd for bindings" >&2
		failed=1
	elif ! OUTRIG_SDK_PROTOCOL=$proto DAPR_HTTP_PORT=$port DAPR_GRPC_PORT=$grpc_port OUTRIG_APP_PORT=$app_port \
		node --test --test-timeout=60000 "$interop/bindings_sdk.mjs"; then
		echo "FAIL: [$proto] bindings_sdk.mjs; outrigd's log:" >&2
		sed 's/^/  | /' "$tmp/outrigd-bindings.log" >&2
		failed=1
	fi
	if [ -n "$pid" ]; then
		stop_daemon bindings || failed=1
	fi
	daemon_dir=.
	unset OUTRIGIT_GREETING OUTRIGIT_OTHER
}

# run_part PART: one part of the suite with the client protocol $proto.
run_part() {
	case $1 in
	state)
		# No --resources-path: outrigd's embedded SQLite store, named statestore.
		run_case sqlite statestore state.sqlite
		run_case memory mem state.in-memory --resources-path "$srcdir/tests/data/components/in-memory"
		;;
	pubsub)
		# No --resources-path: the embedded pubsub.in-memory component named pubsub, programmatic subscriptions only.
		run_pubsub_case pubsub-embedded pubsub.in-memory 0
		run_pubsub_case pubsub-memory pubsub.in-memory 1 \
			--resources-path "$data/pubsub-memory" --resources-path "$data/subscriptions"
		run_mqtt3_case
		;;
	invoke)
		run_invoke_case
		;;
	bindings)
		run_bindings_case
		;;
	esac
}

for part in $parts; do
	case $part in
	state | pubsub | invoke | bindings) ;;
	*)
		echo "js_sdk.sh: unknown part '$part' (known: state, pubsub, invoke, bindings)" >&2
		failed=1
		continue
		;;
	esac
	for proto in $protocols; do
		case $proto in
		http | grpc) ;;
		*)
			echo "js_sdk.sh: unknown protocol '$proto' in OUTRIG_SDK_PROTOCOLS (known: http, grpc)" >&2
			failed=1
			continue
			;;
		esac
		# Each protocol's run keeps its logs, data and broker apart.
		tmp=$tmp_root/$proto
		mkdir -p "$tmp"
		run_part "$part"
	done
done

# The script's status is that of its last command (an explicit `exit` here trips shellcheck 0.9's SC2317).
[ "$failed" -eq 0 ]
