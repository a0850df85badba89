#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What metrics cost (issue 14): state save, state get and service invocation throughput of one outrigd
# with metrics on (scraped every second, more often than Prometheus's default 15 s) and one with
# --enable-metrics=false, side by side in the same run, their wrk runs interleaved so that a noisy
# machine's drift hits both alike. Prints the medians and the ratio on/off per scenario. A third
# sidecar, the control, is another --enable-metrics=false one: its ratio to "off" is what two
# identical sidecars differ by on this machine in this run, the noise an on/off ratio is read against.
#
# Builds nothing: uses $OUTRIGD, $OUTRIG_PLUGIN_PATH and invoke_echo from $BENCH_BIN (`make bench`
# builds it, and metrics_record, which times the recording alone), or the build tree this script sits in. Knobs (environment): BENCH_DURATION (3s per run),
# BENCH_THREADS (2), BENCH_CONNECTIONS (16), BENCH_REPEAT (5 rounds, medians reported), BENCH_WARMUP
# (1s, 0 = none), BENCH_OUT (a folder to keep wrk's output and the logs in; default: not kept).
# A run takes about 3 x 3 scenarios x BENCH_REPEAT x BENCH_DURATION: 135 s by default.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lua=$here/state.lua

duration=${BENCH_DURATION:-3s}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-16}
repeat=${BENCH_REPEAT:-5}
warmup=${BENCH_WARMUP:-1s}

bench_name=metrics_overhead
# shellcheck source=bench/bench_lib.sh
. "$here/bench_lib.sh"

command -v wrk >/dev/null || die "wrk is not on PATH (Debian: apt-get install wrk)"
[ -x "$outrigd" ] || die "no outrigd at $outrigd; run make, or set OUTRIGD"
[ -d "$plugins" ] || die "no plugin folder at $plugins; run make, or set OUTRIG_PLUGIN_PATH"
[ -x "$bin/invoke_echo" ] || die "no invoke_echo in $bin; run make bench (or make bench/invoke_echo), or set BENCH_BIN"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-metrics-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

out=${BENCH_OUT:-$tmp/out}
mkdir -p "$out" "$tmp/resources"
nap_init "$tmp"

cat >"$tmp/resources/mem.yaml" <<EOF
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: mem
spec:
  type: state.in-memory
  version: v1
  metadata: []
EOF

# The app both sidecars invoke.
echo_port=$(free_port)
"$bin/invoke_echo" -p "$echo_port" -s 16 >"$out/app.txt" 2>&1 &
pids+=($!)
for ((i = 0; i < 200; i++)); do
	! grep -qs "^LISTENING" "$out/app.txt" || break
	nap 0.01
done
grep -q '^LISTENING' "$out/app.txt" || die "invoke_echo did not start: $(cat "$out/app.txt")"

# start MODE: outrigd with metrics on or off; sets port_MODE and metrics_MODE.
declare -A dport mport dpid
start() {
	local mode=$1 attempt flags
	for attempt in 1 2 3; do
		port=$(free_port)
		mport[$mode]=$(free_port)
		flags=(--metrics-port "${mport[$mode]}" --metrics-listen-address 127.0.0.1)
		[ "$mode" = on ] || flags+=(--enable-metrics=false) # off and ctl
		XDG_DATA_HOME=$tmp/data "$outrigd" --app-id "bench-$mode" --app-port "$echo_port" \
			--dapr-http-port "$port" --dapr-grpc-port "$(free_port)" --plugin-dir "$plugins" \
			--resources-path "$tmp/resources" --log-level warn "${flags[@]}" >"$out/outrigd-$mode.log" 2>&1 &
		pids+=($!)
		dpid[$mode]=$!
		for ((i = 0; i < 500; i++)); do
			if http GET /v1.0/healthz && [ "$status" = 204 ]; then
				dport[$mode]=$port
				return 0
			fi
			nap 0.01
		done
		note "outrigd ($mode) did not become healthy (attempt $attempt): $(cat "$out/outrigd-$mode.log")"
	done
	die "could not start outrigd ($mode)"
}
start on
start off
start ctl
for mode in on off ctl; do
	port=${dport[$mode]}
	http POST /v1.0/state/mem '[{"key":"bench-get","value":{"n":1,"s":"bench"}}]' || true
	[ "$status" = 204 ] || die "seeding the $mode sidecar failed (HTTP '$status')"
done
port=${mport[on]}
http GET /metrics && [ "$status" = 200 ] || die "the metrics-on sidecar serves no /metrics (HTTP '$status')"

# A scraper of the metrics-on sidecar, once a second, so the rendering's cost is in the figures too.
(
	port=${mport[on]}
	while :; do
		http GET /metrics >/dev/null || true
		nap 1
	done
) &
pids+=($!)

scenarios=(save get invoke)
declare -A label=([save]="state save" [get]="state get" [invoke]="invocation")
declare -A args=([save]="save mem 10000" [get]="get mem bench-get")

invalid=0
# run_wrk SCENARIO MODE DURATION FILE: also writes FILE.cpu, the sidecar's CPU ticks during the run.
run_wrk() {
	local sc=$1 mode=$2 a result t0
	a=${args[$sc]:-invoke bench-$mode echo}
	t0=$(cpu_ticks "${dpid[$mode]}")
	# shellcheck disable=SC2086 # the arguments are several words on purpose
	wrk -t"$threads" -c"$connections" -d"$3" --latency -s "$lua" "http://127.0.0.1:${dport[$mode]}" -- $a >"$4" 2>&1 ||
		die "wrk failed for $sc ($mode); its output is in $4"
	echo $(($(cpu_ticks "${dpid[$mode]}") - t0)) >"$4.cpu"
	result=$(grep '^RESULT ' "$4") || die "no RESULT line from wrk for $sc ($mode): $(cat "$4")"
	case $result in
	*"err_connect=0 err_read=0 err_write=0 err_status=0 err_timeout=0"*) ;;
	*)
		note "WARNING: $sc ($mode) had errors: $result"
		invalid=1
		;;
	esac
}

echo "outrigd metrics overhead: $("$outrigd" --version 2>&1 | head -n 1)"
echo "host: $(nproc) CPUs, $(uname -sr); wrk -t$threads -c$connections -d$duration; median of $repeat rounds;"
echo "metrics on: scraped every second; off and ctl (the control): --enable-metrics=false; runs interleaved"
echo "on/off/ctl, ctl/off/on; ctl/off is the noise floor: what two identical sidecars differ by"
echo

if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
	for sc in "${scenarios[@]}"; do
		for mode in on off ctl; do
			run_wrk "$sc" "$mode" "$warmup" "$out/warmup-$sc-$mode.txt"
		done
	done
fi

for ((r = 1; r <= repeat; r++)); do
	for sc in "${scenarios[@]}"; do
		# Alternate the order, so none always runs on a warmer (or hotter) machine.
		if ((r % 2)); then order=(on off ctl); else order=(ctl off on); fi
		for mode in "${order[@]}"; do
			[ ! -t 2 ] || printf '\r  round %d/%d: %-12s %-3s' "$r" "$repeat" "${label[$sc]}" "$mode" >&2
			run_wrk "$sc" "$mode" "$duration" "$out/$sc-$mode-$r.txt"
		done
	done
done
[ ! -t 2 ] || printf '\r%50s\r' '' >&2

# rfield NAME FILE: a value of the RESULT line.
rfield() {
	sed -n "s/^RESULT .*\\b$1=\\([0-9.]*\\).*/\\1/p" "$2"
}

printf '%-12s %10s %10s %8s %8s %9s %9s %9s %9s %10s %10s %7s %7s\n' scenario "on req/s" "off req/s" "on/off" "ctl/off" \
	"on p50" "off p50" "on p99" "off p99" "on CPU/req" "off CPU/req" "on/off" "ctl/off"
worst=1 worst_cpu=1 noise=0 noise_cpu=0
for sc in "${scenarios[@]}"; do
	declare -A rps p50 p99 cpu
	for mode in on off ctl; do
		rps[$mode]=$(for ((r = 1; r <= repeat; r++)); do rfield rps "$out/$sc-$mode-$r.txt"; done | median)
		p50[$mode]=$(for ((r = 1; r <= repeat; r++)); do rfield p50_us "$out/$sc-$mode-$r.txt"; done | median)
		p99[$mode]=$(for ((r = 1; r <= repeat; r++)); do rfield p99_us "$out/$sc-$mode-$r.txt"; done | median)
	done
	# The sidecar's CPU time per request over all rounds, in microseconds: steadier than throughput
	# on a machine others load, as it does not count the time the sidecar waited for a core.
	for mode in on off ctl; do
		cpu[$mode]=$(for ((r = 1; r <= repeat; r++)); do
			echo "$(cat "$out/$sc-$mode-$r.txt.cpu") $(rfield requests "$out/$sc-$mode-$r.txt")"
		done | awk -v hz="$clk_tck" '{ t += $1; n += $2 } END { printf "%.2f", t / hz * 1e6 / n }')
	done
	cpu_ratio=$(awk -v a="${cpu[on]}" -v b="${cpu[off]}" 'BEGIN { printf "%.3f", a / b }')
	worst_cpu=$(awk -v a="$worst_cpu" -v b="$cpu_ratio" 'BEGIN { print (b > a) ? b : a }')
	ratio=$(awk -v a="${rps[on]}" -v b="${rps[off]}" 'BEGIN { printf "%.3f", a / b }')
	worst=$(awk -v a="$worst" -v b="$ratio" 'BEGIN { print (b < a) ? b : a }')
	ctl_ratio=$(awk -v a="${rps[ctl]}" -v b="${rps[off]}" 'BEGIN { printf "%.3f", a / b }')
	ctl_cpu=$(awk -v a="${cpu[ctl]}" -v b="${cpu[off]}" 'BEGIN { printf "%.3f", a / b }')
	noise=$(awk -v a="$noise" -v b="$ctl_ratio" 'BEGIN { d = b > 1 ? b - 1 : 1 - b; print (d > a) ? d : a }')
	noise_cpu=$(awk -v a="$noise_cpu" -v b="$ctl_cpu" 'BEGIN { d = b > 1 ? b - 1 : 1 - b; print (d > a) ? d : a }')
	printf '%-12s %10.0f %10.0f %8s %8s %7.3fms %7.3fms %7.3fms %7.3fms %8sus %9sus %7s %7s\n' "${label[$sc]}" "${rps[on]}" \
		"${rps[off]}" "$ratio" "$ctl_ratio" "$(awk -v v="${p50[on]}" 'BEGIN { print v / 1000 }')" \
		"$(awk -v v="${p50[off]}" 'BEGIN { print v / 1000 }')" \
		"$(awk -v v="${p99[on]}" 'BEGIN { print v / 1000 }')" "$(awk -v v="${p99[off]}" 'BEGIN { print v / 1000 }')" \
		"${cpu[on]}" "${cpu[off]}" "$cpu_ratio" "$ctl_cpu"
done
echo
awk -v w="$worst" -v c="$worst_cpu" 'BEGIN {
	printf "metrics cost at most %.1f%% of throughput (median req/s) and %.1f%% more CPU per request in these scenarios (goal: under 5%%)\n",
	(w < 1 ? (1 - w) * 100 : 0), (c > 1 ? (c - 1) * 100 : 0) }'
awk -v n="$noise" -v c="$noise_cpu" 'BEGIN {
	printf "two identical sidecars (ctl/off) differed by up to %.1f%% of throughput and %.1f%% of CPU per request in this run:\n", n * 100, c * 100
	printf "an on/off ratio within that is not told apart from noise\n" }'
if [ -x "$bin/metrics_record" ]; then
	rec=$("$bin/metrics_record")
	echo "recording one state save's metrics (HTTP server count, latency, responses; store count, latency;"
	echo "clock reads) costs $(field ns_per_request_1_thread "$rec") ns on one thread, $(field ns_per_request_2_threads "$rec") ns each on two at once"
fi
port=${mport[on]}
http GET /metrics || true
echo "series exposed by the metrics-on sidecar: $(grep -c '^dapr_' <<<"$reply") dapr_* lines"

if [ "$invalid" -ne 0 ]; then
	note "some runs had socket errors or non-2xx answers (see warnings above); figures are not valid"
	exit 1
fi
