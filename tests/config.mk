# SPDX-License-Identifier: Apache-2.0
# check_configuration: --config files (core/resources/configuration.c), outrigd --check with them, core/blocks/invoke/nameres.c with a fake resolver.
# check_app_health: opt-in app health checks against a real outrigd and a stand-in app.
check_PROGRAMS += tests/check_configuration tests/check_app_health
TESTS += tests/check_configuration tests/check_app_health

# core/ first: this program uses the core's server.h, not the test servers' one.
tests_check_configuration_CPPFLAGS = $(CORE_CPPFLAGS) -I$(top_srcdir)/tests/lib \
	-DCFG_TEST_DATA='"$(abs_top_srcdir)/tests/data"'
tests_check_configuration_CFLAGS = $(TEST_CFLAGS)
tests_check_configuration_SOURCES = tests/check_configuration.c
tests_check_configuration_LDADD = core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)

tests_check_app_health_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_app_health_CFLAGS = $(TEST_CFLAGS)
tests_check_app_health_SOURCES = tests/check_app_health.c
tests_check_app_health_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)

EXTRA_DIST += \
	tests/data/configuration/bad-kind.yaml \
	tests/data/configuration/bad-name.yaml \
	tests/data/configuration/bad-observe.yaml \
	tests/data/configuration/observe.yaml \
	tests/data/configuration/bad-nameresolution.yaml \
	tests/data/configuration/bad-syntax.yaml \
	tests/data/configuration/bad-timeout.yaml \
	tests/data/configuration/good.yaml \
	tests/data/configuration/mtls.yaml tests/data/configuration/bad-mtls.yaml \
	tests/data/configuration/kubernetes.yaml \
	tests/data/configuration/missing-plugin.yaml \
	tests/data/configuration/version-only.yaml
