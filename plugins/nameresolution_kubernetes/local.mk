# SPDX-License-Identifier: Apache-2.0
# nameresolution.kubernetes: see README.md.
if BUILD_NAMERESOLUTION_KUBERNETES
plugin_LTLIBRARIES += plugins/nameresolution_kubernetes.la
plugins_nameresolution_kubernetes_la_SOURCES = plugins/nameresolution_kubernetes/nameresolution_kubernetes.c \
	plugins/nameresolution_kubernetes/nrk_dns.c plugins/nameresolution_kubernetes/nrk_dns.h
plugins_nameresolution_kubernetes_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_VERSION='"$(PACKAGE_VERSION)"'
plugins_nameresolution_kubernetes_la_CFLAGS = $(PLUGIN_CC_FLAGS) $(PTHREAD_CFLAGS) $(NAMERESOLUTION_KUBERNETES_CFLAGS)
plugins_nameresolution_kubernetes_la_LDFLAGS = $(PLUGIN_LD_FLAGS)
plugins_nameresolution_kubernetes_la_LIBADD = $(NAMERESOLUTION_KUBERNETES_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += plugins/nameresolution_kubernetes/README.md
