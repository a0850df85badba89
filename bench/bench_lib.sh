# SPDX-License-Identifier: Apache-2.0
# Helpers the bench scripts share; sourced, not run. Sourcing sets the shell options (set -euo pipefail,
# LC_ALL=C) and here; the sourcing script sets bench_name first, and calls bench_tmp (or nap_init) once it
# has defined cleanup.
# shellcheck shell=bash
# bench_name, port and pid come from the sourcing script, which also reads reply.
# shellcheck disable=SC2154,SC2034

set -euo pipefail
export LC_ALL=C
# The bench scripts' folder, which is this file's.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Where outrigd, its plugins and the bench helpers are: the environment's, or the build tree's ($here is
# the bench folder).
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

# whole_numbers VAR...: dies unless each variable holds a whole number.
whole_numbers() {
	local v
	for v; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number ('${!v}')"
	done
}

# need_outrigd: dies unless outrigd and the plugin folder are there.
need_outrigd() {
	[ -x "$outrigd" ] || die "no outrigd at $outrigd; run make, or set OUTRIGD"
	[ -d "$plugins" ] || die "no plugin folder at $plugins; run make, or set OUTRIG_PLUGIN_PATH"
}

# need_helpers TARGET HELPER...: dies unless each helper is in $bin, saying that make TARGET builds it.
need_helpers() {
	local target=$1 h
	shift
	for h; do
		[ -x "$bin/$h" ] || die "no $h in $bin; run make $target (it builds the helpers), or set BENCH_BIN"
	done
}

# stop PIDVAR: ends one process this script started (the pid in that variable), waits for it, empties the variable.
stop() {
	local p=${!1}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	printf -v "$1" '%s' ''
}

# bench_tmp NAME: sets tmp (a new folder outrig-NAME.XXXXXX in BENCH_DIR or TMPDIR) and out (BENCH_OUT, or in
# tmp), makes out and the nap pipe, and runs the sourcing script's cleanup on exit (exit 130 on SIGINT, 143 on
# SIGTERM).
bench_tmp() {
	tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/outrig-$1.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	out=${BENCH_OUT:-$tmp/out}
	mkdir -p "$out"
	nap_init "$tmp"
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

# ---- invoke_load runs, shared by invoke_bench.sh and mtls_bench.sh. The sourcing script defines
# target PATH (prints the port and URL a run on PATH loads), cpu_pids PATH (prints the pids of the two
# outrigd whose CPU a run on PATH counts, or nothing) and path_label PATH (the table's name for PATH). ----

# invoke_knobs: sets rate, duration, max_duration, connections, payload, reply_size, repeat, warmup and
# resolve_timeout from their BENCH_ variables (or defaults) and dies on a bad one.
invoke_knobs() {
	rate=${BENCH_RATE:-1000}
	duration=${BENCH_DURATION:-10}
	max_duration=${BENCH_MAX_DURATION:-5}
	connections=${BENCH_CONNECTIONS:-16}
	payload=${BENCH_PAYLOAD:-64}
	reply_size=${BENCH_REPLY:-16}
	repeat=${BENCH_REPEAT:-3}
	warmup=${BENCH_WARMUP:-1}
	resolve_timeout=${BENCH_RESOLVE_TIMEOUT:-20}
	whole_numbers rate duration max_duration connections payload reply_size repeat warmup resolve_timeout
	if [ "$rate" -eq 0 ] || [ "$duration" -eq 0 ] || [ "$max_duration" -eq 0 ] || [ "$connections" -eq 0 ] ||
		[ "$repeat" -eq 0 ]; then
		die "BENCH_RATE, BENCH_DURATION, BENCH_MAX_DURATION, BENCH_CONNECTIONS and BENCH_REPEAT must be at least 1"
	fi
	if [ "$payload" -lt 12 ] || [ "$payload" -gt 65536 ]; then
		die "BENCH_PAYLOAD must be from 12 to 65536 bytes"
	fi
	if [ "$reply_size" -lt 16 ] || [ "$reply_size" -gt 1023 ]; then
		die "BENCH_REPLY must be from 16 to 1023 bytes"
	fi
}

# start_echo: app B (invoke_echo, replies of reply_size bytes) on a free port; sets echo_pid and echo_port.
start_echo() {
	local attempt i log=$out/app-b.txt
	for attempt in 1 2 3; do
		echo_port=$(free_port)
		: >"$log"
		"$bin/invoke_echo" -p "$echo_port" -s "$reply_size" >"$log" 2>&1 &
		echo_pid=$!
		for ((i = 0; i < 200; i++)); do
			! grep -q '^LISTENING' "$log" || return 0
			kill -0 "$echo_pid" 2>/dev/null || break
			nap 0.01
		done
		stop echo_pid
		note "invoke_echo did not listen on $echo_port (attempt $attempt): $(cat "$log")"
	done
	return 1
}

# start_outrig NAME APP_ID DATA [FLAG...]: one outrigd with the resources folder $tmp/res and data folder DATA;
# sets NAME_pid, NAME_port (HTTP API) and NAME_internal once /v1.0/healthz answers 204.
start_outrig() {
	local name=$1 app_id=$2 data=$3 log=$out/outrigd-$1.log attempt t0 p ip port
	shift 3
	for attempt in 1 2 3; do
		port=$(free_port)
		ip=$(free_port)
		t0=$SECONDS status=
		"$outrigd" --app-id "$app_id" "$@" --dapr-http-port "$port" --dapr-listen-addresses 127.0.0.1 \
			--dapr-internal-grpc-port "$ip" --dapr-internal-grpc-listen-address 127.0.0.1 \
			--plugin-dir "$plugins" --resources-path "$tmp/res" --data-dir "$data" \
			--log-level warn >"$log" 2>&1 &
		p=$!
		while kill -0 "$p" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do
			if http GET /v1.0/healthz && [ "$status" = 204 ]; then
				printf -v "${name}_pid" '%s' "$p"
				printf -v "${name}_port" '%s' "$port"
				printf -v "${name}_internal" '%s' "$ip"
				return 0
			fi
			nap 0.01
		done
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		note "outrigd $name did not become healthy (attempt $attempt, port $port):"
		sed 's/^/  | /' "$log" >&2
	done
	return 1
}

# start_outrig sets a_port, a_internal, b_port and b_internal beside the pids.
a_port=''
invoke_path=/v1.0/invoke/bench-b/method/echo

# probe [PORT [APID BPID]]: until BENCH_RESOLVE_TIMEOUT, one call from A's sidecar (on PORT, else a_port) to B;
# returns 1 and says why in probe_failure when it does not answer 200, or when the pair (APID and BPID, else a_pid
# and b_pid) exited.
probe_failure=
probe() {
	local t0=$SECONDS port=${1:-$a_port} apid=${2:-$a_pid} bpid=${3:-$b_pid}
	while :; do
		http POST "$invoke_path" '{"probe":true}' || true
		[ "$status" != 200 ] || return 0
		if [ "$status" = 501 ]; then
			probe_failure="POST $invoke_path on outrigd A answers HTTP 501: ${reply:0:300}"
			return 1
		fi
		kill -0 "$apid" 2>/dev/null || { probe_failure="outrigd A exited (logs: $out/outrigd-*.log)"; return 1; }
		kill -0 "$bpid" 2>/dev/null || { probe_failure="outrigd B exited (logs: $out/outrigd-*.log)"; return 1; }
		if [ $((SECONDS - t0)) -ge "$resolve_timeout" ]; then
			probe_failure="POST $invoke_path on outrigd A still answers HTTP '${status:-no answer}' after ${resolve_timeout}s: ${reply:0:300}"
			return 1
		fi
		nap 0.1
	done
}

invalid=0
got=

# load PATH MODE FILE [SECONDS]: one invoke_load run to target PATH; sets got to "rate p50 p90 p99 max count
# backlog", and invalid to 1 if it had errors.
load() {
	local path=$1 mode=$2 file=$3 secs=${4:-} port url line rc=0 args=()
	read -r port url <<<"$(target "$path")"
	if [ "$mode" = rate ]; then
		args=(-R "$rate" -d "${secs:-$duration}")
	else
		args=(-d "${secs:-$max_duration}")
	fi
	"$bin/invoke_load" -p "$port" -u "$url" -k "$connections" -s "$payload" "${args[@]}" >"$file" 2>&1 || rc=$?
	line=$(grep '^RESULT ' "$file") || die "invoke_load failed: $(cat "$file")"
	if [ "$rc" -ne 0 ] || [ "$(field errors "$line")" != 0 ]; then
		note "WARNING: $path $mode run had errors: $(cat "$file")"
		invalid=1
	fi
	got="$(field rate "$line") $(field p50_us "$line") $(field p90_us "$line") $(field p99_us "$line")"
	got+=" $(field max_us "$line") $(field ok "$line") $(field backlog_max "$line")"
}

# run PATH MODE ROUND: one measured run, with the CPU of cpu_pids PATH over it; appends to $results
# "PATH MODE ROUND RATE P50 P90 P99 MAX OK BACKLOG CPU_A CPU_B" (µs; CPU in ms per 1000 requests, "-" where
# not measured).
run() {
	local path=$1 mode=$2 r=$3 a0 b0 a1 b1 ok cpu_a=- cpu_b=- pa pb
	read -r pa pb <<<"$(cpu_pids "$path")"
	if [ -n "$pa" ]; then
		a0=$(cpu_ticks "$pa") b0=$(cpu_ticks "$pb")
	fi
	load "$path" "$mode" "$out/$path-$mode-$r.txt"
	if [ -n "$pa" ]; then
		a1=$(cpu_ticks "$pa") b1=$(cpu_ticks "$pb")
		ok=$(awk '{ print $6 }' <<<"$got")
		read -r cpu_a cpu_b < <(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v t="$clk_tck" -v n="$ok" \
			'BEGIN { printf "%.1f %.1f\n", a * 1000 / t / (n / 1000), b * 1000 / t / (n / 1000) }')
	fi
	echo "$path $mode $r $got $cpu_a $cpu_b" >>"$results"
}

# measure PATH...: a warm-up per path, then BENCH_REPEAT rounds of the fixed rate and the maximum, turning
# the order of the paths round every round so that the drift of a noisy machine falls on both alike; the
# runs go to $out/results.txt.
measure() {
	local paths=("$@") r i p n mode
	n=${#paths[@]}
	results=$out/results.txt
	: >"$results"
	if [ "$warmup" -gt 0 ]; then
		for p in "${paths[@]}"; do
			load "$p" max "$out/$p-warmup.txt" "$warmup"
		done
	fi
	for ((r = 1; r <= repeat; r++)); do
		for mode in rate max; do
			for ((i = 0; i < n; i++)); do
				p=${paths[(i + r - 1) % n]}
				if [ -t 2 ]; then
					printf '\r  round %d/%d: %-6s %-4s' "$r" "$repeat" "$p" "$mode" >&2
				fi
				run "$p" "$mode" "$r"
			done
		done
	done
	if [ -t 2 ]; then
		printf '\r%40s\r' '' >&2
	fi
}

# column PATH MODE N: prints column N of that path's and mode's runs.
column() {
	awk -v p="$1" -v m="$2" -v c="$3" '$1 == p && $2 == m { print $c }' "$results"
}
declare -A med
# summarize PATH MODE: medians into med[PATH.MODE.rate|p50|p90|p99|max|backlog|cpu_a|cpu_b], plus lo and hi.
summarize() {
	local k=$1.$2 c name
	[ -n "$(column "$1" "$2" 4)" ] || return 1
	c=4
	for name in rate p50 p90 p99 max ok backlog cpu_a cpu_b; do
		if [ "$(column "$1" "$2" "$c" | head -n 1)" != - ]; then
			med[$k.$name]=$(column "$1" "$2" "$c" | median)
		fi
		c=$((c + 1))
	done
	med[$k.lo]=$(column "$1" "$2" 4 | sort -g | head -n 1)
	med[$k.hi]=$(column "$1" "$2" 4 | sort -g | tail -n 1)
}

# mem PID: prints its resident and peak memory now.
mem() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "RSS %.1f MB (peak %.1f MB)", r / 1024, h / 1024 }' \
		"/proc/$1/status"
}

# describe_load: prints the lines that say what outrigd, the host, app A and app B are.
describe_load() {
	echo "outrigd: $("$outrigd" --version 2>&1 | head -n 1)"
	echo "host: $(nproc) CPUs, $(uname -sr); $repeat rounds per path (median shown), ${warmup}s warm-up per path"
	echo "app A = invoke_load: $connections keep-alive connections, one request in flight each, POST of $payload bytes of JSON;"
	echo "  fixed rate: $rate req/s for ${duration}s, latency from each request's due time; max: closed loop for ${max_duration}s"
	echo "app B = invoke_echo on 127.0.0.1:$echo_port: 200 with $reply_size bytes of JSON"
}

# table PATH...: summarizes each path's runs and prints a table of their medians, fixed rate first.
table() {
	local mode p k label
	printf '%-22s %8s %17s %8s %8s %8s %8s\n' run "req/s" "(min-max req/s)" "p50 ms" "p90 ms" "p99 ms" "max ms"
	for mode in rate max; do
		for p; do
			summarize "$p" "$mode"
			k=$p.$mode
			case $mode in rate) label="$rate req/s" ;; max) label=max ;; esac
			label+=" $(path_label "$p")"
			awk -v l="$label" -v r="${med[$k.rate]}" -v lo="${med[$k.lo]}" -v hi="${med[$k.hi]}" \
				-v a="${med[$k.p50]}" -v b="${med[$k.p90]}" -v c="${med[$k.p99]}" -v m="${med[$k.max]}" 'BEGIN {
				printf "%-22s %8.0f %17s %8.3f %8.3f %8.3f %8.3f\n", l, r, sprintf("(%.0f-%.0f)", lo, hi),
					a / 1000, b / 1000, c / 1000, m / 1000 }'
		done
	done
}

# check_valid: exits 1 with a note if a run had errors.
check_valid() {
	if [ "$invalid" -ne 0 ]; then
		echo "$bench_name: some runs had errors (see warnings above); figures are not valid" >&2
		exit 1
	fi
}
