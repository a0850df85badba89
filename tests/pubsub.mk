# SPDX-License-Identifier: Apache-2.0
# Pub/sub: the conformance suite (every pub/sub plugin, mosquitto for pubsub.mqtt3) and fault tests.
# Both are built always: a row or test whose plugin was not built, or whose server is not
# installed, skips itself at run time (and fails under OUTRIG_REQUIRE_SERVERS=1).
check_PROGRAMS += tests/check_pubsub_conformance tests/check_pubsub_faults
TESTS += tests/check_pubsub_conformance tests/check_pubsub_faults

PUBSUB_TEST_HELPERS = tests/pubsub_conf/pubsub_helpers.c tests/pubsub_conf/pubsub_helpers.h

tests_check_pubsub_conformance_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/tests/pubsub_conf
tests_check_pubsub_conformance_CFLAGS = $(TEST_CFLAGS)
tests_check_pubsub_conformance_SOURCES = tests/check_pubsub_conformance.c $(PUBSUB_TEST_HELPERS) \
	tests/pubsub_conf/pubsub_conf.h tests/pubsub_conf/helpers.c \
	tests/pubsub_conf/cases_delivery.c tests/pubsub_conf/cases_answers.c \
	tests/pubsub_conf/cases_subscriptions.c
tests_check_pubsub_conformance_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)

tests_check_pubsub_faults_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/tests/pubsub_conf
tests_check_pubsub_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_pubsub_faults_SOURCES = tests/check_pubsub_faults.c $(PUBSUB_TEST_HELPERS)
tests_check_pubsub_faults_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)

EXTRA_DIST += \
	tests/data/pubsub/resiliency-fast.yaml \
	tests/data/pubsub/resiliency-bounded.yaml \
	tests/data/pubsub/subscription-v2alpha1.yaml \
	tests/data/pubsub/subscription-v1alpha1.yaml \
	tests/data/pubsub/subscription-other-app.yaml
