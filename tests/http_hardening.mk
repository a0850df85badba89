# SPDX-License-Identifier: Apache-2.0
# check_http_hardening: raw, hostile HTTP against a real outrigd (framing, limits, timeouts, NULs, descriptors).
check_PROGRAMS += tests/check_http_hardening
TESTS += tests/check_http_hardening
tests_check_http_hardening_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_http_hardening_CFLAGS = $(TEST_CFLAGS)
tests_check_http_hardening_SOURCES = tests/check_http_hardening.c
tests_check_http_hardening_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
