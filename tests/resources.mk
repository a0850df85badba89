# SPDX-License-Identifier: Apache-2.0
# check_resources: unit tests of core/resources/resources.c, the loader of Dapr resource YAML.
check_PROGRAMS += tests/check_resources
TESTS += tests/check_resources
tests_check_resources_SOURCES = tests/check_resources.c core/resources/resources.c core/resources/resources_yaml.c \
	core/resources/resources_yaml_limits.c \
	core/base/diag.c core/base/duration.c core/base/log.c core/blocks/pubsub/subscriptions.c core/resources/subscriptions_yaml.c \
	core/blocks/pubsub/rules.c core/blocks/pubsub/rules_eval.c core/blocks/pubsub/rules_lex.c core/blocks/pubsub/rules_parse.c core/resources/resiliency.c core/resiliency/trip.c
# The fixture folder is compiled in too, so the program also runs outside make check.
tests_check_resources_CPPFLAGS = $(TEST_CPPFLAGS) -DRES_TEST_DATA='"$(abs_top_srcdir)/tests/data"'
tests_check_resources_CFLAGS = $(TEST_CFLAGS)
tests_check_resources_LDADD = $(TEST_LIBS)
EXTRA_DIST += \
	tests/data/resources/dapr-init/pubsub.yaml \
	tests/data/resources/dapr-init/statestore.yaml \
	tests/data/resources/duplicate/a.yaml \
	tests/data/resources/duplicate/b.yaml \
	tests/data/resources/extensions/a.yaml \
	tests/data/resources/extensions/b.yml \
	tests/data/resources/extensions/c.txt \
	tests/data/resources/extensions/d.yaml.bak \
	tests/data/resources/extensions/e.json \
	tests/data/resources/extensions/folder.yaml/g.yaml \
	tests/data/resources/extensions/sub/f.yaml \
	tests/data/resources/multi/resources.yaml \
	tests/data/resources/valid/component.yaml \
	tests/data/resiliency/bad/resiliency.yaml \
	tests/data/resiliency/valid/components.yaml \
	tests/data/resiliency/valid/resiliency.yaml \
	tests/data/subscriptions/bad/subs.yaml \
	tests/data/subscriptions/valid/subscriptions.yaml
