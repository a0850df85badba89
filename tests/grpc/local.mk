# SPDX-License-Identifier: Apache-2.0
# The gRPC API's transport (issue 12): against a real outrigd, and in-process with test-only methods.
noinst_LIBRARIES += tests/lib/libgrpcclient.a
tests_lib_libgrpcclient_a_CPPFLAGS = $(TEST_CPPFLAGS)
tests_lib_libgrpcclient_a_CFLAGS = $(TEST_CFLAGS)
tests_lib_libgrpcclient_a_SOURCES = tests/lib/grpc_client.c tests/lib/grpc_client.h

check_PROGRAMS += tests/grpc/check_grpc_api tests/grpc/check_grpc_calls
TESTS += tests/grpc/check_grpc_api tests/grpc/check_grpc_calls
tests_grpc_check_grpc_api_CPPFLAGS = $(TEST_CPPFLAGS)
tests_grpc_check_grpc_api_CFLAGS = $(TEST_CFLAGS)
tests_grpc_check_grpc_api_SOURCES = tests/grpc/check_grpc_api.c
tests_grpc_check_grpc_api_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a core/liboutrigcore.a \
	$(TEST_LIBS)
# core/server.h, not the test servers of tests/lib/server.h: this test runs the sidecar's own.
tests_grpc_check_grpc_calls_CPPFLAGS = $(CORE_CPPFLAGS) -I$(top_srcdir)/tests/lib
tests_grpc_check_grpc_calls_CFLAGS = $(TEST_CFLAGS)
tests_grpc_check_grpc_calls_SOURCES = tests/grpc/check_grpc_calls.c
tests_grpc_check_grpc_calls_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a core/liboutrigcore.a \
	$(TEST_LIBS)
# What every served method does with a NUL in a string, an undecodable request, a long error.
check_PROGRAMS += tests/grpc/check_grpc_requests
TESTS += tests/grpc/check_grpc_requests
tests_grpc_check_grpc_requests_CPPFLAGS = $(TEST_CPPFLAGS)
tests_grpc_check_grpc_requests_CFLAGS = $(TEST_CFLAGS)
tests_grpc_check_grpc_requests_SOURCES = tests/grpc/check_grpc_requests.c
tests_grpc_check_grpc_requests_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a core/liboutrigcore.a \
	$(TEST_LIBS)
