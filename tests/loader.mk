# SPDX-License-Identifier: Apache-2.0
# Plugin loader tests: deliberately broken plugins, each refused with its own exact message.

# Shared modules like real plugins, but never installed (-rpath forces libtool to build them shared).
TEST_PLUGIN_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

check_LTLIBRARIES += tests/plugins/state_test_good.la
tests_plugins_state_test_good_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_test_good_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.test-good"'
tests_plugins_state_test_good_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_test_good_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_bad_magic.la
tests_plugins_state_bad_magic_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_bad_magic_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.bad-magic"' -DTEST_MAGIC=0xdeadbeefu
tests_plugins_state_bad_magic_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_bad_magic_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_other_major.la
tests_plugins_state_other_major_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_other_major_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.other-major"' -DTEST_ABI_MAJOR=2 -DTEST_ABI_MINOR=0
tests_plugins_state_other_major_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_other_major_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_newer_minor.la
tests_plugins_state_newer_minor_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_newer_minor_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.newer-minor"' -DTEST_ABI_MINOR=7
tests_plugins_state_newer_minor_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_newer_minor_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_short_struct.la
tests_plugins_state_short_struct_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_short_struct_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.short-struct"' -DTEST_STRUCT_SIZE=16
tests_plugins_state_short_struct_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_short_struct_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_no_entry.la
tests_plugins_state_no_entry_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_no_entry_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.no-entry"' -DTEST_NO_ENTRY
tests_plugins_state_no_entry_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_no_entry_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_no_create.la
tests_plugins_state_no_create_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_no_create_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.no-create"' -DTEST_CREATE=NULL
tests_plugins_state_no_create_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_no_create_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_no_get.la
tests_plugins_state_no_get_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_no_get_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.no-get"' -DTEST_GET=NULL
tests_plugins_state_no_get_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_no_get_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_wrong_type.la
tests_plugins_state_wrong_type_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_wrong_type_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.something-else"'
tests_plugins_state_wrong_type_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_wrong_type_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_LTLIBRARIES += tests/plugins/state_undefined_symbol.la
tests_plugins_state_undefined_symbol_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_undefined_symbol_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.undefined-symbol"' -DTEST_UNDEFINED_SYMBOL
tests_plugins_state_undefined_symbol_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_undefined_symbol_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/state_init_fails.la
tests_plugins_state_init_fails_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_init_fails_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.init-fails"' -DTEST_INIT_FAILS
tests_plugins_state_init_fails_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_init_fails_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

check_PROGRAMS += tests/check_loader
TESTS += tests/check_loader
tests_check_loader_SOURCES = tests/check_loader.c
tests_check_loader_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_loader_CFLAGS = $(TEST_CFLAGS)
tests_check_loader_LDADD = core/liboutrigcore.a $(TEST_LIBS)

# A pub/sub type built before ABI 1.2 (no pubsub operations in its descriptor).
check_LTLIBRARIES += tests/plugins/pubsub_before_1_2.la
tests_plugins_pubsub_before_1_2_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_pubsub_before_1_2_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"pubsub.before-1.2"' -DTEST_ABI_MINOR=1 \
	-DTEST_STRUCT_SIZE='offsetof(struct outrig_plugin, pubsub)'
tests_plugins_pubsub_before_1_2_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_pubsub_before_1_2_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

# A descriptor listing no versions: refused at load, blaming the plugin rather than the YAML.
check_LTLIBRARIES += tests/plugins/state_no_versions.la
tests_plugins_state_no_versions_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_no_versions_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.no-versions"' -DTEST_NO_VERSIONS
tests_plugins_state_no_versions_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_no_versions_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

# TRANSACTIONAL declared without a transact callback.
check_LTLIBRARIES += tests/plugins/state_tx_no_transact.la
tests_plugins_state_tx_no_transact_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_tx_no_transact_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.tx-no-transact"' \
	-DTEST_FEATURES=OUTRIG_STATE_TRANSACTIONAL
tests_plugins_state_tx_no_transact_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_tx_no_transact_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined

# create() fails where nothing before it can tell: --check passes it, --check-create refuses it.
check_LTLIBRARIES += tests/plugins/state_create_fails.la
tests_plugins_state_create_fails_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_state_create_fails_la_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_TYPE='"state.create-fails"' -DTEST_CREATE_FAILS
tests_plugins_state_create_fails_la_CFLAGS = $(PLUGIN_CC_FLAGS)
tests_plugins_state_create_fails_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined
