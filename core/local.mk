# SPDX-License-Identifier: Apache-2.0
# outrigd, the sidecar, and the modules it is made of (a convenience library, so unit tests link them).
CORE_CPPFLAGS = $(AM_CPPFLAGS) -D_GNU_SOURCE -I$(top_srcdir)/core -I$(top_builddir)/core \
	-DOUTRIG_PLUGINDIR='"$(plugindir)"' $(GRPC_CPPFLAGS)
CORE_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(PTHREAD_CFLAGS) \
	$(NGHTTP2_CFLAGS) $(PROTOBUF_C_CFLAGS)
CORE_LIBS = $(OPENSSL_LIBS) $(LIBEVENT_LIBS) $(JANSSON_LIBS) $(YAML_LIBS) $(PTHREAD_LIBS) $(NGHTTP2_LIBS) $(PROTOBUF_C_LIBS) $(LIBS) -lm

noinst_LIBRARIES = core/liboutrigcore.a
core_liboutrigcore_a_CPPFLAGS = $(CORE_CPPFLAGS)
core_liboutrigcore_a_CFLAGS = $(CORE_CFLAGS)
core_liboutrigcore_a_SOURCES = \
	core/api/http/api.h \
	core/api/http/api_meta.c \
	core/api/http/api_bindings.c \
	core/api/http/api_invoke.c \
	core/api/http/api_pubsub.c \
	core/api/http/api_secrets.c \
	core/api/http/api_state.c \
	core/api/http/api_state_body.c core/api/http/api_state_body.h \
	core/channels/app_call.c core/channels/app_call.h \
	core/channels/app_call_grpc.c core/channels/app_call_grpc.h \
	core/channels/app_channel.c core/channels/app_channel.h \
	core/channels/http_method.c core/channels/http_method.h \
	core/channels/app_pubsub.c core/channels/app_pubsub.h \
	core/channels/app_pubsub_grpc.c core/channels/app_pubsub_grpc.h \
	core/channels/app_health.c core/channels/app_health.h \
	core/channels/app_bindings.c core/channels/app_bindings.h \
	core/channels/app_bindings_grpc.c core/channels/app_bindings_grpc.h \
	core/channels/grpc_client.c core/channels/grpc_client.h \
	core/channels/grpc_client_answer.c core/channels/grpc_client_internal.h \
	core/channels/grpc_wire.c core/channels/grpc_wire.h \
	core/channels/h2_upstream.c core/channels/h2_upstream.h \
	core/security/app_tls.c core/security/app_tls.h \
	core/channels/app_grpc.c core/channels/app_grpc.h \
	core/channels/app_grpc_http.c core/channels/app_grpc_http.h \
	core/channels/app_grpc_pb.c core/channels/app_grpc_pb.h \
	core/blocks/bindings/binding_delivery.c core/blocks/bindings/binding_delivery.h \
	core/blocks/bindings/binding_runtime.c core/blocks/bindings/binding_runtime.h \
	core/blocks/bindings/bindings.c core/blocks/bindings/bindings.h \
	core/api/http/bindings_body.c core/api/http/bindings_body.h \
	core/blocks/pubsub/cloudevent.c core/blocks/pubsub/cloudevent.h \
	core/blocks/pubsub/grpc_envelope.c core/blocks/pubsub/grpc_envelope.h \
	core/blocks/pubsub/grpc_subscriptions.c core/blocks/pubsub/grpc_subscriptions.h \
	core/components/component.c core/components/component.h \
	core/components/component_call.c core/components/component_call.h \
	core/resources/configuration.c core/resources/configuration.h \
	core/resources/configuration_policy.c core/resources/configuration_policy.h \
	core/resources/configuration_tracing.c core/resources/configuration_tracing.h \
	core/observe/trace.c core/observe/trace.h core/observe/trace_internal.h \
	core/observe/trace_export.c \
	core/security/peer_identity.h \
	core/security/access_control.c core/security/access_control.h \
	core/security/api_lists.c core/security/api_lists.h \
	core/security/mtls.c core/security/mtls.h \
	core/security/tls_bev.c core/security/tls_bev.h \
	core/security/spiffe.c core/security/spiffe.h \
	core/resources/configuration_mtls.c core/resources/configuration_mtls.h \
	core/api/http/http_trace.c core/api/http/http_trace.h \
	core/resources/configuration_observe.c core/resources/configuration_observe.h \
	core/observe/metrics.c core/observe/metrics.h \
	core/observe/dapr_metrics.c core/observe/dapr_metrics.h \
	core/observe/api_log.c core/observe/api_log.h \
	core/api/http/metrics_endpoint.c core/api/http/metrics_endpoint.h \
	core/components/config_map.c core/components/config_map.h \
	core/base/data_dir.c core/base/data_dir.h \
	core/base/diag.c core/base/diag.h \
	core/base/duration.c core/base/duration.h \
	core/base/hex.h \
	core/components/embedded.c core/components/embedded.h \
	core/base/handoff.c core/base/handoff.h \
	core/components/host.c core/components/host.h \
	core/api/http/http_call.c core/api/http/http_call.h \
	core/api/http/http_query.c core/api/http/http_query.h \
	core/api/http/http_errors.c core/api/http/http_errors.h \
	core/api/http/http_wait.c core/api/http/http_wait.h \
	core/blocks/errors.c core/blocks/errors.h \
	core/blocks/metadata/metadata.c core/blocks/metadata/metadata.h \
	core/blocks/secrets/secrets.c core/blocks/secrets/secrets.h \
	core/api/http/http_guard.c core/api/http/http_guard.h \
	core/api/http/http_invoke.c core/api/http/http_invoke.h \
	core/api/http/http_listener.c core/api/http/http_listener.h \
	core/api/internal/internal_server.c core/api/internal/internal_server.h \
	core/blocks/invoke/invoke.c core/blocks/invoke/invoke.h \
	core/blocks/invoke/invoke_request.c core/blocks/invoke/invoke_request.h \
	core/base/kv.c core/base/kv.h \
	core/base/kv_sink.c core/base/kv_sink.h \
	core/components/loader.c core/components/loader.h \
	core/base/log.c core/base/log.h \
	core/base/net_addr.c core/base/net_addr.h \
	core/base/sd_notify.c core/base/sd_notify.h \
	core/blocks/invoke/nameres.c core/blocks/invoke/nameres.h \
	core/options.c core/options.h \
	core/channels/peer_call.c core/channels/peer_call.h \
	core/channels/peer_channels.c core/channels/peer_channels.h \
	core/blocks/pubsub/pubsub_delivery.c core/blocks/pubsub/pubsub_delivery.h \
	core/blocks/pubsub/pubsub.c core/blocks/pubsub/pubsub.h \
	core/blocks/pubsub/pubsub_entry.c core/blocks/pubsub/pubsub_entry.h \
	core/blocks/pubsub/pubsub_publish.c core/blocks/pubsub/pubsub_publish.h \
	core/blocks/pubsub/pubsub_runtime.c core/blocks/pubsub/pubsub_runtime.h \
	core/blocks/pubsub/pubsub_scopes.c core/blocks/pubsub/pubsub_scopes.h \
	core/resources/resiliency.c core/resources/resiliency.h \
	core/resiliency/trip.c core/resiliency/trip.h \
	core/resiliency/breaker.c core/resiliency/breaker.h \
	core/resiliency/resil.c core/resiliency/resil.h \
	core/blocks/invoke/invoke_policy.c \
	core/resources/resources.c core/resources/resources.h \
	core/resources/resources_yaml.c core/resources/resources_yaml.h \
	core/resources/resources_yaml_limits.c core/resources/resources_yaml_limits.h \
	core/blocks/pubsub/rules.c core/blocks/pubsub/rules.h core/blocks/pubsub/rules_internal.h \
	core/blocks/pubsub/rules_eval.c core/blocks/pubsub/rules_lex.c core/blocks/pubsub/rules_parse.c \
	core/components/reload.c core/components/reload.h \
	core/components/secret_refs.c core/components/secret_refs.h \
	core/runtime.c core/runtime.h \
	core/api/http/router.c core/api/http/router.h \
	core/blocks/state/state_keys.c core/blocks/state/state_keys.h \
	core/blocks/state/state.c core/blocks/state/state.h \
	core/blocks/state/state_item.c core/blocks/state/state_item.h \
	core/blocks/state/state_json_text.c core/blocks/state/state_json_text.h \
	core/blocks/pubsub/subscriptions.c core/blocks/pubsub/subscriptions.h \
	core/resources/subscriptions_yaml.c \
	core/base/workers.c core/base/workers.h \
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
include core/proto/local.mk
include core/api/grpc/local.mk
