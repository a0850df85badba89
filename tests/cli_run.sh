#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests `outrig run` end to end: usage errors, prefixes, app environment, exit status, signals, the counter example.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${OUTRIG_CLI:-$srcdir/core/outrig}
plugins=${OUTRIG_PLUGIN_PATH:-$srcdir/plugins/.libs}
export OUTRIGD="${OUTRIGD:-$(dirname "$cli")/outrigd}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_run.XXXXXX")
bg=
cleanup() {
	if [ -n "$bg" ]; then
		kill "$bg" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# Our own store, so the counter starts at 1, and our own run folder for the runs' records:
# nothing of the user's is touched.
XDG_DATA_HOME=$tmp/data
XDG_RUNTIME_DIR=$tmp/rt
export XDG_DATA_HOME XDG_RUNTIME_DIR

# pass NAME, fail NAME [FILE...], summary.
. "$srcdir/tests/lib/test_sh_lib.sh"

# Runs the CLI with a time limit so a hang fails the case instead of the whole suite.
outrig() {
	timeout 90 "$cli" "$@"
}

run() {
	outrig run --plugin-dir "$plugins" "$@"
}

# --- cases that need no sidecar ------------------------------------------------------------

if outrig --version >"$tmp/out" 2>&1 && grep -q '^outrig [0-9]' "$tmp/out"; then
	pass "--version prints the version"
else
	fail "--version prints the version" "$tmp/out"
fi

outrig run --app-id x --no-such-flag -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "unknown flag '--no-such-flag'" "$tmp/out"; then
	pass "unknown flag: exit 2 naming it"
else
	fail "unknown flag: exit 2 (got $rc) naming it" "$tmp/out"
fi

# As cobra reads `dapr run`: a flag after the app's command is still outrig's, so an app's own flag
# must go after --; the error says so.
outrig run --app-id x node app.js --port 3000 >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "unknown flag '--port'" "$tmp/out" && grep -q "after --" "$tmp/out"; then
	pass "an app's flag before --: exit 2, naming it and saying to put it after --"
else
	fail "an app's flag before --: exit 2 (got $rc), naming it and saying to put it after --" "$tmp/out"
fi

for refused in "--unix-domain-socket /tmp" "-u /tmp" "--kubernetes" "-k"; do
	# shellcheck disable=SC2086 # the flag and its value are two words
	outrig run --app-id x $refused -- true >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q "is not supported: " "$tmp/out"; then
		pass "$refused is refused with the reason"
	else
		fail "$refused is refused with the reason (rc $rc)" "$tmp/out"
	fi
done

outrig run -f "$tmp/nothing-here" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "run file $tmp/nothing-here: No such file" "$tmp/out"; then
	pass "-f with a missing file: exit 2 naming it"
else
	fail "-f with a missing file: exit 2 (got $rc) naming it" "$tmp/out"
fi

outrig run -f "$srcdir/tests/data/runfile" --app-port 3000 >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- "--app-port cannot go with -f" "$tmp/out"; then
	pass "-f with a flag that belongs in the run file: exit 2 naming it"
else
	fail "-f with a flag that belongs in the run file: exit 2 (got $rc) naming it" "$tmp/out"
fi

outrig run --app-id x --dapr-http-port 0 -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "not a port number" "$tmp/out"; then
	pass "bad --dapr-http-port: exit 2"
else
	fail "bad --dapr-http-port: exit 2 (got $rc)" "$tmp/out"
fi

outrig run --app-id x -G 70000 -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- "--dapr-grpc-port '70000' is not a port number" "$tmp/out"; then
	pass "bad -G (--dapr-grpc-port): exit 2"
else
	fail "bad -G (--dapr-grpc-port): exit 2 (got $rc)" "$tmp/out"
fi

# A copy of the CLI with no outrigd beside it takes $OUTRIGD: one that dies at once.
cp "$cli" "$tmp/outrig-alone"
OUTRIGD=false timeout 90 "$tmp/outrig-alone" run --app-id x -- sh -c 'echo app-started' \
	>"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'outrigd exited with status 1 before it was ready' "$tmp/out" &&
	! grep -q 'app-started' "$tmp/out"; then
	pass "sidecar exiting early: its status reported, app not started"
else
	fail "sidecar exiting early: its status reported (rc $rc), app not started" "$tmp/out"
fi

# --- cases that need the real sidecar ------------------------------------------------------

run --app-id exit7 -- sh -c 'exit 7' >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 7 ]; then
	pass "app exit status 7 is outrig's"
else
	fail "app exit status 7 is outrig's (got $rc)" "$tmp/out"
fi

run --app-id killed -- sh -c 'kill -KILL $$' >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 137 ]; then
	pass "app killed by SIGKILL: exit 137"
else
	fail "app killed by SIGKILL: exit 137 (got $rc)" "$tmp/out"
fi

run --app-id prefixes -- sh -c 'echo to-stdout; echo to-stderr >&2' >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^== APP == to-stdout$' "$tmp/out" &&
	grep -q '^== APP == to-stderr$' "$tmp/out" && grep -q '^== OUTRIG == ' "$tmp/out"; then
	pass "output prefixed '== APP == ' and '== OUTRIG == '"
else
	fail "output prefixed '== APP == ' and '== OUTRIG == ' (rc $rc)" "$tmp/out"
fi

# shellcheck disable=SC2016 # expanded by the app's shell, not this one
run --app-id envcheck -- sh -c 'echo "id=$APP_ID port=$DAPR_HTTP_PORT grpc=$DAPR_GRPC_PORT ch=$APP_CHANNEL_ADDRESS proto=$APP_PROTOCOL"
	curl -s -o /dev/null -w "health=%{http_code}\n" "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/healthz/outbound"' \
	>"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] &&
	grep -q '^== APP == id=envcheck port=[0-9][0-9]* grpc=[0-9][0-9]* ch=127.0.0.1 proto=http$' "$tmp/out" &&
	grep -q '^== APP == health=204$' "$tmp/out"; then
	pass "app environment: APP_ID, DAPR_HTTP_PORT (sidecar answers there), DAPR_GRPC_PORT, channel, protocol"
else
	fail "app environment: APP_ID, DAPR_HTTP_PORT, DAPR_GRPC_PORT, channel, protocol (rc $rc)" "$tmp/out"
fi

# shellcheck disable=SC2016 # expanded by the app's shell, not this one
run --app-id protocheck --app-protocol grpc -- sh -c 'echo "proto=$APP_PROTOCOL"' >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^== APP == proto=grpc$' "$tmp/out"; then
	pass "--app-protocol grpc reaches outrigd and the app's APP_PROTOCOL"
else
	fail "--app-protocol grpc reaches outrigd and the app's APP_PROTOCOL (rc $rc)" "$tmp/out"
fi

# --app-ssl goes to outrigd, which takes it as daprd does: http becomes https, with the deprecation line.
run --app-id sslcheck --app-port "$(free_port)" --app-ssl -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q -- '--app-ssl is deprecated; use --app-protocol https instead' "$tmp/out" &&
	grep -q 'calling the app over TLS (--app-protocol https)' "$tmp/out"; then
	pass "--app-ssl reaches outrigd, which calls the app with https"
else
	fail "--app-ssl reaches outrigd, which calls the app with https (rc $rc)" "$tmp/out"
fi

run --app-id protobad -P h2 -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q -- '--app-protocol: "h2" is not supported by outrig; use http, https, grpc or grpcs' "$tmp/out"; then
	pass "-P h2: outrigd's refusal is shown and the run fails"
else
	fail "-P h2: outrigd's refusal is shown and the run fails (rc $rc)" "$tmp/out"
fi

# SIGTERM to outrig reaches the app, which gets to finish, and outrig exits 128 + 15.
"$cli" run --plugin-dir "$plugins" --app-id sigterm -- \
	sh -c 'trap "echo app-got-term; exit 0" TERM; echo app-ready; while :; do sleep 0.1; done' \
	>"$tmp/sig" 2>&1 &
bg=$!
i=0
while [ "$i" -lt 300 ] && ! grep -q '^== APP == app-ready' "$tmp/sig" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$bg"
if ! gone "$bg" 150; then
	kill -KILL "$bg"
	fail "SIGTERM: outrig still running 15 s later" "$tmp/sig"
	wait "$bg"
else
	wait "$bg"
	rc=$?
	if [ "$rc" -eq 143 ] && grep -q '^== APP == app-got-term' "$tmp/sig" &&
		[ -z "$(ls -A "$XDG_RUNTIME_DIR/outrig")" ]; then
		pass "SIGTERM forwarded to the app; exit 143; run record removed"
	else
		fail "SIGTERM forwarded to the app; exit 143 (got $rc); run record removed" "$tmp/sig"
	fi
fi
bg=

# The founding example's form: the app's command without --, then a flag of outrig's after it.
mkdir -p "$tmp/founding/components"
cat >"$tmp/founding/components/mystore.yaml" <<'EOF'
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: mystore
spec:
  type: state.in-memory
  version: v1
EOF
cat >"$tmp/founding/app.py" <<'EOF'
import json, os, sys, urllib.request
base = "http://127.0.0.1:%s/v1.0/state/mystore" % os.environ["DAPR_HTTP_PORT"]
req = urllib.request.Request(base, data=json.dumps([{"key": "k", "value": sys.argv[1]}]).encode(), method="POST",
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
print("app %s read back %s" % (os.environ["APP_ID"], urllib.request.urlopen(base + "/k").read().decode()))
EOF
(cd "$tmp/founding" && timeout 90 "$cli" run --plugin-dir "$plugins" --app-id bindings-pythonapp python3 app.py \
	hello --components-path ./components) >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^== APP == app bindings-pythonapp read back "hello"$' "$tmp/out"; then
	pass "founding example: outrig run --app-id A python3 app.py ARG --components-path ./components"
else
	fail "founding example: outrig run --app-id A python3 app.py ARG --components-path ./components (rc $rc)" \
		"$tmp/out"
fi

# The quickstarts' flags, in dapr's spellings (=, short forms, booleans): passed on, or one info line each.
# (The command goes after --: without it, sh's -c would be read as --config, as dapr's cobra reads it.)
free_port=$(free_port)
metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])')
# shellcheck disable=SC2016 # expanded by the app's shell, not this one
run -a flags -p 38999 -H "$free_port" --app-protocol=http --log-level debug --enable-api-logging \
	--app-max-concurrency 5 --dapr-http-max-request-size 8 --max-body-size=8Mi --read-buffer-size 8Ki \
	--app-health-check-path=/healthz --app-health-probe-interval 3 --app-health-probe-timeout 500 \
	--app-health-threshold 2 --metrics-port 9090 -M "$metrics_port" --placement-host-address localhost:50005 \
	--scheduler-host-address "" --enable-profiling=false --app-channel-address 127.0.0.1 \
	-- sh -c 'echo "port=$APP_PORT proto=$APP_PROTOCOL http=$DAPR_HTTP_PORT"' >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "^== APP == port=38999 proto=http http=$free_port\$" "$tmp/out" &&
	grep -q "metrics (Prometheus) listening on 0.0.0.0:$metrics_port/metrics" "$tmp/out" &&
	grep -q 'msg="HTTP API Called" .*method="GET /v1.0/healthz/outbound" code=204' "$tmp/out" &&
	grep -q 'info: --placement-host-address has no effect' "$tmp/out" &&
	grep -q 'info: --scheduler-host-address has no effect' "$tmp/out" &&
	grep -q 'info: --enable-profiling has no effect' "$tmp/out" && grep -q 'level=debug' "$tmp/out"; then
	pass "dapr run's flags: passed on to outrigd, or one info line each where outrig has nothing to set"
else
	fail "dapr run's flags: passed on to outrigd, or one info line each (rc $rc)" "$tmp/out"
fi

run --app-id refused --app-max-concurrency 0 -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q -- '--app-max-concurrency: 0 is not a limit' "$tmp/out"; then
	pass "a value outrigd refuses (--app-max-concurrency 0) reaches it and fails the run"
else
	fail "a value outrigd refuses (--app-max-concurrency 0) reaches it and fails the run (rc $rc)" "$tmp/out"
fi

# No command: the sidecar alone, as `dapr run --app-id x`, until SIGTERM; no --app-id: one is made up.
"$cli" run --plugin-dir "$plugins" >"$tmp/alone" 2>&1 &
bg=$!
i=0
while [ "$i" -lt 300 ] && ! grep -q 'runs alone until Ctrl-C' "$tmp/alone" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$bg"
if gone "$bg" 150; then
	wait "$bg"
	rc=$?
	if [ "$rc" -eq 143 ] && grep -q "info: no --app-id given; the app id is 'outrig-[0-9]*'" "$tmp/alone" &&
		grep -q "ready: app id 'outrig-[0-9]*'" "$tmp/alone"; then
		pass "no command and no --app-id: the sidecar runs alone under a made-up id until SIGTERM"
	else
		fail "no command and no --app-id: the sidecar runs alone under a made-up id (rc $rc)" "$tmp/alone"
	fi
else
	kill -KILL "$bg"
	wait "$bg"
	fail "no command: outrig run still running 15 s after SIGTERM" "$tmp/alone"
fi
bg=

# outrig init writes ~/.outrig, and outrig run reads it when no --resources-path or --config is given.
home=$tmp/home
mkdir -p "$home"
HOME=$home outrig init >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ -f "$home/.outrig/components/statestore.yaml" ] &&
	[ -f "$home/.outrig/components/pubsub.yaml" ] && [ -f "$home/.outrig/config.yaml" ] &&
	grep -q "value: \"$XDG_DATA_HOME/outrig/state.db\"" "$home/.outrig/components/statestore.yaml"; then
	pass "outrig init writes ~/.outrig/components/{statestore,pubsub}.yaml and config.yaml"
else
	fail "outrig init writes ~/.outrig/components/{statestore,pubsub}.yaml and config.yaml (rc $rc)" "$tmp/out"
fi
echo "# mine" >>"$home/.outrig/config.yaml"
HOME=$home outrig init >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^kept .*config.yaml' "$tmp/out" && grep -q '^# mine' "$home/.outrig/config.yaml"; then
	pass "outrig init again keeps the files that exist"
else
	fail "outrig init again keeps the files that exist (rc $rc)" "$tmp/out"
fi
cp "$tmp/founding/components/mystore.yaml" "$home/.outrig/components/"
# shellcheck disable=SC2016 # expanded by the app's shell, not this one
HOME=$home run --app-id inited -- sh -c 'curl -s "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/metadata"; echo' \
	>"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '"name":"mystore"' "$tmp/out" &&
	grep -q '"name":"statestore","type":"state.sqlite"' "$tmp/out"; then
	pass "outrig run uses ~/.outrig/components when no --resources-path is given"
else
	fail "outrig run uses ~/.outrig/components when no --resources-path is given (rc $rc)" "$tmp/out"
fi
# shellcheck disable=SC2016 # expanded by the app's shell, not this one
HOME=$home run --app-id inited --resources-path "$tmp/founding/components" \
	-- sh -c 'curl -s "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/metadata"; echo' >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '"name":"mystore"' "$tmp/out" && ! grep -q '"name":"statestore"' "$tmp/out"; then
	pass "--resources-path given: ~/.outrig/components is not read"
else
	fail "--resources-path given: ~/.outrig/components is not read (rc $rc)" "$tmp/out"
fi
# A Configuration outrigd refuses (a bad value) shows that ~/.outrig/config.yaml reaches it as --config.
printf 'spec:\n  accessControl:\n    defaultAction: alow\n' >"$home/.outrig/config.yaml.new"
sed '/^spec:/,$d' "$home/.outrig/config.yaml" >>"$home/.outrig/config.yaml.new"
mv "$home/.outrig/config.yaml.new" "$home/.outrig/config.yaml"
HOME=$home run --app-id inited -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "$home/.outrig/config.yaml" "$tmp/out" && grep -q "accessControl" "$tmp/out"; then
	pass "outrig run passes ~/.outrig/config.yaml as --config when none is given"
else
	fail "outrig run passes ~/.outrig/config.yaml as --config when none is given (rc $rc)" "$tmp/out"
fi

# The counter example twice: the embedded SQLite store keeps the count between runs.
counts() {
	sed -n 's/^== APP == counter is now \([0-9][0-9]*\)$/\1/p' "$1" | tr '\n' ' '
}
COUNTER_INTERVAL=0 run --app-id counter -- "$srcdir/examples/counter/counter.sh" \
	>"$tmp/counter1" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(counts "$tmp/counter1")" = "1 2 3 " ]; then
	pass "counter example, first run: 1 2 3"
else
	fail "counter example, first run: 1 2 3 (rc $rc, got '$(counts "$tmp/counter1")')" \
		"$tmp/counter1"
fi
COUNTER_INTERVAL=0 run --app-id counter -- "$srcdir/examples/counter/counter.sh" \
	>"$tmp/counter2" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(counts "$tmp/counter2")" = "4 5 6 " ]; then
	pass "counter example, second run carries on: 4 5 6"
else
	fail "counter example, second run carries on: 4 5 6 (rc $rc, got '$(counts "$tmp/counter2")')" \
		"$tmp/counter2"
fi

summary
