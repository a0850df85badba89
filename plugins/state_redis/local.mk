# SPDX-License-Identifier: Apache-2.0
# state.redis: a state store in Redis, in daprd's layout (needs hiredis >= 0.14).
if BUILD_STATE_REDIS
plugin_LTLIBRARIES += plugins/state_redis.la
plugins_state_redis_la_SOURCES = \
	plugins/state_redis/state_redis.c \
	plugins/state_redis/redis_options.c plugins/state_redis/redis_options.h \
	plugins/state_redis/redis_errors.c plugins/state_redis/redis_errors.h \
	plugins/state_redis/redis_pool.c plugins/state_redis/redis_pool.h \
	plugins/state_redis/redis_scripts.c plugins/state_redis/redis_scripts.h
plugins_state_redis_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_state_redis_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(STATE_REDIS_CFLAGS)
plugins_state_redis_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_state_redis_la_LIBADD = $(STATE_REDIS_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/state_redis/README.md
