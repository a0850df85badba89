#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak test (`make soak`, not part of make check or CI): SOAK_SECONDS (600) of mixed state, publish and
# invoke load with bad requests among them (bench/soak.lua) through outrigd A, which delivers to a
# subscriber app and invokes an echo app behind outrigd B. Samples both sidecars' RSS and open
# descriptors every SOAK_SAMPLE seconds and fails when, after SOAK_WARMUP seconds, A's RSS grows faster
# than SOAK_MAX_RSS_SLOPE MB/hour (least squares) or its descriptor count grows steadily (every
# sample of the last third more than SOAK_MAX_FD_GROWTH (8) above every sample of the first), or when a
# sidecar dies. Runs shorter than a few minutes see the state store fill up and fail the RSS bound.
#   SOAK_CONNECTIONS (8)  SOAK_DELAY_MS (2: each connection's pause between requests)  SOAK_OUT (a folder
#   to keep the samples and logs in)
bench_name=soak
# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

seconds=${SOAK_SECONDS:-600}
sample=${SOAK_SAMPLE:-5}
warmup=${SOAK_WARMUP:-$((seconds / 4 < 60 ? seconds / 4 : 60))}
max_slope=${SOAK_MAX_RSS_SLOPE:-20}
# Pools (app channel, peer sidecars) may open a few more connections at a load peak and keep them.
max_fd_growth=${SOAK_MAX_FD_GROWTH:-8}
connections=${SOAK_CONNECTIONS:-8}
pause=${SOAK_DELAY_MS:-2}
max_body=262144
oversize=300000
for v in seconds sample warmup max_slope max_fd_growth connections pause; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "SOAK_${v^^} must be a whole number ('${!v}')"
done
[ "$seconds" -ge 30 ] || die "SOAK_SECONDS must be at least 30"
if [ "$sample" -lt 1 ] || [ "$connections" -lt 1 ]; then
	die "SOAK_SAMPLE and SOAK_CONNECTIONS must be at least 1"
fi

command -v wrk >/dev/null || die "wrk not found; pkg/debian-deps.sh installs it"
need_outrigd
need_helpers soak pubsub_sink invoke_echo

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-soak.XXXXXX")
out=${SOAK_OUT:-$tmp/out}
mkdir -p "$out" "$tmp/res" "$tmp/data"
# Set by start_app and start_outrig through printf -v.
# shellcheck disable=SC2034
a_pid='' b_pid='' sink_pid='' echo_pid='' wrk_pid='' a_port='' sink_port='' echo_port='' b_internal=''
cleanup() {
	stop wrk_pid
	stop a_pid
	stop b_pid
	stop sink_pid
	stop echo_pid
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
nap_init "$tmp"

cat >"$tmp/res/components.yaml" <<'YAML'
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.in-memory
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
YAML

# start_app VAR PROGRAM ARGS...: starts a helper app on a free port; sets VAR_pid and VAR_port.
start_app() {
	local var=$1 prog=$2 log=$out/$2.log port i
	shift 2
	port=$(free_port)
	"$bin/$prog" -p "$port" "$@" >"$log" 2>&1 &
	printf -v "${var}_pid" '%s' "$!"
	printf -v "${var}_port" '%s' "$port"
	for ((i = 0; i < 500; i++)); do
		! grep -q '^LISTENING' "$log" || return 0
		nap 0.01
	done
	die "$prog did not listen on $port: $(cat "$log")"
}

# start_outrig VAR APP_ID APP_PORT: sets VAR_pid, VAR_port and VAR_internal once it answers healthz.
start_outrig() {
	local var=$1 app_id=$2 app_port=$3 log=$out/outrigd-$1.log t0=$SECONDS p ip
	port=$(free_port)
	ip=$(free_port)
	printf -v "${var}_internal" '%s' "$ip"
	"$outrigd" --app-id "$app_id" --app-port "$app_port" --dapr-http-port "$port" \
		--dapr-listen-addresses 127.0.0.1 --dapr-internal-grpc-port "$ip" \
		--plugin-dir "$plugins" --resources-path "$tmp/res" --data-dir "$tmp/data" \
		--max-body-size "$max_body" --log-level warn >"$log" 2>&1 &
	p=$!
	printf -v "${var}_pid" '%s' "$p"
	while kill -0 "$p" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do
		if http GET /v1.0/healthz && [ "$status" = 204 ]; then
			printf -v "${var}_port" '%s' "$port"
			return 0
		fi
		nap 0.02
	done
	die "outrigd $var did not become healthy on port $port: $(cat "$log")"
}

start_app sink pubsub_sink -P pubsub -t soak
start_app echo invoke_echo -s 64
start_outrig b soak-b "$echo_port"
start_outrig a soak-a "$sink_port"
port=$a_port
# B registers itself for name resolution: wait until A reaches it.
t0=$SECONDS
until http POST /v1.0/invoke/soak-b/method/echo '{"probe":1}' && [ "$status" = 200 ]; do
	[ $((SECONDS - t0)) -lt 20 ] || die "A cannot invoke soak-b (HTTP ${status:-none}): ${reply:0:300}"
	nap 0.1
done

note "$seconds s of load on outrigd A (pid $a_pid), $connections connections, a sample every $sample s, warm-up $warmup s"
wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s -s "$here/soak.lua" "http://127.0.0.1:$a_port" \
	-- soak-b "$pause" "$oversize" >"$out/wrk.txt" 2>&1 &
wrk_pid=$!

# sample PID: "rss_kB fds" of a process.
sample_of() {
	local rss fds
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || rss=
	fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	echo "${rss:-0} $fds"
}
t0=$SECONDS
echo "# seconds a_rss_kB a_fds b_rss_kB b_fds" >"$out/samples.txt"
while kill -0 "$wrk_pid" 2>/dev/null; do
	kill -0 "$a_pid" 2>/dev/null || die "outrigd A died during the soak: $(tail -20 "$out/outrigd-a.log")"
	kill -0 "$b_pid" 2>/dev/null || die "outrigd B died during the soak: $(tail -20 "$out/outrigd-b.log")"
	line="$((SECONDS - t0)) $(sample_of "$a_pid") $(sample_of "$b_pid")"
	echo "$line" >>"$out/samples.txt"
	read -r t ar af br bf <<<"$line"
	note "t=${t}s A: rss $((ar / 1024)) MiB, $af fds; B: rss $((br / 1024)) MiB, $bf fds"
	nap "$sample"
done
# Where A's descriptors go, by the far end's port: clients, the subscriber app, outrigd B.
ss -tanpH 2>/dev/null | grep "pid=$a_pid," | awk -v api="$a_port" -v app="$sink_port" -v b="$b_internal" '
	{ n = split($5, a, ":"); p = a[n]; m = split($4, l, ":"); lp = l[m]
	  k = lp == api ? "API clients" : p == app ? "subscriber app" : p == b ? "outrigd B (internal)" : "other (" $1 " " p ")"
	  c[k]++ }
	END { for (k in c) printf "%s %d; ", k, c[k]; print "" }' | sed 's/^/soak: A'"'"'s sockets at the end: /' >&2 || true
wait "$wrk_pid" || die "wrk failed: $(cat "$out/wrk.txt")"
wrk_pid=
grep '^SOAK' "$out/wrk.txt" >&2 || die "wrk printed no SOAK line: $(cat "$out/wrk.txt")"
kill -0 "$a_pid" 2>/dev/null || die "outrigd A died at the end of the soak"

# Least squares over the samples after the warm-up; fds in thirds of the same span.
verdict=$(awk -v warm="$warmup" -v bound="$max_slope" -v fdgrowth="$max_fd_growth" '
	/^#/ { next }
	$1 >= warm { n++; t[n] = $1; r[n] = $2 / 1024; f[n] = $3; bt[n] = $4 / 1024; bf[n] = $5 }
	function slope(y,   i, mt, my, sxy, sxx) {
		for (i = 1; i <= n; i++) { mt += t[i]; my += y[i] }
		mt /= n; my /= n
		for (i = 1; i <= n; i++) { sxy += (t[i] - mt) * (y[i] - my); sxx += (t[i] - mt) ^ 2 }
		return sxx > 0 ? sxy / sxx * 3600 : 0
	}
	END {
		if (n < 6) { print "FAIL too few samples after the warm-up (" n "); run longer"; exit }
		sa = slope(r); sb = slope(bt)
		fmin = fmax = f[1]; for (i = 1; i <= n; i++) { if (f[i] < fmin) fmin = f[i]; if (f[i] > fmax) fmax = f[i] }
		k = int(n / 3); firstmax = f[1]; lastmin = f[n]
		for (i = 1; i <= k; i++) if (f[i] > firstmax) firstmax = f[i]
		for (i = n - k + 1; i <= n; i++) if (f[i] < lastmin) lastmin = f[i]
		printf "A: RSS %.1f -> %.1f MiB, slope %.1f MB/hour (bound %d); fds min %d max %d", r[1], r[n], sa, bound, fmin, fmax
		printf "; B: RSS slope %.1f MB/hour\n", sb
		bad = ""
		if (sa > bound) bad = bad " RSS of A grows faster than the bound;"
		if (lastmin > firstmax + fdgrowth) bad = bad " A'"'"'s descriptors grow steadily (last third >= " lastmin ", first third <= " firstmax ");"
		print (bad == "" ? "OK" : "FAIL" bad)
	}' "$out/samples.txt")
echo "$verdict" | head -1 | sed 's/^/soak: /' >&2
result=$(echo "$verdict" | tail -1)
note "outrigd A logged $(wc -l <"$out/outrigd-a.log") lines at warn and above, B $(wc -l <"$out/outrigd-b.log")"
[ -z "${SOAK_OUT:-}" ] || note "samples and logs kept in $out"
case $result in
OK) note "OK" ;;
*) die "$result" ;;
esac
