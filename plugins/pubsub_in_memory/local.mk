# SPDX-License-Identifier: Apache-2.0
# pubsub.in-memory: process-local pub/sub, the embedded default (no dependency).
if BUILD_PUBSUB_IN_MEMORY
plugin_LTLIBRARIES += plugins/pubsub_in_memory.la
plugins_pubsub_in_memory_la_SOURCES = plugins/pubsub_in_memory/pubsub_in_memory.c
plugins_pubsub_in_memory_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_pubsub_in_memory_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS)
plugins_pubsub_in_memory_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_pubsub_in_memory_la_LIBADD = $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/pubsub_in_memory/README.md
