# SPDX-License-Identifier: Apache-2.0
# bindings.cron: see README.md.
if BUILD_BINDINGS_CRON
plugin_LTLIBRARIES += plugins/bindings_cron.la
plugins_bindings_cron_la_SOURCES = plugins/bindings_cron/bindings_cron.c \
	plugins/bindings_cron/cron_schedule.c plugins/bindings_cron/cron_schedule.h
plugins_bindings_cron_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_bindings_cron_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(BINDINGS_CRON_CFLAGS)
plugins_bindings_cron_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_bindings_cron_la_LIBADD = $(BINDINGS_CRON_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/bindings_cron/README.md
