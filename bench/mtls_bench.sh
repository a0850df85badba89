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
bench_name=mtls_bench
# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

invoke_knobs
need_outrigd
need_helpers bench invoke_load invoke_echo

outrig=${OUTRIG:-$(dirname "$outrigd")/outrig}
[ -x "$outrig" ] || die "no outrig at $outrig; run make, or set OUTRIG"

a_pid='' b_pid='' ta_pid='' tb_pid='' echo_pid='' ta_port=''
cleanup() {
	stop a_pid
	stop b_pid
	stop ta_pid
	stop tb_pid
	stop echo_pid
	rm -rf "$tmp"
}
bench_tmp mtls-bench
mkdir -p "$tmp/res" "$tmp/data" "$tmp/data-tls"
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

# target PATH: both paths go to outrigd A, of its pair.
target() {
	case $1 in
	mtls) echo "$ta_port $invoke_path" ;;
	*) echo "$a_port $invoke_path" ;;
	esac
}
# cpu_pids PATH: the pair of sidecars PATH goes through.
cpu_pids() {
	case $1 in
	mtls) echo "$ta_pid $tb_pid" ;;
	*) echo "$a_pid $b_pid" ;;
	esac
}
# path_label PATH: its name in the table.
path_label() {
	echo "$1"
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
probe "$ta_port" "$ta_pid" "$tb_pid" || die "mTLS: $probe_failure"

describe_load
echo "plain: A -> POST $invoke_path on outrigd A -> outrigd B -> B | mtls: the same, the sidecars with --enable-mtls"
echo

paths=(plain mtls)
measure "${paths[@]}"

table "${paths[@]}"
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
check_valid
