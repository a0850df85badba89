# SPDX-License-Identifier: Apache-2.0
# state.postgresql against a real PostgreSQL: daprd's table layout, as daprd and outrigd share it.
if BUILD_STATE_POSTGRESQL
check_PROGRAMS += tests/check_postgresql_layout
TESTS += tests/check_postgresql_layout

tests_check_postgresql_layout_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_postgresql_layout_CFLAGS = $(TEST_CFLAGS) $(STATE_POSTGRESQL_CFLAGS)
tests_check_postgresql_layout_SOURCES = tests/check_postgresql_layout.c
tests_check_postgresql_layout_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS) $(STATE_POSTGRESQL_LIBS)
endif
EXTRA_DIST += tests/data/components/postgresql/statestore.yaml
