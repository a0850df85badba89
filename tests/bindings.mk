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
