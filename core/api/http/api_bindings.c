/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's output binding API over HTTP (API.md §4.1): the JSON body in, the block's answer out. */
#include "config.h"

#include "api/http/api.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "api/http/http_wait.h"
#include "base/kv.h"
#include "blocks/bindings/bindings.h"
#include "api/http/bindings_body.h"
#include "runtime.h"

/* One output binding request waiting for the block. */
struct bindings_http {
	struct http_wait wait;
};

/* Response metadata goes back as metadata.<key> headers, whether the call worked or not. */
static void bindings_add_metadata_headers(struct evhttp_request *req, json_t *metadata)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	const char *key;
	json_t *value;
	char name[512];

	json_object_foreach(metadata, key, value)
	{
		if (!json_is_string(value))
			continue;
		snprintf(name, sizeof(name), "metadata.%s", key);
		/* evhttp refuses names and values it cannot send (line breaks): those are left out. */
		evhttp_add_header(headers, name, json_string_value(value));
	}
}

static void bindings_http_done(void *arg, const struct block_error *err, const struct bindings_result *res)
{
	struct bindings_http *h = arg;
	struct evhttp_request *req = http_wait_end(&h->wait);

	free(h);
	if (req == NULL)
		return;
	bindings_add_metadata_headers(req, res->metadata);
	if (err != NULL)
		api_error_reply_block(req, err);
	else if (res->len == 0)
		http_reply_empty(req);
	else
		http_reply_bytes(req, 200, "application/json", res->data, res->len);
}

static const char *bindings_http_header(void *ctx, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(ctx), name);
}

/* ---- POST|PUT /v1.0/bindings/{name} ---- */

void api_bindings_invoke(struct server *srv, struct evhttp_request *req, const char *name)
{
	struct bindings_request r = { .name = name, .header = bindings_http_header, .header_ctx = req };
	struct kv_list metadata = { 0 };
	struct bindings_http *h;
	json_error_t jerr;
	json_t *root;
	const char *body;
	char *data = NULL;
	size_t len, data_len = 0;
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
	r.operation = json_string_value(json_object_get(root, "operation"));
	if (r.operation == NULL)
		r.operation = "";
	/* Cut at a NUL, "create\u0000x" would pass the check of the operations allowed as "create". */
	if (strlen(r.operation) != json_string_length(json_object_get(root, "operation"))) {
		api_error_reply(
			req, API_ERR_MALFORMED_REQUEST, 0, "operation",
			"failed deserializing HTTP body: operation holds a NUL byte (\\u0000); remove it");
		json_decref(root);
		return;
	}
	if (kv_add_json(&metadata, json_object_get(root, "metadata"), true, why, sizeof(why)) != 0) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, "metadata",
				"failed deserializing HTTP body: %s", why);
		goto out;
	}
	if (bindings_body_data(body, len, json_object_get(root, "data"), &data, &data_len) != 0) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST_DATA, 0, NULL,
				"can't serialize request data field: out of memory");
		goto out;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		goto out;
	}
	r.data = data;
	r.len = data_len;
	r.metadata = &metadata;
	http_wait_begin(&h->wait, req);
	bindings_invoke(srv, &r, bindings_http_done, h);
out:
	free(data);
	kv_free(&metadata);
	json_decref(root);
}
