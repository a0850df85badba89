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

outrig run --app-id x >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'no app command' "$tmp/out" && grep -q -- '--' "$tmp/out"; then
	pass "missing command: exit 2 and says to put it after --"
else
	fail "missing command: exit 2 (got $rc) and says to put it after --" "$tmp/out"
fi

outrig run --app-id x ./app >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "unexpected argument './app'" "$tmp/out"; then
	pass "command without --: exit 2 naming it"
else
	fail "command without --: exit 2 (got $rc) naming it" "$tmp/out"
fi

outrig run --app-id x --no-such-flag -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "unknown flag '--no-such-flag'" "$tmp/out"; then
	pass "unknown flag: exit 2 naming it"
else
	fail "unknown flag: exit 2 (got $rc) naming it" "$tmp/out"
fi

outrig run -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- '--app-id is required' "$tmp/out"; then
	pass "missing --app-id: exit 2"
else
	fail "missing --app-id: exit 2 (got $rc)" "$tmp/out"
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

run --app-id protobad -P h2 -- true >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q -- '--app-protocol: "h2" is not supported by outrig yet; use http or grpc' "$tmp/out"; then
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
