# SPDX-License-Identifier: Apache-2.0
# bindings.kafka: see README.md.
if BUILD_BINDINGS_KAFKA
plugin_LTLIBRARIES += plugins/bindings_kafka.la
plugins_bindings_kafka_la_SOURCES = plugins/bindings_kafka/bindings_kafka.c
plugins_bindings_kafka_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_bindings_kafka_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(BINDINGS_KAFKA_CFLAGS)
plugins_bindings_kafka_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_bindings_kafka_la_LIBADD = $(BINDINGS_KAFKA_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/bindings_kafka/README.md
