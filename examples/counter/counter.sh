#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Example app: bumps a counter kept in the sidecar's state store, using optimistic concurrency.
#
# Run it with:  outrig run --app-id counter -- ./counter.sh
# Settings (environment): DAPR_HTTP_PORT (3500), COUNTER_STORE (statestore),
# COUNTER_ITERATIONS (3), COUNTER_INTERVAL (seconds between iterations, 1).
set -eu

port=${DAPR_HTTP_PORT:-3500}
store=${COUNTER_STORE:-statestore}
iterations=${COUNTER_ITERATIONS:-3}
interval=${COUNTER_INTERVAL:-1}
base="http://127.0.0.1:$port/v1.0/state/$store"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/counter.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

fail() {
	echo "counter: $*" >&2
	exit 1
}

# Reads the counter: sets $value (0 when absent) and $etag (empty when absent).
read_counter() {
	code=$(curl -sS -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$base/counter") ||
		fail "cannot reach the sidecar at $base (is it running? is DAPR_HTTP_PORT right?)"
	case $code in
	204)
		value=0
		etag=
		;;
	200)
		value=$(cat "$tmp/body")
		etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]:[[:space:]]*//p' "$tmp/headers" | tr -d '\r')
		case $value in
		'' | *[!0-9]*) fail "key 'counter' in store '$store' holds '$value', not a whole number" ;;
		esac
		;;
	*)
		fail "GET $base/counter answered $code: $(cat "$tmp/body")"
		;;
	esac
}

# Saves $1 if the stored etag is still $etag; returns 1 when someone else won the race (409).
save_counter() {
	if [ -n "$etag" ]; then
		# The etag is opaque; escape what JSON needs escaped.
		quoted=$(printf '%s' "$etag" | sed 's/[\\"]/\\&/g')
		item="{\"key\":\"counter\",\"value\":$1,\"etag\":\"$quoted\"}"
	else
		item="{\"key\":\"counter\",\"value\":$1}"
	fi
	code=$(curl -sS -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "[$item]" "$base") || fail "cannot reach the sidecar at $base"
	case $code in
	204 | 200) return 0 ;;
	409) return 1 ;;
	*) fail "POST $base answered $code: $(cat "$tmp/body")" ;;
	esac
}

i=0
while [ "$i" -lt "$iterations" ]; do
	attempts=0
	while :; do
		read_counter
		next=$((value + 1))
		if save_counter "$next"; then
			break
		fi
		attempts=$((attempts + 1))
		[ "$attempts" -lt 10 ] || fail "gave up after 10 etag conflicts on key 'counter'"
	done
	echo "counter is now $next"
	i=$((i + 1))
	if [ "$i" -lt "$iterations" ]; then
		sleep "$interval"
	fi
done
