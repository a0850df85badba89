# SPDX-License-Identifier: Apache-2.0
# check_reload: SIGHUP's reload against a real outrigd (a broken set keeps the old one; added,
# changed and removed components; reloads under load) and its sd_notify messages on a real socket.
check_PROGRAMS += tests/check_reload
TESTS += tests/check_reload
tests_check_reload_SOURCES = tests/check_reload.c
tests_check_reload_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_reload_CFLAGS = $(TEST_CFLAGS)
tests_check_reload_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)
