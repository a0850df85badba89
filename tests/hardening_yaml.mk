# SPDX-License-Identifier: Apache-2.0
# check_hardening_yaml: hostile and unenforceable YAML (alias bombs, deep nesting, Configuration
# access policies) and outrigd --check agreeing with start-up (issue 11).
check_PROGRAMS += tests/check_hardening_yaml
TESTS += tests/check_hardening_yaml

tests_check_hardening_yaml_CPPFLAGS = $(CORE_CPPFLAGS) -I$(top_srcdir)/tests/lib \
	-DHARDENING_TEST_DATA='"$(abs_top_srcdir)/tests/data"'
tests_check_hardening_yaml_CFLAGS = $(TEST_CFLAGS)
tests_check_hardening_yaml_SOURCES = tests/check_hardening_yaml.c
tests_check_hardening_yaml_LDADD = core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)

EXTRA_DIST += \
	tests/data/hardening/alias-bomb-component.yaml \
	tests/data/hardening/alias-bomb-configuration.yaml \
	tests/data/hardening/few-aliases.yaml
