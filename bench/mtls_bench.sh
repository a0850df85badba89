#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks what mTLS between sidecars costs an invocation: app A -> outrigd A -> outrigd B -> app B with
# mTLS on (--enable-mtls, certificates from outrig cert) against the same with plaintext, in the same run,
# the two paths alternating round by round; medians of the rounds, p50 latency and throughput ratios.
#
# Usage: mtls_bench.sh
# Builds nothing: uses $OUTRIGD, $OUTRIG (outrig, for outrig cert), $OUTRIG_PLUGIN_PATH and the helpers in
# $BENCH_BIN (invoke_load, invoke_echo; `make bench` builds them), or the build tree this script sits in.
# Starts app B (invoke_echo) and two pairs of outrigd on loopback (each pair with its own --data-dir), and
# stops them on exit. bench/README.md says what is measured.
# Knobs (environment): BENCH_RATE (1000 req/s), BENCH_DURATION (10 s at that rate), BENCH_MAX_DURATION (5 s
# flat out), BENCH_CONNECTIONS (16), BENCH_PAYLOAD (64 request bytes), BENCH_REPLY (16 reply bytes),
# BENCH_REPEAT (3 rounds), BENCH_WARMUP (1 s per path, 0 = none), BENCH_RESOLVE_TIMEOUT (20 s for A to reach
# B), BENCH_DIR, BENCH_OUT.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench_name=mtls_bench
# shellcheck source=bench/bench_lib.sh
. "$here/bench_lib.sh"

rate=${BENCH_RATE:-1000}
duration=${BENCH_DURATION:-10}
max_duration=${BENCH_MAX_DURATION:-5}
connections=${BENCH_CONNECTIONS:-16}
payload=${BENCH_PAYLOAD:-64}
reply_size=${BENCH_REPLY:-16}
repeat=${BENCH_REPEAT:-3}
warmup=${BENCH_WARMUP:-1}
resolve_timeout=${BENCH_RESOLVE_TIMEOUT:-20}

for v in rate duration max_duration connections payload reply_size repeat warmup resolve_timeout; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number ('${!v}')"
done
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

[ -x "$outrigd" ] || die "no outrigd at $outrigd; run make, or set OUTRIGD"
[ -d "$plugins" ] || die "no plugin folder at $plugins; run make, or set OUTRIG_PLUGIN_PATH"
for h in invoke_load invoke_echo; do
	[ -x "$bin/$h" ] || die "no $h in $bin; run make bench (it builds the helpers), or set BENCH_BIN"
done

outrig=${OUTRIG:-$(dirname "$outrigd")/outrig}
[ -x "$outrig" ] || die "no outrig at $outrig; run make, or set OUTRIG"

tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/outrig-mtls-bench.XXXXXX")
a_pid='' b_pid='' ta_pid='' tb_pid='' echo_pid=''
# stop PIDVAR: ends one process this script started and waits for it.
stop() {
	local p=${!1}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	printf -v "$1" '%s' ''
}
cleanup() {
	stop a_pid
	stop b_pid
	stop ta_pid
	stop tb_pid
	stop echo_pid
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

out=${BENCH_OUT:-$tmp/out}
mkdir -p "$out" "$tmp/res" "$tmp/data" "$tmp/data-tls"
"$outrig" cert ca --trust-domain bench.test --out "$tmp/pki/ca" >/dev/null || die "outrig cert ca failed"
for id in bench-a bench-b; do
	"$outrig" cert issue --ca "$tmp/pki/ca" --app-id "$id" --out "$tmp/pki/$id" >/dev/null ||
		die "outrig cert issue failed"
done
# tls_flags APP_ID: the mTLS flags of that app's sidecar.
tls_flags() {
	echo --enable-mtls --control-plane-trust-domain bench.test --mtls-cert-file "$tmp/pki/$1/tls.crt" \
		--mtls-key-file "$tmp/pki/$1/tls.key" --trust-anchors-file "$tmp/pki/$1/ca.crt"
}
nap_init "$tmp"

# start_echo: app B on a free port; sets echo_pid and echo_port.
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

# start_outrig NAME APP_ID DATA [FLAG...]: one outrigd with an empty resources folder and data folder DATA
# (one per pair); sets NAME_pid, NAME_port (HTTP API) and NAME_internal once /v1.0/healthz answers 204.
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

# probe: until BENCH_RESOLVE_TIMEOUT, one call from A's sidecar to B; says why in probe_failure.
probe_failure=
probe() {
	local t0=$SECONDS port=${1:-$a_port}
	while :; do
		http POST "$invoke_path" '{"probe":true}' || true
		[ "$status" != 200 ] || return 0
		if [ "$status" = 501 ]; then
			probe_failure="POST $invoke_path on outrigd A answers HTTP 501: ${reply:0:300}"
			return 1
		fi
		kill -0 "$a_pid" 2>/dev/null || { probe_failure="outrigd A exited (log: $out/outrigd-a.log)"; return 1; }
		kill -0 "$b_pid" 2>/dev/null || { probe_failure="outrigd B exited (log: $out/outrigd-b.log)"; return 1; }
		if [ $((SECONDS - t0)) -ge "$resolve_timeout" ]; then
			probe_failure="POST $invoke_path on outrigd A still answers HTTP '${status:-no answer}' after ${resolve_timeout}s: ${reply:0:300}"
			return 1
		fi
		nap 0.1
	done
}

invalid=0
got=

# load PATH MODE FILE [SECONDS]: one invoke_load run; sets got to "rate p50 p90 p99 max count backlog".
load() {
	local path=$1 mode=$2 file=$3 secs=${4:-} port url line rc=0 args=()
	if [ "$path" = mtls ]; then
		port=$ta_port url=$invoke_path
	else
		port=$a_port url=$invoke_path
	fi
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

# Each measured run appends "PATH MODE ROUND RATE P50 P90 P99 MAX OK BACKLOG CPU_A CPU_B" (µs; CPU in ms per
# 1000 requests, "-" where not measured).
results=$out/results.txt
: >"$results"

# run PATH MODE ROUND: one measured run, with the sidecars' CPU over it when it goes through them.
run() {
	local path=$1 mode=$2 r=$3 a0 b0 a1 b1 ok cpu_a=- cpu_b=- pa=$a_pid pb=$b_pid
	if [ "$path" = mtls ]; then
		pa=$ta_pid pb=$tb_pid
	fi
	a0=$(cpu_ticks "$pa") b0=$(cpu_ticks "$pb")
	load "$path" "$mode" "$out/$path-$mode-$r.txt"
	if :; then
		a1=$(cpu_ticks "$pa") b1=$(cpu_ticks "$pb")
		ok=$(awk '{ print $6 }' <<<"$got")
		read -r cpu_a cpu_b < <(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v t="$clk_tck" -v n="$ok" \
			'BEGIN { printf "%.1f %.1f\n", a * 1000 / t / (n / 1000), b * 1000 / t / (n / 1000) }')
	fi
	echo "$path $mode $r $got $cpu_a $cpu_b" >>"$results"
}

# measure PATH...: a warm-up per path, then BENCH_REPEAT rounds of the fixed rate and the maximum, turning
# the order of the paths round every round so that the drift of a noisy machine falls on both alike.
measure() {
	local paths=("$@") r i p n mode
	n=${#paths[@]}
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

# column PATH MODE N: column N of that path's and mode's runs.
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

# mem PID: resident and peak memory now.
mem() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "RSS %.1f MB (peak %.1f MB)", r / 1024, h / 1024 }' \
		"/proc/$1/status"
}

start_echo || die "app B (invoke_echo) did not start"
start_outrig b bench-b "$tmp/data" --app-port "$echo_port" || die "outrigd B did not start (log: $out/outrigd-b.log)"
start_outrig a bench-a "$tmp/data" || die "outrigd A did not start (log: $out/outrigd-a.log)"
# shellcheck disable=SC2046 # the flags are words
start_outrig tb bench-b "$tmp/data-tls" --app-port "$echo_port" $(tls_flags bench-b) ||
	die "outrigd B with mTLS did not start (log: $out/outrigd-tb.log)"
# shellcheck disable=SC2046
start_outrig ta bench-a "$tmp/data-tls" $(tls_flags bench-a) || die "outrigd A with mTLS did not start (log: $out/outrigd-ta.log)"
probe "$a_port" || die "plaintext: $probe_failure"
probe "$ta_port" || die "mTLS: $probe_failure"

echo "outrigd: $("$outrigd" --version 2>&1 | head -n 1)"
echo "host: $(nproc) CPUs, $(uname -sr); $repeat rounds per path (median shown), ${warmup}s warm-up per path"
echo "app A = invoke_load: $connections keep-alive connections, one request in flight each, POST of $payload bytes of JSON;"
echo "  fixed rate: $rate req/s for ${duration}s, latency from each request's due time; max: closed loop for ${max_duration}s"
echo "app B = invoke_echo on 127.0.0.1:$echo_port: 200 with $reply_size bytes of JSON"
echo "plain: A -> POST $invoke_path on outrigd A -> outrigd B -> B | mtls: the same, the sidecars with --enable-mtls"
echo

paths=(plain mtls)
measure "${paths[@]}"

printf '%-22s %8s %17s %8s %8s %8s %8s\n' run "req/s" "(min-max req/s)" "p50 ms" "p90 ms" "p99 ms" "max ms"
for mode in rate max; do
	for p in "${paths[@]}"; do
		summarize "$p" "$mode"
		k=$p.$mode
		case $mode in rate) label="$rate req/s" ;; max) label=max ;; esac
		label+=" $p"
		awk -v l="$label" -v r="${med[$k.rate]}" -v lo="${med[$k.lo]}" -v hi="${med[$k.hi]}" \
			-v a="${med[$k.p50]}" -v b="${med[$k.p90]}" -v c="${med[$k.p99]}" -v m="${med[$k.max]}" 'BEGIN {
			printf "%-22s %8.0f %17s %8.3f %8.3f %8.3f %8.3f\n", l, r, sprintf("(%.0f-%.0f)", lo, hi),
				a / 1000, b / 1000, c / 1000, m / 1000 }'
	done
done
echo
for mode in rate max; do
	awk -v m="$mode" -v rt="$rate" -v t="${med[mtls.$mode.p50]}" -v p="${med[plain.$mode.p50]}" 'BEGIN {
		printf "mTLS %s: p50 %.3f ms against %.3f ms, ratio %.2f (%+.3f ms)\n",
			m == "rate" ? "at " rt " req/s" : "at max load", t / 1000, p / 1000, t / p, (t - p) / 1000 }'
done
awk -v t="${med[mtls.max.rate]}" -v p="${med[plain.max.rate]}" 'BEGIN {
	printf "max throughput with mTLS: %.2f of plaintext (%.1fk vs %.1fk req/s)\n", t / p, t / 1000, p / 1000 }'
for s in a b; do
	awk -v w="$s" -v t="${med[mtls.rate.cpu_${s}]}" -v p="${med[plain.rate.cpu_${s}]}" 'BEGIN {
		printf "outrigd %s CPU per 1000 requests at the fixed rate: %.0f ms with mTLS, %.0f ms without\n",
			toupper(w), t, p }'
done
if [ "$invalid" -ne 0 ]; then
	echo "mtls_bench: some runs had errors (see warnings above); figures are not valid" >&2
	exit 1
fi
