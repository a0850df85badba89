# SPDX-License-Identifier: Apache-2.0
# state.postgresql against a real PostgreSQL: daprd's table layout, as daprd and outrigd share it.
if BUILD_STATE_POSTGRESQL
check_PROGRAMS += tests/check_postgresql_layout
TESTS += tests/check_postgresql_layout

tests_check_postgresql_layout_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_postgresql_layout_CFLAGS = $(TEST_CFLAGS) $(STATE_POSTGRESQL_CFLAGS)
tests_check_postgresql_layout_SOURCES = tests/check_postgresql_layout.c
tests_check_postgresql_layout_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS) $(STATE_POSTGRESQL_LIBS)
# sslmode, sslrootcert through libpq to a PostgreSQL that takes TLS only (issue 15 part 5).
check_PROGRAMS += tests/check_postgresql_tls
TESTS += tests/check_postgresql_tls
tests_check_postgresql_tls_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_postgresql_tls_CFLAGS = $(TEST_CFLAGS)
tests_check_postgresql_tls_SOURCES = tests/check_postgresql_tls.c
tests_check_postgresql_tls_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
endif
EXTRA_DIST += tests/data/components/postgresql/statestore.yaml
