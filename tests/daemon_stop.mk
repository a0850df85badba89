# SPDX-License-Identifier: Apache-2.0
# outrigd's graceful stop (SIGTERM, a second signal, the graceful period) and `dapr run`'s daprd command line.
check_PROGRAMS += tests/check_daemon_stop
TESTS += tests/check_daemon_stop
tests_check_daemon_stop_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_daemon_stop_CFLAGS = $(TEST_CFLAGS)
tests_check_daemon_stop_SOURCES = tests/check_daemon_stop.c
tests_check_daemon_stop_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
