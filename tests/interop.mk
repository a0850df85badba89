# SPDX-License-Identifier: Apache-2.0
# Interop with the real Dapr JS SDK (included from tests/local.mk); skips unless `npm ci --prefix tests/interop` ran.
TESTS += tests/interop/js_sdk.sh
EXTRA_DIST += tests/interop/js_sdk.sh tests/interop/state_sdk.mjs \
	tests/interop/package.json tests/interop/package-lock.json
