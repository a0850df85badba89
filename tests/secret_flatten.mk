# SPDX-License-Identifier: Apache-2.0
# check_secret_flatten: secretstores.local.file's flattener, compiled in from the plugin's folder.
if BUILD_SECRETSTORES_LOCAL_FILE
check_PROGRAMS += tests/check_secret_flatten
TESTS += tests/check_secret_flatten
tests_check_secret_flatten_SOURCES = tests/check_secret_flatten.c \
	plugins/secretstores_local_file/secret_flatten.c
tests_check_secret_flatten_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/secretstores_local_file
tests_check_secret_flatten_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CHECK_CFLAGS)
tests_check_secret_flatten_LDADD = $(JANSSON_LIBS) $(CHECK_LIBS)
endif
