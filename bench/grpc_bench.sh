#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks outrigd's gRPC API against its HTTP API on the same daemon and store, in the same run:
# GetState and SaveState (state.in-memory), with the health checks of both front ends as floors; then
# service invocation, caller -> outrigd A -> outrigd B -> app B, called over gRPC (InvokeService) and
# over HTTP (/v1.0/invoke), against the caller calling app B directly; and gRPC proxying, a call to the
# app's own method (/bench.Echo/Echo) sent to outrigd A's gRPC port with dapr-app-id metadata naming a third
# outrigd's app (bench-g, a gRPC app: grpc_echo), caller -> outrigd A -> outrigd G -> grpc_echo, against
# the caller calling grpc_echo directly.
#
# One load tool for every scenario, h2load (Debian: nghttp2-client): HTTP/1.1 with --h1, gRPC as unary
# calls with a prepared body, each connection with one request in flight (-m 1), so that both front ends
# see the same concurrency. h2load cannot read gRPC trailers, so every gRPC scenario is first called
# once with curl and must answer grpc-status 0.
#
# Builds nothing: uses $OUTRIGD, $OUTRIG_PLUGIN_PATH and $BENCH_BIN (invoke_echo, grpc_echo), or the build tree.
# Knobs: BENCH_DURATION (5 s per run), BENCH_CONNECTIONS (16), BENCH_REPEAT (3, median reported),
# BENCH_WARMUP (1 s), BENCH_OUT (keep h2load's output and the logs there).
duration=${BENCH_DURATION:-5}
connections=${BENCH_CONNECTIONS:-16}
repeat=${BENCH_REPEAT:-3}
warmup=${BENCH_WARMUP:-1}

bench_name=grpc_bench
# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

command -v h2load >/dev/null || die "h2load is not on PATH (Debian: apt-get install nghttp2-client)"
command -v curl >/dev/null || die "curl is not on PATH (it checks each gRPC scenario's grpc-status once)"
need_outrigd
need_helpers bench invoke_echo
[ -x "$bin/grpc_echo" ] || die "no grpc_echo in $bin; run make bench-grpc (it builds the helpers), or set BENCH_BIN"

a_pid='' b_pid='' g_pid='' echo_pid='' gecho_pid=''
cleanup() {
	stop a_pid
	stop b_pid
	stop g_pid
	stop echo_pid
	stop gecho_pid
	rm -rf "$tmp"
}
bench_tmp grpc-bench
mkdir -p "$tmp/res-a" "$tmp/res-b" "$tmp/res-g" "$tmp/data" "$tmp/bodies"

cat >"$tmp/res-a/mem.yaml" <<EOF
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: mem
spec:
  type: state.in-memory
  version: v1
EOF

# ---- request bodies: protobuf written out byte by byte (field tag, length, bytes), gRPC's 5-byte prefix ----

# pb_str FIELD TEXT: a length-delimited field (TEXT shorter than 128 bytes).
pb_str() {
	printf '\\x%02x\\x%02x%s' $(($1 << 3 | 2)) "${#2}" "$2"
}
# grpc_body FILE ESCAPED: ESCAPED (printf escapes) with the gRPC message prefix, into FILE.
grpc_body() {
	local msg
	msg=$(printf "$2" | od -An -v -tx1 | tr -d ' \n')
	local n=$((${#msg} / 2))
	printf "\\x00\\x$(printf %02x $((n >> 24 & 255)))\\x$(printf %02x $((n >> 16 & 255)))\\x$(printf %02x $((n >> 8 & 255)))\\x$(printf %02x $((n & 255)))$2" >"$1"
}
value='{"n":1,"text":"a small state value"}'
# GetStateRequest{store_name=1, key=2}
grpc_body "$tmp/bodies/get" "$(pb_str 1 mem)$(pb_str 2 bench-get)"
# SaveStateRequest{store_name=1, states=2: StateItem{key=1, value=2}}
item="$(pb_str 1 bench-save)$(pb_str 2 "$value")"
item_len=$(printf "$item" | wc -c)
grpc_body "$tmp/bodies/save" "$(pb_str 1 mem)\\x12\\x$(printf %02x "$item_len")$item"
printf '[{"key":"bench-save","value":%s}]' "$value" >"$tmp/bodies/save.json"
# InvokeServiceRequest{id=1, message=3: InvokeRequest{method=1, data=2: Any{value=2}, content_type=3,
# http_extension=4: {verb=1: POST (3)}}}
payload='{"hello":"outrig"}'
any="$(pb_str 2 "$payload")"
inv="$(pb_str 1 echo)\\x12\\x$(printf %02x $(printf "$any" | wc -c))$any$(pb_str 3 application/json)\\x22\\x02\\x08\\x03"
grpc_body "$tmp/bodies/invoke" "$(pb_str 1 bench-b)\\x1a\\x$(printf %02x $(printf "$inv" | wc -c))$inv"
printf '%s' "$payload" >"$tmp/bodies/invoke.json"
# grpc.health.v1.HealthCheckRequest{} (empty)
grpc_body "$tmp/bodies/health" ""
# The proxied call's message, which grpc_echo sends back: any bytes do, as outrigd passes them through; a
# string field with the invocation's payload keeps it the same size as InvokeService's data.
grpc_body "$tmp/bodies/echo" "$(pb_str 1 "$payload")"

# ---- processes ----

start_echo() {
	local i log=$out/app-b.txt
	echo_port=$(free_port)
	"$bin/invoke_echo" -p "$echo_port" -s 64 >"$log" 2>&1 &
	echo_pid=$!
	for ((i = 0; i < 200; i++)); do
		! grep -q '^LISTENING' "$log" || return 0
		nap 0.01
	done
	return 1
}

# start_gecho: grpc_echo, app G (gRPC), on $gecho_port.
start_gecho() {
	local i log=$out/app-g.txt
	gecho_port=$(free_port)
	"$bin/grpc_echo" -p "$gecho_port" >"$log" 2>&1 &
	gecho_pid=$!
	for ((i = 0; i < 200; i++)); do
		! grep -q '^LISTENING' "$log" || return 0
		nap 0.01
	done
	return 1
}

# start_outrig NAME APP_ID RESOURCES [FLAG...]: sets NAME_pid, NAME_port and NAME_grpc once healthy.
start_outrig() {
	local name=$1 app_id=$2 res=$3 log=$out/outrigd-$1.log t0 p gp ip
	shift 3
	port=$(free_port) gp=$(free_port) ip=$(free_port)
	"$outrigd" --app-id "$app_id" "$@" --dapr-http-port "$port" --dapr-grpc-port "$gp" \
		--dapr-listen-addresses 127.0.0.1 --dapr-internal-grpc-port "$ip" \
		--dapr-internal-grpc-listen-address 127.0.0.1 --plugin-dir "$plugins" --resources-path "$res" \
		--data-dir "$tmp/data" --log-level warn >"$log" 2>&1 &
	p=$!
	t0=$SECONDS
	while kill -0 "$p" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do
		if http GET /v1.0/healthz && [ "$status" = 204 ]; then
			printf -v "${name}_pid" '%s' "$p"
			printf -v "${name}_port" '%s' "$port"
			printf -v "${name}_grpc" '%s' "$gp"
			return 0
		fi
		nap 0.01
	done
	note "outrigd $name did not become healthy:"
	sed 's/^/  | /' "$log" >&2
	return 1
}

# grpc_ok URL BODY [HEADER...]: one call with curl; true when the answer's grpc-status is 0. With
# GRPC_OK_QUIET set, says nothing when it is not.
grpc_ok() {
	local url=$1 body=$2 h headers extra=()
	shift 2
	for h in "$@"; do
		extra+=(-H "$h")
	done
	headers=$(curl -sS --http2-prior-knowledge -o /dev/null -D - -X POST \
		-H 'content-type: application/grpc' -H 'te: trailers' "${extra[@]}" --data-binary "@$body" \
		"$url" 2>&1) || true
	grep -qi '^grpc-status: 0' <<<"$headers" && return 0
	[ -z "${GRPC_OK_QUIET:-}" ] || return 1
	note "gRPC $url did not answer grpc-status 0:"
	sed 's/^/  | /' <<<"$headers" >&2
	return 1
}

start_echo || die "app B (invoke_echo) did not start"
start_outrig b bench-b "$tmp/res-b" --app-port "$echo_port" || die "outrigd B did not start"
start_gecho || die "app G (grpc_echo) did not start"
start_outrig g bench-g "$tmp/res-g" --app-protocol grpc --app-port "$gecho_port" || die "outrigd G did not start"
start_outrig a bench-a "$tmp/res-a" || die "outrigd A did not start"
port=$a_port
http POST /v1.0/state/mem "[{\"key\":\"bench-get\",\"value\":$value}]" && [ "$status" = 204 ] ||
	die "saving the key the get scenarios read failed: HTTP ${status:-no answer} $reply"
for ((i = 0; i < 500; i++)); do
	http POST /v1.0/invoke/bench-b/method/echo "$payload" && [ "$status" = 200 ] && break
	nap 0.02
done
[ "$status" = 200 ] || die "A cannot invoke B over HTTP: HTTP ${status:-no answer} ${reply:0:300}"

# ---- scenarios: name, then h2load's arguments ----
declare -A args
names=(http-healthz grpc-health http-get grpc-get http-save grpc-save direct-invoke http-invoke grpc-invoke
	direct-grpc proxy-grpc)
grpc_h=(-H 'content-type: application/grpc' -H 'te: trailers')
# is_grpc NAME: a scenario of gRPC calls (content-type application/grpc, checked once with curl).
is_grpc() { [[ $1 == grpc-* || $1 == *-grpc ]]; }
# Metadata beyond gRPC's own, per scenario: the app id that makes outrigd A proxy the call.
declare -A meta
meta[proxy-grpc]='dapr-app-id: bench-g'
args[http-healthz]="--h1 http://127.0.0.1:$a_port/v1.0/healthz"
args[grpc-health]="-d $tmp/bodies/health http://127.0.0.1:$a_grpc/grpc.health.v1.Health/Check"
args[http-get]="--h1 http://127.0.0.1:$a_port/v1.0/state/mem/bench-get"
args[grpc-get]="-d $tmp/bodies/get http://127.0.0.1:$a_grpc/dapr.proto.runtime.v1.Dapr/GetState"
args[http-save]="--h1 -d $tmp/bodies/save.json http://127.0.0.1:$a_port/v1.0/state/mem"
args[grpc-save]="-d $tmp/bodies/save http://127.0.0.1:$a_grpc/dapr.proto.runtime.v1.Dapr/SaveState"
args[direct-invoke]="--h1 -d $tmp/bodies/invoke.json http://127.0.0.1:$echo_port/echo"
args[http-invoke]="--h1 -d $tmp/bodies/invoke.json http://127.0.0.1:$a_port/v1.0/invoke/bench-b/method/echo"
args[grpc-invoke]="-d $tmp/bodies/invoke http://127.0.0.1:$a_grpc/dapr.proto.runtime.v1.Dapr/InvokeService"
args[direct-grpc]="-d $tmp/bodies/echo http://127.0.0.1:$gecho_port/bench.Echo/Echo"
args[proxy-grpc]="-d $tmp/bodies/echo http://127.0.0.1:$a_grpc/bench.Echo/Echo"

# The proxied path is ready once A finds G and G its app: give it the time HTTP invocation had above.
for ((i = 0; i < 250; i++)); do
	GRPC_OK_QUIET=1 grpc_ok "http://127.0.0.1:$a_grpc/bench.Echo/Echo" "$tmp/bodies/echo" "${meta[proxy-grpc]}" &&
		break
	nap 0.02
done
measured=()
for n in "${names[@]}"; do
	if is_grpc "$n"; then
		# shellcheck disable=SC2086
		set -- ${args[$n]}
		grpc_ok "$3" "$2" ${meta[$n]:+"${meta[$n]}"} || { note "$n: NOT MEASURED"; continue; }
	fi
	measured+=("$n")
done

# run NAME I [CLIENTS]: one h2load run; its output in $out/NAME.I.txt.
run() {
	local extra=() c=${3:-$connections}
	local name=${1%-1conn}
	is_grpc "$name" && extra=("${grpc_h[@]}")
	[ -z "${meta[$name]:-}" ] || extra+=(-H "${meta[$name]}")
	[[ $name == http-save || $name == http-invoke || $name == direct-invoke ]] && extra=(-H 'content-type: application/json')
	# shellcheck disable=SC2086
	h2load -c "$c" -m 1 -t 1 -D "$duration" --warm-up-time "$warmup" "${extra[@]}" ${args[$name]} \
		>"$out/$1.$2.txt" 2>&1 || true
}
# Invocation and proxying once more with one connection: the latency a single caller sees, with no
# queueing (Dapr publishes its invocation overhead as such a latency).
single=()
for n in "${measured[@]}"; do
	[[ $n == *-invoke || $n == *-grpc ]] && single+=("$n")
done
for ((r = 1; r <= repeat; r++)); do
	for n in "${measured[@]}"; do
		run "$n" "$r"
	done
	for n in "${single[@]}"; do
		run "$n-1conn" "$r" 1
	done
done

# rps NAME: median req/s; lat NAME: median of the mean request times (µs); bad NAME: failed or non-2xx.
rps() { for f in "$out/$1".*.txt; do awk '/^finished in/ { print $4 }' "$f"; done | median; }
lat() {
	for f in "$out/$1".*.txt; do
		awk '/^time for request:/ { v = $6; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
			print (u == "ms" ? v * 1000 : u == "s" ? v * 1e6 : v) }' "$f"
	done | median
}
bad() { for f in "$out/$1".*.txt; do awk '/^requests:/ { print $10 + $12 + $14 } /^status codes:/ { print $5 + $7 + $9 }' "$f"; done | awk '{ s += $1 } END { print s + 0 }'; }

echo "outrigd: $("$outrigd" --version 2>&1 | head -n 1)"
echo "h2load, $connections connections, 1 request in flight each, ${duration}s x $repeat runs (median), warm-up ${warmup}s"
printf '%-20s %6s %14s %8s\n' scenario 'req/s' 'mean latency' 'errors'
declare -A R L
failed=0
for n in "${measured[@]}"; do
	R[$n]=$(rps "$n") L[$n]=$(lat "$n")
	e=$(bad "$n")
	[ "$e" -eq 0 ] || failed=1
	printf '%-20s %6.0f %11.0f us %8d\n' "$n" "${R[$n]}" "${L[$n]}" "$e"
done
for n in "${single[@]}"; do
	n=$n-1conn
	R[$n]=$(rps "$n") L[$n]=$(lat "$n")
	e=$(bad "$n")
	[ "$e" -eq 0 ] || failed=1
	printf '%-20s %6.0f %11.0f us %8d\n' "$n" "${R[$n]}" "${L[$n]}" "$e"
done
ratio() { [ -n "${R[$1]:-}" ] && [ -n "${R[$2]:-}" ] && awk -v a="${R[$1]}" -v b="${R[$2]}" -v x="${L[$1]}" -v y="${L[$2]}" -v l="$3" \
	'BEGIN { printf "%-44s throughput x%.2f, mean latency %+.0f us\n", l, a / b, x - y }'; }
echo
ratio grpc-health http-healthz "gRPC health vs HTTP healthz (floors):"
ratio grpc-get http-get "gRPC GetState vs HTTP GET state:"
ratio grpc-save http-save "gRPC SaveState vs HTTP POST state:"
ratio grpc-invoke direct-invoke "gRPC InvokeService via 2 sidecars vs direct:"
ratio http-invoke direct-invoke "HTTP invoke via 2 sidecars vs direct:"
ratio grpc-invoke-1conn direct-invoke-1conn "the same, one connection: gRPC"
ratio http-invoke-1conn direct-invoke-1conn "the same, one connection: HTTP"
ratio proxy-grpc direct-grpc "gRPC proxying via 2 sidecars vs direct:"
ratio proxy-grpc-1conn direct-grpc-1conn "the same, one connection:"
echo "outrigd A: $(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "RSS %.1f MB (peak %.1f MB)", r / 1024, h / 1024 }' "/proc/$a_pid/status")"
[ "$failed" -eq 0 ] || die "some runs had failed or non-2xx requests: their figures do not mean what they say (see BENCH_OUT)"
