# SPDX-License-Identifier: Apache-2.0
# What the network-namespace tests (tests/netns_invoke.sh, tests/netns_mtls.sh) share: running processes on a
# host (a namespace) with their logs in $tmp, and waiting for them to answer. Sourced after test_sh_lib.sh; the
# test sets $tmp and kills every pid in $pids at exit.
# shellcheck shell=sh

# log_tail LABEL: the end of a background process's log, indented.
log_tail() {
	echo "#   --- last lines of $1.log"
	tail -n 30 "$tmp/$1.log" | sed 's/^/#   /'
}

# start NS LABEL COMMAND...: runs COMMAND on host NS in the background, its output in $tmp/LABEL.log; sets last_pid.
start() {
	ns=$1 label=$2
	shift 2
	ip netns exec "$ns" "$@" >"$tmp/$label.log" 2>&1 &
	pids="$pids $!"
	last_pid=$!
}

# http_code NS URL: the status code GET URL gets on host NS ("000" when nothing answers).
http_code() {
	ip netns exec "$1" curl -s -o /dev/null --max-time 1 -w '%{http_code}' "$2" 2>/dev/null
}

# wait_for NS URL CODE PID: 0 once GET URL answers CODE, 1 after 10 s or as soon as PID has died.
wait_for() {
	i=0
	while [ "$i" -lt 100 ]; do
		kill -0 "$4" 2>/dev/null || return 1
		[ "$(http_code "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
