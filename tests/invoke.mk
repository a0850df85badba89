# SPDX-License-Identifier: Apache-2.0
# Service invocation through real outrigd processes: to self, between sidecars, and failures.
check_PROGRAMS += tests/check_invoke
TESTS += tests/check_invoke

tests_check_invoke_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_invoke_CFLAGS = $(TEST_CFLAGS)
tests_check_invoke_SOURCES = tests/check_invoke.c
tests_check_invoke_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)

# The internal protocol's one description (sidecar to sidecar).
EXTRA_DIST += core/api/internal/internal_protocol.md
