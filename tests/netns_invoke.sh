#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Service invocation between two hosts: network namespaces joined by a veth pair, each running an app and an outrigd
# that finds the other through nameresolution.kubernetes, with dnsmasq as the cluster DNS.
# Needs root, iproute2 (ip netns, veth), dnsmasq (Debian: dnsmasq-base), python3 and curl. Without one of them it
# skips (exit 77), unless OUTRIG_REQUIRE_SERVERS=1 (as in CI), which turns the skip into a failure.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${OUTRIG_BUILDDIR:-$srcdir}
outrigd=${OUTRIGD:-$builddir/core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$builddir/plugins/.libs}
data=${OUTRIG_TEST_DATA:-$srcdir/tests/data}/netns
# pass NAME, fail NAME [FILE...], summary; gone PID TENTHS (stop_pid and cleanup use it).
. "$srcdir/tests/lib/test_sh_lib.sh"
. "$srcdir/tests/lib/netns_lib.sh"

skip() {
	if [ "${OUTRIG_REQUIRE_SERVERS:-0}" = 1 ]; then
		echo "FAIL: netns invocation test required (OUTRIG_REQUIRE_SERVERS=1) but $1" >&2
		exit 1
	fi
	echo "SKIP: netns invocation test: $1"
	exit 77
}

if [ "$(id -u)" != 0 ]; then
	skip "it must run as root (it creates network namespaces)"
fi
if ! command -v ip >/dev/null 2>&1; then
	skip "ip (iproute2) is not installed"
fi
dnsmasq=/usr/sbin/dnsmasq
if [ ! -x "$dnsmasq" ] && ! dnsmasq=$(command -v dnsmasq); then
	skip "dnsmasq is not installed (Debian: dnsmasq-base)"
fi
if ! python3=$(command -v python3); then
	skip "python3 is not on PATH (it runs the echo apps)"
fi
if ! command -v curl >/dev/null 2>&1; then
	skip "curl is not on PATH"
fi
if [ ! -e "$plugins/nameresolution_kubernetes.so" ]; then
	skip "the plugin was not built ($plugins/nameresolution_kubernetes.so is missing)"
fi

# Names carry our pid, so that parallel runs do not clash; the veth ends are created inside the namespaces, where
# their names cannot clash. Addresses and ports are those of each host's own network stack: fixed is fine.
ns_a=outrig-$$-a
ns_b=outrig-$$-b
ip_a=10.231.0.1
ip_b=10.231.0.2
app_port=8080
http_port=3500
internal_port=50002

tmp=
pids=
made_ns=

# stop_pid PID: SIGTERM, then SIGKILL if it is still there 5 s later (outrigd's graceful shutdown).
stop_pid() {
	kill "$1" 2>/dev/null || return 0
	gone "$1" 50 || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

cleanup() {
	for p in $pids; do
		stop_pid "$p"
	done
	for ns in $made_ns; do
		# Anything still inside is ours: nothing else runs in these namespaces.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netns_invoke.XXXXXX")

# --- the two hosts -------------------------------------------------------------------------

for ns in "$ns_a" "$ns_b"; do
	if ! ip netns add "$ns" 2>"$tmp/ip.err"; then
		if [ -e "/run/netns/$ns" ]; then
			echo "FAIL: network namespace $ns already exists; remove it: ip netns del $ns" >&2
			exit 1
		fi
		skip "ip netns add failed: $(cat "$tmp/ip.err")"
	fi
	made_ns="$made_ns $ns"
	ip -n "$ns" link set lo up
done
if ! ip -n "$ns_a" link add veth-a type veth peer name veth-b netns "$ns_b" 2>"$tmp/ip.err"; then
	skip "cannot create a veth pair: $(cat "$tmp/ip.err")"
fi
ip -n "$ns_a" addr add "$ip_a/24" dev veth-a
ip -n "$ns_b" addr add "$ip_b/24" dev veth-b
ip -n "$ns_a" link set veth-a up
ip -n "$ns_b" link set veth-b up

# `ip netns exec NS` shows /etc/netns/NS/resolv.conf as /etc/resolv.conf: both hosts ask dnsmasq on host A.
for ns in "$ns_a" "$ns_b"; do
	mkdir -p "/etc/netns/$ns"
	echo "nameserver $ip_a" >"/etc/netns/$ns/resolv.conf"
done



# The cluster DNS: only the two records of dnsmasq.conf; other names under cluster.local get NXDOMAIN.
start "$ns_a" dnsmasq "$dnsmasq" --keep-in-foreground --conf-file="$data/dnsmasq.conf" \
	--listen-address="$ip_a" --bind-interfaces --port=53 --pid-file="$tmp/dnsmasq.pid" \
	--user=root --log-queries --log-facility=-
dnsmasq_pid=$last_pid
i=0
while [ "$i" -lt 50 ] &&
	! ip netns exec "$ns_b" getent ahostsv4 "app-a-dapr.default.svc.cluster.local" >"$tmp/dns.out" 2>&1; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q "^$ip_a " "$tmp/dns.out" &&
	ip netns exec "$ns_a" getent ahostsv4 "app-b-dapr.default.svc.cluster.local" >"$tmp/dns.out" 2>&1 &&
	grep -q "^$ip_b " "$tmp/dns.out"; then
	pass "cluster DNS: both hosts resolve app-a-dapr and app-b-dapr through dnsmasq"
else
	fail "cluster DNS: both hosts resolve app-a-dapr and app-b-dapr through dnsmasq" "$tmp/dns.out"
	log_tail dnsmasq
	kill -0 "$dnsmasq_pid" 2>/dev/null || echo "#   dnsmasq is not running"
	summary
	exit 1
fi

# An app and its sidecar on each host. No components: an empty resources folder.
mkdir -p "$tmp/resources"
sidecars_up=1
for x in a b; do
	if [ "$x" = a ]; then ns=$ns_a; else ns=$ns_b; fi
	start "$ns" "app-$x" "$python3" "$data/echo_app.py" "app-$x" "$app_port"
	if ! wait_for "$ns" "http://127.0.0.1:$app_port/ready" 200 "$last_pid"; then
		fail "echo app app-$x starts"
		log_tail "app-$x"
		sidecars_up=0
		continue
	fi
	start "$ns" "outrigd-$x" env -u NAMESPACE "$outrigd" --app-id "app-$x" --app-port "$app_port" \
		--dapr-http-port "$http_port" --dapr-internal-grpc-port "$internal_port" \
		--dapr-internal-grpc-listen-address 0.0.0.0 --config "$data/config.yaml" \
		--resources-path "$tmp/resources" --data-dir "$tmp/data-$x" --plugin-dir "$plugins" \
		--log-level debug
	eval "outrigd_$x=\$last_pid"
	if wait_for "$ns" "http://127.0.0.1:$http_port/v1.0/healthz" 204 "$last_pid"; then
		pass "outrigd app-$x starts on host $ns (--config: nameresolution.kubernetes)"
	else
		if kill -0 "$last_pid" 2>/dev/null; then
			fail "outrigd app-$x starts on host $ns: no 204 from /v1.0/healthz in 10 s"
		else
			wait "$last_pid"
			fail "outrigd app-$x starts on host $ns: it exited with status $?"
		fi
		log_tail "outrigd-$x"
		sidecars_up=0
	fi
done
if [ "$sidecars_up" = 0 ]; then
	summary
	exit 1
fi

# Each sidecar's internal port is open to the other host (--dapr-internal-grpc-listen-address 0.0.0.0).
for x in a b; do
	if [ "$x" = a ]; then from=$ns_b to=$ip_a; else from=$ns_a to=$ip_b; fi
	if ip netns exec "$from" "$python3" -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), 2).close()' "$to" "$internal_port" \
		>"$tmp/connect.err" 2>&1; then
		pass "outrigd app-$x: internal port $to:$internal_port reachable from the other host"
	else
		fail "outrigd app-$x: internal port $to:$internal_port reachable from the other host" "$tmp/connect.err"
	fi
done

# --- invocations ---------------------------------------------------------------------------

# invoke NS NAME PATH [curl args...]: a call to the sidecar on host NS; the status code in $tmp/NAME.code, the
# response headers in $tmp/NAME.hdr, its body in $tmp/NAME.body.
invoke() {
	ns=$1 name=$2 path=$3
	shift 3
	ip netns exec "$ns" curl -sS --max-time 10 -o "$tmp/$name.body" -D "$tmp/$name.hdr" \
		-w '%{http_code}' "$@" "http://127.0.0.1:$http_port$path" >"$tmp/$name.code" 2>"$tmp/$name.err"
	code=$(cat "$tmp/$name.code")
}

# header NAME HEADER: the value of HEADER in the response to invocation NAME.
header() {
	sed -n "s/^$2: *//Ip" "$tmp/$1.hdr" | tr -d '\r' | tail -n 1
}

# expect NAME DESCRIPTION CODE APP METHOD PATH CALLER: checks what the app saw and what came back.
expect() {
	name=$1 what=$2 want_code=$3 app=$4 method=$5 path=$6 caller=$7
	got="$code $(header "$name" X-Echo-App) $(header "$name" X-Echo-Method) $(header "$name" X-Echo-Path)"
	got="$got $(header "$name" X-Echo-Caller)"
	want="$want_code $app $method $path $caller"
	if [ "$got" = "$want" ]; then
		pass "$what"
		return 0
	fi
	echo "got:  $got" >"$tmp/$name.why"
	echo "want: $want" >>"$tmp/$name.why"
	fail "$what" "$tmp/$name.why" "$tmp/$name.err" "$tmp/$name.hdr" "$tmp/$name.body"
	return 1
}

# expect_body NAME DESCRIPTION FILE: the body that came back is FILE's, byte for byte.
expect_body() {
	if cmp -s "$3" "$tmp/$1.body"; then
		pass "$2"
	else
		fail "$2 (body differs)" "$tmp/$1.body"
	fi
}

printf 'app-b GET /hello?x=1&y=a%%20b%%2Fc\n' >"$tmp/want-get"
invoke "$ns_a" get_ab '/v1.0/invoke/app-b/method/hello?x=1&y=a%20b%2Fc'
if expect get_ab "A -> B: GET with a query string reaches app-b, caller app-a" \
	200 app-b GET '/hello?x=1&y=a%20b%2Fc' app-a; then
	expect_body get_ab "A -> B: GET: app-b's body comes back" "$tmp/want-get"
fi

printf 'order 42 from app-a\n' >"$tmp/post-body"
invoke "$ns_a" post_ab /v1.0/invoke/app-b/method/orders/new -H 'Content-Type: text/x-order' \
	--data-binary "@$tmp/post-body"
if expect post_ab "A -> B: POST reaches app-b" 200 app-b POST /orders/new app-a; then
	expect_body post_ab "A -> B: POST: the body goes there and back" "$tmp/post-body"
	if [ "$(header post_ab Content-Type)" = text/x-order ]; then
		pass "A -> B: POST: the app's Content-Type comes back"
	else
		fail "A -> B: POST: the app's Content-Type comes back" "$tmp/post_ab.hdr"
	fi
fi

head -c 262144 /dev/urandom >"$tmp/binary"
invoke "$ns_a" put_ab /v1.0/invoke/app-b/method/blob -X PUT -H 'Content-Type: application/octet-stream' \
	--data-binary "@$tmp/binary"
if expect put_ab "A -> B: PUT of 256 KiB of binary reaches app-b" 200 app-b PUT /blob app-a; then
	expect_body put_ab "A -> B: PUT: 256 KiB of binary there and back" "$tmp/binary"
fi

invoke "$ns_a" status_ab /v1.0/invoke/app-b/method/status/404
expect status_ab "A -> B: the app's 404 comes back as 404" 404 app-b GET /status/404 app-a

invoke "$ns_a" ns_ab /v1.0/invoke/app-b.default/method/with-namespace
expect ns_ab "A -> B: app-b.default reaches app-b" 200 app-b GET /with-namespace app-a

invoke "$ns_a" hdr_ab /by-header -H 'dapr-app-id: app-b'
expect hdr_ab "A -> B: the dapr-app-id header form reaches app-b" 200 app-b GET /by-header app-a

invoke "$ns_a" self_a /v1.0/invoke/app-a/method/self
expect self_a "A -> A: its own app id reaches its own app" 200 app-a GET /self app-a

printf 'app-a GET /ping\n' >"$tmp/want-ping"
invoke "$ns_b" get_ba /v1.0/invoke/app-a/method/ping
if expect get_ba "B -> A: GET reaches app-a, caller app-b" 200 app-a GET /ping app-b; then
	expect_body get_ba "B -> A: GET: app-a's body comes back" "$tmp/want-ping"
fi

printf 'reply from app-b\n' >"$tmp/post-body-b"
invoke "$ns_b" post_ba '/v1.0/invoke/app-a/method/replies?from=b' --data-binary "@$tmp/post-body-b"
if expect post_ba "B -> A: POST with a query string reaches app-a" 200 app-a POST '/replies?from=b' app-b; then
	expect_body post_ba "B -> A: POST: the body goes there and back" "$tmp/post-body-b"
fi

# expect_invoke_error NAME DESCRIPTION TARGET: 500, ERR_DIRECT_INVOKE and the target named, within curl's 10 s.
expect_invoke_error() {
	if [ "$code" = 500 ] && grep -q ERR_DIRECT_INVOKE "$tmp/$1.body" && grep -q -- "$3" "$tmp/$1.body"; then
		pass "$2"
	else
		echo "got status $code" >"$tmp/$1.why"
		fail "$2" "$tmp/$1.why" "$tmp/$1.err" "$tmp/$1.body"
	fi
}

invoke "$ns_a" unknown_a /v1.0/invoke/app-nope/method/x
expect_invoke_error unknown_a "unknown app id: 500 ERR_DIRECT_INVOKE naming app-nope" app-nope

invoke "$ns_a" unknown_ns_a /v1.0/invoke/app-b.elsewhere/method/x
expect_invoke_error unknown_ns_a "app in a namespace with no DNS record: 500 ERR_DIRECT_INVOKE naming app-b" app-b

# --- shutdown ------------------------------------------------------------------------------

# Both sidecars still run after all that, and end cleanly on SIGTERM.
# shellcheck disable=SC2154 # set through eval above
for x in a b; do
	eval "p=\$outrigd_$x"
	if ! kill -0 "$p" 2>/dev/null; then
		wait "$p"
		fail "outrigd app-$x still running after the calls (it exited with status $?)"
		log_tail "outrigd-$x"
		continue
	fi
	kill "$p"
	if ! gone "$p" 100; then
		fail "outrigd app-$x ends on SIGTERM: still running 10 s later"
		log_tail "outrigd-$x"
		continue
	fi
	wait "$p"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "outrigd app-$x ends cleanly on SIGTERM"
	else
		fail "outrigd app-$x ends cleanly on SIGTERM (exit status $rc)"
		log_tail "outrigd-$x"
	fi
done

if [ "$failed" -ne 0 ]; then
	log_tail outrigd-a
	log_tail outrigd-b
fi
summary
