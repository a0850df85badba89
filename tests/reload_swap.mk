# SPDX-License-Identifier: Apache-2.0
# check_reload_swap: reloads that swap a pub/sub component under a publisher (in-memory, and
# pubsub.mqtt3 against a real mosquitto), a cron input binding's schedule, and a slow create()
# made off the event loop (bindings.slow, a test plugin whose create() sleeps).

# The slow test binding; never installed (TEST_PLUGIN_LDFLAGS is loader.mk's).
check_LTLIBRARIES += tests/plugins/bindings_slow.la
tests_plugins_bindings_slow_la_SOURCES = tests/plugins/bindings_slow.c
tests_plugins_bindings_slow_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_bindings_slow_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_PROGRAMS += tests/check_reload_swap
TESTS += tests/check_reload_swap
tests_check_reload_swap_SOURCES = tests/check_reload_swap.c
tests_check_reload_swap_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_reload_swap_CFLAGS = $(TEST_CFLAGS)
tests_check_reload_swap_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
if BUILD_PUBSUB_MQTT3
tests_check_reload_swap_CPPFLAGS += -DRELOAD_SWAP_MQTT
endif
