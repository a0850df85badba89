# SPDX-License-Identifier: Apache-2.0
# check_kafka_deprecated: bindings.kafka reading Dapr's deprecated authRequired, in check() and create().
if BUILD_BINDINGS_KAFKA
check_PROGRAMS += tests/check_kafka_deprecated
TESTS += tests/check_kafka_deprecated
tests_check_kafka_deprecated_SOURCES = tests/check_kafka_deprecated.c
tests_check_kafka_deprecated_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_kafka_deprecated_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS)
tests_check_kafka_deprecated_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)
endif
