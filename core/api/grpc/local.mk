# SPDX-License-Identifier: Apache-2.0
# The gRPC API: the HTTP/2 server (nghttp2) and the handlers of Dapr's gRPC methods (messages: core/proto).
GRPC_CORE_SOURCES = \
	core/api/grpc/api_invoke.c core/api/grpc/api_invoke.h \
	core/api/grpc/grpc_trace.c core/api/grpc/grpc_trace.h \
	core/api/grpc/api_bindings.c core/api/grpc/api_bindings.h \
	core/api/grpc/api_meta.c core/api/grpc/api_meta.h \
	core/api/grpc/api_secrets.c core/api/grpc/api_secrets.h \
	core/api/grpc/grpc_errors.c core/api/grpc/grpc_errors.h \
	core/api/grpc/api_pubsub.c core/api/grpc/api_pubsub.h \
	core/api/grpc/api_state.c core/api/grpc/api_state.h \
	core/api/grpc/grpc_call.c core/api/grpc/grpc_call.h \
	core/api/grpc/grpc_api_lists.c core/api/grpc/grpc_api_lists.h \
	core/api/grpc/grpc_nul.c core/api/grpc/grpc_nul.h \
	core/api/grpc/grpc_unpack.c core/api/grpc/grpc_unpack.h \
	core/api/grpc/grpc_call_internal.h \
	core/api/grpc/grpc_conn.c core/api/grpc/grpc_conn.h \
	core/api/grpc/grpc_health.c core/api/grpc/grpc_health.h \
	core/api/grpc/grpc_map.c core/api/grpc/grpc_map.h \
	core/api/grpc/grpc_methods.c \
	core/api/grpc/grpc_proxy.c core/api/grpc/grpc_proxy.h \
	core/api/grpc/grpc_server.c core/api/grpc/grpc_server.h \
	core/api/grpc/grpc_status.c core/api/grpc/grpc_status.h \
	core/api/grpc/grpc_timeout.c core/api/grpc/grpc_timeout.h

