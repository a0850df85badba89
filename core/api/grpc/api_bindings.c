/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's InvokeBinding over gRPC: the protobuf request in, the bindings block's answer out. */
#include "config.h"

#include "api/grpc/api_bindings.h"

#include <stdlib.h>

#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_unpack.h"
#include "api/grpc/grpc_map.h"
#include "api/grpc/grpc_errors.h"
#include "base/kv.h"
#include "blocks/bindings/bindings.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"

static void grpc_bindings_done(void *arg, const struct block_error *err, const struct bindings_result *res)
{
	struct grpc_call *call = arg;
	Dapr__Proto__Runtime__V1__InvokeBindingResponse resp =
		DAPR__PROTO__RUNTIME__V1__INVOKE_BINDING_RESPONSE__INIT;
	Dapr__Proto__Runtime__V1__InvokeBindingResponse__MetadataEntry *entries = NULL, **ptrs = NULL;
	size_t n = json_object_size(res->metadata), i = 0;
	const char *key;
	json_t *value;

	if (err != NULL) {
		grpc_call_fail_block(call, err);
		return;
	}
	if (n > 0 &&
	    ((entries = calloc(n, sizeof(*entries))) == NULL || (ptrs = calloc(n, sizeof(*ptrs))) == NULL)) {
		free(entries);
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
		return;
	}
	json_object_foreach(res->metadata, key, value)
	{
		if (!json_is_string(value))
			continue;
		dapr__proto__runtime__v1__invoke_binding_response__metadata_entry__init(&entries[i]);
		entries[i].key = (char *)key;
		entries[i].value = (char *)json_string_value(value);
		ptrs[i] = &entries[i];
		i++;
	}
	resp.n_metadata = i;
	resp.metadata = ptrs;
	resp.data.data = (uint8_t *)res->data;
	resp.data.len = res->len;
	grpc_call_reply(call, &resp.base);
	free(ptrs);
	free(entries);
}

/* The caller's gRPC metadata, for the trace context daprd copies into the binding's metadata. */
static const char *grpc_bindings_header(void *ctx, const char *name)
{
	return grpc_call_metadata(ctx, name);
}

static void grpc_invoke_binding(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__InvokeBindingRequest *req = grpc_call_unpack(
		call, &dapr__proto__runtime__v1__invoke_binding_request__descriptor, msg, len);
	struct kv_list metadata = { 0 };
	struct bindings_request r = { .header = grpc_bindings_header, .header_ctx = call };

	if (req == NULL)
		return;
	if (GRPC_MAP_TO_KV(&metadata, req->n_metadata, req->metadata) != 0) {
		kv_free(&metadata);
		dapr__proto__runtime__v1__invoke_binding_request__free_unpacked(req, NULL);
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
		return;
	}
	r.name = req->name;
	r.operation = req->operation;
	r.data = req->data.data;
	r.len = req->data.len;
	r.metadata = &metadata;
	/* The block copies what it keeps: the request can go once it returns. */
	bindings_invoke(grpc_call_server(call), &r, grpc_bindings_done, call);
	kv_free(&metadata);
	dapr__proto__runtime__v1__invoke_binding_request__free_unpacked(req, NULL);
}

void api_bindings_grpc_register(void)
{
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/InvokeBinding", grpc_invoke_binding);
}
