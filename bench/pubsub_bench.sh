#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks publish-to-delivery through outrigd (pubsub.mqtt3 on mosquitto, and pubsub.in-memory) against a direct MQTT client.
#
# Usage: pubsub_bench.sh [mqtt] [in-memory]   (both by default)
# Builds nothing: uses $OUTRIGD, $OUTRIG_PLUGIN_PATH and the helpers in $BENCH_BIN (pubsub_load, pubsub_sink,
# pubsub_direct; `make bench` builds them), or the build tree this script sits in. Starts its own mosquitto on
# loopback and stops it on exit; without mosquitto, paho-mqtt-c (pubsub_direct) or pubsub_mqtt3.so the MQTT
# part is skipped with a note, not failed. bench/README.md says what is measured and how to read it.
# Knobs (environment): BENCH_MESSAGES (20000 per run), BENCH_WINDOW (16 publishes in flight), BENCH_PAYLOAD
# (64 bytes of JSON), BENCH_REPEAT (3 rounds), BENCH_WARMUP (2000 messages, 0 = none), BENCH_TIMEOUT (60 s per
# run), BENCH_APP_CONCURRENCY (outrigd --app-max-concurrency; unset = its default), BENCH_MOSQUITTO, BENCH_DIR,
# BENCH_OUT.
bench_name=pubsub_bench
# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

messages=${BENCH_MESSAGES:-20000}
window=${BENCH_WINDOW:-16}
payload=${BENCH_PAYLOAD:-64}
repeat=${BENCH_REPEAT:-3}
warmup=${BENCH_WARMUP:-2000}
run_timeout=${BENCH_TIMEOUT:-60}
concurrency=${BENCH_APP_CONCURRENCY:-}
# outrigd's worker threads: a blocking publish holds one until the broker's PUBACK.
workers=${BENCH_WORKER_THREADS:-}

whole_numbers messages window payload repeat warmup run_timeout
if [ "$messages" -eq 0 ] || [ "$window" -eq 0 ] || [ "$repeat" -eq 0 ] || [ "$run_timeout" -eq 0 ]; then
	die "BENCH_MESSAGES, BENCH_WINDOW, BENCH_REPEAT and BENCH_TIMEOUT must be at least 1"
fi
# The body is {"t":…,"seq":…,"run":…,"pad":"…"}: below about 60 bytes the padding has nothing left to pad.
if [ "$payload" -lt 64 ] || [ "$payload" -ge 4096 ]; then
	die "BENCH_PAYLOAD must be from 64 to 4095 bytes"
fi
[ -z "$concurrency" ] || [[ $concurrency =~ ^[0-9]+$ ]] || die "BENCH_APP_CONCURRENCY must be a whole number"

need_outrigd
need_helpers bench pubsub_load pubsub_sink

kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(mqtt in-memory)
for k in "${kinds[@]}"; do
	case $k in
	mqtt | in-memory) ;;
	*) die "unknown path '$k' (mqtt or in-memory)" ;;
	esac
done

pid='' sink_pid='' mosq_pid=''
cleanup() {
	stop pid
	stop sink_pid
	stop mosq_pid
	rm -rf "$tmp"
}
bench_tmp pubsub-bench

# port_open PORT: something accepts on 127.0.0.1:PORT.
port_open() {
	local fd
	{ exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	exec {fd}>&-
}

# start_sink NAME: the bench app on a free port; sets sink_pid and sink_port.
start_sink() {
	local attempt i log=$out/sink-$1.txt
	for attempt in 1 2 3; do
		sink_port=$(free_port)
		"$bin/pubsub_sink" -p "$sink_port" -P pubsub -t bench >"$log" 2>&1 &
		sink_pid=$!
		for ((i = 0; i < 200; i++)); do
			! grep -q '^LISTENING' "$log" || return 0
			kill -0 "$sink_pid" 2>/dev/null || break
			nap 0.01
		done
		stop sink_pid
		note "pubsub_sink did not listen on $sink_port (attempt $attempt): $(cat "$log")"
	done
	return 1
}

# sink METHOD PATH: one request to the bench app; sets status and reply.
sink() {
	local port=$sink_port
	http "$1" "$2"
}

# component NAME TYPE [KEY VALUE]...: a resources folder $tmp/res-NAME with that one component, named pubsub.
component() {
	local dir=$tmp/res-$1 type=$2
	shift 2
	mkdir -p "$dir"
	{
		printf 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n'
		printf '  type: %s\n  version: v1\n  metadata:\n' "$type"
		while [ $# -ge 2 ]; do
			printf '  - name: %s\n    value: "%s"\n' "$1" "$2"
			shift 2
		done
	} >"$dir/pubsub.yaml"
	echo "$dir"
}

# start_outrig NAME RESOURCES: outrigd for the app on $sink_port; sets pid and port once it is healthy and
# lists the app's subscription.
start_outrig() {
	local name=$1 res=$2 log=$out/outrigd-$1.log attempt t0 extra=()
	[ -z "$concurrency" ] || extra=(--app-max-concurrency "$concurrency")
	[ -z "$workers" ] || extra+=(--worker-threads "$workers")
	for attempt in 1 2 3; do
		port=$(free_port)
		mkdir -p "$tmp/data-$name"
		t0=$SECONDS status=
		"$outrigd" --app-id bench --app-port "$sink_port" --dapr-http-port "$port" \
			--dapr-listen-addresses 127.0.0.1 --plugin-dir "$plugins" --resources-path "$res" \
			--data-dir "$tmp/data-$name" --log-level warn "${extra[@]}" >"$log" 2>&1 &
		pid=$!
		while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do
			if http GET /v1.0/healthz && [ "$status" = 204 ]; then
				break
			fi
			nap 0.01
		done
		if [ "$status" = 204 ]; then
			# outrigd asks the app for its subscriptions once the app port answers; wait until it has.
			while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do
				if http GET /v1.0/metadata && [ "$status" = 200 ] &&
					[[ $reply == *'"subscriptions"'*'"bench"'* ]]; then
					return 0
				fi
				nap 0.05
			done
			note "outrigd ($name) is up but does not list the subscription to pubsub/bench; /v1.0/metadata: ${reply:0:400}"
			sink GET '/control/result?run=0' || true
			note "the app says: $reply"
			stop pid
			return 1
		fi
		stop pid
		note "outrigd ($name) did not become healthy (attempt $attempt, port $port):"
		sed 's/^/  | /' "$log" >&2
	done
	return 1
}

invalid=0
run_id=0
# Each measured run appends "PATH ROUND RATE P50_US P99_US PUBLISH_RATE" here.
results=$out/results.txt
: >"$results"
got=

# outrig_run N FILE: one run through outrigd: pubsub_load publishes, the app counts the deliveries.
outrig_run() {
	local n=$1 file=$2 load_line t0 rc=0
	run_id=$((run_id + 1))
	sink POST "/control/start?run=$run_id&n=$n" || true
	[ "$status" = 204 ] || die "the bench app did not start run $run_id (HTTP '$status')"
	"$bin/pubsub_load" -p "$port" -P pubsub -t bench -n "$n" -k "$window" -s "$payload" -r "$run_id" >"$file" 2>&1 || rc=$?
	load_line=$(grep '^RESULT ' "$file") || die "pubsub_load failed: $(cat "$file")"
	if [ "$rc" -ne 0 ] || [ "$(field errors "$load_line")" != 0 ]; then
		note "WARNING: publishing through outrigd had errors: $(cat "$file")"
		invalid=1
	fi
	t0=$SECONDS
	while :; do
		sink GET "/control/result?run=$run_id" || true
		[ "$status" != 200 ] || break
		kill -0 "$pid" 2>/dev/null || die "outrigd died during run $run_id; its log: $(cat "$out"/outrigd-*.log)"
		if [ $((SECONDS - t0)) -ge "$run_timeout" ]; then
			note "WARNING: run $run_id: not every message reached the app within ${run_timeout}s: $reply"
			invalid=1
			got="0 0 0 $(field publish_rate "$load_line")"
			return 0
		fi
		nap 0.02
	done
	echo "$reply" >>"$file"
	if [ "$(field bad "$reply")" != 0 ]; then
		note "WARNING: run $run_id: the app got deliveries it could not read (no data.t): $reply"
		invalid=1
	fi
	got="$(field rate "$reply") $(field p50_us "$reply") $(field p99_us "$reply") $(field publish_rate "$load_line")"
}

# direct_run N FILE: one run of the paho publisher and subscriber, on a topic of their own so that
# outrigd's subscription does not see them.
direct_run() {
	local line rc=0
	run_id=$((run_id + 1))
	"$bin/pubsub_direct" -u "tcp://127.0.0.1:$mosq_port" -t bench-direct -n "$1" -k "$window" -s "$payload" \
		-r "$run_id" -w "$run_timeout" >"$2" 2>&1 || rc=$?
	line=$(grep '^RESULT ' "$2") || die "pubsub_direct failed: $(cat "$2")"
	if [ "$rc" -ne 0 ]; then
		note "WARNING: the direct run $run_id was incomplete: $(cat "$2")"
		invalid=1
	fi
	got="$(field rate "$line") $(field p50_us "$line") $(field p99_us "$line") $(field publish_rate "$line")"
}

# measure PATH...: warm-up, then BENCH_REPEAT rounds of each path, turning the order round every round so
# that the drift of a noisy machine falls on all alike. Paths: direct, outrig, memory.
measure() {
	local paths=("$@") r i p n
	n=${#paths[@]}
	if [ "$warmup" -gt 0 ]; then
		for p in "${paths[@]}"; do
			run_path "$p" "$warmup" "$out/$p-warmup.txt"
		done
	fi
	for ((r = 1; r <= repeat; r++)); do
		for ((i = 0; i < n; i++)); do
			p=${paths[(i + r - 1) % n]}
			if [ -t 2 ]; then
				printf '\r  round %d/%d: %-7s' "$r" "$repeat" "$p" >&2
			fi
			run_path "$p" "$messages" "$out/$p-$r.txt"
			echo "$p $r $got" >>"$results"
		done
	done
	if [ -t 2 ]; then
		printf '\r%40s\r' '' >&2
	fi
}

run_path() {
	if [ "$1" = direct ]; then
		direct_run "$2" "$3"
	else
		outrig_run "$2" "$3"
	fi
}

# rss NAME: outrigd's resident and peak memory now.
declare -A rss_line
rss() {
	rss_line[$1]=$(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "%.1f MB (peak %.1f MB)", r / 1024, h / 1024 }' \
		"/proc/$pid/status")
}

# Medians, min-max of the rate, per path; filled in by summarize.
declare -A med_rate med_p50 med_p99 med_pub lo hi
column() {
	awk -v p="$1" -v c="$2" '$1 == p { print $c }' "$results"
}
summarize() {
	local p=$1
	[ -n "$(column "$p" 3)" ] || return 1
	med_rate[$p]=$(column "$p" 3 | median)
	med_p50[$p]=$(column "$p" 4 | median)
	med_p99[$p]=$(column "$p" 5 | median)
	med_pub[$p]=$(column "$p" 6 | median)
	lo[$p]=$(column "$p" 3 | sort -g | head -n 1)
	hi[$p]=$(column "$p" 3 | sort -g | tail -n 1)
}

# probe: one message by hand before any load, since a path that does not deliver would measure nothing;
# says why in probe_failure.
probe_failure=
probe() {
	local i
	run_id=$((run_id + 1))
	sink POST "/control/start?run=$run_id&n=1" || true
	http POST /v1.0/publish/pubsub/bench "{\"t\":$(($(date +%s%N) / 1000)),\"seq\":0,\"run\":$run_id}" || true
	if [ "$status" != 204 ]; then
		probe_failure="publishing through outrigd answered HTTP '$status': ${reply:0:300}"
		return 1
	fi
	for ((i = 0; i < 500; i++)); do
		sink GET "/control/result?run=$run_id" || true
		[ "$status" != 200 ] || return 0
		nap 0.02
	done
	probe_failure="a message published through outrigd did not reach the app within 10 s (the app: $reply)"
	return 1
}

mosquitto_bin() {
	local m=${BENCH_MOSQUITTO:-}
	[ -n "$m" ] || m=$(command -v mosquitto 2>/dev/null) || m=/usr/sbin/mosquitto
	[ -x "$m" ] && echo "$m"
}

ran_mqtt=0 ran_memory=0 mqtt_note='' memory_note=''

bench_mqtt() {
	local mosq attempt i conf=$tmp/mosquitto.conf res
	mosq=$(mosquitto_bin) || { mqtt_note="mqtt: skipped, no mosquitto (Debian: apt-get install mosquitto; or set BENCH_MOSQUITTO)"; return 0; }
	[ -x "$bin/pubsub_direct" ] || { mqtt_note="mqtt: skipped, no pubsub_direct in $bin (paho-mqtt-c was not found by configure; Debian: libpaho-mqtt-dev)"; return 0; }
	[ -e "$plugins/pubsub_mqtt3.so" ] || { mqtt_note="mqtt: skipped, no pubsub_mqtt3.so in $plugins (was paho-mqtt-c found by configure?)"; return 0; }

	for attempt in 1 2 3; do
		mosq_port=$(free_port)
		# No queue limit, so that a slow subscriber makes a backlog rather than losing QoS 1 messages (the
		# default keeps 1000); Nagle off on the broker's sockets, as on ours.
		{
			printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mosq_port"
			printf 'max_queued_messages 0\nset_tcp_nodelay true\nlog_dest stderr\n'
			[ "$(id -u)" -ne 0 ] || echo 'user root'
		} >"$conf"
		"$mosq" -c "$conf" >"$out/mosquitto.log" 2>&1 &
		mosq_pid=$!
		for ((i = 0; i < 200; i++)); do
			! port_open "$mosq_port" || break 2
			kill -0 "$mosq_pid" 2>/dev/null || break
			nap 0.01
		done
		stop mosq_pid
		note "mosquitto did not listen on $mosq_port (attempt $attempt): $(tail -n 3 "$out/mosquitto.log")"
	done
	[ -n "$mosq_pid" ] || { mqtt_note="mqtt: skipped, could not start mosquitto (its log: $out/mosquitto.log)"; return 0; }

	start_sink mqtt || { mqtt_note="mqtt: skipped, the bench app did not start"; stop mosq_pid; return 0; }
	res=$(component mqtt pubsub.mqtt3 url "tcp://127.0.0.1:$mosq_port" consumerID bench qos 1)
	if ! start_outrig mqtt "$res"; then
		mqtt_note="mqtt: skipped, outrigd did not start with pubsub.mqtt3 and the app's subscription (log: $out/outrigd-mqtt.log)"
		stop sink_pid
		stop mosq_pid
		return 0
	fi
	if ! probe; then
		mqtt_note="mqtt: skipped, $probe_failure"
		stop pid
		stop sink_pid
		stop mosq_pid
		return 0
	fi

	echo "== mqtt: pubsub.mqtt3 through outrigd vs paho MQTTAsync direct"
	echo "mosquitto $("$mosq" -h 2>&1 | sed -n 's/^mosquitto version //p') on 127.0.0.1:$mosq_port (no persistence, max_queued_messages 0, set_tcp_nodelay)"
	echo "direct: pubsub_direct, one paho subscriber and one publisher, QoS 1, $window publishes awaiting PUBACK"
	echo "outrig: pubsub_load, $window connections each awaiting its 204 -> outrigd -> mosquitto -> outrigd -> POST /bench on pubsub_sink"
	echo
	measure direct outrig
	rss mqtt
	ran_mqtt=1
	stop pid
	stop sink_pid
	stop mosq_pid
}

bench_memory() {
	local res
	start_sink memory || { memory_note="in-memory: skipped, the bench app did not start"; return 0; }
	res=$(component memory pubsub.in-memory)
	if ! start_outrig memory "$res"; then
		memory_note="in-memory: skipped, outrigd did not start with pubsub.in-memory and the app's subscription (log: $out/outrigd-memory.log)"
		stop sink_pid
		return 0
	fi
	if ! probe; then
		memory_note="in-memory: skipped, $probe_failure"
		stop pid
		stop sink_pid
		return 0
	fi
	echo "== in-memory: pubsub.in-memory through outrigd (no broker: the sidecar's own floor)"
	echo
	measure memory
	rss memory
	ran_memory=1
	stop pid
	stop sink_pid
}

report() {
	local p label
	printf '%-24s %9s %17s %9s %9s %11s\n' path "msg/s" "(min-max msg/s)" "p50 ms" "p99 ms" "publish/s"
	for p in direct outrig memory; do
		summarize "$p" || continue
		case $p in
		direct) label="mqtt direct" ;;
		outrig) label="mqtt through outrigd" ;;
		memory) label="in-memory through outrigd" ;;
		esac
		awk -v l="$label" -v r="${med_rate[$p]}" -v lo="${lo[$p]}" -v hi="${hi[$p]}" -v a="${med_p50[$p]}" \
			-v b="${med_p99[$p]}" -v pub="${med_pub[$p]}" 'BEGIN {
			printf "%-24s %9.0f %17s %9.3f %9.3f %11.0f\n", l, r, sprintf("(%.0f-%.0f)", lo, hi), a / 1000, b / 1000, pub }'
	done
	echo
	if [ "$ran_mqtt" -eq 1 ]; then
		awk -v orps="${med_rate[outrig]}" -v o50="${med_p50[outrig]}" -v o99="${med_p99[outrig]}" \
			-v drps="${med_rate[direct]}" -v d50="${med_p50[direct]}" -v d99="${med_p99[direct]}" 'BEGIN {
			printf "mqtt: outrig %.1fk msg/s p50 %.2f ms p99 %.2f ms | direct %.1fk p50 %.2f p99 %.2f | ratio %.2f, %+.2f ms p50, %+.2f ms p99\n",
				orps / 1000, o50 / 1000, o99 / 1000, drps / 1000, d50 / 1000, d99 / 1000,
				orps / drps, (o50 - d50) / 1000, (o99 - d99) / 1000 }'
		echo "outrigd RSS after the mqtt runs: ${rss_line[mqtt]}"
	fi
	if [ "$ran_memory" -eq 1 ]; then
		awk -v r="${med_rate[memory]}" -v a="${med_p50[memory]}" -v b="${med_p99[memory]}" -v d="${med_rate[direct]:-}" 'BEGIN {
			printf "in-memory: outrig %.1fk msg/s p50 %.2f ms p99 %.2f ms", r / 1000, a / 1000, b / 1000
			if (d != "") printf " | %.2f x direct mqtt", r / d
			printf "\n" }'
		echo "outrigd RSS after the in-memory runs: ${rss_line[memory]}"
	fi
}

echo "outrigd: $("$outrigd" --version 2>&1 | head -n 1)"
echo "host: $(nproc) CPUs, $(uname -sr); $repeat rounds of $messages messages per path (median shown), $warmup-message warm-up"
echo "all paths: QoS 1, $payload-byte JSON body, $window publishes in flight; latency = publish call -> app/subscriber receipt"
echo
for k in "${kinds[@]}"; do
	case $k in
	mqtt) bench_mqtt ;;
	in-memory) bench_memory ;;
	esac
done
[ -z "$mqtt_note" ] || echo "$mqtt_note"
[ -z "$memory_note" ] || echo "$memory_note"
if [ "$ran_mqtt" -eq 1 ] || [ "$ran_memory" -eq 1 ]; then
	report
fi

if [ "$invalid" -ne 0 ]; then
	echo "pubsub_bench: some runs had errors (see warnings above); figures are not valid" >&2
	exit 1
fi
