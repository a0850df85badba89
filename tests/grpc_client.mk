# SPDX-License-Identifier: Apache-2.0
# The gRPC client outrigd calls gRPC apps with (included from tests/local.mk): against @grpc/grpc-js
# (tests/grpc_client/server.mjs, from `npm ci --prefix tests/interop`; skips without it unless
# OUTRIG_REQUIRE_INTEROP=1), and its wire helpers alone.
check_PROGRAMS += tests/grpc_client/check_grpc_client
TESTS += tests/grpc_client/check_grpc_client
tests_grpc_client_check_grpc_client_SOURCES = tests/grpc_client/check_grpc_client.c \
	core/channels/grpc_client.c core/channels/grpc_client_answer.c core/channels/grpc_wire.c core/base/kv.c core/base/log.c \
	core/security/app_tls.c core/security/tls_bev.c \
	core/observe/metrics.c core/observe/dapr_metrics.c \
	tests/lib/server.c tests/lib/server.h
tests_grpc_client_check_grpc_client_CPPFLAGS = $(TEST_CPPFLAGS)
tests_grpc_client_check_grpc_client_CFLAGS = $(TEST_CFLAGS)
tests_grpc_client_check_grpc_client_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/grpc_client/server.mjs tests/grpc_client/raw_server.mjs

check_PROGRAMS += tests/unit/check_grpc_wire
TESTS += tests/unit/check_grpc_wire
tests_unit_check_grpc_wire_SOURCES = tests/unit/check_grpc_wire.c core/channels/grpc_wire.c
tests_unit_check_grpc_wire_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_grpc_wire_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_grpc_wire_LDADD = $(TEST_LIBS)
