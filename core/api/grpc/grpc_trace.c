/* SPDX-License-Identifier: Apache-2.0 */
/* Spans of gRPC API calls, and trace context in metadata (traceparent, tracestate, grpc-trace-bin). */
#include "config.h"

#include "api/grpc/grpc_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_call_internal.h"
#include "api/grpc/grpc_status.h"
#include "base/kv.h"
#include "observe/trace.h"

/* OpenCensus' binary format, which daprd reads and writes as grpc-trace-bin: 29 bytes. */
#define TRACE_BIN_LEN 29

static bool grpc_trace_from_bin(const char *b64, struct trace_ctx *out)
{
	unsigned char bin[64];
	long n;

	if (b64 == NULL || strlen(b64) > 60)
		return false;
	n = grpc_unbase64(b64, bin, sizeof(bin));
	if (n < TRACE_BIN_LEN || bin[0] != 0 || bin[1] != 0 || bin[18] != 1 || bin[27] != 2)
		return false;
	memcpy(out->trace_id, bin + 2, 16);
	memcpy(out->span_id, bin + 19, 8);
	out->flags = bin[28] & 1;
	for (int i = 0; i < 16; i++)
		if (out->trace_id[i] != 0)
			for (int j = 0; j < 8; j++)
				if (out->span_id[j] != 0)
					return true;
	return false;
}

static char *grpc_trace_to_bin(const struct trace_ctx *ctx)
{
	unsigned char bin[TRACE_BIN_LEN] = { 0, 0 };

	memcpy(bin + 2, ctx->trace_id, 16);
	bin[18] = 1;
	memcpy(bin + 19, ctx->span_id, 8);
	bin[27] = 2;
	bin[28] = ctx->flags & 1;
	return grpc_base64(bin, sizeof(bin));
}

/* Sets metadata name to value, replacing the first entry of that name or adding one. */
static void grpc_trace_set_md(struct grpc_call *call, const char *name, const char *value)
{
	struct grpc_md *grown;
	char *v = strdup(value), *k;

	if (v == NULL)
		return;
	for (size_t i = 0; i < call->n_md; i++)
		if (strcmp(call->md[i].name, name) == 0) {
			free(call->md[i].value);
			call->md[i].value = v;
			return;
		}
	k = strdup(name);
	grown = k != NULL ? realloc(call->md, (call->n_md + 1) * sizeof(*grown)) : NULL;
	if (grown == NULL) {
		free(k);
		free(v);
		return;
	}
	call->md = grown;
	call->md[call->n_md].name = k;
	call->md[call->n_md].value = v;
	call->n_md++;
}

static void grpc_trace_drop_md(struct grpc_call *call, const char *name)
{
	for (size_t i = 0; i < call->n_md;)
		if (strcmp(call->md[i].name, name) == 0) {
			free(call->md[i].name);
			free(call->md[i].value);
			memmove(&call->md[i], &call->md[i + 1], (call->n_md - i - 1) * sizeof(call->md[0]));
			call->n_md--;
		} else {
			i++;
		}
}

void grpc_trace_begin(struct grpc_call *call)
{
	const char *path = call->path != NULL ? call->path : "";
	struct trace_ctx parent, child;
	bool has_parent;
	char tp[TRACE_PARENT_LEN], *bin;
	const char *state;

	if (!trace_enabled() || call->span != NULL || strncmp(path, "/grpc.health.", 13) == 0)
		return;
	has_parent = trace_parse(grpc_call_metadata(call, "traceparent"), &parent) ||
		     grpc_trace_from_bin(grpc_call_metadata(call, "grpc-trace-bin"), &parent);
	call->span = trace_begin(has_parent ? &parent : NULL, path, TRACE_KIND_SERVER, &child);
	call->traced = true;
	trace_format(&child, tp);
	grpc_trace_set_md(call, "traceparent", tp);
	state = grpc_call_metadata(call, "tracestate");
	if (state != NULL && (!has_parent || !trace_state_ok(state)))
		grpc_trace_drop_md(call, "tracestate");
	bin = grpc_trace_to_bin(&child);
	if (bin != NULL) {
		grpc_trace_set_md(call, "grpc-trace-bin", bin);
		kv_add(&call->reply_headers, "grpc-trace-bin", bin);
		free(bin);
	}
	kv_add(&call->reply_headers, "traceparent", tp);
	if (call->span != NULL) {
		const char *method = strrchr(path, '/');
		bool invoke = strstr(path, "InvokeService") != NULL || call->proxy != NULL;

		trace_attr(call->span, "rpc.service", invoke ? "ServiceInvocation" : "Dapr");
		trace_attr(call->span, "dapr.api", path);
		trace_attr(call->span, "dapr.protocol", "grpc");
		if (method != NULL && call->proxy != NULL)
			trace_attr(call->span, "dapr.invoke_method", method + 1);
	}
}

void grpc_trace_invoke(struct grpc_call *call, const char *app_id, const char *method)
{
	char name[256];

	if (call->span == NULL)
		return;
	snprintf(name, sizeof(name), "CallLocal/%s/%s", app_id != NULL ? app_id : "", method != NULL ? method : "");
	trace_rename(call->span, name);
	trace_attr(call->span, "net.peer.name", app_id != NULL ? app_id : "");
}

void grpc_trace_set_current(const struct grpc_call *call)
{
	struct trace_ctx ctx;

	if (call == NULL || call->span == NULL) {
		trace_set_current(NULL);
		return;
	}
	/* The span's own context: what trace_format put in the call's metadata. */
	if (trace_parse(grpc_call_metadata(call, "traceparent"), &ctx))
		trace_set_current(&ctx);
}

void grpc_trace_end(struct grpc_call *call)
{
	char code[16];

	if (call->span == NULL)
		return;
	snprintf(code, sizeof(code), "%d", call->status);
	trace_attr(call->span, "dapr.status_code", code);
	trace_attr(call->span, "rpc.grpc.status_code", code);
	trace_end(call->span, call->status != 0);
	call->span = NULL;
}
