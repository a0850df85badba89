#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mTLS between sidecars on three hosts: network namespaces on a bridge, each running an app and an outrigd with
# spec.mtls.enabled, finding each other through nameresolution.kubernetes (dnsmasq as the cluster DNS), with
# certificates from `outrig cert`. Invocation both ways and gRPC proxying over TLS; sidecars and TLS clients with a
# certificate from another CA, of another trust domain, expired, not yet valid, or none, refused with a log line
# saying which; a plaintext client gets nothing; a short-lived certificate rotated on disk is picked up.
# Needs root, iproute2, dnsmasq, python3, curl (and for gRPC: node, tests/interop/node_modules, nghttp); skips
# without the first ones (exit 77) unless OUTRIG_REQUIRE_SERVERS=1.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${OUTRIG_BUILDDIR:-$srcdir}
outrigd=${OUTRIGD:-$builddir/core/outrigd}
outrig=${OUTRIG:-$builddir/core/outrig}
plugins=${OUTRIG_PLUGIN_PATH:-$builddir/plugins/.libs}
data=${OUTRIG_TEST_DATA:-$srcdir/tests/data}/netns_mtls
echo_app=${OUTRIG_TEST_DATA:-$srcdir/tests/data}/netns/echo_app.py
. "$srcdir/tests/lib/test_sh_lib.sh"
. "$srcdir/tests/lib/netns_lib.sh"

skip() {
	if [ "${OUTRIG_REQUIRE_SERVERS:-0}" = 1 ]; then
		echo "FAIL: netns mTLS test required (OUTRIG_REQUIRE_SERVERS=1) but $1" >&2
		exit 1
	fi
	echo "SKIP: netns mTLS test: $1"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "it must run as root (it creates network namespaces)"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"
dnsmasq=/usr/sbin/dnsmasq
if [ ! -x "$dnsmasq" ] && ! dnsmasq=$(command -v dnsmasq); then
	skip "dnsmasq is not installed (Debian: dnsmasq-base)"
fi
python3=$(command -v python3) || skip "python3 is not on PATH (it runs the echo apps)"
command -v curl >/dev/null 2>&1 || skip "curl is not on PATH"
[ -e "$plugins/nameresolution_kubernetes.so" ] || skip "the plugin was not built ($plugins/nameresolution_kubernetes.so)"

ns_a=outrig-$$-ma
ns_b=outrig-$$-mb
ns_c=outrig-$$-mc
ip_a=10.232.0.1
ip_b=10.232.0.2
ip_c=10.232.0.3
app_port=8080
grpc_app_port=8081
http_port=3500
grpc_port=50001
internal_port=50002
td=outrig.test

tmp=
pids=
made_ns=

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
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netns_mtls.XXXXXX")
pki=$tmp/pki

# --- three hosts on a bridge in host A -------------------------------------------------------

for ns in "$ns_a" "$ns_b" "$ns_c"; do
	if ! ip netns add "$ns" 2>"$tmp/ip.err"; then
		skip "ip netns add failed: $(cat "$tmp/ip.err")"
	fi
	made_ns="$made_ns $ns"
	ip -n "$ns" link set lo up
	mkdir -p "/etc/netns/$ns"
	echo "nameserver $ip_a" >"/etc/netns/$ns/resolv.conf"
done
ip -n "$ns_a" link add br0 type bridge 2>"$tmp/ip.err" || skip "cannot create a bridge: $(cat "$tmp/ip.err")"
ip -n "$ns_a" addr add "$ip_a/24" dev br0
ip -n "$ns_a" link set br0 up
for x in b c; do
	if [ "$x" = b ]; then ns=$ns_b ip=$ip_b; else ns=$ns_c ip=$ip_c; fi
	ip -n "$ns_a" link add "veth-$x" type veth peer name eth0 netns "$ns" 2>"$tmp/ip.err" ||
		skip "cannot create a veth pair: $(cat "$tmp/ip.err")"
	ip -n "$ns_a" link set "veth-$x" master br0 up
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
done


# wait_log LABEL TEXT [TENTHS]: 0 once LABEL.log holds TEXT (a fixed string).
wait_log() {
	i=0
	while [ "$i" -lt "${3:-50}" ]; do
		grep -qF -- "$2" "$tmp/$1.log" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

start "$ns_a" dnsmasq "$dnsmasq" --keep-in-foreground --conf-file="$data/dnsmasq.conf" \
	--listen-address="$ip_a" --bind-interfaces --port=53 --pid-file="$tmp/dnsmasq.pid" \
	--user=root --log-facility=-
i=0
while [ "$i" -lt 50 ] && ! ip netns exec "$ns_c" getent ahostsv4 app-b-dapr.default.svc.cluster.local >/dev/null 2>&1; do
	sleep 0.1
	i=$((i + 1))
done

# --- certificates --------------------------------------------------------------------------

mk() {
	"$outrig" cert "$@" >>"$tmp/pki.log" 2>&1 || {
		fail "outrig cert $*" "$tmp/pki.log"
		summary
		exit 1
	}
}
mk ca --trust-domain "$td" --out "$pki/ca"
mk ca --trust-domain "$td" --out "$pki/ca2"
mk issue --ca "$pki/ca" --app-id app-a --out "$pki/a"
mk issue --ca "$pki/ca" --app-id app-c --out "$pki/c"
mk issue --ca "$pki/ca2" --app-id app-c --out "$pki/c-otherca"
mk issue --ca "$pki/ca" --app-id app-c --trust-domain other.test --out "$pki/c-otherdomain"
mk issue --ca "$pki/ca" --app-id app-c --not-before -3h --ttl 1h --out "$pki/c-expired"
mk issue --ca "$pki/ca" --app-id app-c --not-before 2h --ttl 1h --out "$pki/c-future"
pass "outrig cert: a trust anchor and sidecar certificates"

# outrigd --check loads the certificates mTLS would use: another app's, or an expired one, is an error.
# check_mtls CASE CERTDIR STATUS TEXT
check_mtls() {
	"$outrigd" --check --app-id app-a --enable-mtls --control-plane-trust-domain "$td" --plugin-dir "$plugins" \
		--mtls-cert-file "$2/tls.crt" --mtls-key-file "$2/tls.key" --trust-anchors-file "$pki/ca/ca.crt" \
		>"$tmp/check-$1.log" 2>&1
	st=$?
	if [ "$st" = "$3" ] && grep -qF -- "$4" "$tmp/check-$1.log"; then
		pass "outrigd --check with mTLS: $1"
	else
		echo "exit status $st; want $3 and a line with: $4" >>"$tmp/check-$1.log"
		fail "outrigd --check with mTLS: $1" "$tmp/check-$1.log"
	fi
}
check_mtls "app-a's own certificate" "$pki/a" 0 "OK"
check_mtls "app-c's certificate is refused" "$pki/c" 1 "the certificate is app app-c"
check_mtls "an expired certificate is refused" "$pki/c-expired" 1 "expired"

# --- sidecars ------------------------------------------------------------------------------

mkdir -p "$tmp/resources"
# sidecar NS X CERTDIR [flags...]: app-X's outrigd (X up to its first "-") on host NS with the certificate in
# CERTDIR, its log in outrigd-X.log.
sidecar() {
	ns=$1 x=$2 certs=$3
	shift 3
	start "$ns" "outrigd-$x" env -u NAMESPACE "$outrigd" --app-id "app-${x%%-*}" \
		--dapr-http-port "$http_port" --dapr-grpc-port "$grpc_port" --dapr-internal-grpc-port "$internal_port" \
		--dapr-internal-grpc-listen-address 0.0.0.0 --control-plane-trust-domain "$td" \
		--mtls-cert-file "$certs/tls.crt" --mtls-key-file "$certs/tls.key" --trust-anchors-file "$certs/ca.crt" \
		--resources-path "$tmp/resources" --data-dir "$tmp/data-$x" --plugin-dir "$plugins" "$@"
}

start "$ns_a" app-a "$python3" "$echo_app" app-a "$app_port"
wait_for "$ns_a" "http://127.0.0.1:$app_port/ready" 200 "$last_pid" || fail "echo app app-a starts" "$tmp/app-a.log"
start "$ns_b" app-b "$python3" "$echo_app" app-b "$app_port"
wait_for "$ns_b" "http://127.0.0.1:$app_port/ready" 200 "$last_pid" || fail "echo app app-b starts" "$tmp/app-b.log"
sidecar "$ns_a" a "$pki/a" --config "$data/config.yaml" --app-port "$app_port"
outrigd_a=$last_pid
# B's certificate lives 40 s: the rotation case below replaces it on disk before it ends.
b_issued=$(date +%s)
mk issue --ca "$pki/ca" --app-id app-b --not-before 0s --ttl 40s --out "$pki/b"
# B alone has an access-control policy: app-c may call anything but /secret. With mTLS the caller is its
# certificate's app, so only a caller holding app-c's certificate meets that rule.
{
	cat "$data/config.yaml"
	cat <<YAML
  accessControl:
    defaultAction: allow
    trustDomain: $td
    policies:
    - appId: app-c
      defaultAction: allow
      trustDomain: $td
      namespace: default
      operations:
      - {name: /secret, httpVerb: ["*"], action: deny}
YAML
} >"$tmp/config-b.yaml"
sidecar "$ns_b" b "$pki/b" --config "$tmp/config-b.yaml" --app-port "$app_port"
outrigd_b=$last_pid
for x in a b; do
	if [ "$x" = a ]; then ns=$ns_a p=$outrigd_a; else ns=$ns_b p=$outrigd_b; fi
	if wait_for "$ns" "http://127.0.0.1:$http_port/v1.0/healthz" 204 "$p" &&
		wait_log "outrigd-$x" "port $internal_port (mTLS)"; then
		pass "outrigd app-$x starts with mTLS on 0.0.0.0:$internal_port"
	else
		fail "outrigd app-$x starts with mTLS on 0.0.0.0:$internal_port"
		log_tail "outrigd-$x"
		summary
		exit 1
	fi
done

invoke() {
	ns=$1 name=$2 path=$3
	shift 3
	ip netns exec "$ns" curl -sS --max-time 10 -o "$tmp/$name.body" -D "$tmp/$name.hdr" \
		-w '%{http_code}' "$@" "http://127.0.0.1:$http_port$path" >"$tmp/$name.code" 2>"$tmp/$name.err"
	code=$(cat "$tmp/$name.code")
}

header() {
	sed -n "s/^$2: *//Ip" "$tmp/$1.hdr" | tr -d '\r' | tail -n 1
}

# expect_ok NAME DESCRIPTION APP CALLER: 200 from APP, which saw CALLER.
expect_ok() {
	got="$code $(header "$1" X-Echo-App) $(header "$1" X-Echo-Caller)"
	if [ "$got" = "200 $3 $4" ]; then
		pass "$2"
	else
		echo "got: $got; want: 200 $3 $4" >"$tmp/$1.why"
		fail "$2" "$tmp/$1.why" "$tmp/$1.err" "$tmp/$1.body"
	fi
}

# expect_refused NAME DESCRIPTION TEXT: 500 ERR_DIRECT_INVOKE whose message holds TEXT.
expect_refused() {
	if [ "$code" = 500 ] && grep -q ERR_DIRECT_INVOKE "$tmp/$1.body" && grep -qF -- "$3" "$tmp/$1.body"; then
		pass "$2"
	else
		echo "got status $code" >"$tmp/$1.why"
		fail "$2" "$tmp/$1.why" "$tmp/$1.body"
	fi
}

# expect_log LABEL DESCRIPTION TEXT
expect_log() {
	if wait_log "$1" "$3" 30; then
		pass "$2"
	else
		echo "no log line with: $3" >"$tmp/$1.why"
		fail "$2" "$tmp/$1.why"
		log_tail "$1"
	fi
}

# --- calls that work -----------------------------------------------------------------------

invoke "$ns_a" ab1 /v1.0/invoke/app-b/method/hello
expect_ok ab1 "A -> B over mTLS: reaches app-b, caller app-a" app-b app-a
head -c 262144 /dev/urandom >"$tmp/binary"
invoke "$ns_a" ab2 /v1.0/invoke/app-b/method/blob -X PUT --data-binary "@$tmp/binary"
if [ "$code" = 200 ] && cmp -s "$tmp/binary" "$tmp/ab2.body"; then
	pass "A -> B over mTLS: 256 KiB there and back"
else
	fail "A -> B over mTLS: 256 KiB there and back" "$tmp/ab2.err"
fi
invoke "$ns_b" ba1 /v1.0/invoke/app-a/method/ping
expect_ok ba1 "B -> A over mTLS: reaches app-a, caller app-b" app-a app-b
invoke "$ns_a" ab3 /v1.0/invoke/app-b.default/method/again
expect_ok ab3 "A -> B.default over mTLS (namespace checked against the certificate)" app-b app-a

# A stale name-resolution entry: app-x resolves to B's host; A refuses B's certificate, which names app-b.
invoke "$ns_a" ax /v1.0/invoke/app-x/method/hello
expect_refused ax "A -> app-x resolved to B's address: refused, B's certificate names app-b" \
	"its certificate names app app-b in namespace default, not the app name resolution gave"
expect_log outrigd-a "  ... and A logs it" "refused the sidecar at $ip_b:$internal_port (expected app app-x)"

# --- refused: TLS clients with the wrong certificate, straight at B's internal port -------------

# tls_client NAME CERTDIR [CALLER]: curl from host C at B's internal port, trusting any server, with CERTDIR's
# certificate ("" for none), claiming to be CALLER (app-c).
tls_client() {
	name=$1 certs=$2
	set -- -k -sS --max-time 5 -o "$tmp/$name.body" -w '%{http_code}' \
		-H 'outrig-callee-app-id: app-b' -H "outrig-caller-app-id: ${3:-app-c}"
	if [ -n "$certs" ]; then
		set -- "$@" --cert "$certs/tls.crt" --key "$certs/tls.key"
	fi
	ip netns exec "$ns_c" curl "$@" "https://$ip_b:$internal_port/outrig/v1/invoke/${tls_method:-x}" >"$tmp/$name.code" \
		2>"$tmp/$name.err"
	code=$(cat "$tmp/$name.code")
}

tls_client otherca "$pki/c-otherca"
if [ "$code" = 200 ]; then
	fail "B refuses a client certificate from another CA (it answered 200)"
else
	expect_log outrigd-b "B refuses a client certificate from another CA, and logs it" "signed by another CA"
fi
tls_client otherdomain "$pki/c-otherdomain"
expect_log outrigd-b "B refuses a client certificate of another trust domain, and logs it" \
	"is of another trust domain: 'other.test'"
tls_client expired "$pki/c-expired"
expect_log outrigd-b "B refuses an expired client certificate, and logs it" "its certificate expired on"
tls_client future "$pki/c-future"
expect_log outrigd-b "B refuses a not-yet-valid client certificate, and logs it" "its certificate is not valid yet"
tls_client nocert ""
expect_log outrigd-b "B refuses a client without a certificate, and logs it" "it sent no client certificate"
# A good certificate that claims another caller id.
tls_client liar "$pki/c" app-a
if [ "$code" = 500 ] && grep -q "claims app id" "$tmp/liar.body"; then
	pass "B refuses a caller whose outrig-caller-app-id is not its certificate's"
else
	fail "B refuses a caller whose outrig-caller-app-id is not its certificate's" "$tmp/liar.code" "$tmp/liar.body"
fi
tls_client honest "$pki/c"
if [ "$code" = 200 ] && grep -q "app-b" "$tmp/honest.body"; then
	pass "a TLS client with app-c's certificate gets through to app-b (the checks above are the certificate's)"
else
	fail "a TLS client with app-c's certificate gets through to app-b" "$tmp/honest.code" "$tmp/honest.err"
fi
tls_method=secret tls_client acl_c "$pki/c"
if [ "$code" = 403 ] && grep -q "PermissionDenied desc = access control policy has denied access to id: spiffe://$td/ns/default/app-c" \
	"$tmp/acl_c.body"; then
	pass "B's access control denies app-c, named by its certificate, the operation /secret"
else
	fail "B's access control denies app-c, named by its certificate, the operation /secret" "$tmp/acl_c.code" \
		"$tmp/acl_c.body"
fi
invoke "$ns_a" acl_a /v1.0/invoke/app-b/method/secret
expect_ok acl_a "  ... while app-a, whose certificate the policy does not name, gets /secret" app-b app-a
if grep -q "matched on the app id and namespace the calling sidecar claims" "$tmp/outrigd-b.log"; then
	fail "B does not warn that its policies trust claimed identities (mTLS is on)"
else
	pass "B does not warn that its policies trust claimed identities (mTLS is on)"
fi

# A plaintext client gets nothing at all: no status line, no byte.
ip netns exec "$ns_c" curl -sS --max-time 5 -o "$tmp/plain.body" -w '%{http_code}' \
	-H 'outrig-callee-app-id: app-b' -H 'outrig-caller-app-id: app-c' \
	"http://$ip_b:$internal_port/outrig/v1/invoke/x" >"$tmp/plain.code" 2>"$tmp/plain.err"
if [ "$(cat "$tmp/plain.code")" = 000 ] && [ ! -s "$tmp/plain.body" ]; then
	pass "curl http:// on B's internal port gets nothing"
else
	fail "curl http:// on B's internal port gets nothing" "$tmp/plain.code" "$tmp/plain.body"
fi
expect_log outrigd-b "  ... and B logs that it does not speak TLS" "it does not speak TLS"

# --- refused: sidecars on host C -------------------------------------------------------------

# bad_sidecar LABEL CERTDIR DESCRIPTION TEXT [flags]: app-c's sidecar with that certificate calls app-b; the call
# fails and C's log says TEXT.
bad_sidecar() {
	bs_label=$1 bs_what=$3 bs_text=$4
	bs_certs=$2
	shift 4
	sidecar "$ns_c" "c-$bs_label" "$bs_certs" "$@"
	bs_pid=$last_pid
	if ! wait_for "$ns_c" "http://127.0.0.1:$http_port/v1.0/healthz" 204 "$bs_pid"; then
		fail "$bs_what: the sidecar starts" "$tmp/outrigd-c-$bs_label.log"
		return
	fi
	invoke "$ns_c" "c-$bs_label" /v1.0/invoke/app-b/method/hello
	expect_refused "c-$bs_label" "$bs_what: the call fails, saying why" "$bs_text"
	if [ "$bs_label" != plain ]; then
		expect_log "outrigd-c-$bs_label" "$bs_what: its log says why" "$bs_text"
	fi
	stop_pid "$bs_pid"
}
bad_sidecar otherca "$pki/c-otherca" "a sidecar trusting another CA calls B" "signed by another CA" \
	--config "$data/config.yaml"
bad_sidecar otherdomain "$pki/c-otherdomain" "a sidecar of another trust domain calls B" "another trust domain" \
	--config "$data/config.yaml" --control-plane-trust-domain other.test
plain_before=$(grep -c "does not speak TLS" "$tmp/outrigd-b.log")
bad_sidecar plain "$pki/c" "a sidecar without mTLS calls B" "if mTLS is on at that sidecar" \
	--config "$data/plain.yaml"
if [ "$(grep -c "does not speak TLS" "$tmp/outrigd-b.log")" -gt "$plain_before" ]; then
	pass "  ... B logs the plaintext sidecar as not speaking TLS"
else
	fail "  ... B logs the plaintext sidecar as not speaking TLS"
fi

# A sidecar with an expired certificate does not start at all.
sidecar "$ns_c" c-expired "$pki/c-expired" --config "$data/config.yaml"
if gone "$last_pid" 50 && grep -q "the certificate expired on" "$tmp/outrigd-c-expired.log"; then
	pass "a sidecar with an expired certificate refuses to start, saying so"
else
	fail "a sidecar with an expired certificate refuses to start, saying so" "$tmp/outrigd-c-expired.log"
fi

# --- rotation ------------------------------------------------------------------------------

# B's 40 s certificate is replaced on disk; once the old one has ended, a new sidecar reaches B: it must be the new.
mk issue --ca "$pki/ca" --app-id app-b --out "$pki/b"
loaded() { grep -c "loaded the sidecar certificate" "$tmp/outrigd-b.log"; }
i=0
while [ "$i" -lt 50 ] && [ "$(loaded)" -lt 2 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ "$(loaded)" -ge 2 ]; then
	pass "B loads its re-issued certificate without a restart"
else
	fail "B loads its re-issued certificate without a restart"
	log_tail outrigd-b
fi
left=$((b_issued + 42 - $(date +%s)))
[ "$left" -le 0 ] || sleep "$left"

grpc_ok=0
if command -v node >/dev/null 2>&1 && command -v nghttp >/dev/null 2>&1 &&
	[ -d "$srcdir/tests/interop/node_modules/@grpc/grpc-js" ]; then
	grpc_ok=1
	start "$ns_c" app-c-grpc node "$srcdir/tests/app_grpc/echo_app.mjs" "$grpc_app_port"
	sleep 1
	sidecar "$ns_c" c "$pki/c" --config "$data/config.yaml" --app-port "$grpc_app_port" --app-protocol grpc
else
	echo "# gRPC proxying over mTLS not tested: it needs node, nghttp and npm ci --prefix tests/interop"
	sidecar "$ns_c" c "$pki/c" --config "$data/config.yaml"
fi
outrigd_c=$last_pid
if wait_for "$ns_c" "http://127.0.0.1:$http_port/v1.0/healthz" 204 "$outrigd_c"; then
	invoke "$ns_c" cb /v1.0/invoke/app-b/method/after-rotation
	expect_ok cb "C -> B after B's first certificate ended: B serves the rotated one" app-b app-c
else
	fail "outrigd app-c starts" "$tmp/outrigd-c.log"
fi
invoke "$ns_a" ab4 /v1.0/invoke/app-b/method/still
expect_ok ab4 "A -> B still works after the rotation" app-b app-a

# --- gRPC proxying over mTLS: A's gRPC API -> A's sidecar -> C's sidecar (TLS) -> C's gRPC app --------

if [ "$grpc_ok" = 1 ]; then
	printf '\000\000\000\000\005hello' >"$tmp/grpc.req"
	ip netns exec "$ns_a" nghttp -v -t 10 -H 'content-type: application/grpc' -H 'te: trailers' \
		-H 'dapr-app-id: app-c' -d "$tmp/grpc.req" "http://127.0.0.1:$grpc_port/outrig.test.Echo/Unary" \
		>"$tmp/grpc.out" 2>&1
	if grep -q "grpc-status: 0" "$tmp/grpc.out" && grep -aq "hello" "$tmp/grpc.out"; then
		pass "gRPC proxying A -> C over mTLS: the echo app's answer and status 0 come back"
	else
		fail "gRPC proxying A -> C over mTLS" "$tmp/grpc.out"
		log_tail outrigd-c
	fi
fi

# --- shutdown ------------------------------------------------------------------------------

for p in $outrigd_a $outrigd_b $outrigd_c; do
	if kill -0 "$p" 2>/dev/null; then
		stop_pid "$p"
	else
		fail "outrigd $p still running at the end"
	fi
done
if [ "$failed" -ne 0 ]; then
	log_tail outrigd-a
	log_tail outrigd-b
fi
summary
