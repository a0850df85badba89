# SPDX-License-Identifier: Apache-2.0
# check_api_pubsub: the publish API (single and bulk) and its errors.
check_PROGRAMS += tests/check_api_pubsub
TESTS += tests/check_api_pubsub
tests_check_api_pubsub_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_api_pubsub_CFLAGS = $(TEST_CFLAGS)
tests_check_api_pubsub_SOURCES = tests/check_api_pubsub.c
tests_check_api_pubsub_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
