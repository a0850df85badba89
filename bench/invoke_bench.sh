#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks service invocation: app A -> outrigd A -> outrigd B -> app B against app A -> app B directly.
#
# Usage: invoke_bench.sh
# Builds nothing: uses $OUTRIGD, $OUTRIG_PLUGIN_PATH and the helpers in $BENCH_BIN (invoke_load, invoke_echo;
# `make bench` builds them), or the build tree this script sits in. Starts app B (invoke_echo) and two outrigd
# sharing one --data-dir on loopback, and stops them on exit. If A cannot reach B through the sidecars, the
# direct path is still measured and the script says why and exits 1. bench/README.md says what is measured.
# Knobs (environment): BENCH_RATE (1000 req/s), BENCH_DURATION (10 s at that rate), BENCH_MAX_DURATION (5 s
# flat out), BENCH_CONNECTIONS (16), BENCH_PAYLOAD (64 request bytes), BENCH_REPLY (16 reply bytes),
# BENCH_REPEAT (3 rounds), BENCH_WARMUP (1 s per path, 0 = none), BENCH_RESOLVE_TIMEOUT (20 s for A to reach
# B), BENCH_DIR, BENCH_OUT.
bench_name=invoke_bench
# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

invoke_knobs
need_outrigd
need_helpers bench invoke_load invoke_echo

a_pid='' b_pid='' echo_pid=''
cleanup() {
	stop a_pid
	stop b_pid
	stop echo_pid
	rm -rf "$tmp"
}
bench_tmp invoke-bench
mkdir -p "$tmp/res" "$tmp/data"

# target PATH: direct goes to app B, outrig to outrigd A.
target() {
	case $1 in
	direct) echo "$echo_port /echo" ;;
	*) echo "$a_port $invoke_path" ;;
	esac
}
# cpu_pids PATH: only the path through the sidecars has them.
cpu_pids() {
	[ "$1" != outrig ] || echo "$a_pid $b_pid"
}
# path_label PATH: its name in the table.
path_label() {
	case $1 in direct) echo direct ;; outrig) echo "via sidecars" ;; esac
}

start_echo || die "app B (invoke_echo) did not start"
start_outrig b bench-b "$tmp/data" --app-port "$echo_port" || die "outrigd B did not start (log: $out/outrigd-b.log)"
start_outrig a bench-a "$tmp/data" || die "outrigd A did not start (log: $out/outrigd-a.log)"
sidecars=1
if ! probe; then
	sidecars=0
fi
idle_a='' idle_b=''
if [ "$sidecars" -eq 1 ]; then
	idle_a=$(mem "$a_pid") idle_b=$(mem "$b_pid")
fi

describe_load
echo "direct: A -> POST /echo on B | sidecars: A -> POST $invoke_path on outrigd A -> outrigd B -> B"
echo

paths=(direct outrig)
[ "$sidecars" -eq 1 ] || paths=(direct)
measure "${paths[@]}"

table "${paths[@]}"
echo

if [ "$sidecars" -eq 1 ]; then
	for mode in rate max; do
		awk -v m="$mode" -v rt="$rate" -v o50="${med[outrig.$mode.p50]}" -v o90="${med[outrig.$mode.p90]}" \
			-v o99="${med[outrig.$mode.p99]}" -v d50="${med[direct.$mode.p50]}" -v d90="${med[direct.$mode.p90]}" \
			-v d99="${med[direct.$mode.p99]}" 'BEGIN {
			printf "added by the two sidecars %s: %+.3f ms p50, %+.3f ms p90, %+.3f ms p99\n",
				m == "rate" ? "at " rt " req/s" : "at max load", (o50 - d50) / 1000, (o90 - d90) / 1000,
				(o99 - d99) / 1000 }'
	done
	awk -v o="${med[outrig.max.rate]}" -v d="${med[direct.max.rate]}" 'BEGIN {
		printf "max throughput via the sidecars: %.2f of direct (%.1fk vs %.1fk req/s)\n", o / d, o / 1000, d / 1000 }'
	for s in a b; do
		pid_var=${s}_pid
		case $s in a) who="A (caller)" idle=$idle_a ;; b) who="B (callee)" idle=$idle_b ;; esac
		awk -v w="$who" -v c="${med[outrig.rate.cpu_${s}]}" -v m="$(mem "${!pid_var}")" -v i="$idle" 'BEGIN {
			printf "outrigd %s: %s after the runs, idle %s; CPU %.0f ms per 1000 requests = %.3f vCPU at 1000 req/s\n",
				w, m, substr(i, 5), c, c / 1000 }'
	done
	awk -v b="${med[outrig.rate.backlog]}" -v r="$rate" 'BEGIN {
		if (b > 0) printf "note: at %d req/s up to %d requests (median of the rounds) waited for a free connection through the sidecars; their wait is in the latency\n", r, b }'
fi
echo "reference, Dapr v1.0 (docs.dapr.io, perf-service-invocation; Kubernetes, 1 KB payload, mTLS and tracing on):"
echo "  +1.40 ms p90 and +2.10 ms p99 for the two sidecars; 0.48 vCPU and 23 MB per sidecar at 1000 req/s"

if [ "$sidecars" -eq 0 ]; then
	echo
	echo "through the sidecars: NOT MEASURED: app A cannot invoke app B through outrigd yet."
	echo "  $probe_failure"
	note "service invocation through outrigd did not work; only the direct path was measured"
	exit 1
fi
check_valid
