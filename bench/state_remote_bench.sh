#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks state save/get through outrigd on Redis and PostgreSQL against the same operations sent to the server directly.
#
# Usage: state_remote_bench.sh [redis] [postgresql]   (both by default)
# Builds nothing: uses $OUTRIGD and $OUTRIG_PLUGIN_PATH, or the build tree this script sits in. Starts its own
# redis-server and PostgreSQL on loopback and stops them on exit; a store whose server, client tool or plugin
# is missing is skipped with a note, not failed. bench/README.md says what is measured and how to read it.
# Knobs (environment): BENCH_DURATION (5s, whole seconds), BENCH_REPEAT (3 rounds), BENCH_WARMUP (1s, 0 =
# none), BENCH_THREADS (2), BENCH_CONNECTIONS (16), BENCH_KEYS (10000 keys per client thread for save),
# BENCH_WORKER_THREADS (outrigd --worker-threads, 4), BENCH_PG_BIN (folder with initdb and postgres),
# BENCH_PG_SETTINGS (extra postgres -c options; default synchronous_commit=off), BENCH_PG_MODE (pgbench -M;
# default: the protocol the plugin was seen to use), BENCH_DIR, BENCH_OUT.
set -euo pipefail
# Byte-sized ${#body} for Content-Length, and '.' as the decimal point for printf and awk.
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outrigd=${OUTRIGD:-$here/../core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$here/../plugins/.libs}
lua=$here/state.lua
capture=$here/capture_ops.pl

duration=${BENCH_DURATION:-5s}
repeat=${BENCH_REPEAT:-3}
warmup=${BENCH_WARMUP:-1s}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-16}
keys=${BENCH_KEYS:-10000}
workers=${BENCH_WORKER_THREADS:-4}
pg_settings=${BENCH_PG_SETTINGS:--c synchronous_commit=off}
pg_mode=${BENCH_PG_MODE:-}

bench_name=state_remote_bench
# shellcheck source=bench/bench_lib.sh
. "$here/bench_lib.sh"

# pgbench -T and the redis-benchmark request count want whole seconds.
secs() {
	local s=${1%s}
	[[ $s =~ ^[0-9]+$ ]] || die "durations are whole seconds here ('$1')"
	echo "$s"
}
run_s=$(secs "$duration")
warm_s=$(secs "$warmup")
[ "$run_s" -gt 0 ] || die "BENCH_DURATION must be at least 1s"
case $pg_mode in
'' | extended | prepared) ;;
*) die "BENCH_PG_MODE is '$pg_mode'; use extended or prepared" ;;
esac

command -v wrk >/dev/null || die "wrk is not on PATH (Debian: apt-get install wrk)"
command -v perl >/dev/null || die "perl is not on PATH"
[ -x "$outrigd" ] || die "no outrigd at $outrigd; run make, or set OUTRIGD"
[ -d "$plugins" ] || die "no plugin folder at $plugins; run make, or set OUTRIG_PLUGIN_PATH"
[ -r "$lua" ] || die "no wrk script at $lua"
[ -r "$capture" ] || die "no $capture"

stores=("$@")
[ ${#stores[@]} -gt 0 ] || stores=(redis postgresql)
for s in "${stores[@]}"; do
	case $s in
	redis | postgresql) ;;
	*) die "unknown store '$s' (redis or postgresql)" ;;
	esac
done

tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/outrig-remote-bench.XXXXXX")
pid='' redis_pid='' pg_pid='' monitor_pid=''
# stop PIDVAR SIGNAL: ends one process this script started and waits for it.
stop() {
	local p=${!1}
	[ -n "$p" ] || return 0
	kill "-$2" "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	printf -v "$1" '%s' ''
}
cleanup() {
	stop monitor_pid TERM
	stop pid TERM
	stop redis_pid TERM
	# SIGINT is PostgreSQL's fast shutdown: it does not wait for the clients to leave.
	stop pg_pid INT
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

out=${BENCH_OUT:-$tmp/out}
mkdir -p "$out"
nap_init "$tmp"

# start_daemon RESOURCES LOG: starts outrigd on the one component in RESOURCES; sets pid and port.
start_daemon() {
	local res=$1 log=$2 attempt t0
	for attempt in 1 2 3; do
		port=$(free_port)
		t0=$SECONDS
		XDG_DATA_HOME=$tmp/data "$outrigd" --app-id bench --dapr-http-port "$port" \
			--dapr-listen-addresses 127.0.0.1 --plugin-dir "$plugins" --resources-path "$res" \
			--worker-threads "$workers" --log-level warn >"$log" 2>&1 &
		pid=$!
		while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do
			if http GET /v1.0/healthz && [ "$status" = 204 ]; then
				return 0
			fi
			nap 0.01
		done
		stop pid TERM
		note "outrigd did not become healthy (attempt $attempt, port $port):"
		sed 's/^/  | /' "$log" >&2
	done
	return 1
}

# component NAME TYPE [KEY VALUE]...: a resources folder $tmp/res-NAME with that one component.
component() {
	local name=$1 type=$2 dir=$tmp/res-$1
	shift 2
	mkdir -p "$dir"
	{
		printf 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n' "$name"
		printf '  type: %s\n  version: v1\n  metadata:\n' "$type"
		while [ $# -ge 2 ]; do
			printf '  - name: %s\n    value: "%s"\n' "$1" "$2"
			shift 2
		done
	} >"$dir/bench.yaml"
	echo "$dir"
}

# seed STORE: the two keys every store needs before the load: bench-get (read by get) and bench-probe
# (written once, so that the captured save is an overwrite like almost all saves of the load).
seed() {
	local k
	for k in bench-get bench-probe; do
		http POST "/v1.0/state/$1" "[{\"key\":\"$k\",\"value\":{\"n\":1,\"s\":\"bench\"}}]" || true
		[ "$status" = 204 ] || {
			note "seeding $1 failed (HTTP '$status' $reply); outrigd log:"
			sed 's/^/  | /' "$out/outrigd-$1.log" >&2
			return 1
		}
	done
	# A get also checks that what was saved reads back, before any figure rests on it.
	http GET "/v1.0/state/$1/bench-get" || true
	if [ "$status" != 200 ] || [[ $reply != *bench* ]]; then
		note "reading back $1 failed (HTTP '$status' $reply)"
		return 1
	fi
}

# probe STORE OP: the one request of OP that the server's log is watched for.
probe() {
	if [ "$2" = save ]; then
		http POST "/v1.0/state/$1" '[{"key":"bench-probe","value":{"n":1,"s":"bench"}}]' || true
		[ "$status" = 204 ]
	else
		http GET "/v1.0/state/$1/bench-get" || true
		[ "$status" = 200 ]
	fi
}

# wait_for FILE PATTERN: until grep finds PATTERN in FILE, for 5 s at most.
wait_for() {
	local i
	for ((i = 0; i < 500; i++)); do
		! grep -q -- "$2" "$1" 2>/dev/null || return 0
		nap 0.01
	done
	return 1
}

invalid=0
# Each measured run appends "STORE OP PATH ROUND RPS P50_US P99_US" here.
results=$out/results.txt
: >"$results"

# Each run function below sets $got to "RPS P50_US P99_US"; they run in this shell, not in $(...), so that
# what they note (invalid, the redis-benchmark rate) sticks.
got=

# wrk_run STORE OP SECONDS FILE: one wrk run through outrigd.
wrk_run() {
	local store=$1 op=$2 file=$4 result field arg
	arg=$keys
	[ "$op" = save ] || arg=bench-get
	wrk -t"$threads" -c"$connections" -d"$3s" --latency -s "$lua" "http://127.0.0.1:$port" -- "$op" "$store" "$arg" random \
		>"$file" 2>&1 || die "wrk failed for $store $op; its output is in $file"
	kill -0 "$pid" 2>/dev/null || die "outrigd died during $store $op; its log: $(cat "$out/outrigd-$store.log")"
	result=$(grep '^RESULT ' "$file") || die "no RESULT line from wrk for $store $op: $(cat "$file")"
	case $result in
	*"err_connect=0 err_read=0 err_write=0 err_status=0 err_timeout=0"*) ;;
	*)
		note "WARNING: $store $op via outrig had errors: $result"
		invalid=1
		;;
	esac
	got=$(for field in rps p50_us p99_us; do
		sed -n "s/^RESULT .*\\b$field=\\([0-9.]*\\).*/\\1/p" "$file"
	done | paste -sd ' ')
}

# measure STORE DIRECT_FN: warm-up, then BENCH_REPEAT rounds of save and get, direct and via outrig
# alternating which goes first, so the drift of a noisy machine falls on both paths alike.
measure() {
	local store=$1 direct=$2 r op path order
	if [ "$warm_s" -gt 0 ]; then
		for op in save get; do
			"$direct" "$op" "$warm_s" "$out/$store-$op-direct-warmup.txt"
			wrk_run "$store" "$op" "$warm_s" "$out/$store-$op-outrig-warmup.txt"
		done
	fi
	for ((r = 1; r <= repeat; r++)); do
		order="direct outrig"
		[ $((r % 2)) -eq 1 ] || order="outrig direct"
		for op in save get; do
			for path in $order; do
				if [ -t 2 ]; then
					printf '\r  %s round %d/%d: %s %-6s' "$store" "$r" "$repeat" "$op" "$path" >&2
				fi
				if [ "$path" = direct ]; then
					"$direct" "$op" "$run_s" "$out/$store-$op-direct-$r.txt"
				else
					wrk_run "$store" "$op" "$run_s" "$out/$store-$op-outrig-$r.txt"
				fi
				echo "$store $op $path $r $got" >>"$results"
			done
		done
	done
	if [ -t 2 ]; then
		printf '\r%50s\r' '' >&2
	fi
}

# column STORE OP PATH N: field N of that path's runs in $results.
column() {
	awk -v s="$1" -v o="$2" -v p="$3" -v c="$4" '$1 == s && $2 == o && $3 == p { print $c }' "$results"
}

# report STORE: the table of medians and one summary line per operation.
report() {
	local store=$1 op path
	declare -A rps p50 p99 lo hi
	for op in save get; do
		for path in direct outrig; do
			rps[$op-$path]=$(column "$store" "$op" "$path" 5 | median)
			p50[$op-$path]=$(column "$store" "$op" "$path" 6 | median)
			p99[$op-$path]=$(column "$store" "$op" "$path" 7 | median)
			lo[$op-$path]=$(column "$store" "$op" "$path" 5 | sort -g | head -n 1)
			hi[$op-$path]=$(column "$store" "$op" "$path" 5 | sort -g | tail -n 1)
		done
	done
	printf '%-5s %-7s %9s %17s %9s %9s\n' op path "req/s" "(min-max req/s)" "p50 ms" "p99 ms"
	for op in save get; do
		for path in direct outrig; do
			awk -v op="$op" -v path="$path" -v rps="${rps[$op-$path]}" -v lo="${lo[$op-$path]}" \
				-v hi="${hi[$op-$path]}" -v p50="${p50[$op-$path]}" -v p99="${p99[$op-$path]}" 'BEGIN {
				printf "%-5s %-7s %9.0f %17s %9.3f %9.3f\n", op, path, rps,
					sprintf("(%.0f-%.0f)", lo, hi), p50 / 1000, p99 / 1000 }'
		done
	done
	echo
	for op in save get; do
		awk -v s="$store" -v op="$op" -v orps="${rps[$op-outrig]}" -v o50="${p50[$op-outrig]}" \
			-v o99="${p99[$op-outrig]}" -v drps="${rps[$op-direct]}" -v d50="${p50[$op-direct]}" \
			-v d99="${p99[$op-direct]}" 'BEGIN {
			printf "%s %s: outrig %.1fk req/s p50 %.2f ms p99 %.2f ms | direct %.1fk p50 %.2f p99 %.2f | ratio %.2f, %+.2f ms p50, %+.2f ms p99\n",
				s, op, orps / 1000, o50 / 1000, o99 / 1000, drps / 1000, d50 / 1000, d99 / 1000,
				orps / drps, (o50 - d50) / 1000, (o99 - d99) / 1000 }'
	done
}

# show ARGS...: a command for the header, long arguments (a script) shortened.
show() {
	local a s=
	for a in "$@"; do
		a=${a//$'\n'/ }
		[ ${#a} -le 60 ] || a="${a:0:40}...(${#a} bytes)"
		# Quoted when empty or spaced, so that every argument shows.
		[ -n "$a" ] && [[ $a != *' '* ]] || a="'$a'"
		s+=" $a"
	done
	echo "${s# }"
}

header() {
	echo "outrigd: $("$outrigd" --version 2>&1 | head -n 1)"
	echo "host: $(nproc) CPUs, $(uname -sr); $repeat rounds of ${run_s}s per path and op (median shown), ${warm_s}s warm-up"
	echo "both paths: $connections connections, $threads client threads, one request in flight per connection;" \
		"outrigd --worker-threads $workers"
}

######## Redis

# redis_errors: error replies the server has sent so far, to every client.
redis_errors() {
	redis-cli -p "$redis_port" INFO stats | tr -d '\r' | sed -n 's/^total_error_replies://p'
}

# redis_direct OP SECONDS FILE: redis-benchmark sends the captured command. It counts requests, not time,
# so the count comes from the rate of the last direct run of OP.
declare -A redis_rate=([save]=20000 [get]=20000)
redis_cmd_save=() redis_cmd_get=()
redis_direct() {
	local op=$1 n errors
	local -n cmd=redis_cmd_$op
	n=$(awk -v r="${redis_rate[$op]}" -v s="$2" 'BEGIN { n = int(r * s); print (n < 1000 ? 1000 : n) }')
	errors=$(redis_errors)
	redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$connections" --threads "$threads" -n "$n" \
		-r $((keys * threads)) --csv "${cmd[@]}" >"$3" 2>&1 || die "redis-benchmark failed for $op: $(cat "$3")"
	# redis-benchmark counts an error reply as a request like any other; the server keeps the count.
	errors=$(($(redis_errors) - errors))
	if [ "$errors" -ne 0 ]; then
		note "WARNING: redis-benchmark $op got $errors error replies"
		invalid=1
	fi
	# "test","rps","avg","min","p50","p95","p99","max": the test name (the command) can hold commas and
	# newlines, so the figures are counted from the end of the last line.
	got=$(tail -n 1 "$3" | awk -F'","' '{ gsub(/"/, "", $NF); printf "%s %.0f %.0f", $(NF - 6), $(NF - 3) * 1000, $(NF - 1) * 1000 }')
	redis_rate[$op]=${got%% *}
}

bench_redis() {
	local p attempt dir cmd_file op a reply_direct errors
	command -v redis-server >/dev/null || { echo "redis: skipped, redis-server is not on PATH (Debian: apt-get install redis-server)"; return 0; }
	if ! command -v redis-benchmark >/dev/null || ! command -v redis-cli >/dev/null; then
		echo "redis: skipped, redis-benchmark or redis-cli is not on PATH (Debian: redis-tools)"
		return 0
	fi
	[ -e "$plugins/state_redis.so" ] || { echo "redis: skipped, no state_redis.so in $plugins (was hiredis found by configure?)"; return 0; }

	mkdir -p "$tmp/redis"
	for attempt in 1 2 3; do
		redis_port=$(free_port)
		# No persistence: the bench measures requests, and both paths would pay the same snapshots anyway.
		redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$tmp/redis" \
			--logfile "$out/redis.log" --daemonize no &
		redis_pid=$!
		for p in $(seq 100); do
			[ "$(redis-cli -p "$redis_port" PING 2>/dev/null)" != PONG ] || break 2
			kill -0 "$redis_pid" 2>/dev/null || break
			nap 0.05
		done
		stop redis_pid TERM
		note "redis-server did not answer on port $redis_port (attempt $attempt)"
	done
	[ -n "$redis_pid" ] || { echo "redis: skipped, could not start redis-server (its log: $out/redis.log)"; return 0; }

	dir=$(component redis state.redis redisHost "127.0.0.1:$redis_port")
	start_daemon "$dir" "$out/outrigd-redis.log" || { echo "redis: skipped, outrigd did not start with state.redis"; stop redis_pid TERM; return 0; }
	seed redis || { echo "redis: skipped, the store does not work through outrigd"; stop_daemon; stop redis_pid TERM; return 0; }

	# What the plugin sends for one save and one get, from the server's MONITOR, becomes the direct path.
	redis-cli -p "$redis_port" MONITOR >"$tmp/monitor.txt" 2>&1 &
	# shellcheck disable=SC2034 # stop() reads it through ${!1}
	monitor_pid=$!
	wait_for "$tmp/monitor.txt" '^OK' || die "redis-cli MONITOR did not start: $(cat "$tmp/monitor.txt")"
	for op in save get; do
		redis-cli -p "$redis_port" ECHO "outrig-bench-$op-begin" >/dev/null
		probe redis "$op" || die "redis $op probe failed (HTTP '$status' $reply)"
		redis-cli -p "$redis_port" ECHO "outrig-bench-$op-end" >/dev/null
	done
	wait_for "$tmp/monitor.txt" outrig-bench-get-end || die "MONITOR did not show the probes: $tmp/monitor.txt"
	stop monitor_pid TERM
	for op in save get; do
		cmd_file=$tmp/redis-$op.args
		perl "$capture" redis "outrig-bench-$op-begin" "outrig-bench-$op-end" <"$tmp/monitor.txt" >"$cmd_file" ||
			die "could not tell what state.redis sends for $op (MONITOR output: $tmp/monitor.txt)"
		local -n cmd=redis_cmd_$op
		mapfile -d '' -t cmd <"$cmd_file"
		# The save's key becomes a random one: redis-benchmark -r fills __rand_int__ in.
		for a in "${!cmd[@]}"; do
			cmd[a]=${cmd[a]/bench-probe/bench-direct-__rand_int__}
		done
		# One by hand first: a direct path answering errors would measure nothing.
		errors=$(redis_errors)
		reply_direct=$(redis-cli -p "$redis_port" "${cmd[@]/__rand_int__/000000000000}" 2>&1) || true
		[ "$(redis_errors)" -eq "$errors" ] || die "the captured $op command fails when sent directly: $reply_direct"
		unset -n cmd
	done

	echo "== redis: state.redis through outrigd vs redis-benchmark"
	echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$redis_port (no persistence)"
	echo "save: wrk POST /v1.0/state/redis, one item, ${keys} keys per thread | redis-benchmark -r $((keys * threads)) $(show "${redis_cmd_save[@]}")"
	echo "get:  wrk GET /v1.0/state/redis/bench-get | redis-benchmark $(show "${redis_cmd_get[@]}")"
	echo
	measure redis redis_direct
	report redis
	echo
	stop_daemon
	stop redis_pid TERM
}

######## PostgreSQL

# pg_direct OP SECONDS FILE: pgbench runs the captured statements; the percentiles come from its
# per-transaction log.
pg_direct() {
	local op=$1 logs=$tmp/pglog/$1 defs=()
	rm -rf "$logs" && mkdir -p "$logs"
	mapfile -d '' -t defs <"$tmp/pg-$op.defs"
	pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -M "${pg_proto[$op]}" -c "$connections" -j "$threads" \
		-T "$2" -f "$tmp/pg-$op.sql" -l --log-prefix="$logs/tx" "${defs[@]}" postgres >"$3" 2>&1 ||
		die "pgbench failed for $op: $(cat "$3")"
	if grep -q '^number of failed transactions: [1-9]' "$3"; then
		note "WARNING: pgbench $op had failed transactions: $(grep '^number of failed' "$3")"
		invalid=1
	fi
	# The log's third column is each transaction's latency in microseconds.
	got=$(awk '{ print $3 }' "$logs"/tx.* | sort -n | awk -v tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$3")" '
		{ v[NR] = $1 }
		END { if (NR == 0) exit 1
			i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
			i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
			printf "%s %d %d\n", tps, v[i50], v[i99] }')
}

declare -A pg_proto pg_seen
bench_postgresql() {
	local bin='' b runas=() attempt p op dir sock=$tmp/pg
	if [ -n "${BENCH_PG_BIN:-}" ]; then
		bin=$BENCH_PG_BIN
	elif command -v initdb >/dev/null; then
		bin=$(dirname "$(command -v initdb)")
	else
		for b in /usr/lib/postgresql/*/bin; do
			[ -x "$b/initdb" ] && bin=$b
		done
	fi
	if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/postgres" ]; then
		echo "postgresql: skipped, no initdb and postgres found (Debian: apt-get install postgresql; or set BENCH_PG_BIN)"
		return 0
	fi
	if ! command -v pgbench >/dev/null || ! command -v psql >/dev/null; then
		echo "postgresql: skipped, pgbench or psql is not on PATH (Debian: postgresql-client)"
		return 0
	fi
	[ -e "$plugins/state_postgresql.so" ] || { echo "postgresql: skipped, no state_postgresql.so in $plugins (was libpq found by configure?)"; return 0; }
	# The capture reads PostgreSQL's JSON log, which came with version 15.
	[ "$("$bin/postgres" --version | sed -n 's/.* \([0-9]*\)[.].*/\1/p')" -ge 15 ] 2>/dev/null ||
		{ echo "postgresql: skipped, $bin/postgres is older than 15 (no jsonlog)"; return 0; }

	mkdir -p "$sock/log"
	# PostgreSQL refuses to run as root: then it runs as the postgres user, which must reach its folder.
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || { echo "postgresql: skipped, running as root and there is no postgres user"; return 0; }
		command -v setpriv >/dev/null || { echo "postgresql: skipped, running as root and setpriv is missing"; return 0; }
		runas=(setpriv --reuid postgres --regid postgres --clear-groups)
		chmod 711 "$tmp"
		chown -R postgres: "$sock"
	fi
	"${runas[@]}" "$bin/initdb" -D "$sock/data" -U postgres -A trust -E UTF8 --no-sync >"$out/initdb.log" 2>&1 ||
		{ echo "postgresql: skipped, initdb failed (its output: $out/initdb.log)"; return 0; }

	for attempt in 1 2 3; do
		pg_port=$(free_port)
		# shellcheck disable=SC2086 # BENCH_PG_SETTINGS holds several options on purpose
		"${runas[@]}" "$bin/postgres" -D "$sock/data" -k "$sock" -p "$pg_port" -c listen_addresses=127.0.0.1 \
			-c max_connections=200 -c logging_collector=on -c log_destination=jsonlog \
			-c log_directory="$sock/log" -c log_filename=postgresql $pg_settings >"$out/postgres.log" 2>&1 &
		pg_pid=$!
		for p in $(seq 200); do
			if psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
				break 2
			fi
			kill -0 "$pg_pid" 2>/dev/null || break
			nap 0.05
		done
		stop pg_pid INT
		note "postgres did not answer on port $pg_port (attempt $attempt)"
	done
	[ -n "$pg_pid" ] || { echo "postgresql: skipped, could not start postgres (its log: $out/postgres.log)"; return 0; }
	sql() {
		psql -X -q -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
	}

	dir=$(component pg state.postgresql connectionString "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres")
	start_daemon "$dir" "$out/outrigd-pg.log" || { echo "postgresql: skipped, outrigd did not start with state.postgresql"; stop pg_pid INT; return 0; }
	seed pg || { echo "postgresql: skipped, the store does not work through outrigd"; stop_daemon; stop pg_pid INT; return 0; }

	# What the plugin runs for one save and one get, from the server's statement log, becomes pgbench's
	# script. The log is on only for this: it would slow both paths down.
	sql -c "ALTER SYSTEM SET log_statement = 'all'" -c 'SELECT pg_reload_conf()' >/dev/null
	# Backends take the reload at their next command; give the signal time to get around.
	nap 0.5
	for op in save get; do
		sql -c "SELECT 'outrig-bench-$op-begin'" >/dev/null
		probe pg "$op" || die "postgresql $op probe failed (HTTP '$status' $reply)"
		sql -c "SELECT 'outrig-bench-$op-end'" >/dev/null
	done
	sql -c 'ALTER SYSTEM RESET log_statement' -c 'SELECT pg_reload_conf()' >/dev/null
	# The logging collector writes behind the backends.
	wait_for "$sock/log/postgresql.json" outrig-bench-get-end || die "the statement log did not show the probes: $sock/log"
	for op in save get; do
		pg_proto[$op]=$(perl "$capture" pg "outrig-bench-$op-begin" "outrig-bench-$op-end" $((keys * threads)) \
			"$tmp/pg-$op.sql" "$tmp/pg-$op.defs" <"$sock/log/postgresql.json") ||
			die "could not tell what state.postgresql runs for $op (log: $sock/log/postgresql.json)"
		# To see what preparing would save, pgbench can be told otherwise than the plugin does.
		pg_seen[$op]=${pg_proto[$op]}
		[ -z "$pg_mode" ] || pg_proto[$op]=$pg_mode
	done
	cp "$tmp/pg-save.sql" "$tmp/pg-get.sql" "$out/"

	echo "== postgresql: state.postgresql through outrigd vs pgbench"
	echo "postgres $("$bin/postgres" --version | awk '{ print $3 }') on 127.0.0.1:$pg_port, $pg_settings; both paths over TCP"
	echo "save: wrk POST /v1.0/state/pg, one item, ${keys} keys per thread | pgbench -M ${pg_proto[save]} (the plugin: ${pg_seen[save]}):"
	sed 's/^/    /' "$tmp/pg-save.sql" | tr -s ' \t' ' '
	echo "get:  wrk GET /v1.0/state/pg/bench-get | pgbench -M ${pg_proto[get]} (the plugin: ${pg_seen[get]}):"
	sed 's/^/    /' "$tmp/pg-get.sql" | tr -s ' \t' ' '
	echo
	measure pg pg_direct
	report pg
	echo
	stop_daemon
	stop pg_pid INT
}

header
echo
for s in "${stores[@]}"; do
	"bench_$s"
done

if [ "$invalid" -ne 0 ]; then
	echo "state_remote_bench: some runs had errors (see warnings above); figures are not valid" >&2
	exit 1
fi
