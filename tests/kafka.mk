# SPDX-License-Identifier: Apache-2.0
# check_kafka_plugin: bindings.kafka and pubsub.kafka alone, against librdkafka's mock cluster (tests/kafka_mock).
if BUILD_BINDINGS_KAFKA
# The helper the test drives: mock brokers on loopback, taken down and up on command.
check_PROGRAMS += tests/kafka_mock
tests_kafka_mock_SOURCES = tests/kafka_mock.c
tests_kafka_mock_CFLAGS = $(AM_CFLAGS) $(BINDINGS_KAFKA_CFLAGS)
tests_kafka_mock_LDADD = $(BINDINGS_KAFKA_LIBS)

check_PROGRAMS += tests/check_kafka_plugin
TESTS += tests/check_kafka_plugin
tests_check_kafka_plugin_SOURCES = tests/check_kafka_plugin.c
tests_check_kafka_plugin_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_kafka_plugin_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS)
# The real loader (core) opens the plugin; the test's own host table drives it.
tests_check_kafka_plugin_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)

# check_kafka_bindings: the same plugin through real outrigd daemons (output API, input delivery to an app).
check_PROGRAMS += tests/check_kafka_bindings
TESTS += tests/check_kafka_bindings
tests_check_kafka_bindings_SOURCES = tests/check_kafka_bindings.c
tests_check_kafka_bindings_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_kafka_bindings_CFLAGS = $(TEST_CFLAGS)
tests_check_kafka_bindings_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
endif

# check_resiliency_kafka: outbound Resiliency policies on output bindings and publish, against the mock cluster.
if BUILD_BINDINGS_KAFKA
check_PROGRAMS += tests/check_resiliency_kafka
TESTS += tests/check_resiliency_kafka
tests_check_resiliency_kafka_SOURCES = tests/check_resiliency_kafka.c
tests_check_resiliency_kafka_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_resiliency_kafka_CFLAGS = $(TEST_CFLAGS)
tests_check_resiliency_kafka_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
endif
