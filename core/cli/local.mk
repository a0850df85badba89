# SPDX-License-Identifier: Apache-2.0
# outrig, the command-line tool that runs an app with its sidecar (plain libc, no libevent; OpenSSL for outrig cert).
bin_PROGRAMS += core/outrig
core_outrig_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)
core_outrig_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(OPENSSL_CFLAGS)
core_outrig_LDADD = $(YAML_LIBS) $(OPENSSL_LIBS)
core_outrig_SOURCES = \
	core/cli/main.c \
	core/cli/run.c core/cli/run.h \
	core/cli/runfile.c core/cli/runfile.h \
	core/cli/init.c core/cli/init.h \
	core/cli/cert.c core/cli/cert.h \
	core/cli/list.c core/cli/list.h \
	core/cli/stop.c core/cli/stop.h \
	core/cli/registry.c core/cli/registry.h \
	core/cli/supervise.c core/cli/supervise.h \
	core/cli/http_probe.c core/cli/http_probe.h
