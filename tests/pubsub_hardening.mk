# SPDX-License-Identifier: Apache-2.0
# Issue 11 (pub/sub): route normalisation (unit), hostile publish requests and the delivery backlog.
check_PROGRAMS += tests/unit/check_sub_routes
TESTS += tests/unit/check_sub_routes
tests_unit_check_sub_routes_SOURCES = tests/unit/check_sub_routes.c core/blocks/pubsub/subscriptions.c \
	core/resources/subscriptions_yaml.c core/blocks/pubsub/rules.c core/blocks/pubsub/rules_eval.c core/blocks/pubsub/rules_lex.c core/blocks/pubsub/rules_parse.c \
	core/resources/resources_yaml.c core/base/diag.c core/base/log.c
tests_unit_check_sub_routes_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_sub_routes_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_sub_routes_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/check_pubsub_hostile
TESTS += tests/check_pubsub_hostile
tests_check_pubsub_hostile_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pubsub_hostile_CFLAGS = $(TEST_CFLAGS)
tests_check_pubsub_hostile_SOURCES = tests/check_pubsub_hostile.c
tests_check_pubsub_hostile_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)

check_PROGRAMS += tests/check_pubsub_backlog
TESTS += tests/check_pubsub_backlog
tests_check_pubsub_backlog_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/tests/pubsub_conf
tests_check_pubsub_backlog_CFLAGS = $(TEST_CFLAGS)
tests_check_pubsub_backlog_SOURCES = tests/check_pubsub_backlog.c $(PUBSUB_TEST_HELPERS)
tests_check_pubsub_backlog_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
