# SPDX-License-Identifier: Apache-2.0
# check_redis_layout: state.redis against a real redis-server, reading and writing daprd's layout raw.
if BUILD_STATE_REDIS
check_PROGRAMS += tests/check_redis_layout
TESTS += tests/check_redis_layout
tests_check_redis_layout_SOURCES = tests/check_redis_layout.c
# The fixture folder is compiled in too, so the program also runs outside make check.
tests_check_redis_layout_CPPFLAGS = $(TEST_CPPFLAGS) -DRDS_TEST_DATA='"$(abs_top_srcdir)/tests/data"'
tests_check_redis_layout_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS) $(STATE_REDIS_CFLAGS)
tests_check_redis_layout_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS) $(STATE_REDIS_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += tests/data/components/redis/daprd-tuned.yaml
