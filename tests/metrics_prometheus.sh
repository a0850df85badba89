#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Metrics end to end (issue 14): the real Prometheus server (Debian's prometheus) scrapes outrigd's
# /metrics; known traffic (state saves and gets, an invocation, a publish) must move Dapr's counters
# by exactly that much, asked with PromQL over Prometheus's HTTP API. Also: API log lines of a
# Configuration with apiLogging and omitHealthChecks, --metrics-port taken, --enable-metrics=false.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
daemon=${OUTRIGD:-$srcdir/core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$srcdir/plugins/.libs}

. "$srcdir/tests/lib/test_sh_lib.sh"

prom=$(command -v prometheus || true)
if [ -z "$prom" ]; then
	echo "SKIP: prometheus is not installed (pkg/debian-deps.sh installs it)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/metrics_prom.XXXXXX")
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS: until URL answers.
wait_http() {
	i=0
	while [ "$i" -lt "$(($2 * 10))" ]; do
		curl -fs -o /dev/null "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

http=$(free_port)
grpc=$(free_port)
mport=$(free_port)
app=$(free_port)
pport=$(free_port)

# The app: a static file server; GET /hello through invocation.
mkdir -p "$tmp/www" "$tmp/data" "$tmp/prom"
echo hello >"$tmp/www/hello"
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$app" >"$tmp/app.log" 2>&1 &
pids="$pids $!"
if ! wait_http "http://127.0.0.1:$app/hello" 20; then
	fail "the test app starts" "$tmp/app.log"
	summary
	exit 1
fi

cat >"$tmp/config.yaml" <<EOF
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: observed
spec:
  metric:
    enabled: true
  logging:
    apiLogging:
      enabled: true
      omitHealthChecks: true
EOF

"$daemon" --app-id metrics-a --app-port "$app" --dapr-http-port "$http" --dapr-grpc-port "$grpc" \
	--metrics-port "$mport" --metrics-listen-address 127.0.0.1 --config "$tmp/config.yaml" \
	--plugin-dir "$plugins" --data-dir "$tmp/data" >"$tmp/outrigd.log" 2>&1 &
pids="$pids $!"
if ! wait_http "http://127.0.0.1:$http/v1.0/healthz" 20 || ! wait_http "http://127.0.0.1:$mport/metrics" 5; then
	fail "outrigd serves /metrics on --metrics-port" "$tmp/outrigd.log"
	summary
	exit 1
fi

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: outrig
    static_configs:
      - targets: ["127.0.0.1:$mport"]
EOF
"$prom" --config.file="$tmp/prometheus.yml" --web.listen-address="127.0.0.1:$pport" \
	--storage.tsdb.path="$tmp/prom" >"$tmp/prometheus.log" 2>&1 &
pids="$pids $!"
if ! wait_http "http://127.0.0.1:$pport/-/ready" 60; then
	fail "prometheus starts" "$tmp/prometheus.log"
	summary
	exit 1
fi

# query PROMQL: the value of its single sample, or "none".
query() {
	curl -fs --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "none")'
}

# until_value PROMQL WANT SECONDS: waits for Prometheus to have scraped the traffic.
until_value() {
	i=0
	while [ "$i" -lt "$3" ]; do
		[ "$(query "$1")" = "$2" ] && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}

api() {
	curl -s -o /dev/null -w '%{http_code}' -A metrics-test "$@"
}

# Known traffic.
codes=
for i in 1 2 3; do
	codes="$codes $(api -XPOST "http://127.0.0.1:$http/v1.0/state/statestore" \
		-H 'content-type: application/json' -d "[{\"key\":\"k$i\",\"value\":$i}]")"
done
codes="$codes $(api "http://127.0.0.1:$http/v1.0/state/statestore/k1")"
codes="$codes $(api "http://127.0.0.1:$http/v1.0/state/statestore/k2")"
codes="$codes $(api "http://127.0.0.1:$http/v1.0/invoke/metrics-a/method/hello")"
codes="$codes $(api -XPOST "http://127.0.0.1:$http/v1.0/publish/pubsub/orders" \
	-H 'content-type: application/json' -d '{"id":1}')"
codes="$codes $(api "http://127.0.0.1:$http/v1.0/healthz")"
if [ "$codes" = " 204 204 204 200 200 200 204 204" ]; then
	pass "known traffic answered: 3 saves, 2 gets, an invocation, a publish"
else
	fail "known traffic answered (codes:$codes)" "$tmp/outrigd.log"
fi

saves='sum(dapr_http_server_request_count{app_id="metrics-a",method="POST",path="/v1.0/state/statestore",status="204"})'
if until_value "$saves" 3 30; then
	pass "Prometheus scraped outrigd: dapr_http_server_request_count of the saves is 3"
else
	fail "dapr_http_server_request_count of the saves is 3 (got $(query "$saves"))" "$tmp/prometheus.log"
fi

# check NAME PROMQL WANT
check() {
	got=$(query "$2")
	if [ "$got" = "$3" ]; then
		pass "$1"
	else
		fail "$1: $2 is $got, expected $3"
	fi
}

# check_positive NAME PROMQL: a single sample above 0.
check_positive() {
	got=$(query "$2")
	if [ "$got" != none ] && python3 -c "import sys; sys.exit(0 if float('$got') > 0 else 1)"; then
		pass "$1"
	else
		fail "$1: $2 is $got, expected a value above 0"
	fi
}

check "up: the target is scraped" 'up{job="outrig"}' 1
check "state gets counted per path (keys cut off) and status" \
	'sum(dapr_http_server_request_count{method="GET",path="/v1.0/state/statestore",status="200"})' 2
check "state set operations: dapr_component_state_count" \
	'sum(dapr_component_state_count{component="statestore",operation="set",success="true"})' 3
check "state get operations: dapr_component_state_count" \
	'sum(dapr_component_state_count{component="statestore",operation="get",success="true"})' 2
check "state latency histogram counts every set" \
	'sum(dapr_component_state_latencies_count{operation="set"})' 3
check_positive "HTTP server latency histogram: a median can be computed" \
	'histogram_quantile(0.5, sum by (le) (dapr_http_server_latency_bucket{method="POST"}))'
check "a publish: dapr_component_pubsub_egress_count" \
	'sum(dapr_component_pubsub_egress_count{component="pubsub",topic="orders",success="true"})' 1
check "an invocation: dapr_http_client_completed_count of the call to the app" \
	'sum(dapr_http_client_completed_count{app_id="metrics-a",method="GET",path="/hello",status="200"})' 1
check "the invocation on the server side" \
	'sum(dapr_http_server_request_count{method="GET",path="/v1.0/invoke/metrics-a/method/hello",status="200"})' 1
check "components loaded: dapr_runtime_component_loaded" 'dapr_runtime_component_loaded{app_id="metrics-a"}' 2
# Body sizes (Dapr's size buckets, 1024 bytes up): requests 3 saves of 24 bytes and a publish of 8; answers the
# two values read (1 byte each) and the app's "hello\n"; probes, saves and the publish answer nothing.
check "dapr_http_server_request_bytes: the bodies' bytes" 'sum(dapr_http_server_request_bytes_sum{app_id="metrics-a"})' 80
check "dapr_http_server_response_bytes: the answers' bytes" 'sum(dapr_http_server_response_bytes_sum{app_id="metrics-a"})' 8
check "dapr_http_server_request_bytes: every request in the first bucket (le 1024)" \
	'sum(dapr_http_server_request_bytes_bucket{app_id="metrics-a",le="1024"}) - sum(dapr_http_server_request_bytes_count{app_id="metrics-a"})' 0
check "dapr_http_client_sent_bytes: the invocation sent no body to the app" \
	'sum(dapr_http_client_sent_bytes_count{app_id="metrics-a",method="GET",path="/hello",status=""})' 1
check_positive "dapr_http_client_received_bytes: the app's answers" 'sum(dapr_http_client_received_bytes_sum{app_id="metrics-a"})'
check_positive "process metrics: resident memory" 'process_resident_memory_bytes{job="outrig"}'
check_positive "process metrics: open file descriptors" 'process_open_fds{job="outrig"}'
check_positive "process metrics: CPU seconds" 'process_cpu_seconds_total{job="outrig"}'

# Two more saves: the counter moves by exactly two.
api -XPOST "http://127.0.0.1:$http/v1.0/state/statestore" -H 'content-type: application/json' \
	-d '[{"key":"k4","value":4},{"key":"k5","value":5}]' >/dev/null
api -XPOST "http://127.0.0.1:$http/v1.0/state/statestore" -H 'content-type: application/json' \
	-d '[{"key":"k6","value":6}]' >/dev/null
if until_value "$saves" 5 30; then
	pass "two more saves move the counter from 3 to 5"
else
	fail "two more saves move the counter to 5 (got $(query "$saves"))"
fi
check "a save of two items is one bulk_set operation" \
	'sum(dapr_component_state_count{operation="bulk_set",success="true"})' 1

# API logging from the Configuration: one line per call with Dapr's fields, probes left out.
if grep -q 'msg="HTTP API Called" app_id=metrics-a scope=dapr.runtime.http-info method="POST /v1.0/state/statestore" code=204 duration=[0-9]* useragent=metrics-test' "$tmp/outrigd.log" &&
	[ "$(grep -c 'msg="HTTP API Called".*method="POST /v1.0/state/statestore"' "$tmp/outrigd.log")" -eq 5 ] &&
	grep -q 'method="GET /v1.0/invoke/metrics-a/method/hello" code=200' "$tmp/outrigd.log" &&
	! grep -q 'HTTP API Called.*healthz' "$tmp/outrigd.log"; then
	pass "spec.logging.apiLogging: one line per API call, with method, code, duration and useragent; omitHealthChecks"
else
	fail "spec.logging.apiLogging lines" "$tmp/outrigd.log"
fi

# A --metrics-port given and taken: start-up fails naming the flag.
"$daemon" --app-id metrics-b --dapr-http-port "$(free_port)" --dapr-grpc-port "$(free_port)" \
	--metrics-port "$mport" --metrics-listen-address 127.0.0.1 --plugin-dir "$plugins" \
	--data-dir "$tmp/data-b" >"$tmp/b.log" 2>&1 &
bpid=$!
i=0
while kill -0 "$bpid" 2>/dev/null && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$bpid" 2>/dev/null; then
	kill "$bpid"
	wait "$bpid" 2>/dev/null
	fail "a taken --metrics-port stops start-up" "$tmp/b.log"
elif grep -q -- "--metrics-port $mport: cannot listen on 127.0.0.1:$mport" "$tmp/b.log"; then
	pass "a taken --metrics-port stops start-up, naming the flag"
else
	fail "a taken --metrics-port: the error names the flag" "$tmp/b.log"
fi

# --enable-metrics=false: no metrics port at all.
c_http=$(free_port)
c_metrics=$(free_port)
"$daemon" --app-id metrics-c --dapr-http-port "$c_http" --dapr-grpc-port "$(free_port)" \
	--metrics-port "$c_metrics" --enable-metrics=false --plugin-dir "$plugins" \
	--data-dir "$tmp/data-c" >"$tmp/c.log" 2>&1 &
cpid=$!
pids="$pids $cpid"
if wait_http "http://127.0.0.1:$c_http/v1.0/healthz" 20 &&
	! curl -fs -o /dev/null "http://127.0.0.1:$c_metrics/metrics" && ! grep -q 'metrics (Prometheus) listening' "$tmp/c.log"; then
	pass "--enable-metrics=false: no metrics port"
else
	fail "--enable-metrics=false: no metrics port" "$tmp/c.log"
fi

summary
