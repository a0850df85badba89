# SPDX-License-Identifier: Apache-2.0
# check_nr_kubernetes: the nameresolution.kubernetes plugin alone, against a real dnsmasq.
if BUILD_NAMERESOLUTION_KUBERNETES
check_PROGRAMS += tests/check_nr_kubernetes
TESTS += tests/check_nr_kubernetes
tests_check_nr_kubernetes_SOURCES = tests/check_nr_kubernetes.c
tests_check_nr_kubernetes_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_nr_kubernetes_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS)
# The real loader (core) opens the plugin; the test's own host table drives it.
tests_check_nr_kubernetes_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)
endif
