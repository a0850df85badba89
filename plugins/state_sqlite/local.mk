# SPDX-License-Identifier: Apache-2.0
# state.sqlite: a persistent state store in a SQLite database file (needs sqlite3 >= 3.35).
if BUILD_STATE_SQLITE
plugin_LTLIBRARIES += plugins/state_sqlite.la
plugins_state_sqlite_la_SOURCES = \
	plugins/state_sqlite/state_sqlite.c \
	plugins/state_sqlite/sqlite_schema.c plugins/state_sqlite/sqlite_schema.h \
	plugins/common/sqlite_layout.c plugins/common/sqlite_layout.h
plugins_state_sqlite_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_state_sqlite_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(STATE_SQLITE_CFLAGS)
plugins_state_sqlite_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_state_sqlite_la_LIBADD = $(STATE_SQLITE_LIBS)
endif
EXTRA_DIST += plugins/state_sqlite/README.md
