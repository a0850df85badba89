/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's output binding API (API.md §4.1): parse on the loop, invoke the binding on a worker, reply on the loop. */
#include "config.h"

#include "api/http/api.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "blocks/bindings/binding_runtime.h"
#include "blocks/bindings/bindings_body.h"
#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "base/kv.h"
#include "base/kv_sink.h"
#include "runtime.h"

/* Trace context daprd copies from the request's headers into the binding's metadata. */
static const char *const bindings_trace_headers[] = { "traceparent", "tracestate", "baggage", NULL };

/* One output binding call in flight. */
struct bindings_call {
	struct http_call base;
	struct component *comp;
	const struct outrig_binding_ops *ops;
	char *operation;
	char *data;
	size_t data_len;
	struct kv_list metadata;
	struct outrig_kv_sink resp_metadata;
	struct outrig_bytes resp_data;
	int rc;
	struct outrig_error err;
};

static void bindings_call_release(struct http_call *base)
{
	struct bindings_call *call = (struct bindings_call *)base;

	free(call->operation);
	free(call->data);
	kv_free(&call->metadata);
	json_decref(call->resp_metadata.root);
	free(call->resp_data.data);
	free(call);
}

/* ---- POST|PUT /v1.0/bindings/{name} ---- */

static void bindings_invoke_run(struct work *w)
{
	struct bindings_call *call = (struct bindings_call *)w;
	struct outrig_binding_request req = {
		.operation = call->operation,
		.data = call->data,
		.data_len = call->data_len,
		.metadata = kv_view(&call->metadata),
	};
	struct outrig_binding_response resp = { .metadata = &call->resp_metadata };

	call->rc = call->ops->invoke(call->comp->instance, &req, &resp, &call->err);
	call->resp_data = resp.data;
}

/* Response metadata goes back as metadata.<key> headers, whether the call worked or not. */
static void bindings_add_metadata_headers(struct bindings_call *call)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(call->base.req);
	const char *key;
	json_t *value;
	char name[512];

	json_object_foreach(call->resp_metadata.root, key, value)
	{
		if (!json_is_string(value))
			continue;
		snprintf(name, sizeof(name), "metadata.%s", key);
		/* evhttp refuses names and values it cannot send (line breaks): those are left out. */
		evhttp_add_header(headers, name, json_string_value(value));
	}
}

static void bindings_invoke_reply(struct http_call *base)
{
	struct bindings_call *call = (struct bindings_call *)base;

	bindings_add_metadata_headers(call);
	if (call->rc != 0) {
		api_error_reply(base->req, API_ERR_INVOKE_OUTPUT_BINDING, 0, NULL,
				"error invoking output binding %s: %s: %s", call->comp->name,
				outrig_status_name(call->rc),
				call->err.message[0] ? call->err.message : "no reason given");
		return;
	}
	if (call->resp_data.len == 0)
		http_reply_empty(base->req);
	else
		http_reply_bytes(base->req, 200, "application/json", call->resp_data.data,
				 call->resp_data.len);
}

/* The output binding of that name, or NULL after replying with daprd's error. */
static struct component *bindings_output(struct server *srv, struct evhttp_request *req, const char *name)
{
	const struct outrig_binding_sink *b = binding_runtime_find(&srv->bindings, name);
	const struct outrig_binding_ops *ops;

	if (b == NULL) {
		api_error_reply(
			req, API_ERR_INVOKE_OUTPUT_BINDING, 0, NULL,
			"error invoking output binding %s: couldn't find output binding %s; add a component of a bindings.* type named %s to a --resources-path folder",
			name, name, name);
		return NULL;
	}
	ops = b->component->plugin->desc.bindings;
	if (b->component->failure != NULL) {
		api_error_reply(
			req, API_ERR_INVOKE_OUTPUT_BINDING, 0, NULL,
			"error invoking output binding %s: it failed to initialise (ignoreErrors kept outrigd up): %s",
			name, b->component->failure);
		return NULL;
	}
	if (ops == NULL ||
	    ops->struct_size < offsetof(struct outrig_binding_ops, invoke) + sizeof(ops->invoke) ||
	    ops->invoke == NULL) {
		api_error_reply(
			req, API_ERR_INVOKE_OUTPUT_BINDING, 0, NULL,
			"error invoking output binding %s: couldn't find output binding %s: %s is input only",
			name, name, b->component->type);
		return NULL;
	}
	if (!b->output_ok) {
		api_error_reply(
			req, API_ERR_INVOKE_OUTPUT_BINDING, 0, NULL,
			"error invoking output binding %s: couldn't find output binding %s: its direction metadata does not include output",
			name, name);
		return NULL;
	}
	return b->component;
}

/* Checks operation against the plugin's list; replies with daprd's error and returns false if not there. */
static bool bindings_operation_ok(struct evhttp_request *req, const struct component *c,
				  const char *operation)
{
	const char *const *ops = c->plugin->desc.bindings->operations;
	char supported[512] = "";
	size_t n = 0;

	if (*operation == '\0') {
		api_error_reply(req, API_ERR_INVOKE_OUTPUT_BINDING, 0, NULL,
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
	api_error_reply(
		req, API_ERR_INVOKE_OUTPUT_BINDING, 0, NULL,
		"error invoking output binding %s: binding %s does not support operation %s. supported operations:%s%s",
		c->name, c->name, operation, n > 0 ? " " : "", n > 0 ? supported : "none");
	return false;
}

void api_bindings_invoke(struct server *srv, struct evhttp_request *req, const char *name)
{
	struct evkeyvalq *in_headers = evhttp_request_get_input_headers(req);
	struct bindings_call *call = NULL;
	struct component *c;
	json_error_t jerr;
	json_t *root;
	const char *body, *operation;
	size_t len;
	char why[300];

	body = http_body(req, &len);
	root = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
	if (!json_is_object(root)) {
		api_error_reply(
			req, API_ERR_MALFORMED_REQUEST, 0, NULL,
			"failed deserializing HTTP body: %s; send {\"data\": ..., \"metadata\": {...}, \"operation\": \"create\"}",
			root == NULL ? jerr.text : "the body is not a JSON object");
		json_decref(root);
		return;
	}
	if (json_object_get(root, "operation") != NULL &&
	    !json_is_string(json_object_get(root, "operation")) &&
	    !json_is_null(json_object_get(root, "operation"))) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, "operation",
				"failed deserializing HTTP body: operation must be a string");
		json_decref(root);
		return;
	}
	operation = json_string_value(json_object_get(root, "operation"));
	if (operation == NULL)
		operation = "";
	/* Cut at a NUL, "create\u0000x" would pass the check of the operations allowed as "create". */
	if (strlen(operation) != json_string_length(json_object_get(root, "operation"))) {
		api_error_reply(
			req, API_ERR_MALFORMED_REQUEST, 0, "operation",
			"failed deserializing HTTP body: operation holds a NUL byte (\\u0000); remove it");
		json_decref(root);
		return;
	}
	if ((c = bindings_output(srv, req, name)) == NULL || !bindings_operation_ok(req, c, operation)) {
		json_decref(root);
		return;
	}
	call = calloc(1, sizeof(*call));
	if (call == NULL)
		goto oom;
	call->base.req = req;
	call->comp = c;
	call->ops = c->plugin->desc.bindings;
	if (kv_add_json(&call->metadata, json_object_get(root, "metadata"), true, why, sizeof(why)) != 0) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, "metadata",
				"failed deserializing HTTP body: %s", why);
		bindings_call_release(&call->base);
		json_decref(root);
		return;
	}
	for (const char *const *h = bindings_trace_headers; *h != NULL; h++) {
		const char *v = evhttp_find_header(in_headers, *h);

		if (v != NULL && kv_get(&call->metadata, *h) == NULL && kv_set(&call->metadata, *h, v) != 0)
			goto oom;
	}
	if ((call->operation = strdup(operation)) == NULL)
		goto oom;
	if (bindings_body_data(body, len, json_object_get(root, "data"), &call->data, &call->data_len) != 0) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST_DATA, 0, NULL,
				"can't serialize request data field: out of memory");
		bindings_call_release(&call->base);
		json_decref(root);
		return;
	}
	json_decref(root);
	call->base.work.run = bindings_invoke_run;
	call->base.reply = bindings_invoke_reply;
	call->base.release = bindings_call_release;
	http_call_submit(srv, &call->base, component_lane(c));
	return;
oom:
	if (call != NULL)
		bindings_call_release(&call->base);
	json_decref(root);
	api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
}
