# SPDX-License-Identifier: Apache-2.0
# outrig's own .proto files, compiled by protoc-c at build time (never committed): the wire format
# that the gRPC API (core/api/grpc) and the gRPC app channel (core/channels/app_grpc*) both speak.
GRPC_PROTO_DIR = core/proto
GRPC_PROTOS = \
	$(GRPC_PROTO_DIR)/google/protobuf/any.proto \
	$(GRPC_PROTO_DIR)/google/protobuf/empty.proto \
	$(GRPC_PROTO_DIR)/google/protobuf/struct.proto \
	$(GRPC_PROTO_DIR)/google/rpc/status.proto \
	$(GRPC_PROTO_DIR)/google/rpc/error_details.proto \
	$(GRPC_PROTO_DIR)/grpc/health/v1/health.proto \
	$(GRPC_PROTO_DIR)/dapr/proto/common/v1/common.proto \
	$(GRPC_PROTO_DIR)/dapr/proto/runtime/v1/dapr.proto \
	$(GRPC_PROTO_DIR)/dapr/proto/runtime/v1/appcallback.proto
GRPC_PB_C = $(GRPC_PROTOS:.proto=.pb-c.c)
GRPC_PB_H = $(GRPC_PROTOS:.proto=.pb-c.h)
GRPC_PB_SOURCES = $(GRPC_PB_C) $(GRPC_PB_H)
# Generated headers are included as "dapr/proto/.../x.pb-c.h", from the build tree.
GRPC_CPPFLAGS = -I$(top_builddir)/$(GRPC_PROTO_DIR)

EXTRA_DIST += $(GRPC_PROTOS)
BUILT_SOURCES += $(GRPC_PB_SOURCES)
CLEANFILES += $(GRPC_PB_SOURCES) $(GRPC_PROTO_DIR)/protoc-c.stamp

# One protoc-c run makes every file; the stamp keeps make from running it once per output.
$(GRPC_PROTO_DIR)/protoc-c.stamp: $(GRPC_PROTOS)
	$(AM_V_GEN)$(MKDIR_P) $(GRPC_PROTO_DIR) && \
	$(PROTOC_C) -I$(srcdir)/$(GRPC_PROTO_DIR) --c_out=$(GRPC_PROTO_DIR) \
		$(GRPC_PROTOS:$(GRPC_PROTO_DIR)/%=$(srcdir)/$(GRPC_PROTO_DIR)/%) && touch $@
$(GRPC_PB_SOURCES): $(GRPC_PROTO_DIR)/protoc-c.stamp
	@:
