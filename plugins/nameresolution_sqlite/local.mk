# SPDX-License-Identifier: Apache-2.0
# nameresolution.sqlite: sidecars of one host find each other through one SQLite file (see README.md).
if BUILD_NAMERESOLUTION_SQLITE
plugin_LTLIBRARIES += plugins/nameresolution_sqlite.la
plugins_nameresolution_sqlite_la_SOURCES = \
	plugins/nameresolution_sqlite/nameresolution_sqlite.c \
	plugins/nameresolution_sqlite/nrs_schema.c plugins/nameresolution_sqlite/nrs_schema.h \
	plugins/common/sqlite_layout.c plugins/common/sqlite_layout.h
plugins_nameresolution_sqlite_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_nameresolution_sqlite_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(NAMERESOLUTION_SQLITE_CFLAGS)
plugins_nameresolution_sqlite_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_nameresolution_sqlite_la_LIBADD = $(NAMERESOLUTION_SQLITE_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/nameresolution_sqlite/README.md
