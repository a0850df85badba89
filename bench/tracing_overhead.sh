#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The cost of observability: invocation (app -> outrigd A -> outrigd B -> app B) and state (save, get on outrigd A,
# state.in-memory) throughput with metrics and tracing both off ("off"), metrics alone ("metrics"), and metrics with
# tracing at samplingRate 0.1 and 1 ("0.1", "1"), spans exported to a live Zipkin receiver (bench/invoke_echo answers
# every POST 200, as a collector that keeps up). Metrics are scraped every second while on. Modes are interleaved
# round by round in one run; the script prints per-mode medians and their ratios to "off".
#
# Usage: tracing_overhead.sh   (needs wrk, and `make bench` or `make bench/invoke_echo` for the helper)
# Knobs: BENCH_DURATION (3 s per measurement), BENCH_REPEAT (3 rounds), BENCH_CONNECTIONS (16), BENCH_OUT.
# With the defaults it runs about two minutes.
bench_name=tracing_overhead
# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

duration=${BENCH_DURATION:-3}
repeat=${BENCH_REPEAT:-3}
connections=${BENCH_CONNECTIONS:-16}
for v in duration repeat connections; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a whole number of at least 1 ('${!v}')"
done
command -v wrk >/dev/null || die "wrk not found (Debian package wrk)"
[ -x "$outrigd" ] || die "no outrigd at $outrigd; run make, or set OUTRIGD"
[ -x "$bin/invoke_echo" ] || die "no invoke_echo in $bin; run make bench/invoke_echo, or set BENCH_BIN"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-tracing-bench.XXXXXX")
out=${BENCH_OUT:-$tmp/out}
mkdir -p "$out" "$tmp/res" "$tmp/data"
cp "$here/../tests/data/components/in-memory/mem.yaml" "$tmp/res/" 2>/dev/null ||
	printf 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: mem\nspec:\n  type: state.in-memory\n  version: v1\n' >"$tmp/res/mem.yaml"
nap_init "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT

# echo_on PORTVAR LOG: an invoke_echo; sets the port variable.
echo_on() {
	local p log=$2 i
	for _ in 1 2 3; do
		p=$(free_port)
		"$bin/invoke_echo" -p "$p" -s 16 >"$log" 2>&1 &
		pids+=($!)
		for ((i = 0; i < 200; i++)); do
			if grep -q '^LISTENING' "$log"; then
				printf -v "$1" '%s' "$p"
				return 0
			fi
			nap 0.01
		done
	done
	die "invoke_echo did not start: $(cat "$log")"
}
echo_on app_port "$out/app-b.txt"
echo_on sink_port "$out/sink.txt"

# config MODE: the flags of a mode: metrics off for "off", else on a port of their own; --config with tracing for 0.1 and 1.
config() {
	if [ "$1" = off ]; then
		echo "--enable-metrics=false"
		return 0
	fi
	echo "--metrics-port $(free_port)"
	[ "$1" = metrics ] && return 0
	printf 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: t\nspec:\n  tracing:\n    samplingRate: "%s"\n    zipkin:\n      endpointAddress: http://127.0.0.1:%s/api/v2/spans\n' \
		"$1" "$sink_port" >"$tmp/config-$1.yaml"
	echo "--config $tmp/config-$1.yaml"
}

# scrape_while PID PORT: GET /metrics every second while PID runs (as a Prometheus would), in the background.
scrape_while() {
	(
		port=$2
		while kill -0 "$1" 2>/dev/null; do
			http GET /metrics || true
			sleep 1
		done
	) &
}

# metrics_port PID: the --metrics-port outrigd PID was started with, or nothing.
metrics_port() {
	tr '\0' ' ' <"/proc/$1/cmdline" | sed -n 's/.*--metrics-port \([0-9]*\).*/\1/p'
}

# start_outrig APP_ID MODE [FLAG...]: sets started_pid and started_port once /v1.0/healthz answers 204.
start_outrig() {
	local app_id=$1 mode=$2 p t0
	shift 2
	# shellcheck disable=SC2046
	for _ in 1 2 3; do
		port=$(free_port)
		"$outrigd" --app-id "$app_id" $(config "$mode") "$@" --dapr-http-port "$port" --dapr-grpc-port "$(free_port)" \
			--dapr-internal-grpc-port "$(free_port)" --plugin-dir "$plugins" --resources-path "$tmp/res" \
			--data-dir "$tmp/data" --log-level warn >>"$out/outrigd-$app_id-$mode.log" 2>&1 &
		p=$!
		t0=$SECONDS
		while kill -0 "$p" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do
			if http GET /v1.0/healthz && [ "$status" = 204 ]; then
				started_pid=$p started_port=$port
				pids+=("$p")
				return 0
			fi
			nap 0.02
		done
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	die "outrigd $app_id ($mode) did not start: $(tail -5 "$out/outrigd-$app_id-$mode.log")"
}

# ticks PID...: CPU time (user + system, clock ticks) the processes used so far.
ticks() {
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)

# cpu_us T0 T1 RPS: the sidecars' CPU microseconds per request over one run.
cpu_us() {
	awk -v a="$1" -v b="$2" -v r="$3" -v d="$duration" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / (r * d) }'
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# rps URL [wrk args...]: requests per second of one wrk run (errors make the run invalid).
rps() {
	local r
	r=$(wrk -t2 -c"$connections" -d"${duration}s" -s "$here/state.lua" "$@" 2>&1 | grep '^RESULT') ||
		die "wrk printed no result for $*"
	[[ $r =~ err_status=0 ]] && [[ $r =~ err_connect=0 ]] || die "errors in $*: $r"
	[[ $r =~ rps=([0-9.]+) ]] && echo "${BASH_REMATCH[1]}"
}

modes=(off metrics 0.1 1)
for ((round = 1; round <= repeat; round++)); do
	# Each round starts with another mode, so that no mode always runs first (or last) in a round.
	for ((k = 0; k < ${#modes[@]}; k++)); do
		mode=${modes[$(((k + round) % ${#modes[@]}))]}
		start_outrig bench-b "$mode" --app-port "$app_port"
		b_pid=$started_pid
		start_outrig bench-a "$mode"
		a_pid=$started_pid a_port=$started_port
		port=$a_port
		for p in "$a_pid" "$b_pid"; do
			mp=$(metrics_port "$p")
			[ -z "$mp" ] || scrape_while "$p" "$mp"
		done
		for ((i = 0; i < 200; i++)); do
			http GET /v1.0/invoke/bench-b/method/echo && [ "$status" = 200 ] && break
			nap 0.05
		done
		[ "$status" = 200 ] || die "A cannot reach B ($mode): HTTP ${status:-no answer}"
		t0=$(ticks "$a_pid" "$b_pid")
		wrk -t2 -c"$connections" -d"${duration}s" "http://127.0.0.1:$a_port/v1.0/invoke/bench-b/method/echo" \
			>"$tmp/wrk.txt" 2>&1 || die "wrk failed: $(cat "$tmp/wrk.txt")"
		! grep -q 'Non-2xx\|Socket errors' "$tmp/wrk.txt" || die "errors in the invocation run: $(cat "$tmp/wrk.txt")"
		inv=$(awk '/Requests\/sec/ { print $2 }' "$tmp/wrk.txt")
		t1=$(ticks "$a_pid" "$b_pid")
		save=$(rps "http://127.0.0.1:$a_port" -- save mem 1000)
		t2=$(ticks "$a_pid")
		get=$(rps "http://127.0.0.1:$a_port" -- get mem bench-t1-1)
		t3=$(ticks "$a_pid")
		echo "$mode invoke $inv $(cpu_us "$t0" "$t1" "$inv")" >>"$out/results.txt"
		echo "$mode save $save $(cpu_us "$t1" "$t2" "$save")" >>"$out/results.txt"
		echo "$mode get $get $(cpu_us "$t2" "$t3" "$get")" >>"$out/results.txt"
		note "round $round, mode $mode: invoke $inv/s, state save $save/s, state get $get/s"
		stop_pid "$a_pid"
		stop_pid "$b_pid"
	done
done

# Throughput moves with whatever else the machine runs; the sidecars' CPU time per request much less.
printf '%-18s %12s %12s %12s   %s\n' "observability" "invoke/s" "save/s" "get/s" "sidecar CPU us/request: invoke save get"
declare -A base
for mode in "${modes[@]}"; do
	case $mode in
	off) label="all off" ;;
	metrics) label="metrics" ;;
	*) label="metrics+trace $mode" ;;
	esac
	line=$(printf '%-18s' "$label")
	ratios='' cpus=''
	for op in invoke save get; do
		m=$(awk -v m="$mode" -v o="$op" '$1 == m && $2 == o { print $3 }' "$out/results.txt" | median)
		c=$(awk -v m="$mode" -v o="$op" '$1 == m && $2 == o { print $4 }' "$out/results.txt" | median)
		[ "$mode" = off ] && base[$op]=$m
		line+=$(printf ' %12.0f' "$m")
		cpus+=$(printf ' %6.1f' "$c")
		ratios+=$(awk -v a="$m" -v b="${base[$op]}" -v o="$op" 'BEGIN { printf " %s %.3f", o, a / b }')
	done
	echo "$line  $cpus   (throughput ratio to off:$ratios)"
done
note "medians of $repeat rounds of ${duration}s; logs in $out (set BENCH_OUT to keep them)"
