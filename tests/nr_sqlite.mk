# SPDX-License-Identifier: Apache-2.0
# check_nr_sqlite: the nameresolution.sqlite plugin, several instances sharing one temporary database.
if BUILD_NAMERESOLUTION_SQLITE
check_PROGRAMS += tests/check_nr_sqlite
TESTS += tests/check_nr_sqlite
tests_check_nr_sqlite_SOURCES = tests/check_nr_sqlite.c
tests_check_nr_sqlite_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_nr_sqlite_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS) $(NAMERESOLUTION_SQLITE_CFLAGS)
# The real loader (core) opens the plugin; the test's own host table drives it, and the test
# looks into the database with its own SQLite connection.
tests_check_nr_sqlite_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(NAMERESOLUTION_SQLITE_LIBS) $(PTHREAD_LIBS)
endif
