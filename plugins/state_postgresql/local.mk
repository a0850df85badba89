# SPDX-License-Identifier: Apache-2.0
# state.postgresql: Dapr's v1 PostgreSQL state store, in daprd's own tables (needs libpq >= 10).
if BUILD_STATE_POSTGRESQL
plugin_LTLIBRARIES += plugins/state_postgresql.la
plugins_state_postgresql_la_SOURCES = \
	plugins/state_postgresql/state_postgresql.c plugins/state_postgresql/pg_store.h \
	plugins/state_postgresql/pg_ops.c \
	plugins/state_postgresql/pg_conn.c plugins/state_postgresql/pg_conn.h \
	plugins/state_postgresql/pg_conninfo.c plugins/state_postgresql/pg_conninfo.h \
	plugins/state_postgresql/pg_schema.c plugins/state_postgresql/pg_schema.h \
	plugins/state_postgresql/pg_values.c plugins/state_postgresql/pg_values.h
plugins_state_postgresql_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_state_postgresql_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(STATE_POSTGRESQL_CFLAGS) -pthread
plugins_state_postgresql_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_state_postgresql_la_LIBADD = $(STATE_POSTGRESQL_LIBS) -lpthread
endif
EXTRA_DIST += plugins/state_postgresql/README.md
