#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests `outrig list` and `outrig stop` with two real runs, and the environment `outrig run` gives apps.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${OUTRIG_CLI:-$srcdir/core/outrig}
plugins=${OUTRIG_PLUGIN_PATH:-$srcdir/plugins/.libs}
export OUTRIGD="${OUTRIGD:-$(dirname "$cli")/outrigd}"

# pass, fail, summary, gone, wait_for_line, free_port, cli_sandbox.
. "$srcdir/tests/lib/test_sh_lib.sh"
cli_sandbox cli_list

rundir=$XDG_RUNTIME_DIR/outrig

outrig() {
	timeout 60 "$cli" "$@"
}

# json_field FILE APP_ID FIELD: a number from `outrig list -o json`, one field a line.
json_field() {
	awk -v id="\"appId\": \"$2\"," -v f="\"$3\":" '
		index($0, id) { on = 1 }
		on && index($0, f) == 5 { v = $2; sub(/,$/, "", v); print v; exit }
		/^  }/ { on = 0 }' "$1"
}

# --- without runs ---------------------------------------------------------------------------

outrig list >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'No running apps' "$tmp/out"; then
	pass "list with no runs says so"
else
	fail "list with no runs says so (rc $rc)" "$tmp/out"
fi

outrig list -o json >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "[]" ]; then
	pass "list -o json with no runs: []"
else
	fail "list -o json with no runs: [] (rc $rc)" "$tmp/out"
fi

outrig list --output yaml >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "'yaml' is not table or json" "$tmp/out"; then
	pass "list --output yaml: exit 2 naming it"
else
	fail "list --output yaml: exit 2 (got $rc) naming it" "$tmp/out"
fi

outrig stop >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- '--app-id or -f is required' "$tmp/out"; then
	pass "stop without --app-id: exit 2"
else
	fail "stop without --app-id: exit 2 (got $rc)" "$tmp/out"
fi

outrig stop --app-id nosuchapp >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "no app with id 'nosuchapp' is running" "$tmp/out"; then
	pass "stop of an unknown app id: exit 1 and says so"
else
	fail "stop of an unknown app id: exit 1 (got $rc) and says so" "$tmp/out"
fi

# --- the run folder's place -----------------------------------------------------------------

# The app lists the run folder while it runs: its own record is there, under XDG_DATA_HOME
# when XDG_RUNTIME_DIR is unset.
# shellcheck disable=SC2016 # expanded by the app's shell
env -u XDG_RUNTIME_DIR "$cli" run --plugin-dir "$plugins" --app-id whereami -- \
	sh -c 'echo "records: $(ls "$XDG_DATA_HOME/outrig/run")"' >"$tmp/where" 2>&1 &
wpid=$!
wait "$wpid"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "^== APP == records: $wpid\\.run\$" "$tmp/where" &&
	[ -z "$(ls "$XDG_DATA_HOME/outrig/run")" ]; then
	pass "without XDG_RUNTIME_DIR the record is in \$XDG_DATA_HOME/outrig/run, removed at exit"
else
	fail "without XDG_RUNTIME_DIR the record is in \$XDG_DATA_HOME/outrig/run, removed at exit (rc $rc)" \
		"$tmp/where"
	find "$XDG_DATA_HOME/outrig/run" | sed 's/^/#   /'
fi

# --- two runs side by side ------------------------------------------------------------------

# Below Linux's ephemeral range (32768 up), where a port picked by binding to 0 or an outgoing
# connection of a parallel test can take it between this choice and outrigd's bind.
app_port=$((20000 + $$ % 12000))
internal_port=$((app_port + 1))
cat >"$tmp/config.yaml" <<'EOF'
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: listtest
spec: {}
EOF
# shellcheck disable=SC2016 # expanded by the apps' shells
env_line='echo "env http=$DAPR_HTTP_PORT grpc=$DAPR_GRPC_PORT id=$APP_ID app=${APP_PORT:-none} token=${DAPR_API_TOKEN:-none} pid=$$"'
# shellcheck disable=SC2016
curl_lines='curl -s -o /dev/null -w "with=%{http_code}\n" -H "dapr-api-token: $DAPR_API_TOKEN" "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/metadata"
	curl -s -o /dev/null -w "without=%{http_code}\n" "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/metadata"'

"$cli" run --plugin-dir "$plugins" --app-id lista --app-port "$app_port" -G 50999 \
	-I "$internal_port" --config "$tmp/config.yaml" -- sh -c "$env_line; echo ready; exec sleep 300" >"$tmp/a" 2>&1 &
pa=$!
bgs="$bgs $pa"
DAPR_API_TOKEN=s3cret "$cli" run --plugin-dir "$plugins" --app-id listb -- \
	sh -c "$env_line; $curl_lines; echo ready; exec sleep 300" >"$tmp/b" 2>&1 &
pb=$!
bgs="$bgs $pb"

if wait_for_line "$tmp/a" '^== APP == ready$' && wait_for_line "$tmp/b" '^== APP == ready$'; then
	pass "two runs started"
else
	fail "two runs started" "$tmp/a" "$tmp/b"
fi

outrig list >"$tmp/table" 2>&1
outrig list -o json >"$tmp/json" 2>&1
a_http=$(json_field "$tmp/json" lista httpPort)
a_grpc=$(json_field "$tmp/json" lista grpcPort)
a_cli=$(json_field "$tmp/json" lista cliPid)
a_d=$(json_field "$tmp/json" lista daprdPid)
a_app=$(json_field "$tmp/json" lista appPid)
b_http=$(json_field "$tmp/json" listb httpPort)
b_grpc=$(json_field "$tmp/json" listb grpcPort)
b_cli=$(json_field "$tmp/json" listb cliPid)
b_d=$(json_field "$tmp/json" listb daprdPid)
b_app=$(json_field "$tmp/json" listb appPid)

if [ "$a_cli" = "$pa" ] && [ "$b_cli" = "$pb" ] && [ "${a_d:-0}" -gt 0 ] && [ "${b_d:-0}" -gt 0 ] &&
	[ "$a_grpc" = 50999 ] && [ "${b_grpc:-0}" -gt 0 ] && [ "$b_grpc" != "$b_http" ] &&
	grep -q "^== APP == env .* pid=$a_app\$" "$tmp/a" && grep -q "^== APP == env .* pid=$b_app\$" "$tmp/b"; then
	pass "list -o json: both runs with outrig, outrigd and app pids and ports"
else
	fail "list -o json: both runs with outrig ($pa, $pb), outrigd and app pids and ports" "$tmp/json"
fi

if grep -Eq "^APP ID +HTTP PORT +GRPC PORT +APP PORT +COMMAND +AGE +PID\$" "$tmp/table" &&
	grep -Eq "^lista +$a_http +50999 +$app_port +sh -c .* +[0-9]+[smhd] +$pa\$" "$tmp/table" &&
	grep -Eq "^listb +$b_http +$b_grpc +0 +sh -c .* +[0-9]+[smhd] +$pb\$" "$tmp/table"; then
	pass "list: a table row per run with its ports and pid"
else
	fail "list: a table row per run with its ports and pid" "$tmp/table"
fi

if grep -q "^== APP == env http=$a_http grpc=50999 id=lista app=$app_port token=none " "$tmp/a" &&
	grep -q "^== APP == env http=$b_http grpc=$b_grpc id=listb app=none token=s3cret " "$tmp/b"; then
	pass "app environment: DAPR_HTTP_PORT, DAPR_GRPC_PORT, APP_ID, APP_PORT, DAPR_API_TOKEN"
else
	fail "app environment: DAPR_HTTP_PORT, DAPR_GRPC_PORT, APP_ID, APP_PORT, DAPR_API_TOKEN" \
		"$tmp/a" "$tmp/b"
fi

if grep -q '^== APP == with=200$' "$tmp/b" && grep -q '^== APP == without=401$' "$tmp/b"; then
	pass "DAPR_API_TOKEN reaches the sidecar too: 200 with the token, 401 without"
else
	fail "DAPR_API_TOKEN reaches the sidecar too: 200 with the token, 401 without" "$tmp/b"
fi

# The flags outrigd gets, read from its own command line.
dargs=$(tr '\0' ' ' <"/proc/$a_d/cmdline" 2>/dev/null)
if echo "$dargs" | grep -q -- "--dapr-grpc-port 50999 " &&
	echo "$dargs" | grep -q -- "--config $tmp/config.yaml " &&
	echo "$dargs" | grep -q -- "--dapr-internal-grpc-port $internal_port " &&
	echo "$dargs" | grep -q -- "--app-port $app_port "; then
	pass "outrigd gets --dapr-grpc-port, --config, --dapr-internal-grpc-port, --app-port"
else
	fail "outrigd gets --dapr-grpc-port, --config, --dapr-internal-grpc-port, --app-port: '$dargs'"
fi

# --- stop one ------------------------------------------------------------------------------

outrig stop --app-id lista >"$tmp/stop" 2>&1
rc=$?
a_gone=no
a_rc=
if gone "$pa"; then
	a_gone=yes
	wait "$pa"
	a_rc=$?
fi
if [ "$rc" -eq 0 ] && grep -q "app 'lista' stopped" "$tmp/stop" && [ "$a_gone" = yes ] &&
	[ "$a_rc" -eq 143 ] && ! kill -0 "$a_d" 2>/dev/null && ! kill -0 "$a_app" 2>/dev/null &&
	[ ! -e "$rundir/$pa.run" ]; then
	pass "stop --app-id lista: outrig exits 143, outrigd and app gone, record removed"
else
	fail "stop --app-id lista: outrig exits 143 (gone: $a_gone, rc ${a_rc:-}), outrigd and app gone, record removed (stop rc $rc)" \
		"$tmp/stop" "$tmp/a"
	find "$rundir" | sed 's/^/#   /'
fi

outrig list >"$tmp/table2" 2>&1
if ! grep -q '^lista ' "$tmp/table2" && grep -Eq "^listb +$b_http " "$tmp/table2" && kill -0 "$b_d" 2>/dev/null; then
	pass "after stop: the other run still listed and running"
else
	fail "after stop: the other run still listed and running" "$tmp/table2"
fi

# --- stop when nobody reaps outrig -------------------------------------------------------------

# The parent execs sleep, which never waits for its child: outrig stays a zombie once it
# exits, and stop must take that for stopped.
# shellcheck disable=SC2016 # expanded by the inner shell
sh -c '"$@" >"$0" 2>&1 & exec sleep 300' "$tmp/z" "$cli" run --plugin-dir "$plugins" --app-id zomb -- \
	sh -c 'echo ready; exec sleep 300' &
zp=$!
bgs="$bgs $zp"
if wait_for_line "$tmp/z" '^== APP == ready$'; then
	t0=$(date +%s)
	outrig stop --app-id zomb >"$tmp/stopz" 2>&1
	rc=$?
	t1=$(date +%s)
	if [ "$rc" -eq 0 ] && [ $((t1 - t0)) -lt 10 ] && grep -q "app 'zomb' stopped" "$tmp/stopz"; then
		pass "stop returns once outrig has exited, though its parent has not reaped it"
	else
		fail "stop returns once outrig has exited, though its parent has not reaped it (rc $rc, $((t1 - t0)) s)" \
			"$tmp/stopz" "$tmp/z"
	fi
else
	fail "a run under a parent that does not reap started" "$tmp/z"
fi
kill -KILL "$zp" 2>/dev/null

# --- a run killed outright --------------------------------------------------------------------

kill -KILL "$pb"
wait "$pb" 2>/dev/null
if [ -e "$rundir/$pb.run" ]; then
	outrig list >"$tmp/table3" 2>&1
	if grep -q 'No running apps' "$tmp/table3" && [ ! -e "$rundir/$pb.run" ]; then
		pass "list drops and removes the record of a killed run"
	else
		fail "list drops and removes the record of a killed run" "$tmp/table3"
	fi
else
	fail "a killed run leaves its record (nothing for list to clean)"
fi

if gone "$b_d" && gone "$b_app"; then
	pass "a killed run's outrigd and app stop too"
else
	fail "a killed run's outrigd ($b_d) and app ($b_app) stop too"
fi

outrig stop --app-id listb >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "no app with id 'listb' is running" "$tmp/out"; then
	pass "stop of a run that is gone: exit 1"
else
	fail "stop of a run that is gone: exit 1 (got $rc)" "$tmp/out"
fi

summary
