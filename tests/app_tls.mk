# SPDX-License-Identifier: Apache-2.0
# TLS towards the app (issue 15 part 5): --app-protocol https and --app-ssl against an HTTPS app with a certificate made in the test.
check_PROGRAMS += tests/check_app_tls
TESTS += tests/check_app_tls
tests_check_app_tls_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_app_tls_CFLAGS = $(TEST_CFLAGS)
tests_check_app_tls_SOURCES = tests/check_app_tls.c
tests_check_app_tls_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
# --app-protocol grpcs against grpc-js apps serving TLS (node and `npm ci --prefix tests/interop`; skips without them
# unless OUTRIG_REQUIRE_INTEROP=1).
TESTS += tests/interop/app_grpcs.sh
EXTRA_DIST += tests/interop/app_grpcs.sh tests/interop/app_grpcs.mjs
