# SPDX-License-Identifier: Apache-2.0
# state.in-memory: a state store in the sidecar's memory (no dependency).
if BUILD_STATE_IN_MEMORY
plugin_LTLIBRARIES += plugins/state_in_memory.la
plugins_state_in_memory_la_SOURCES = plugins/state_in_memory/state_in_memory.c
plugins_state_in_memory_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_state_in_memory_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS)
plugins_state_in_memory_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_state_in_memory_la_LIBADD = $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/state_in_memory/README.md
