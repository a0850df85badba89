# SPDX-License-Identifier: Apache-2.0
# Helpers the bench scripts share; sourced, not run. The sourcing script sets bench_name first, and
# calls nap_init once it has a temporary folder.
# shellcheck shell=bash
# bench_name, port and pid come from the sourcing script, which also reads reply.
# shellcheck disable=SC2154,SC2034

# Where outrigd, its plugins and the bench helpers are: the environment's, or the build tree's ($here is
# the sourcing script's folder).
outrigd=${OUTRIGD:-$here/../core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$here/../plugins/.libs}
bin=${BENCH_BIN:-$(dirname "$outrigd")/../bench}

die() {
	echo "$bench_name: $*" >&2
	exit 1
}

note() {
	echo "$bench_name: $*" >&2
}

# nap_init DIR: a pipe nobody writes to, so that nap's `read -t` sleeps without forking a process,
# which keeps start-up polls fine-grained and cheap.
nap_init() {
	mkfifo "$1/sleep"
	exec {sleepfd}<>"$1/sleep"
}
nap() {
	read -r -t "$1" -u "$sleepfd" _ || true
}

# http METHOD PATH [BODY]: to 127.0.0.1:$port; sets $status (empty if no answer) and $reply (the body).
# bash's /dev/tcp rather than curl, so polling costs no fork and the scripts need nothing but wrk.
status='' reply=''
http() {
	local body=${3-} fd line
	status='' reply=''
	{ exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
	{ printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
		"$1" "$2" "${#body}" "$body" >&"$fd"; } 2>/dev/null || true
	IFS=' ' read -r -t 5 -u "$fd" _ status _ || true
	while IFS= read -r -t 5 -u "$fd" line && [ "$line" != $'\r' ]; do :; done
	IFS= read -r -d '' -t 5 -u "$fd" reply || true
	exec {fd}>&-
	[ -n "$status" ]
}

# free_port: prints a random port below the kernel's ephemeral range (whose ports wrk's and our own
# client sockets hold, so bind can fail on them even though nothing listens) that nothing answers on;
# whoever binds it retries if it is taken in between.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range || ephemeral_low=32768
[ "$ephemeral_low" -gt 12000 ] || die "ephemeral port range starts at $ephemeral_low; no room for a fixed port below it"
free_port() {
	local p probe
	while :; do
		p=$((10000 + RANDOM % (ephemeral_low - 10000)))
		if ! { exec {probe}<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then
			echo "$p"
			return
		fi
		exec {probe}>&-
	done
}

# stop_daemon: SIGTERM to outrigd ($pid); it must exit 0.
stop_daemon() {
	kill "$pid"
	local rc=0
	wait "$pid" || rc=$?
	pid=
	[ "$rc" -eq 0 ] || die "outrigd exited with status $rc on SIGTERM"
}

# median of the numbers on stdin (mean of the middle two for an even count).
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1;
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# field NAME LINE: the value of NAME=… in a RESULT line.
field() {
	sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"
}

# cpu_ticks PID: utime + stime of the whole process (all threads), in clock ticks.
cpu_ticks() {
	local stat
	read -r stat <"/proc/$1/stat"
	# Fields after the command name, which is in parentheses: state is the first, utime the 12th.
	stat=${stat##*) }
	awk '{ print $12 + $13 }' <<<"$stat"
}
clk_tck=$(getconf CLK_TCK)
