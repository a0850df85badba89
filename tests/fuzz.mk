# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets (tests/fuzz/): never built by `make` or `make check`; `make fuzz` builds them
# with clang in a tree of their own (build-fuzz/) and runs each for FUZZ_SECONDS (tests/fuzz/run.sh).
FUZZ_LINK_FLAGS = -fsanitize=fuzzer
FUZZ_BINS = tests/fuzz/fuzz_http tests/fuzz/fuzz_internal tests/fuzz/fuzz_json_bodies tests/fuzz/fuzz_cloudevent \
	tests/fuzz/fuzz_yaml tests/fuzz/fuzz_rules tests/fuzz/fuzz_cron tests/fuzz/fuzz_secret_flatten tests/fuzz/fuzz_grpc
EXTRA_PROGRAMS += $(FUZZ_BINS)
CLEANFILES += $(FUZZ_BINS)

tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c
# The same harness, aimed at the sidecar-to-sidecar listener.
tests_fuzz_fuzz_internal_SOURCES = tests/fuzz/fuzz_http.c
tests_fuzz_fuzz_internal_CPPFLAGS = $(CORE_CPPFLAGS) -DFUZZ_INTERNAL
tests_fuzz_fuzz_internal_CFLAGS = $(CORE_CFLAGS)
tests_fuzz_fuzz_internal_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_internal_LDADD = core/liboutrigcore.a $(CORE_LIBS)
tests_fuzz_fuzz_json_bodies_SOURCES = tests/fuzz/fuzz_json_bodies.c
tests_fuzz_fuzz_cloudevent_SOURCES = tests/fuzz/fuzz_cloudevent.c
tests_fuzz_fuzz_yaml_SOURCES = tests/fuzz/fuzz_yaml.c
tests_fuzz_fuzz_rules_SOURCES = tests/fuzz/fuzz_rules.c
tests_fuzz_fuzz_http_CPPFLAGS = $(CORE_CPPFLAGS)
tests_fuzz_fuzz_http_CFLAGS = $(CORE_CFLAGS)
tests_fuzz_fuzz_http_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_http_LDADD = core/liboutrigcore.a $(CORE_LIBS)
tests_fuzz_fuzz_json_bodies_CPPFLAGS = $(CORE_CPPFLAGS)
tests_fuzz_fuzz_json_bodies_CFLAGS = $(CORE_CFLAGS)
tests_fuzz_fuzz_json_bodies_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_json_bodies_LDADD = core/liboutrigcore.a $(CORE_LIBS)
tests_fuzz_fuzz_cloudevent_CPPFLAGS = $(CORE_CPPFLAGS)
tests_fuzz_fuzz_cloudevent_CFLAGS = $(CORE_CFLAGS)
tests_fuzz_fuzz_cloudevent_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_cloudevent_LDADD = core/liboutrigcore.a $(CORE_LIBS)
tests_fuzz_fuzz_yaml_CPPFLAGS = $(CORE_CPPFLAGS)
tests_fuzz_fuzz_yaml_CFLAGS = $(CORE_CFLAGS)
tests_fuzz_fuzz_yaml_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_yaml_LDADD = core/liboutrigcore.a $(CORE_LIBS)
tests_fuzz_fuzz_rules_CPPFLAGS = $(CORE_CPPFLAGS)
tests_fuzz_fuzz_rules_CFLAGS = $(CORE_CFLAGS)
tests_fuzz_fuzz_rules_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rules_LDADD = core/liboutrigcore.a $(CORE_LIBS)
# The gRPC server's frames and the protobuf requests (core/api/grpc).
tests_fuzz_fuzz_grpc_SOURCES = tests/fuzz/fuzz_grpc.c
tests_fuzz_fuzz_grpc_CPPFLAGS = $(CORE_CPPFLAGS)
tests_fuzz_fuzz_grpc_CFLAGS = $(CORE_CFLAGS)
tests_fuzz_fuzz_grpc_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_grpc_LDADD = core/liboutrigcore.a $(CORE_LIBS)

# Plugin code is compiled into its target: the plugins' own files, built as the plugin builds them.
tests_fuzz_fuzz_cron_SOURCES = tests/fuzz/fuzz_cron.c plugins/bindings_cron/cron_schedule.c
tests_fuzz_fuzz_cron_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/bindings_cron
tests_fuzz_fuzz_cron_CFLAGS = $(AM_CFLAGS)
tests_fuzz_fuzz_cron_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_secret_flatten_SOURCES = tests/fuzz/fuzz_secret_flatten.c \
	plugins/secretstores_local_file/secret_flatten.c
tests_fuzz_fuzz_secret_flatten_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/secretstores_local_file
tests_fuzz_fuzz_secret_flatten_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_secret_flatten_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_secret_flatten_LDADD = $(JANSSON_LIBS)

EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/README.md tests/fuzz/corpus

fuzz:
	FUZZ_SRCDIR='$(abs_top_srcdir)' FUZZ_BUILDDIR='$(abs_top_builddir)' MAKE='$(MAKE)' \
		$(SHELL) '$(abs_top_srcdir)/tests/fuzz/run.sh'
.PHONY: fuzz
