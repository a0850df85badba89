# SPDX-License-Identifier: Apache-2.0
# bindings.kafka and pubsub.kafka (librdkafka): one module, installed under both names; see README.md.

# The further names the module is found by (the loader looks plugins up by file name).
bindings_kafka_aliases =
bindings_kafka_module =
if BUILD_BINDINGS_KAFKA
plugin_LTLIBRARIES += plugins/bindings_kafka.la
plugins_bindings_kafka_la_SOURCES = \
	plugins/bindings_kafka/bindings_kafka.c \
	plugins/bindings_kafka/kafka_options.c plugins/bindings_kafka/kafka_options.h \
	plugins/bindings_kafka/kafka_producer.c plugins/bindings_kafka/kafka_producer.h \
	plugins/bindings_kafka/kafka_consumer.c plugins/bindings_kafka/kafka_consumer.h
plugins_bindings_kafka_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_bindings_kafka_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(BINDINGS_KAFKA_CFLAGS)
plugins_bindings_kafka_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_bindings_kafka_la_LIBADD = $(BINDINGS_KAFKA_LIBS) $(PTHREAD_LIBS)
bindings_kafka_aliases += pubsub_kafka.so
bindings_kafka_module += plugins/bindings_kafka.la
endif
EXTRA_DIST += plugins/bindings_kafka/README.md

# In the build tree: plugins/.libs/pubsub_kafka.so -> bindings_kafka.so, for OUTRIG_PLUGIN_PATH.
# (plugins/.libs goes with libtool's clean.)
all-local: $(bindings_kafka_module)
	@for a in $(bindings_kafka_aliases); do \
	  echo "  LN       plugins/.libs/$$a"; \
	  (cd plugins/.libs && rm -f "$$a" && $(LN_S) bindings_kafka.so "$$a") || exit 1; \
	done

# Installed: the same link beside the installed module (which install-data puts in plugindir).
install-data-local:
	@for a in $(bindings_kafka_aliases); do \
	  $(MKDIR_P) "$(DESTDIR)$(plugindir)" && \
	  (cd "$(DESTDIR)$(plugindir)" && rm -f "$$a" && $(LN_S) bindings_kafka.so "$$a") || exit 1; \
	done

uninstall-local:
	@for a in $(bindings_kafka_aliases); do rm -f "$(DESTDIR)$(plugindir)/$$a"; done
