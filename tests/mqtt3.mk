# SPDX-License-Identifier: Apache-2.0
# check_mqtt3_plugin: the pubsub.mqtt3 plugin alone, against a real mosquitto.
if BUILD_PUBSUB_MQTT3
check_PROGRAMS += tests/check_mqtt3_plugin
TESTS += tests/check_mqtt3_plugin
tests_check_mqtt3_plugin_SOURCES = tests/check_mqtt3_plugin.c
tests_check_mqtt3_plugin_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_mqtt3_plugin_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS)
# The real loader (core) opens the plugin; the test's own host table drives it.
tests_check_mqtt3_plugin_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)
endif
