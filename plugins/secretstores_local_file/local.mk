# SPDX-License-Identifier: Apache-2.0
# secretstores.local.file: see README.md.
if BUILD_SECRETSTORES_LOCAL_FILE
plugin_LTLIBRARIES += plugins/secretstores_local_file.la
plugins_secretstores_local_file_la_SOURCES = plugins/secretstores_local_file/secretstores_local_file.c \
	plugins/secretstores_local_file/secret_flatten.c plugins/secretstores_local_file/secret_flatten.h
plugins_secretstores_local_file_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_secretstores_local_file_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(SECRETSTORES_LOCAL_FILE_CFLAGS)
plugins_secretstores_local_file_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_secretstores_local_file_la_LIBADD = $(SECRETSTORES_LOCAL_FILE_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/secretstores_local_file/README.md
