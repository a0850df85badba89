#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests that `outrig run` stops what its app started (`npm start` starting node): the app runs in a
# process group of its own, which outrig signals on `outrig stop`, on Ctrl-C and when the app exits.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${OUTRIG_CLI:-$srcdir/core/outrig}
plugins=${OUTRIG_PLUGIN_PATH:-$srcdir/plugins/.libs}
export OUTRIGD="${OUTRIGD:-$(dirname "$cli")/outrigd}"

# pass, fail, summary, gone, wait_for_line, free_port, cli_sandbox.
. "$srcdir/tests/lib/test_sh_lib.sh"
cli_sandbox cli_group



# field FILE NAME: the number the app printed as "NAME=N".
field() {
	sed -n "s/^== APP == $2=\\([0-9]*\\)\$/\\1/p" "$1" | head -n 1
}

# The app: a shell (npm) that starts a child (node) and waits for it, as `npm start` does.
# shellcheck disable=SC2016 # expanded by the app's shell
app='sleep 300 & echo "child=$!"; echo "shell=$$"; echo ready; wait'

# start NAME APP_ID OUTFILE [APP SCRIPT]: starts `outrig run` in the background (SIGINT not ignored, as in
# a terminal); sets run_pid.
start() {
	env --default-signal=INT "$cli" run --plugin-dir "$plugins" --app-id "$2" -- sh -c "${4:-$app}" \
		>"$3" 2>&1 &
	run_pid=$!
	bgs="$bgs $run_pid"
}

# check NAME OUTFILE RC_WANTED RC: the app's shell and its child are gone, and so is outrigd.
check() {
	child=$(field "$2" child)
	shell=$(field "$2" shell)
	bgs="$bgs $child"
	if [ -n "$child" ] && [ -n "$shell" ] && gone "$child" 150 && gone "$shell" 10 && [ "$4" -eq "$3" ] &&
		! pgrep -f "outrigd .*--app-id $5( |$)" >/dev/null; then
		pass "$1"
	else
		fail "$1 (child ${child:-?} $(kill -0 "${child:-0}" 2>/dev/null && echo running || echo gone), rc $4, want $3)" "$2"
	fi
}

# --- outrig stop --------------------------------------------------------------------------------

start stop grpstop "$tmp/stop"
if wait_for_line "$tmp/stop" '^== APP == ready$'; then
	"$cli" stop --app-id grpstop >"$tmp/stop.out" 2>&1
	wait "$run_pid"
	rc=$?
	check "outrig stop --app-id: the app's child is stopped with it" "$tmp/stop" 143 "$rc" grpstop
else
	fail "outrig run with a two-process app started" "$tmp/stop"
fi

# --- Ctrl-C -------------------------------------------------------------------------------------

start int grpint "$tmp/int"
if wait_for_line "$tmp/int" '^== APP == ready$'; then
	kill -INT "$run_pid"
	wait "$run_pid"
	rc=$?
	check "Ctrl-C (SIGINT to outrig run): the app's child is stopped with it" "$tmp/int" 130 "$rc" grpint
else
	fail "outrig run with a two-process app started (SIGINT case)" "$tmp/int"
fi

# --- the app exits, leaving a child -------------------------------------------------------------

# shellcheck disable=SC2016 # expanded by the app's shell
start exit grpexit "$tmp/exit" 'sleep 300 & echo "child=$!"; echo "shell=$$"; echo ready; exit 3'
wait "$run_pid"
rc=$?
check "the app exits: what it left running in its group is stopped" "$tmp/exit" 3 "$rc" grpexit

summary
