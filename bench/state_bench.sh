#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks outrigd's state API with wrk (save, get; state.in-memory and state.sqlite) against a healthz floor.
#
# Builds nothing: uses $OUTRIGD and $OUTRIG_PLUGIN_PATH, or the build tree this script sits in.
# Knobs (environment): BENCH_DURATION (5s per run), BENCH_THREADS (2), BENCH_CONNECTIONS (16),
# BENCH_REPEAT (3 runs per scenario, median reported), BENCH_WARMUP (1s, 0 = none), BENCH_KEYS (10000 keys
# the save scenario cycles through), BENCH_STARTS (11 starts for the startup time), BENCH_DIR (where the
# temporary folder with the SQLite file goes; default $TMPDIR or /tmp), BENCH_OUT (a folder to keep wrk's
# raw output and outrigd's log in; default: not kept).
set -euo pipefail
# Byte-sized ${#body} for Content-Length, and '.' as the decimal point for printf and awk.
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outrigd=${OUTRIGD:-$here/../core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$here/../plugins/.libs}
lua=$here/state.lua

duration=${BENCH_DURATION:-5s}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-16}
repeat=${BENCH_REPEAT:-3}
warmup=${BENCH_WARMUP:-1s}
keys=${BENCH_KEYS:-10000}
starts=${BENCH_STARTS:-11}

bench_name=state_bench
# shellcheck source=bench/bench_lib.sh
. "$here/bench_lib.sh"

command -v wrk >/dev/null || die "wrk is not on PATH (Debian: apt-get install wrk)"
[ -x "$outrigd" ] || die "no outrigd at $outrigd; run make, or set OUTRIGD"
[ -d "$plugins" ] || die "no plugin folder at $plugins; run make, or set OUTRIG_PLUGIN_PATH"
[ -r "$lua" ] || die "no wrk script at $lua"

tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/outrig-bench.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

out=${BENCH_OUT:-$tmp/out}
mkdir -p "$out" "$tmp/resources"
nap_init "$tmp"

# One daemon serves both stores, so the floor and every store scenario run on the same process.
cat >"$tmp/resources/bench.yaml" <<EOF
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: mem
spec:
  type: state.in-memory
  version: v1
  metadata: []
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: sqlite
spec:
  type: state.sqlite
  version: v1
  metadata:
  - name: connectionString
    value: "$tmp/bench.db"
EOF

# start_daemon LOG: starts outrigd, waits for the first 204 on /v1.0/healthz; sets pid, port and
# start_ms (exec to first 204, in milliseconds).
start_daemon() {
	local log=$1 attempt t0 t1
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		t0=$EPOCHREALTIME
		XDG_DATA_HOME=$tmp/data "$outrigd" --app-id bench --dapr-http-port "$port" \
			--dapr-listen-addresses 127.0.0.1 --plugin-dir "$plugins" \
			--resources-path "$tmp/resources" --log-level warn >"$log" 2>&1 &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			if http GET /v1.0/healthz && [ "$status" = 204 ]; then
				t1=$EPOCHREALTIME
				start_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) * 1000 }')
				return 0
			fi
			# Give up on a daemon that is up but never healthy rather than poll forever.
			if awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a > 10) }'; then
				break
			fi
			nap 0.001
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
		echo "state_bench: outrigd did not become healthy (attempt $attempt, port $port); retrying:" >&2
		sed 's/^/  | /' "$log" >&2
	done
	die "could not start outrigd"
}

# rss_kib FIELD: VmRSS or VmHWM of the daemon, in KiB.
rss_kib() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"
}

# The scenarios: name, then the arguments state.lua takes after `--`.
scenarios=(floor mem_save mem_get sqlite_save sqlite_get)
declare -A args=(
	[floor]="healthz"
	[mem_save]="save mem $keys"
	[mem_get]="get mem bench-get"
	[sqlite_save]="save sqlite $keys"
	[sqlite_get]="get sqlite bench-get"
)
declare -A label=(
	[floor]="healthz (floor)"
	[mem_save]="in-memory save"
	[mem_get]="in-memory get"
	[sqlite_save]="sqlite save"
	[sqlite_get]="sqlite get"
)

invalid=0
# run_wrk SCENARIO DURATION OUTFILE: one wrk run; fails the bench on any socket error or non-2xx answer.
run_wrk() {
	local sc=$1 d=$2 f=$3 result
	# shellcheck disable=SC2086 # args[] holds several words on purpose
	wrk -t"$threads" -c"$connections" -d"$d" --latency -s "$lua" "http://127.0.0.1:$port" -- ${args[$sc]} >"$f" 2>&1 ||
		die "wrk failed for $sc; its output is in $f"
	kill -0 "$pid" 2>/dev/null || die "outrigd died during $sc; its log: $(cat "$out/outrigd.log")"
	result=$(grep '^RESULT ' "$f") || die "no RESULT line from wrk for $sc: $(cat "$f")"
	case $result in
	*"err_connect=0 err_read=0 err_write=0 err_status=0 err_timeout=0"*) ;;
	*)
		echo "state_bench: WARNING: $sc had errors: $result" >&2
		invalid=1
		;;
	esac
}

# field NAME FILE: a value from the RESULT line.
field() {
	sed -n "s/^RESULT .*\\b$1=\\([0-9.]*\\).*/\\1/p" "$2"
}

start_daemon "$out/outrigd.log"
# Settle briefly so the idle figure is not caught mid-initialisation.
nap 0.5
rss_idle=$(rss_kib VmRSS)

# The key that the get scenarios read, in both stores.
for store in mem sqlite; do
	http POST "/v1.0/state/$store" '[{"key":"bench-get","value":{"n":1,"s":"bench"}}]' || true
	[ "$status" = 204 ] || die "seeding $store failed (HTTP '$status')"
done

echo "outrigd state benchmark: $("$outrigd" --version 2>&1 | head -n 1)"
echo "host: $(nproc) CPUs, $(uname -sr); wrk -t$threads -c$connections -d$duration --latency; median of $repeat runs"
echo "loopback 127.0.0.1:$port; SQLite file on $(df -PT "$tmp" | awk 'NR == 2 { print $2 }') ($tmp)"
echo

if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
	for sc in "${scenarios[@]}"; do
		run_wrk "$sc" "$warmup" "$out/warmup-$sc.txt"
	done
fi

# Interleave the scenarios within each repetition so slow drift of a noisy machine hits all alike.
for ((r = 1; r <= repeat; r++)); do
	for sc in "${scenarios[@]}"; do
		if [ -t 2 ]; then
			printf '\r  run %d/%d: %-16s' "$r" "$repeat" "${label[$sc]}" >&2
		fi
		run_wrk "$sc" "$duration" "$out/$sc-$r.txt"
	done
done
if [ -t 2 ]; then
	printf '\r%40s\r' '' >&2
fi

nap 1
rss_load=$(rss_kib VmRSS)
rss_peak=$(rss_kib VmHWM)
stop_daemon

declare -A rps p50 p99 lo hi
for sc in "${scenarios[@]}"; do
	files=()
	for ((r = 1; r <= repeat; r++)); do files+=("$out/$sc-$r.txt"); done
	rps[$sc]=$(for f in "${files[@]}"; do field rps "$f"; done | median)
	p50[$sc]=$(for f in "${files[@]}"; do field p50_us "$f"; done | median)
	p99[$sc]=$(for f in "${files[@]}"; do field p99_us "$f"; done | median)
	lo[$sc]=$(for f in "${files[@]}"; do field rps "$f"; done | sort -g | head -n 1)
	hi[$sc]=$(for f in "${files[@]}"; do field rps "$f"; done | sort -g | tail -n 1)
done

printf '%-16s %9s %17s %9s %9s   %s\n' "" "" "" "" "" "--- ratio to floor ---"
printf '%-16s %9s %17s %9s %9s   %6s %7s %7s\n' scenario "req/s" "(min-max req/s)" "p50 ms" "p99 ms" \
	"req/s" "p50" "p99"
for sc in "${scenarios[@]}"; do
	awk -v name="${label[$sc]}" -v rps="${rps[$sc]}" -v lo="${lo[$sc]}" -v hi="${hi[$sc]}" \
		-v p50="${p50[$sc]}" -v p99="${p99[$sc]}" \
		-v frps="${rps[floor]}" -v fp50="${p50[floor]}" -v fp99="${p99[floor]}" 'BEGIN {
		printf "%-16s %9.0f %17s %9.3f %9.3f   %6.2f %6.2fx %6.2fx\n", name, rps,
			sprintf("(%.0f-%.0f)", lo, hi), p50 / 1000, p99 / 1000,
			rps / frps, p50 / fp50, p99 / fp99 }'
done
echo

# Startup: fresh processes on the same resources (the SQLite file now holds the bench's keys).
times=()
for ((i = 1; i <= starts; i++)); do
	start_daemon "$out/outrigd-start.log"
	times+=("$start_ms")
	stop_daemon
done
start_med=$(printf '%s\n' "${times[@]}" | median)
start_min=$(printf '%s\n' "${times[@]}" | sort -g | head -n 1)
start_max=$(printf '%s\n' "${times[@]}" | sort -g | tail -n 1)

awk -v a="$rss_idle" -v b="$rss_load" -v c="$rss_peak" 'BEGIN {
	printf "outrigd RSS: %.1f MiB idle after start, %.1f MiB after the load (peak %.1f MiB)\n",
		a / 1024, b / 1024, c / 1024 }'
echo "startup, exec to first 204 on /v1.0/healthz, $starts starts: median $start_med ms (min $start_min, max $start_max)"

if [ "$invalid" -ne 0 ]; then
	echo "state_bench: some runs had socket errors or non-2xx answers (see warnings above); figures are not valid" >&2
	exit 1
fi
