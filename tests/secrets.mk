# SPDX-License-Identifier: Apache-2.0
# check_secrets: the secrets API on secretstores.local.file and .local.env, secret scopes, and
# secretKeyRef in components (into state.redis against a real redis-server with a password).
check_PROGRAMS += tests/check_secrets
TESTS += tests/check_secrets
tests_check_secrets_SOURCES = tests/check_secrets.c
# The fixture folder is compiled in too, so the program also runs outside make check.
tests_check_secrets_CPPFLAGS = $(TEST_CPPFLAGS) -DSEC_TEST_DATA='"$(abs_top_srcdir)/tests/data/secrets"'
tests_check_secrets_CFLAGS = $(TEST_CFLAGS)
tests_check_secrets_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
EXTRA_DIST += tests/data/secrets/nested.json tests/data/secrets/scopes.json
