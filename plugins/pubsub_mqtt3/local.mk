# SPDX-License-Identifier: Apache-2.0
# pubsub.mqtt3: MQTT 3.1.1 through paho-mqtt-c's MQTTAsync, with an SQLite spool for at-least-once.
if BUILD_PUBSUB_MQTT3
plugin_LTLIBRARIES += plugins/pubsub_mqtt3.la
plugins_pubsub_mqtt3_la_SOURCES = \
	plugins/pubsub_mqtt3/pubsub_mqtt3.c \
	plugins/pubsub_mqtt3/mqtt_options.c plugins/pubsub_mqtt3/mqtt_options.h \
	plugins/pubsub_mqtt3/mqtt_topic.c plugins/pubsub_mqtt3/mqtt_topic.h \
	plugins/pubsub_mqtt3/mqtt_spool.c plugins/pubsub_mqtt3/mqtt_spool.h \
	plugins/pubsub_mqtt3/mqtt_receive.c plugins/pubsub_mqtt3/mqtt_receive.h \
	plugins/pubsub_mqtt3/mqtt_client.c plugins/pubsub_mqtt3/mqtt_client.h \
	plugins/pubsub_mqtt3/mqtt_nodelay.c plugins/pubsub_mqtt3/mqtt_nodelay.h
plugins_pubsub_mqtt3_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_pubsub_mqtt3_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(PUBSUB_MQTT3_CFLAGS) $(SQLITE3_CFLAGS)
plugins_pubsub_mqtt3_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_pubsub_mqtt3_la_LIBADD = $(PUBSUB_MQTT3_LIBS) $(SQLITE3_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/pubsub_mqtt3/README.md
