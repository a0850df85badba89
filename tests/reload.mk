# SPDX-License-Identifier: Apache-2.0
# check_reload: SIGHUP's reload against a real outrigd (a broken set keeps the old one; added,
# changed and removed components; reloads under load) and its sd_notify messages on a real socket.
check_PROGRAMS += tests/check_reload
TESTS += tests/check_reload
tests_check_reload_SOURCES = tests/check_reload.c
tests_check_reload_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_reload_CFLAGS = $(TEST_CFLAGS)
tests_check_reload_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
# The in-flight case holds an SQLite lock in the test itself, against a state.sqlite component.
if BUILD_STATE_SQLITE
tests_check_reload_CPPFLAGS += -DRELOAD_TEST_SQLITE
tests_check_reload_CFLAGS += $(STATE_SQLITE_CFLAGS)
tests_check_reload_LDADD += $(STATE_SQLITE_LIBS)
endif
