# SPDX-License-Identifier: Apache-2.0
# What an app or a peer sidecar may answer outrigd: bounded size, valid statuses, clean framing.
check_PROGRAMS += tests/check_app_answers
TESTS += tests/check_app_answers

tests_check_app_answers_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_app_answers_CFLAGS = $(TEST_CFLAGS)
tests_check_app_answers_SOURCES = tests/check_app_answers.c tests/lib/hostile_app.c tests/lib/hostile_app.h
tests_check_app_answers_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)
