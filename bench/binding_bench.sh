#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks the output binding `create` through outrigd (bindings.kafka) into librdkafka's mock cluster, against a direct librdkafka producer.
#
# Usage: binding_bench.sh
# Builds nothing: uses $OUTRIGD, $OUTRIG_PLUGIN_PATH and the helpers in $BENCH_BIN (binding_mock, binding_direct,
# binding_load; `make bench` builds them when the bindings.kafka plugin is built), or the build tree this script
# sits in. Starts the mock cluster (binding_mock) and one outrigd on loopback, and stops them on exit. Without
# the helpers or bindings_kafka.so it says why and exits 0; if outrigd cannot produce, the direct path is still
# measured and the script says why and exits 1. bench/README.md says what is measured.
# Knobs (environment): BENCH_MESSAGES (20000 per run), BENCH_WINDOW (16 in flight), BENCH_PAYLOAD (64 bytes of
# JSON), BENCH_REPEAT (3 rounds), BENCH_WARMUP (2000 messages, 0 = none), BENCH_BROKERS (3), BENCH_PARTITIONS (3),
# BENCH_TIMEOUT (60 s per run), BENCH_DIRECT_PROPS (librdkafka properties for the direct producer, "k=v k=v"),
# BENCH_REFERENCE_PROPS (linger.ms=0: a third, reference path; empty = none), BENCH_WORKER_THREADS (outrigd
# --worker-threads; unset = its default), BENCH_DIR, BENCH_OUT.
bench_name=binding_bench
# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

messages=${BENCH_MESSAGES:-20000}
window=${BENCH_WINDOW:-16}
payload=${BENCH_PAYLOAD:-64}
repeat=${BENCH_REPEAT:-3}
warmup=${BENCH_WARMUP:-2000}
brokers=${BENCH_BROKERS:-3}
partitions=${BENCH_PARTITIONS:-3}
run_timeout=${BENCH_TIMEOUT:-60}
# outrigd's worker threads: a create that waits for Kafka's acknowledgement may hold one.
workers=${BENCH_WORKER_THREADS:-}
# The direct producer gets the plugin producer's settings: no batching delay (Nagle is off in both already).
read -r -a direct_props <<<"${BENCH_DIRECT_PROPS-linger.ms=0}"
read -r -a reference_props <<<"${BENCH_REFERENCE_PROPS-}"

whole_numbers messages window payload repeat warmup brokers partitions run_timeout
if [ "$messages" -eq 0 ] || [ "$window" -eq 0 ] || [ "$repeat" -eq 0 ] || [ "$run_timeout" -eq 0 ] ||
	[ "$brokers" -eq 0 ] || [ "$partitions" -eq 0 ]; then
	die "BENCH_MESSAGES, BENCH_WINDOW, BENCH_REPEAT, BENCH_TIMEOUT, BENCH_BROKERS and BENCH_PARTITIONS must be at least 1"
fi
if [ "$payload" -lt 12 ] || [ "$payload" -gt 65536 ]; then
	die "BENCH_PAYLOAD must be from 12 to 65536 bytes"
fi
for p in "${direct_props[@]}" "${reference_props[@]}"; do
	[[ $p == ?*=* ]] || die "librdkafka properties are name=value ('$p')"
done
[ -z "$workers" ] || [[ $workers =~ ^[0-9]+$ ]] || die "BENCH_WORKER_THREADS must be a whole number"

need_outrigd
for h in binding_mock binding_direct binding_load; do
	if [ ! -x "$bin/$h" ]; then
		echo "binding_bench: skipped, no $h in $bin (it comes with the bindings.kafka plugin, which needs librdkafka >= 2.0; Debian: librdkafka-dev; then make bench, or set BENCH_BIN)"
		exit 0
	fi
done
if [ ! -e "$plugins/bindings_kafka.so" ]; then
	echo "binding_bench: skipped, no bindings_kafka.so in $plugins (was librdkafka found by configure?)"
	exit 0
fi

pid='' mock_pid='' mock_in=''
# stop_mock: closing its stdin is how the mock cluster is told to go (and it goes even if this script is
# killed without a chance to clean up); SIGTERM only if that did not do it.
stop_mock() {
	local i
	[ -n "$mock_pid" ] || return 0
	if [ -n "$mock_in" ]; then
		exec {mock_in}>&-
		mock_in=''
		for ((i = 0; i < 200; i++)); do
			kill -0 "$mock_pid" 2>/dev/null || break
			nap 0.01
		done
	fi
	stop mock_pid
}
cleanup() {
	stop pid
	stop_mock
	rm -rf "$tmp"
}
bench_tmp binding-bench
mkdir -p "$tmp/res" "$tmp/data"

# The produced value: {"pad":"xx…"} of exactly BENCH_PAYLOAD bytes, the same on every path; through outrigd it
# is the request's data, with the message key in its metadata.
value="{\"pad\":\"$(printf '%*s' $((payload - 10)) '' | tr ' ' x)\"}"
key=k
body="{\"operation\":\"create\",\"data\":$value,\"metadata\":{\"key\":\"$key\"}}"
topic=bench
binding_path=/v1.0/bindings/kafka

# start_mock: the mock cluster, its stdin a pipe this script holds open; sets mock_pid and bootstrap.
bootstrap=''
start_mock() {
	local i log=$out/mock.txt
	mkfifo "$tmp/mock.in"
	"$bin/binding_mock" -b "$brokers" -t "$topic" -P "$partitions" <"$tmp/mock.in" >"$log" 2>&1 &
	mock_pid=$!
	exec {mock_in}>"$tmp/mock.in"
	for ((i = 0; i < 500; i++)); do
		if grep -q '^READY' "$log"; then
			bootstrap=$(sed -n 's/^BOOTSTRAP //p' "$log")
			[ -n "$bootstrap" ] && return 0
		fi
		kill -0 "$mock_pid" 2>/dev/null || break
		nap 0.01
	done
	note "the mock cluster did not start: $(cat "$log")"
	return 1
}

# start_outrig: outrigd with the one component kafka (bindings.kafka on the mock's brokers); sets pid and port
# once /v1.0/healthz answers 204.
start_outrig() {
	local log=$out/outrigd.log attempt t0 extra=()
	[ -z "$workers" ] || extra=(--worker-threads "$workers")
	{
		printf 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: kafka\nspec:\n'
		printf '  type: bindings.kafka\n  version: v1\n  metadata:\n'
		printf '  - name: %s\n    value: "%s"\n' brokers "$bootstrap" publishTopic "$topic" authType none
	} >"$tmp/res/kafka.yaml"
	for attempt in 1 2 3; do
		port=$(free_port)
		t0=$SECONDS status=
		"$outrigd" --app-id bench --dapr-http-port "$port" --dapr-listen-addresses 127.0.0.1 \
			--plugin-dir "$plugins" --resources-path "$tmp/res" --data-dir "$tmp/data" \
			--log-level warn "${extra[@]}" >"$log" 2>&1 {mock_in}>&- &
		pid=$!
		while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do
			if http GET /v1.0/healthz && [ "$status" = 204 ]; then
				return 0
			fi
			nap 0.01
		done
		stop pid
		note "outrigd did not become healthy (attempt $attempt, port $port):"
		sed 's/^/  | /' "$log" >&2
	done
	return 1
}

# probe: one create by hand, since a path that does not produce would measure nothing; says why in
# probe_failure.
probe_failure=
probe() {
	http POST "$binding_path" "$body" || true
	case $status in
	200 | 204) return 0 ;;
	'') probe_failure="POST $binding_path on outrigd got no answer (log: $out/outrigd.log)" ;;
	*) probe_failure="POST $binding_path on outrigd answers HTTP $status: ${reply:0:300}" ;;
	esac
	return 1
}

invalid=0
got=

# one PATH N FILE: one run of N messages; sets got to "rate p50 p90 p99 max".
one() {
	local path=$1 n=$2 file=$3 line rc=0 args=() p
	case $path in
	outrig)
		"$bin/binding_load" -p "$port" -u "$binding_path" -b "$body" -n "$n" -k "$window" -w "$run_timeout" \
			>"$file" 2>&1 || rc=$?
		;;
	direct | reference)
		if [ "$path" = direct ]; then
			for p in "${direct_props[@]}"; do args+=(-X "$p"); done
		else
			for p in "${direct_props[@]}" "${reference_props[@]}"; do args+=(-X "$p"); done
		fi
		"$bin/binding_direct" -b "$bootstrap" -t "$topic" -n "$n" -k "$window" -v "$value" -K "$key" \
			-w "$run_timeout" "${args[@]}" >"$file" 2>&1 || rc=$?
		;;
	esac
	line=$(grep '^RESULT ' "$file") || die "the $path run failed: $(cat "$file")"
	if [ "$rc" -ne 0 ] || [ "$(field errors "$line")" != 0 ]; then
		note "WARNING: the $path run had errors: $(head -c 2000 "$file")"
		invalid=1
	fi
	got="$(field rate "$line") $(field p50_us "$line") $(field p90_us "$line") $(field p99_us "$line")"
	got+=" $(field max_us "$line")"
}

# Each measured run appends "PATH ROUND RATE P50 P90 P99 MAX CPU" (µs; CPU: outrigd's ms per 1000 messages,
# "-" where not measured).
results=$out/results.txt
: >"$results"

# run PATH ROUND: one measured run, with outrigd's CPU over it when it goes through outrigd.
run() {
	local path=$1 r=$2 c0 c1 cpu=-
	[ "$path" != outrig ] || c0=$(cpu_ticks "$pid")
	one "$path" "$messages" "$out/$path-$r.txt"
	if [ "$path" = outrig ]; then
		c1=$(cpu_ticks "$pid")
		cpu=$(awk -v c=$((c1 - c0)) -v t="$clk_tck" -v n="$messages" 'BEGIN { printf "%.1f", c * 1000 / t / (n / 1000) }')
	fi
	echo "$path $r $got $cpu" >>"$results"
}

# measure PATH...: a warm-up run per path, then BENCH_REPEAT rounds, turning the order of the paths round
# every round so that the drift of a noisy machine falls on all alike.
measure() {
	local paths=("$@") r i p n
	n=${#paths[@]}
	if [ "$warmup" -gt 0 ]; then
		for p in "${paths[@]}"; do
			one "$p" "$warmup" "$out/$p-warmup.txt"
		done
	fi
	for ((r = 1; r <= repeat; r++)); do
		for ((i = 0; i < n; i++)); do
			p=${paths[(i + r - 1) % n]}
			if [ -t 2 ]; then
				printf '\r  round %d/%d: %-9s' "$r" "$repeat" "$p" >&2
			fi
			run "$p" "$r"
		done
	done
	if [ -t 2 ]; then
		printf '\r%40s\r' '' >&2
	fi
}

# column PATH N: column N of that path's runs.
column() {
	awk -v p="$1" -v c="$2" '$1 == p { print $c }' "$results"
}
declare -A med
# summarize PATH: medians into med[PATH.rate|p50|p90|p99|max|cpu], plus lo and hi of the rate.
summarize() {
	local c name
	[ -n "$(column "$1" 3)" ] || return 1
	c=3
	for name in rate p50 p90 p99 max cpu; do
		if [ "$(column "$1" "$c" | head -n 1)" != - ]; then
			med[$1.$name]=$(column "$1" "$c" | median)
		fi
		c=$((c + 1))
	done
	med[$1.lo]=$(column "$1" 3 | sort -g | head -n 1)
	med[$1.hi]=$(column "$1" 3 | sort -g | tail -n 1)
}

# mem PID: resident and peak memory now.
mem() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "RSS %.1f MB (peak %.1f MB)", r / 1024, h / 1024 }' \
		"/proc/$1/status"
}

start_mock || die "the mock cluster (binding_mock) did not start"
through=1
if ! start_outrig; then
	through=0
	probe_failure="outrigd did not start with the bindings.kafka component (log: $out/outrigd.log)"
elif ! probe; then
	through=0
fi
idle=''
[ "$through" -eq 0 ] || idle=$(mem "$pid")

direct_desc="acks=all socket.nagle.disable=true${direct_props[*]:+ ${direct_props[*]}}, the rest librdkafka's defaults"
echo "outrigd: $("$outrigd" --version 2>&1 | head -n 1)"
echo "host: $(nproc) CPUs, $(uname -sr); librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?')"
echo "mock cluster: $brokers brokers at $bootstrap, topic $topic ($partitions partitions, replicated on every broker)"
echo "every path: $messages messages per round, $window in flight, the same $payload-byte JSON value and key \"$key\";"
echo "  $repeat rounds (median shown), ${warmup}-message warm-up per path"
echo "direct:  binding_direct, one librdkafka producer ($direct_desc); latency = produce() -> delivery report"
echo "outrig:  binding_load, $window keep-alive connections each awaiting its answer -> POST $binding_path {\"operation\":\"create\",…}"
echo "         -> outrigd (bindings.kafka${workers:+, --worker-threads $workers}) -> mock cluster; latency = request written -> 2xx read"
[ ${#reference_props[@]} -eq 0 ] ||
	echo "reference: binding_direct as direct, plus ${reference_props[*]} (not what the plugin runs; for scale)"
echo

paths=(direct outrig)
[ "$through" -eq 1 ] || paths=(direct)
[ ${#reference_props[@]} -eq 0 ] || paths+=(reference)
measure "${paths[@]}"

printf '%-22s %9s %17s %8s %8s %8s %8s\n' path "msg/s" "(min-max msg/s)" "p50 ms" "p90 ms" "p99 ms" "max ms"
for p in "${paths[@]}"; do
	summarize "$p"
	case $p in
	direct) label="direct librdkafka" ;;
	outrig) label="through outrigd" ;;
	reference) label="direct, ${reference_props[*]}" ;;
	esac
	awk -v l="$label" -v r="${med[$p.rate]}" -v lo="${med[$p.lo]}" -v hi="${med[$p.hi]}" -v a="${med[$p.p50]}" \
		-v b="${med[$p.p90]}" -v c="${med[$p.p99]}" -v m="${med[$p.max]}" 'BEGIN {
		printf "%-22s %9.0f %17s %8.3f %8.3f %8.3f %8.3f\n", l, r, sprintf("(%.0f-%.0f)", lo, hi),
			a / 1000, b / 1000, c / 1000, m / 1000 }'
done
echo

if [ "$through" -eq 1 ]; then
	awk -v o="${med[outrig.rate]}" -v d="${med[direct.rate]}" -v o50="${med[outrig.p50]}" -v d50="${med[direct.p50]}" \
		-v o99="${med[outrig.p99]}" -v d99="${med[direct.p99]}" 'BEGIN {
		printf "through outrigd: %.2f of direct (%.1fk vs %.1fk msg/s); added %+.3f ms p50, %+.3f ms p99\n",
			o / d, o / 1000, d / 1000, (o50 - d50) / 1000, (o99 - d99) / 1000 }'
	awk -v m="$(mem "$pid")" -v i="$idle" -v c="${med[outrig.cpu]}" 'BEGIN {
		printf "outrigd: %s after the runs, idle %s; CPU %.0f ms per 1000 messages\n", m, substr(i, 5), c }'
else
	echo "through outrigd: NOT MEASURED: outrigd does not produce through bindings.kafka yet."
	echo "  $probe_failure"
	note "the binding through outrigd did not work; only the direct path was measured"
	exit 1
fi
if [ "$invalid" -ne 0 ]; then
	echo "binding_bench: some runs had errors (see warnings above); figures are not valid" >&2
	exit 1
fi
