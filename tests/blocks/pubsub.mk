# SPDX-License-Identifier: Apache-2.0
# The pub/sub block's publish cases, one table through every front end of a real outrigd.
check_PROGRAMS += tests/blocks/check_pubsub_publish
TESTS += tests/blocks/check_pubsub_publish
tests_blocks_check_pubsub_publish_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/tests/pubsub_conf
tests_blocks_check_pubsub_publish_CFLAGS = $(TEST_CFLAGS)
tests_blocks_check_pubsub_publish_SOURCES = tests/blocks/check_pubsub_publish.c \
	tests/blocks/pubsub_transport.c tests/blocks/pubsub_transport.h \
	tests/blocks/pubsub_transport_http.c tests/blocks/pubsub_transport_grpc.c $(PUBSUB_TEST_HELPERS)
# The generated protobuf-c messages come with the core's library.
tests_blocks_check_pubsub_publish_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a core/liboutrigcore.a \
	$(TEST_LIBS)

# channels/app_pubsub.h over HTTP against the real test app.
check_PROGRAMS += tests/unit/check_app_pubsub
TESTS += tests/unit/check_app_pubsub
tests_unit_check_app_pubsub_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_app_pubsub_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_app_pubsub_SOURCES = tests/unit/check_app_pubsub.c
tests_unit_check_app_pubsub_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS)

# pubsub.test: a broker that fails publishes on purpose (per-entry failures of a bulk).
check_LTLIBRARIES += tests/plugins/pubsub_test.la
tests_plugins_pubsub_test_la_SOURCES = tests/plugins/pubsub_test.c
tests_plugins_pubsub_test_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_pubsub_test_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

# blocks/pubsub/pubsub_entry.c alone: metadata merged and read, payload made.
check_PROGRAMS += tests/unit/check_pubsub_entry
TESTS += tests/unit/check_pubsub_entry
tests_unit_check_pubsub_entry_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_pubsub_entry_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_pubsub_entry_SOURCES = tests/unit/check_pubsub_entry.c core/blocks/pubsub/pubsub_entry.c \
	core/blocks/pubsub/cloudevent.c core/base/kv.c core/blocks/errors.c
tests_unit_check_pubsub_entry_LDADD = $(TEST_LIBS)
