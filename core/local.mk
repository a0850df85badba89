# SPDX-License-Identifier: Apache-2.0
# outrigd, the sidecar, and the modules it is made of (a convenience library, so unit tests link them).
CORE_CPPFLAGS = $(AM_CPPFLAGS) -D_GNU_SOURCE -I$(top_srcdir)/core -I$(top_builddir)/core \
	-DOUTRIG_PLUGINDIR='"$(plugindir)"' $(GRPC_CPPFLAGS)
CORE_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(PTHREAD_CFLAGS) \
	$(NGHTTP2_CFLAGS) $(PROTOBUF_C_CFLAGS)
CORE_LIBS = $(LIBEVENT_LIBS) $(JANSSON_LIBS) $(YAML_LIBS) $(PTHREAD_LIBS) $(NGHTTP2_LIBS) $(PROTOBUF_C_LIBS) $(LIBS)

noinst_LIBRARIES = core/liboutrigcore.a
core_liboutrigcore_a_CPPFLAGS = $(CORE_CPPFLAGS)
core_liboutrigcore_a_CFLAGS = $(CORE_CFLAGS)
core_liboutrigcore_a_SOURCES = \
	core/api.h \
	core/api_meta.c \
	core/api_bindings.c \
	core/api_invoke.c \
	core/api_pubsub.c \
	core/api_secrets.c \
	core/api_state.c \
	core/app_channel.c core/app_channel.h \
	core/app_health.c core/app_health.h \
	core/binding_delivery.c core/binding_delivery.h \
	core/binding_runtime.c core/binding_runtime.h \
	core/bindings_body.c core/bindings_body.h \
	core/cloudevent.c core/cloudevent.h \
	core/component.c core/component.h \
	core/configuration.c core/configuration.h \
	core/configuration_policy.c core/configuration_policy.h \
	core/config_map.c core/config_map.h \
	core/data_dir.c core/data_dir.h \
	core/diag.c core/diag.h \
	core/duration.c core/duration.h \
	core/embedded.c core/embedded.h \
	core/handoff.c core/handoff.h \
	core/host.c core/host.h \
	core/http_call.c core/http_call.h \
	core/http_errors.c core/http_errors.h \
	core/http_guard.c core/http_guard.h \
	core/http_listener.c core/http_listener.h \
	core/internal_server.c core/internal_server.h \
	core/invoke_request.c core/invoke_request.h \
	core/kv.c core/kv.h \
	core/kv_sink.c core/kv_sink.h \
	core/loader.c core/loader.h \
	core/log.c core/log.h \
	core/nameres.c core/nameres.h \
	core/options.c core/options.h \
	core/peer_channels.c core/peer_channels.h \
	core/pubsub_delivery.c core/pubsub_delivery.h \
	core/pubsub_publish.c core/pubsub_publish.h \
	core/pubsub_runtime.c core/pubsub_runtime.h \
	core/pubsub_scopes.c core/pubsub_scopes.h \
	core/resiliency.c core/resiliency.h \
	core/resources.c core/resources.h \
	core/resources_yaml.c core/resources_yaml.h \
	core/resources_yaml_limits.c core/resources_yaml_limits.h \
	core/rules.c core/rules.h core/rules_internal.h \
	core/rules_eval.c core/rules_lex.c core/rules_parse.c \
	core/secret_refs.c core/secret_refs.h \
	core/server.c core/server.h \
	core/state_keys.c core/state_keys.h \
	core/state_request.c core/state_request.h \
	core/state_json_text.c core/state_json_text.h \
	core/subscriptions.c core/subscriptions.h \
	core/subscriptions_yaml.c \
	core/workers.c core/workers.h \
	$(GRPC_CORE_SOURCES)
nodist_core_liboutrigcore_a_SOURCES = $(GRPC_PB_SOURCES)

bin_PROGRAMS += core/outrigd
core_outrigd_CPPFLAGS = $(CORE_CPPFLAGS)
core_outrigd_CFLAGS = $(CORE_CFLAGS)
core_outrigd_SOURCES = core/main.c
nodist_core_outrigd_SOURCES = core/build_info.h
core_outrigd_LDADD = core/liboutrigcore.a $(CORE_LIBS)

# The commit outrigd --version prints: git's, or the one a release tarball recorded.
BUILT_SOURCES = core/build_info.h
CLEANFILES += core/build_info.h
core/build_info.h: FORCE
	@$(MKDIR_P) core; \
	commit=`git -C $(top_srcdir) rev-parse --short HEAD 2>/dev/null || cat $(top_srcdir)/.tarball-commit 2>/dev/null || echo unknown`; \
	echo "#define OUTRIG_COMMIT \"$$commit\"" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(core_outrigd_OBJECTS): core/build_info.h
FORCE:
.PHONY: FORCE

dist-hook:
	git -C $(top_srcdir) rev-parse --short HEAD > $(distdir)/.tarball-commit 2>/dev/null || echo unknown > $(distdir)/.tarball-commit

include core/cli/local.mk
include core/api/grpc/local.mk
