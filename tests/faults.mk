# SPDX-License-Identifier: Apache-2.0
# Fault tests: real Redis and PostgreSQL servers down at start, hung, stopped and restarted.
check_PROGRAMS += tests/check_state_faults
TESTS += tests/check_state_faults

tests_check_state_faults_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_state_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_state_faults_SOURCES = tests/check_state_faults.c
tests_check_state_faults_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
