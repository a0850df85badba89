/* SPDX-License-Identifier: Apache-2.0 */
/* The output bindings building block (API.md §4.1): rules on the loop, the component's invoke on a worker. */
#include "config.h"

#include "blocks/bindings/bindings.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "base/kv_sink.h"
#include "blocks/bindings/binding_runtime.h"
#include "components/component.h"
#include "components/component_call.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "runtime.h"

/* Trace context daprd copies from the request into the binding's metadata. */
static const char *const bindings_trace_headers[] = { "traceparent", "tracestate", "baggage", NULL };

/* One invocation in flight. */
struct bindings_op {
	struct work work;
	struct component *comp;
	const struct outrig_binding_ops *ops;
	char *operation;
	void *data;
	size_t len;
	struct kv_list metadata;
	struct outrig_kv_sink resp_metadata;
	struct outrig_bytes resp_data;
	int rc;
	struct outrig_error err;
	bindings_done_fn done;
	void *arg;
	double started_ms; /* metrics_now_ms() at submission */
};

static void bindings_op_free(struct bindings_op *op)
{
	free(op->operation);
	free(op->data);
	kv_free(&op->metadata);
	json_decref(op->resp_metadata.root);
	free(op->resp_data.data);
	free(op);
}

/* Finishes with err and no data; metadata may be NULL (none). */
static void bindings_finish_error(bindings_done_fn done, void *arg, const struct block_error *err,
				  json_t *metadata)
{
	json_t *none = metadata == NULL ? json_object() : NULL;
	struct bindings_result res = { .metadata = metadata != NULL ? metadata : none };

	done(arg, err, &res);
	json_decref(none);
}

/* The output binding called name, or NULL with daprd's error in err. */
static struct component *bindings_output(struct server *srv, const char *name, struct block_error *err)
{
	const struct outrig_binding_sink *b = binding_runtime_find(&srv->bindings, name);
	const struct outrig_binding_ops *ops;

	if (b == NULL) {
		block_fail(
			err, API_ERR_INVOKE_OUTPUT_BINDING, NULL,
			"error invoking output binding %s: couldn't find output binding %s; add a component of a bindings.* type named %s to a --resources-path folder",
			name, name, name);
		return NULL;
	}
	ops = b->component->plugin->desc.bindings;
	if (b->component->failure != NULL) {
		block_fail(
			err, API_ERR_INVOKE_OUTPUT_BINDING, NULL,
			"error invoking output binding %s: it failed to initialise (ignoreErrors kept outrigd up): %s",
			name, b->component->failure);
		return NULL;
	}
	if (ops == NULL ||
	    ops->struct_size < offsetof(struct outrig_binding_ops, invoke) + sizeof(ops->invoke) ||
	    ops->invoke == NULL) {
		block_fail(
			err, API_ERR_INVOKE_OUTPUT_BINDING, NULL,
			"error invoking output binding %s: couldn't find output binding %s: %s is input only",
			name, name, b->component->type);
		return NULL;
	}
	if (!b->output_ok) {
		block_fail(
			err, API_ERR_INVOKE_OUTPUT_BINDING, NULL,
			"error invoking output binding %s: couldn't find output binding %s: its direction metadata does not include output",
			name, name);
		return NULL;
	}
	return b->component;
}

/* Whether the plugin lists operation; if not, daprd's error in err. */
static bool bindings_operation_ok(const struct component *c, const char *operation, struct block_error *err)
{
	const char *const *ops = c->plugin->desc.bindings->operations;
	char supported[512] = "";
	size_t n = 0;

	if (*operation == '\0') {
		block_fail(err, API_ERR_INVOKE_OUTPUT_BINDING, NULL,
			   "error invoking output binding %s: operation field is missing from request",
			   c->name);
		return false;
	}
	for (const char *const *o = ops; o != NULL && *o != NULL; o++) {
		if (strcmp(*o, operation) == 0)
			return true;
		if (n < sizeof(supported))
			n += (size_t)snprintf(supported + n, sizeof(supported) - n, "%s%s", n > 0 ? " " : "",
					      *o);
	}
	block_fail(
		err, API_ERR_INVOKE_OUTPUT_BINDING, NULL,
		"error invoking output binding %s: binding %s does not support operation %s. supported operations:%s%s",
		c->name, c->name, operation, n > 0 ? " " : "", n > 0 ? supported : "none");
	return false;
}

static struct bindings_op *bindings_op_of(struct work *w)
{
	return (struct bindings_op *)((char *)w - offsetof(struct bindings_op, work));
}

static void bindings_invoke_run(struct work *w)
{
	struct bindings_op *op = bindings_op_of(w);
	struct outrig_binding_request req = {
		.operation = op->operation,
		.data = op->data,
		.data_len = op->len,
		.metadata = kv_view(&op->metadata),
	};
	struct outrig_binding_response resp = { .metadata = &op->resp_metadata };

	op->rc = op->ops->invoke(op->comp->instance, &req, &resp, &op->err);
	op->resp_data = resp.data;
}

static void bindings_invoke_done(struct work *w)
{
	struct bindings_op *op = bindings_op_of(w);
	struct block_error err;

	dm_component(DM_OUTPUT_BINDING, op->comp->name, op->operation, op->rc == 0,
		     metrics_now_ms() - op->started_ms);
	if (op->rc != 0) {
		block_fail(&err, API_ERR_INVOKE_OUTPUT_BINDING, NULL,
			   "error invoking output binding %s: %s: %s", op->comp->name,
			   outrig_status_name(op->rc),
			   op->err.message[0] ? op->err.message : "no reason given");
		bindings_finish_error(op->done, op->arg, &err, op->resp_metadata.root);
	} else {
		json_t *none = op->resp_metadata.root == NULL ? json_object() : NULL;
		struct bindings_result res = {
			.data = op->resp_data.data,
			.len = op->resp_data.len,
			.metadata = none != NULL ? none : op->resp_metadata.root,
		};

		op->done(op->arg, NULL, &res);
		json_decref(none);
	}
	bindings_op_free(op);
}

/* ---- under the component's Resiliency policy (component_call_run) ---- */

static int bindings_invoke_status(struct work *w)
{
	return bindings_op_of(w)->rc;
}

static void bindings_invoke_reset(struct work *w)
{
	struct bindings_op *op = bindings_op_of(w);

	op->rc = 0;
	memset(&op->err, 0, sizeof(op->err));
	json_decref(op->resp_metadata.root);
	op->resp_metadata.root = NULL;
	free(op->resp_data.data);
	memset(&op->resp_data, 0, sizeof(op->resp_data));
}

/* A worker may still hold op: only what run() never writes is read. */
static void bindings_invoke_answer(struct work *w, int status, const char *message)
{
	struct bindings_op *op = bindings_op_of(w);
	struct block_error err;

	block_fail(&err, API_ERR_INVOKE_OUTPUT_BINDING, NULL, "error invoking output binding %s: %s: %s",
		   op->comp->name, outrig_status_name(status), message);
	bindings_finish_error(op->done, op->arg, &err, NULL);
}

static void bindings_invoke_discard(struct work *w)
{
	bindings_op_free(bindings_op_of(w));
}

static const struct component_call_ops bindings_invoke_ops = {
	.status = bindings_invoke_status,
	.reset = bindings_invoke_reset,
	.answer = bindings_invoke_answer,
	.discard = bindings_invoke_discard,
};

/* Copies r's metadata, then the trace context the metadata does not set already. */
static int bindings_metadata(struct bindings_op *op, const struct bindings_request *r)
{
	if (r->metadata != NULL && kv_set_all(&op->metadata, r->metadata->items, r->metadata->count) != 0)
		return -1;
	for (const char *const *h = bindings_trace_headers; r->header != NULL && *h != NULL; h++) {
		const char *v = r->header(r->header_ctx, *h);

		if (v != NULL && kv_get(&op->metadata, *h) == NULL && kv_set(&op->metadata, *h, v) != 0)
			return -1;
	}
	return 0;
}

void bindings_invoke(struct server *srv, const struct bindings_request *r, bindings_done_fn done, void *arg)
{
	struct block_error err;
	struct component *c = bindings_output(srv, r->name, &err);
	struct bindings_op *op;

	if (c == NULL || !bindings_operation_ok(c, r->operation, &err)) {
		bindings_finish_error(done, arg, &err, NULL);
		return;
	}
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		goto oom;
	op->comp = c;
	op->ops = c->plugin->desc.bindings;
	op->done = done;
	op->arg = arg;
	op->len = r->len;
	if ((op->operation = strdup(r->operation)) == NULL || bindings_metadata(op, r) != 0)
		goto oom;
	/* NUL-terminated past len, as the JSON text it usually is, for plugins that read it as text. */
	if (r->len > 0) {
		if ((op->data = malloc(r->len + 1)) == NULL)
			goto oom;
		memcpy(op->data, r->data, r->len);
		((char *)op->data)[r->len] = '\0';
	}
	op->work.run = bindings_invoke_run;
	op->work.done = bindings_invoke_done;
	op->started_ms = metrics_start_ms();
	component_call_run(srv, c, &op->work, &bindings_invoke_ops);
	return;
oom:
	if (op != NULL)
		bindings_op_free(op);
	block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
	bindings_finish_error(done, arg, &err, NULL);
}
