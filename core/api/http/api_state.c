/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's state API over HTTP: decode the request, call the state block, encode its answer. */
#include "api/http/api.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/api_state_body.h"
#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "api/http/http_query.h"
#include "blocks/state/state.h"
#include "blocks/state/state_json_text.h"
#include "runtime.h"

/*
 * A request waiting for the block's answer. evhttp frees the request with its connection, so
 * req becomes NULL if the client goes away first: the answer is then dropped.
 */
struct state_http {
	struct evhttp_request *req;
};

static void state_http_closed(struct evhttp_connection *conn, void *arg)
{
	struct state_http *h = arg;

	(void)conn;
	h->req = NULL;
}

/* NULL after replying 500 when out of memory. */
static struct state_http *state_http_new(struct evhttp_request *req)
{
	struct state_http *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return NULL;
	}
	h->req = req;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), state_http_closed, h);
	return h;
}

/* The request to answer, or NULL when its client went away. Frees h. */
static struct evhttp_request *state_http_end(struct state_http *h)
{
	struct evhttp_request *req = h->req;

	if (req != NULL)
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
	free(h);
	return req;
}

static bool state_http_waiting(void *ctx)
{
	return ((struct state_http *)ctx)->req != NULL;
}

/* Completion of save, delete, transaction and query: 204 or Dapr's error. */
static void state_http_done(void *ctx, const struct block_error *err)
{
	struct evhttp_request *req = state_http_end(ctx);

	if (req == NULL)
		return;
	if (err != NULL)
		api_error_reply_block(req, err);
	else
		http_reply_empty(req);
}

/* 0, or -1 after replying with the store lookup's error (which wins over a malformed body). */
static int state_http_store(struct server *srv, struct evhttp_request *req, const char *store,
			    enum state_op op)
{
	struct block_error err;

	if (state_store_check(srv, store, op, &err) == 0)
		return 0;
	api_error_reply_block(req, &err);
	return -1;
}

/* The query's metadata.* parameters into md, and the query itself into q (clear it after). */
static void state_http_query(struct evhttp_request *req, struct evkeyvalq *q, struct kv_list *md)
{
	http_query(req, q);
	kv_add_query_metadata(md, q);
}

/* Parses the JSON body; NULL after replying ERR_MALFORMED_REQUEST. The body's text in *text. */
static json_t *state_parse_body(struct evhttp_request *req, const char **text, size_t *text_len)
{
	json_error_t jerr;
	size_t len;
	const char *body = http_body(req, &len);
	json_t *doc = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

	if (text != NULL) {
		*text = body;
		*text_len = len;
	}
	if (doc == NULL)
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, NULL,
				"failed to parse the request body as JSON: %s at line %d column %d",
				jerr.text, jerr.line, jerr.column);
	return doc;
}

/* ---- GET /v1.0/state/{store}/{key} ---- */

static void state_get_done(void *ctx, const struct block_error *err, const struct outrig_state_value *v)
{
	struct evhttp_request *req = state_http_end(ctx);
	struct evkeyvalq *headers;
	char when[40];

	if (req == NULL)
		return;
	if (err != NULL) {
		api_error_reply_block(req, err);
		return;
	}
	if (!v->found) {
		http_reply_empty(req);
		return;
	}
	headers = evhttp_request_get_output_headers(req);
	if (v->etag.len > 0)
		evhttp_add_header(headers, "ETag", v->etag.data);
	if (state_expire_text(v, when, sizeof(when)))
		evhttp_add_header(headers, "metadata.ttlExpireTime", when);
	http_reply_bytes(req, 200, "application/json", v->data.data, v->data.len);
}

void api_state_get(struct server *srv, struct evhttp_request *req, const char *store, const char *key)
{
	struct kv_list md = { 0 };
	struct evkeyvalq q;
	struct state_http *h = state_http_new(req);

	if (h == NULL)
		return;
	state_http_query(req, &q, &md);
	state_get(srv, store,
		  &(struct state_get_req){
			  .key = key,
			  .consistency = evhttp_find_header(&q, "consistency"),
			  .metadata = &md,
		  },
		  state_get_done, h);
	evhttp_clear_headers(&q);
	kv_free(&md);
}

/* ---- POST /v1.0/state/{store} ---- */

/* The block's inputs of n decoded items. NULL on ENOMEM. Ownership: caller frees. */
static struct state_write *state_writes_of(const struct state_body_item *items, size_t n)
{
	struct state_write *w = calloc(n > 0 ? n : 1, sizeof(*w));

	for (size_t i = 0; w != NULL && i < n; i++)
		w[i] = items[i].w;
	return w;
}

static void state_body_items_free(struct state_body_item *items, size_t n)
{
	for (size_t i = 0; items != NULL && i < n; i++)
		state_body_item_free(&items[i]);
	free(items);
}

void api_state_save(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct block_error err;
	struct kv_list url_md = { 0 };
	struct state_body_item *items = NULL;
	struct state_write *writes = NULL;
	struct state_http *h;
	struct evkeyvalq q;
	const char *body, *end, *elem;
	size_t len, n = 0;
	json_t *doc;
	int rc = 0;

	if (state_http_store(srv, req, store, STATE_OP_SAVE) != 0 ||
	    (doc = state_parse_body(req, &body, &len)) == NULL)
		return;
	if (!json_is_array(doc)) {
		json_decref(doc);
		api_error_reply(
			req, API_ERR_MALFORMED_REQUEST, 0, NULL,
			"the body must be a JSON array of state items, e.g. [{\"key\":\"k\",\"value\":1}]");
		return;
	}
	end = body + len;
	elem = sjt_first(body, end);
	n = json_array_size(doc);
	state_http_query(req, &q, &url_md);
	evhttp_clear_headers(&q);
	items = calloc(n > 0 ? n : 1, sizeof(*items));
	if (items == NULL)
		rc = block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = state_body_item(json_array_get(doc, i), elem, end, false, &url_md, &items[i], &err);
		elem = elem != NULL ? sjt_next(elem, end) : NULL;
	}
	if (rc == 0 && (writes = state_writes_of(items, n)) == NULL)
		rc = block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
	if (rc != 0)
		api_error_reply_block(req, &err);
	else if ((h = state_http_new(req)) != NULL)
		state_save(srv, store, writes, n, state_http_waiting, state_http_done, h);
	free(writes);
	state_body_items_free(items, n);
	kv_free(&url_md);
	json_decref(doc);
}

/* ---- DELETE /v1.0/state/{store}/{key} ---- */

void api_state_delete(struct server *srv, struct evhttp_request *req, const char *store, const char *key)
{
	struct kv_list md = { 0 };
	struct evkeyvalq q;
	struct state_http *h = state_http_new(req);

	if (h == NULL)
		return;
	state_http_query(req, &q, &md);
	state_delete(srv, store,
		     &(struct state_write){
			     .key = key,
			     .etag = evhttp_find_header(evhttp_request_get_input_headers(req), "If-Match"),
			     .concurrency = evhttp_find_header(&q, "concurrency"),
			     .consistency = evhttp_find_header(&q, "consistency"),
			     .metadata = &md,
		     },
		     state_http_done, h);
	evhttp_clear_headers(&q);
	kv_free(&md);
}

/* ---- POST /v1.0/state/{store}/bulk ---- */

/* Appends v as JSON text to out and drops v. False on ENOMEM. */
static bool state_put_json(FILE *out, json_t *v)
{
	char *text = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	bool ok = text != NULL && fputs(text, out) >= 0;

	free(text);
	json_decref(v);
	return ok;
}

/* The length of the valid UTF-8 character at p (at most n bytes), or 0. */
static size_t state_utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80		   ? 1
		     : p[0] >= 0xc2 && p[0] < 0xe0 ? 2
		     : p[0] >= 0xe0 && p[0] < 0xf0 ? 3
		     : p[0] >= 0xf0 && p[0] < 0xf5 ? 4
						   : 0;

	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

/* data as a JSON string, each byte that is not UTF-8 as U+FFFD (as Go's encoder does). */
static json_t *state_lossy_string(const struct outrig_bytes *data)
{
	const unsigned char *p = data->data;
	char *fixed = malloc(data->len * 3 + 1);
	size_t n = 0;
	json_t *s;

	if (fixed == NULL)
		return NULL;
	for (size_t i = 0; i < data->len;) {
		size_t len = state_utf8_len(p + i, data->len - i);

		if (len == 0) {
			memcpy(fixed + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
			continue;
		}
		memcpy(fixed + n, p + i, len);
		n += len;
		i += len;
	}
	s = json_stringn(fixed, n);
	free(fixed);
	return s;
}

/*
 * Stored bytes go back as they are when they are JSON (as daprd's json.RawMessage), so a
 * value reads back as it was written; else (bytes saved over gRPC) as a JSON string. False on
 * ENOMEM.
 */
static bool state_put_data(FILE *out, const struct outrig_bytes *data)
{
	json_t *v = json_loadb(data->data, data->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	if (v != NULL) {
		json_decref(v);
		return fwrite(data->data, 1, data->len, out) == data->len;
	}
	v = json_stringn(data->data, data->len);
	return state_put_json(out, v != NULL ? v : state_lossy_string(data));
}

static void state_bulk_done(void *ctx, const struct block_error *err, const struct state_bulk_item *items,
			    size_t n)
{
	struct evhttp_request *req = state_http_end(ctx);
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	bool ok;

	if (req == NULL)
		return;
	if (err != NULL) {
		api_error_reply_block(req, err);
		return;
	}
	out = open_memstream(&text, &len);
	ok = out != NULL && fputc('[', out) != EOF;
	for (size_t i = 0; ok && i < n; i++) {
		const struct outrig_state_value *v = items[i].value;

		ok = fputs(i > 0 ? ",{\"key\":" : "{\"key\":", out) >= 0 &&
		     state_put_json(out, json_string(items[i].key));
		if (ok && items[i].error != NULL) {
			ok = fputs(",\"error\":", out) >= 0 &&
			     state_put_json(out, json_string(items[i].error));
		} else if (ok && v->found) {
			ok = fputs(",\"data\":", out) >= 0 && state_put_data(out, &v->data);
			if (ok && v->etag.len > 0)
				ok = fputs(",\"etag\":", out) >= 0 &&
				     state_put_json(out, json_string(v->etag.data));
		}
		ok = ok && fputc('}', out) != EOF;
	}
	ok = ok && fputc(']', out) != EOF;
	if (out != NULL)
		ok = fclose(out) == 0 && ok;
	if (ok)
		http_reply_bytes(req, 200, "application/json", text, len);
	else
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
	free(text);
}

void api_state_bulk_get(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct block_error err;
	struct kv_list md = { 0 };
	struct state_http *h;
	struct evkeyvalq q;
	const char **keys = NULL;
	char msg[256];
	json_t *doc, *jkeys;
	int rc;

	if (state_http_store(srv, req, store, STATE_OP_BULK_GET) != 0 ||
	    (doc = state_parse_body(req, NULL, NULL)) == NULL)
		return;
	jkeys = json_object_get(doc, "keys");
	if (!json_is_array(jkeys)) {
		json_decref(doc);
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, "keys",
				"the body must be {\"keys\":[\"k1\",\"k2\"]}");
		return;
	}
	rc = state_body_metadata_check(json_object_get(doc, "metadata"), &err);
	state_http_query(req, &q, &md);
	evhttp_clear_headers(&q);
	if (rc == 0 && kv_add_json(&md, json_object_get(doc, "metadata"), false, msg, sizeof(msg)) != 0)
		rc = block_fail(&err, API_ERR_MALFORMED_REQUEST, "metadata", "%s", msg);
	if (rc == 0)
		rc = state_body_keys(jkeys, &keys, &err);
	if (rc != 0)
		api_error_reply_block(req, &err);
	else if ((h = state_http_new(req)) != NULL)
		state_bulk_get(srv, store,
			       &(struct state_bulk_req){
				       .keys = keys,
				       .n = json_array_size(jkeys),
				       .metadata = &md,
			       },
			       state_http_waiting, state_bulk_done, h);
	free(keys);
	kv_free(&md);
	json_decref(doc);
}

/* ---- POST /v1.0/state/{store}/transaction ---- */

/*
 * Decodes operations[] (whose text starts at elem) into items, each after the block checked its
 * operation's name. 0, or -1 with err filled.
 */
static int state_transaction_items(json_t *ops, const char *elem, const char *end,
				   const struct kv_list *url_md, struct state_body_item *items,
				   struct block_error *err)
{
	for (size_t i = 0; i < json_array_size(ops); i++, elem = elem != NULL ? sjt_next(elem, end) : NULL) {
		const char *rend, *request = elem != NULL ? sjt_member(elem, end, "request", &rend) : NULL;
		json_t *op = json_array_get(ops, i);
		const char *kind = json_string_value(json_object_get(op, "operation"));
		bool is_delete;

		/* "delete\u0000x" is no operation: never cut it short to one; the block refuses this name. */
		if (state_json_has_nul(json_object_get(op, "operation")))
			kind = "(a name holding a NUL character, \\u0000)";
		/* Each operation's name before its request, one operation after another, as before. */
		if (state_operation_check(kind, i, &is_delete, err) != 0)
			return -1;
		if (state_body_item(json_object_get(op, "request"), request, end, is_delete, url_md,
				    &items[i], err) != 0)
			return -1;
		items[i].w.operation = kind;
	}
	return 0;
}

void api_state_transaction(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct block_error err;
	struct kv_list url_md = { 0 }, md = { 0 };
	struct state_body_item *items = NULL;
	struct state_write *writes = NULL;
	struct state_http *h;
	struct evkeyvalq q;
	char msg[256];
	const char *body, *end, *ops_text, *ops_end;
	size_t len, n;
	json_t *doc, *ops;
	int rc = 0;

	if (state_http_store(srv, req, store, STATE_OP_TRANSACTION) != 0 ||
	    (doc = state_parse_body(req, &body, &len)) == NULL)
		return;
	end = body + len;
	ops_text = sjt_member(body, end, "operations", &ops_end);
	ops = json_object_get(doc, "operations");
	if (!json_is_array(ops)) {
		json_decref(doc);
		api_error_reply(
			req, API_ERR_MALFORMED_REQUEST, 0, "operations",
			"the body must be {\"operations\":[{\"operation\":\"upsert\",\"request\":{...}}]}");
		return;
	}
	n = json_array_size(ops);
	state_http_query(req, &q, &url_md);
	evhttp_clear_headers(&q);
	items = calloc(n > 0 ? n : 1, sizeof(*items));
	if (items == NULL)
		rc = block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
	/* An empty transaction is done before its metadata is looked at. */
	if (rc == 0 && n > 0) {
		rc = state_transaction_items(ops, ops_text != NULL ? sjt_first(ops_text, ops_end) : NULL, end,
					     &url_md, items, &err);
		if (rc == 0)
			rc = state_body_metadata_check(json_object_get(doc, "metadata"), &err);
		if (rc == 0 &&
		    kv_add_json(&md, json_object_get(doc, "metadata"), true, msg, sizeof(msg)) != 0)
			rc = block_fail(&err, API_ERR_MALFORMED_REQUEST, "metadata", "%s", msg);
		if (rc == 0 && kv_set_all(&md, url_md.items, url_md.count) != 0)
			rc = block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
	}
	if (rc == 0 && (writes = state_writes_of(items, n)) == NULL)
		rc = block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
	if (rc != 0)
		api_error_reply_block(req, &err);
	else if ((h = state_http_new(req)) != NULL)
		state_transact(srv, store, writes, n, &md, state_http_done, h);
	free(writes);
	state_body_items_free(items, n);
	kv_free(&md);
	kv_free(&url_md);
	json_decref(doc);
}

/* ---- POST /v1.0-alpha1/state/{store}/query ---- */

void api_state_query(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct state_http *h = state_http_new(req);

	if (h != NULL)
		state_query(srv, store, state_http_done, h);
}
