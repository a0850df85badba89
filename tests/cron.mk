# SPDX-License-Identifier: Apache-2.0
# bindings.cron: the schedule parser alone, and the plugin through the real loader with a test host.
if BUILD_BINDINGS_CRON
check_PROGRAMS += tests/unit/check_cron_schedule
TESTS += tests/unit/check_cron_schedule
tests_unit_check_cron_schedule_SOURCES = tests/unit/check_cron_schedule.c \
	plugins/bindings_cron/cron_schedule.c
tests_unit_check_cron_schedule_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/plugins/bindings_cron
tests_unit_check_cron_schedule_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_cron_schedule_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/check_cron_plugin
TESTS += tests/check_cron_plugin
tests_check_cron_plugin_SOURCES = tests/check_cron_plugin.c
tests_check_cron_plugin_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_cron_plugin_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS)
# The real loader (core) opens the plugin; the test's own host table drives it.
tests_check_cron_plugin_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)
endif
