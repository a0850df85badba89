# SPDX-License-Identifier: Apache-2.0
# Integration and conformance tests: they start the real outrigd and talk to it over HTTP.

# The harness the HTTP-level tests share: HTTP client, launchers for outrigd and for real
# servers (Redis, PostgreSQL) plugins need, and response assertions.
noinst_LIBRARIES += tests/lib/libtesthelp.a
tests_lib_libtesthelp_a_CPPFLAGS = $(TEST_CPPFLAGS)
tests_lib_libtesthelp_a_CFLAGS = $(TEST_CFLAGS)
tests_lib_libtesthelp_a_SOURCES = \
	tests/lib/http_client.c tests/lib/http_client.h \
	tests/lib/daemon.c tests/lib/daemon.h \
	tests/lib/exchange.c tests/lib/exchange.h \
	tests/lib/probe.c tests/lib/probe.h \
	tests/lib/server.c tests/lib/server.h tests/lib/server_db.c tests/lib/server_mqtt.c tests/lib/server_dns.c tests/lib/server_internal.h \
	tests/lib/server_redis_auth.c tests/lib/server_redis_auth.h \
	tests/lib/test_app.c tests/lib/test_app.h \
	tests/lib/echo_app.c tests/lib/echo_app.h \
	tests/lib/kafka_mock_driver.c tests/lib/kafka_mock_driver.h \
	tests/lib/plugin_host.c tests/lib/plugin_host.h \
	tests/lib/interop.c tests/lib/interop.h

check_PROGRAMS += tests/check_api_state tests/check_state_conformance
TESTS += tests/check_api_state tests/check_state_conformance

tests_check_api_state_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_api_state_CFLAGS = $(TEST_CFLAGS)
tests_check_api_state_SOURCES = tests/check_api_state.c
tests_check_api_state_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)

tests_check_state_conformance_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/tests/conformance
tests_check_state_conformance_CFLAGS = $(TEST_CFLAGS)
tests_check_state_conformance_SOURCES = tests/check_state_conformance.c \
	tests/conformance/conformance.h tests/conformance/helpers.c \
	tests/conformance/cases_basic.c tests/conformance/cases_etag.c tests/conformance/cases_keys.c \
	tests/conformance/cases_front_ends.c tests/conformance/via_grpc.c
# The gRPC messages and the JSON text reader come from the core's library.
tests_check_state_conformance_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a core/liboutrigcore.a \
	$(TEST_LIBS)

