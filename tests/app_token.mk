# SPDX-License-Identifier: Apache-2.0
# APP_API_TOKEN to the app over HTTP: invocation, deliveries, bindings, discovery and health probes; never a caller's.
check_PROGRAMS += tests/check_app_token
TESTS += tests/check_app_token
tests_check_app_token_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_app_token_CFLAGS = $(TEST_CFLAGS)
tests_check_app_token_SOURCES = tests/check_app_token.c
tests_check_app_token_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
