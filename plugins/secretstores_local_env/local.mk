# SPDX-License-Identifier: Apache-2.0
# secretstores.local.env: see README.md.
if BUILD_SECRETSTORES_LOCAL_ENV
plugin_LTLIBRARIES += plugins/secretstores_local_env.la
plugins_secretstores_local_env_la_SOURCES = plugins/secretstores_local_env/secretstores_local_env.c
plugins_secretstores_local_env_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_secretstores_local_env_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(SECRETSTORES_LOCAL_ENV_CFLAGS)
plugins_secretstores_local_env_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_secretstores_local_env_la_LIBADD = $(SECRETSTORES_LOCAL_ENV_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/secretstores_local_env/README.md
