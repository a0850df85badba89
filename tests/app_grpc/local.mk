# SPDX-License-Identifier: Apache-2.0
# outrigd as the client of a gRPC app (issue 12 part 3): core/channels/app_grpc.c against an app written with
# the Dapr JS SDK and against grpc-js (node and `npm ci --prefix tests/interop`; skips without them unless
# OUTRIG_REQUIRE_INTEROP=1), and its HTTP bridge, protobuf helpers and pub/sub's
# CloudEvent envelope and subscription reading alone.
check_PROGRAMS += tests/app_grpc/check_app_grpc tests/unit/check_app_grpc_http tests/unit/check_app_grpc_pb \
	tests/unit/check_grpc_envelope tests/unit/check_grpc_subscriptions
TESTS += tests/app_grpc/check_app_grpc tests/unit/check_app_grpc_http tests/unit/check_app_grpc_pb \
	tests/unit/check_grpc_envelope tests/unit/check_grpc_subscriptions
tests_app_grpc_check_app_grpc_SOURCES = tests/app_grpc/check_app_grpc.c
tests_app_grpc_check_app_grpc_CPPFLAGS = $(TEST_CPPFLAGS)
tests_app_grpc_check_app_grpc_CFLAGS = $(TEST_CFLAGS)
tests_app_grpc_check_app_grpc_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS)
tests_unit_check_app_grpc_http_SOURCES = tests/unit/check_app_grpc_http.c
tests_unit_check_app_grpc_http_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_app_grpc_http_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_app_grpc_http_LDADD = core/liboutrigcore.a $(TEST_LIBS)
tests_unit_check_app_grpc_pb_SOURCES = tests/unit/check_app_grpc_pb.c
tests_unit_check_app_grpc_pb_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_app_grpc_pb_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_app_grpc_pb_LDADD = core/liboutrigcore.a $(TEST_LIBS)
tests_unit_check_grpc_envelope_SOURCES = tests/unit/check_grpc_envelope.c
tests_unit_check_grpc_envelope_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_grpc_envelope_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_grpc_envelope_LDADD = core/liboutrigcore.a $(TEST_LIBS)
tests_unit_check_grpc_subscriptions_SOURCES = tests/unit/check_grpc_subscriptions.c
tests_unit_check_grpc_subscriptions_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_grpc_subscriptions_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_grpc_subscriptions_LDADD = core/liboutrigcore.a $(TEST_LIBS)
EXTRA_DIST += tests/app_grpc/sdk_app.mjs tests/app_grpc/raw_app.mjs tests/app_grpc/echo_app.mjs
# Inbound Resiliency (timeouts, matching.gRPCStatusCodes) on deliveries to a gRPC app, against the real outrigd.
check_PROGRAMS += tests/app_grpc/check_resiliency_grpc_app
TESTS += tests/app_grpc/check_resiliency_grpc_app
tests_app_grpc_check_resiliency_grpc_app_SOURCES = tests/app_grpc/check_resiliency_grpc_app.c
tests_app_grpc_check_resiliency_grpc_app_CPPFLAGS = $(TEST_CPPFLAGS)
tests_app_grpc_check_resiliency_grpc_app_CFLAGS = $(TEST_CFLAGS)
tests_app_grpc_check_resiliency_grpc_app_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS)
EXTRA_DIST += tests/app_grpc/resil_app.mjs
# Proxied gRPC calls metered and API-logged as daprd does, through two real outrigd and echo_app.mjs.
check_PROGRAMS += tests/app_grpc/check_grpc_observe
TESTS += tests/app_grpc/check_grpc_observe
tests_app_grpc_check_grpc_observe_SOURCES = tests/app_grpc/check_grpc_observe.c
tests_app_grpc_check_grpc_observe_CPPFLAGS = $(TEST_CPPFLAGS)
tests_app_grpc_check_grpc_observe_CFLAGS = $(TEST_CFLAGS)
tests_app_grpc_check_grpc_observe_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a core/liboutrigcore.a \
	$(TEST_LIBS)
# outrigd --app-protocol grpc end to end (tests/interop/app_grpc.sh): the JS SDK's gRPC DaprServer and raw_app.mjs as
# the app of a real outrigd, and gRPC proxying to echo_app.mjs (grpc_proxy.mjs); skips like js_sdk.sh.
TESTS += tests/interop/app_grpc.sh
EXTRA_DIST += tests/interop/app_grpc.sh tests/interop/app_grpc_sdk.mjs tests/interop/app_grpc_raw.mjs \
	tests/interop/grpc_proxy.mjs \
	tests/data/interop/app_grpc/components.yaml tests/data/interop/app_grpc_raw/components.yaml
