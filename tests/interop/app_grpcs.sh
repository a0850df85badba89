#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# outrigd --app-protocol grpcs against gRPC apps serving TLS (tests/interop/app_grpcs.mjs; issue 15 part 5).
# Skips (77) without node, openssl or `npm ci --prefix tests/interop`, unless OUTRIG_REQUIRE_INTEROP=1.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${OUTRIG_BUILDDIR:-$srcdir}
interop=$srcdir/tests/interop

missing=
if ! command -v node >/dev/null 2>&1; then
	missing="node is not on PATH"
elif ! command -v openssl >/dev/null 2>&1; then
	missing="openssl is not on PATH"
elif [ ! -d "$interop/node_modules/@grpc/grpc-js" ] || [ ! -d "$interop/node_modules/@dapr/dapr" ]; then
	missing="$interop/node_modules is missing; run: npm ci --prefix tests/interop"
fi
if [ -n "$missing" ]; then
	if [ "${OUTRIG_REQUIRE_INTEROP:-0}" = 1 ]; then
		echo "FAIL: grpcs app test required (OUTRIG_REQUIRE_INTEROP=1) but $missing" >&2
		exit 1
	fi
	echo "SKIP: grpcs app test: $missing"
	exit 77
fi

OUTRIGD=${OUTRIGD:-$builddir/core/outrigd} \
	OUTRIG_PLUGIN_PATH=${OUTRIG_PLUGIN_PATH:-$builddir/plugins/.libs} \
	OUTRIG_TEST_PLUGIN_DIR=${OUTRIG_TEST_PLUGIN_DIR:-$builddir/tests/plugins/.libs} \
	exec node --test --test-timeout=90000 "$interop/app_grpcs.mjs"
