# SPDX-License-Identifier: Apache-2.0
# Interop with the real Dapr JS SDK (included from tests/local.mk); skips unless `npm ci --prefix tests/interop` ran.
# js_sdk.sh runs state_sdk.mjs, pubsub_sdk.mjs (the pubsub.mqtt3 part needs mosquitto, like tests/mqtt3.mk),
# invoke_sdk.mjs (two outrigd sharing a --data-dir) and bindings_sdk.mjs (secret stores, bindings.cron, output errors).
TESTS += tests/interop/js_sdk.sh
EXTRA_DIST += tests/interop/js_sdk.sh tests/interop/common.mjs \
	tests/interop/state_sdk.mjs tests/interop/pubsub_sdk.mjs tests/interop/invoke_sdk.mjs tests/interop/bindings_sdk.mjs \
	tests/interop/package.json tests/interop/package-lock.json \
	tests/data/interop/pubsub-memory/pubsub.yaml \
	tests/data/interop/subscriptions/decl-v1.yaml \
	tests/data/interop/subscriptions/decl-v2.yaml \
	tests/data/interop/subscriptions/other-app.yaml \
	tests/data/interop/bindings/cron.yaml \
	tests/data/interop/bindings/envstore.yaml \
	tests/data/interop/bindings/filestore.yaml \
	tests/data/interop/bindings/multistore.yaml \
	tests/data/interop/bindings/multi.json \
	tests/data/interop/bindings/secrets.json
