# SPDX-License-Identifier: Apache-2.0
# check_bindings: output bindings (POST /v1.0/bindings/{name}) and input delivery to the app, through bindings.test.

# The test binding; never installed (TEST_PLUGIN_LDFLAGS is loader.mk's).
check_LTLIBRARIES += tests/plugins/bindings_test.la
tests_plugins_bindings_test_la_SOURCES = tests/plugins/bindings_test.c
tests_plugins_bindings_test_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS)
tests_plugins_bindings_test_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -no-undefined
tests_plugins_bindings_test_la_LIBADD = $(PTHREAD_LIBS)

check_PROGRAMS += tests/check_bindings
TESTS += tests/check_bindings
tests_check_bindings_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_bindings_CFLAGS = $(TEST_CFLAGS)
tests_check_bindings_SOURCES = tests/check_bindings.c
tests_check_bindings_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)

# check_misc_api: output bindings, secrets and metadata through both front ends of one outrigd,
# one table of cases per block run over HTTP and over gRPC.
check_PROGRAMS += tests/blocks/check_misc_api
TESTS += tests/blocks/check_misc_api
tests_blocks_check_misc_api_CPPFLAGS = $(TEST_CPPFLAGS) -DSEC_TEST_DATA='"$(abs_top_srcdir)/tests/data/secrets"'
tests_blocks_check_misc_api_CFLAGS = $(TEST_CFLAGS)
tests_blocks_check_misc_api_SOURCES = tests/blocks/check_misc_api.c
tests_blocks_check_misc_api_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a core/liboutrigcore.a \
	$(TEST_LIBS)
