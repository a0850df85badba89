/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's state API over HTTP: parse on the loop, call the store on a worker, reply on the loop. */
#include "api/http/api.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "base/log.h"
#include "runtime.h"
#include "blocks/state/state_json_text.h"
#include "blocks/state/state_request.h"

/* Keys echoed in error messages are cut to this, so the store's explanation after them fits. */
#define STATE_KEY_ECHO_MAX 200

/*
 * Items of a save or bulk get done per turn on a worker. The call then goes to the back of its
 * store's lane, so a 100k-item save lets other requests to the same store through between
 * turns (daprd's bulk save is not atomic either). A transaction cannot be split.
 */
#define STATE_ITEMS_PER_TURN 64

/* Keys per bulk get: each costs memory for its request and its answer until the reply is sent. */
#define STATE_BULK_MAX_KEYS 10000

/*
 * key without its prefix, for an error message: as it is, or its first bytes (never half a
 * UTF-8 character) and its length. Ownership: the result is key or buf.
 */
static const char *state_key_echo(const char *key, char *buf, size_t size)
{
	const char *k = state_key_strip(key);
	size_t n = strlen(k), cut = STATE_KEY_ECHO_MAX;

	if (n <= STATE_KEY_ECHO_MAX)
		return k;
	while (cut > 0 && ((unsigned char)k[cut] & 0xC0) == 0x80)
		cut--;
	snprintf(buf, size, "%.*s... (%zu bytes)", (int)cut, k, n);
	return buf;
}

/* One state request in flight: what to do, and what the store answered. */
struct state_call {
	struct http_call base;
	struct component *comp;
	const struct outrig_state_ops *ops;
	struct state_item *items;
	size_t count;
	struct kv_list metadata;	   /* request-level (URL, body) */
	struct outrig_state_value *values; /* get and bulk get: one per item */
	int *results;			   /* bulk get: one per item */
	struct outrig_error *errors;	   /* bulk get: one per item */
	int rc;
	size_t failed; /* index of the item that failed */
	struct outrig_error err;
	size_t next;			/* save, bulk get: the first item not yet done */
	void (*finish)(struct work *w); /* what ends the call once every item is done */
};

/* A store's message with keys as the app named them (without "prefix||"). Ownership: buf. */
static const char *state_store_msg(const struct state_call *call, const char *msg, char *buf, size_t size)
{
	state_key_unprefix_text(&call->comp->key_prefix, msg, buf, size);
	return buf;
}

/* The end of the items this turn does. */
static size_t state_turn_end(const struct state_call *call)
{
	return call->count - call->next > STATE_ITEMS_PER_TURN ? call->next + STATE_ITEMS_PER_TURN
							       : call->count;
}

/*
 * After a turn: back to the lane's tail while items remain and the client waits, else reply.
 * A stopping outrigd does not wait for the rest: the items left are reported as not done.
 */
static void state_turn_done(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	struct outrig_error stop;

	if (call->next < call->count && call->base.req != NULL && !call->base.srv->stopping) {
		workers_submit(call->base.srv->workers, w);
		return;
	}
	if (call->next < call->count) {
		outrig_err(&stop, OUTRIG_EUNAVAIL,
			   "outrigd is stopping; %zu of the request's %zu items were done before, send "
			   "the others again once it runs",
			   call->next, call->count);
		for (size_t i = call->next; call->results != NULL && i < call->count; i++) {
			call->results[i] = OUTRIG_EUNAVAIL;
			call->errors[i] = stop;
		}
		if (call->results == NULL && call->rc == 0) {
			call->rc = OUTRIG_EUNAVAIL;
			call->failed = call->next;
			call->err = stop;
		}
	}
	call->finish(w);
}

/*
 * The state store named in the URL, or NULL after replying with Dapr's error. A store whose
 * initialisation failed under ignoreErrors answers with op's error (500) and the cause.
 */
static struct component *state_store(struct server *srv, struct evhttp_request *req, const char *name,
				     enum api_error op)
{
	struct component *c = components_find(srv->components, name);

	if (c != NULL && strncmp(c->type, "state.", 6) == 0 && c->failure != NULL) {
		api_error_reply(
			req, op, 0, NULL,
			"state store %s is not available: it failed to initialise (ignoreErrors kept outrigd up): %s",
			c->name, c->failure);
		return NULL;
	}
	if (c != NULL && strncmp(c->type, "state.", 6) == 0)
		return c;
	if (components_count_kind(srv->components, "state.") == 0)
		api_error_reply(
			req, API_ERR_STATE_STORE_NOT_CONFIGURED, 0, NULL,
			"state store is not configured; add a component of a state.* type to a --resources-path folder");
	else
		api_error_reply(req, API_ERR_STATE_STORE_NOT_FOUND, 0, NULL, "state store %s is not found",
				name);
	return NULL;
}

static struct state_call *state_call_new(struct server *srv, struct evhttp_request *req, struct component *c,
					 size_t count)
{
	struct state_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return NULL;
	call->base.req = req;
	call->comp = c;
	call->ops = c->plugin->desc.state;
	call->count = count;
	call->items = calloc(count > 0 ? count : 1, sizeof(*call->items));
	if (call->items == NULL) {
		free(call);
		return NULL;
	}
	return call;
}

static void state_call_release(struct http_call *base)
{
	struct state_call *call = (struct state_call *)base;

	for (size_t i = 0; i < call->count; i++) {
		state_item_free(&call->items[i]);
		if (call->values != NULL) {
			free(call->values[i].data.data);
			free(call->values[i].etag.data);
		}
	}
	kv_free(&call->metadata);
	free(call->items);
	free(call->values);
	free(call->results);
	free(call->errors);
	free(call);
}

/* A refused request: a bad request (400), or what the store would have refused, as op's error. */
static void state_problem_reply(struct evhttp_request *req, const struct state_problem *p, enum api_error op)
{
	if (p->store_rejects)
		api_error_reply(req, op, 0, NULL, "%s", p->message);
	else
		api_error_reply(req, p->error, 0, p->field[0] != '\0' ? p->field : NULL, "%s", p->message);
}

static bool state_call_alloc_values(struct state_call *call)
{
	call->values = calloc(call->count, sizeof(*call->values));
	call->results = calloc(call->count, sizeof(*call->results));
	call->errors = calloc(call->count, sizeof(*call->errors));
	return call->values != NULL && call->results != NULL && call->errors != NULL;
}

static void state_submit(struct server *srv, struct state_call *call, void (*run)(struct work *),
			 void (*reply)(struct http_call *))
{
	call->base.work.run = run;
	call->base.reply = reply;
	call->base.release = state_call_release;
	http_call_submit(srv, &call->base, component_lane(call->comp));
}

/* Like state_submit, for work done STATE_ITEMS_PER_TURN items at a time. */
static void state_submit_turns(struct server *srv, struct state_call *call, void (*run)(struct work *),
			       void (*reply)(struct http_call *))
{
	state_submit(srv, call, run, reply);
	call->finish = call->base.work.done;
	call->base.work.done = state_turn_done;
}

static void state_out_of_memory(struct evhttp_request *req, struct state_call *call)
{
	if (call != NULL)
		state_call_release(&call->base);
	api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
}

/* ---- GET /v1.0/state/{store}/{key} ---- */

static void state_get_one(struct state_call *call, size_t i)
{
	struct outrig_state_get get = {
		.key = call->items[i].key,
		.consistency = call->items[i].consistency,
		.metadata = kv_view(&call->items[i].metadata),
	};

	call->results[i] = call->ops->get(call->comp->instance, &get, &call->values[i], &call->errors[i]);
}

static void state_get_run(struct work *w)
{
	state_get_one((struct state_call *)w, 0);
}

/* RFC 3339, as daprd's metadata.ttlExpireTime. */
static void state_format_time(int64_t unix_ms, char *buf, size_t len)
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void state_get_reply(struct http_call *base)
{
	struct state_call *call = (struct state_call *)base;
	struct outrig_state_value *v = &call->values[0];
	struct evkeyvalq *headers = evhttp_request_get_output_headers(base->req);
	char when[40], echo[STATE_KEY_ECHO_MAX + 32], msg[OUTRIG_ERROR_MAX];

	if (call->results[0] != 0) {
		api_error_reply(base->req, API_ERR_STATE_GET, 0, NULL,
				"fail to get %s from state store %s: %s",
				state_key_echo(call->items[0].key, echo, sizeof(echo)), call->comp->name,
				state_store_msg(call, call->errors[0].message, msg, sizeof(msg)));
		return;
	}
	if (!v->found) {
		http_reply_empty(base->req);
		return;
	}
	if (v->etag.len > 0)
		evhttp_add_header(headers, "ETag", v->etag.data);
	if (v->expire_unix_ms > 0) {
		state_format_time(v->expire_unix_ms, when, sizeof(when));
		evhttp_add_header(headers, "metadata.ttlExpireTime", when);
	}
	http_reply_bytes(base->req, 200, "application/json", v->data.data, v->data.len);
}

void api_state_get(struct server *srv, struct evhttp_request *req, const char *store, const char *key)
{
	struct component *c = state_store(srv, req, store, API_ERR_STATE_GET);
	struct state_call *call;
	struct state_problem p = { 0 };
	struct evkeyvalq q;

	if (c == NULL)
		return;
	call = state_call_new(srv, req, c, 1);
	if (call == NULL || !state_call_alloc_values(call)) {
		state_out_of_memory(req, call);
		return;
	}
	http_query(req, &q);
	if (state_key_prepare(&c->key_prefix, key, &call->items[0].key, &p) != 0 ||
	    state_options_parse(NULL, evhttp_find_header(&q, "consistency"), &call->items[0], &p) != 0) {
		evhttp_clear_headers(&q);
		state_call_release(&call->base);
		state_problem_reply(req, &p, API_ERR_STATE_GET);
		return;
	}
	kv_add_query_metadata(&call->items[0].metadata, &q);
	evhttp_clear_headers(&q);
	state_submit(srv, call, state_get_run, state_get_reply);
}

/* ---- POST /v1.0/state/{store} ---- */

static void state_save_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;

	size_t end = state_turn_end(call);

	/* Like daprd's bulk set: every item is tried; the first failure is reported. */
	for (size_t i = call->next; i < end; i++) {
		struct outrig_state_set set;
		struct outrig_error err = { "" };
		int rc;

		state_item_to_set(&call->items[i], &set);
		rc = call->ops->set(call->comp->instance, &set, &err);
		if (rc != 0 && call->rc == 0) {
			call->rc = rc;
			call->failed = i;
			call->err = err;
		}
	}
	call->next = end;
}

static void state_save_reply(struct http_call *base)
{
	struct state_call *call = (struct state_call *)base;
	char echo[STATE_KEY_ECHO_MAX + 32], msg[OUTRIG_ERROR_MAX];

	if (call->rc == 0) {
		http_reply_empty(base->req);
		return;
	}
	api_error_reply(base->req, API_ERR_STATE_SAVE, api_status_for_plugin_result(call->rc), NULL,
			"failed saving state in state store %s: key %s: %s", call->comp->name,
			state_key_echo(call->items[call->failed].key, echo, sizeof(echo)),
			state_store_msg(call, call->err.message, msg, sizeof(msg)));
}

/*
 * A state value as the client wrote it (whitespace outside strings dropped), in place of
 * jansson's re-encoding: obj is the item's object in the body jansson accepted. Without a
 * "value", or where the text is not as expected, jansson's encoding stays. 0, or -1 on ENOMEM.
 */
static int state_item_value_text(struct state_item *item, const char *obj, const char *end)
{
	const char *vend = NULL, *v = obj != NULL ? sjt_member(obj, end, "value", &vend) : NULL;
	size_t len;
	char *text;

	if (v == NULL)
		return 0;
	text = sjt_compact(v, vend, &len);
	if (text == NULL)
		return -1;
	free(item->value);
	item->value = text;
	item->value_len = len;
	return 0;
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

void api_state_save(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct component *c = state_store(srv, req, store, API_ERR_STATE_SAVE);
	struct state_call *call = NULL;
	struct kv_list url_md = { 0 };
	struct state_problem p = { 0 };
	struct evkeyvalq q;
	const char *body, *end, *elem;
	size_t len;
	json_t *doc;

	if (c == NULL || (doc = state_parse_body(req, &body, &len)) == NULL)
		return;
	end = body + len;
	elem = sjt_first(body, end);
	if (!json_is_array(doc)) {
		json_decref(doc);
		api_error_reply(
			req, API_ERR_MALFORMED_REQUEST, 0, NULL,
			"the body must be a JSON array of state items, e.g. [{\"key\":\"k\",\"value\":1}]");
		return;
	}
	if (json_array_size(doc) == 0) {
		json_decref(doc);
		http_reply_empty(req);
		return;
	}
	http_query(req, &q);
	kv_add_query_metadata(&url_md, &q);
	evhttp_clear_headers(&q);
	call = state_call_new(srv, req, c, json_array_size(doc));
	if (call == NULL) {
		json_decref(doc);
		kv_free(&url_md);
		state_out_of_memory(req, NULL);
		return;
	}
	for (size_t i = 0; i < call->count; i++) {
		if (state_item_parse(json_array_get(doc, i), false, &url_md, &c->key_prefix, &call->items[i],
				     &p) != 0 ||
		    state_item_value_text(&call->items[i], elem, end) != 0) {
			if (p.message[0] == '\0') {
				p.error = API_ERR_INTERNAL;
				snprintf(p.message, sizeof(p.message), "out of memory");
			}
			json_decref(doc);
			kv_free(&url_md);
			state_call_release(&call->base);
			state_problem_reply(req, &p, API_ERR_STATE_SAVE);
			return;
		}
		elem = elem != NULL ? sjt_next(elem, end) : NULL;
	}
	json_decref(doc);
	kv_free(&url_md);
	state_submit_turns(srv, call, state_save_run, state_save_reply);
}

/* ---- DELETE /v1.0/state/{store}/{key} ---- */

static void state_delete_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	struct outrig_state_delete del;

	state_item_to_delete(&call->items[0], &del);
	call->rc = call->ops->delete (call->comp->instance, &del, &call->err);
}

static void state_delete_reply(struct http_call *base)
{
	struct state_call *call = (struct state_call *)base;
	char echo[STATE_KEY_ECHO_MAX + 32], msg[OUTRIG_ERROR_MAX];

	if (call->rc == 0) {
		http_reply_empty(base->req);
		return;
	}
	api_error_reply(base->req, API_ERR_STATE_DELETE, api_status_for_plugin_result(call->rc), NULL,
			"failed deleting state with key %s: %s",
			state_key_echo(call->items[0].key, echo, sizeof(echo)),
			state_store_msg(call, call->err.message, msg, sizeof(msg)));
}

void api_state_delete(struct server *srv, struct evhttp_request *req, const char *store, const char *key)
{
	struct component *c = state_store(srv, req, store, API_ERR_STATE_DELETE);
	struct state_call *call;
	struct state_item *item;
	struct state_problem p = { 0 };
	struct evkeyvalq q;
	const char *etag;

	if (c == NULL)
		return;
	call = state_call_new(srv, req, c, 1);
	if (call == NULL) {
		state_out_of_memory(req, NULL);
		return;
	}
	item = &call->items[0];
	item->is_delete = true;
	etag = evhttp_find_header(evhttp_request_get_input_headers(req), "If-Match");
	if (etag != NULL && *etag != '\0')
		item->etag = strdup(etag);
	http_query(req, &q);
	kv_add_query_metadata(&item->metadata, &q);
	if (state_key_prepare(&c->key_prefix, key, &item->key, &p) != 0 ||
	    state_options_parse(evhttp_find_header(&q, "concurrency"), evhttp_find_header(&q, "consistency"),
				item, &p) != 0) {
		evhttp_clear_headers(&q);
		state_call_release(&call->base);
		state_problem_reply(req, &p, API_ERR_STATE_DELETE);
		return;
	}
	evhttp_clear_headers(&q);
	state_submit(srv, call, state_delete_run, state_delete_reply);
}

/* ---- POST /v1.0/state/{store}/bulk ---- */

static void state_bulk_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	size_t end = state_turn_end(call);

	for (size_t i = call->next; i < end; i++)
		state_get_one(call, i);
	call->next = end;
}

/* Appends v as JSON text to out and drops v. False on ENOMEM. */
static bool state_put_json(FILE *out, json_t *v)
{
	char *text = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	bool ok = text != NULL && fputs(text, out) >= 0;

	free(text);
	json_decref(v);
	return ok;
}

/*
 * Stored bytes go back as they are when they are JSON (as daprd's json.RawMessage), so a
 * value reads back as it was written; else as a JSON string. False on ENOMEM.
 */
static bool state_put_data(FILE *out, const struct outrig_bytes *data)
{
	json_t *v = json_loadb(data->data, data->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	if (v != NULL) {
		json_decref(v);
		return fwrite(data->data, 1, data->len, out) == data->len;
	}
	return state_put_json(out, json_stringn(data->data, data->len));
}

static void state_bulk_reply(struct http_call *base)
{
	struct state_call *call = (struct state_call *)base;
	char msg[OUTRIG_ERROR_MAX], *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	bool ok = out != NULL && fputc('[', out) != EOF;

	for (size_t i = 0; ok && i < call->count; i++) {
		struct outrig_state_value *v = &call->values[i];

		ok = fputs(i > 0 ? ",{\"key\":" : "{\"key\":", out) >= 0 &&
		     state_put_json(out, json_string(state_key_strip(call->items[i].key)));
		if (ok && call->results[i] != 0) {
			const char *text_of_error =
				state_store_msg(call, call->errors[i].message, msg, sizeof(msg));
			json_t *error = json_string(text_of_error);

			/* One item's unreadable error text must not fail the whole answer. */
			if (error == NULL)
				error = json_string("the store's error text for this key is not UTF-8");
			ok = fputs(",\"error\":", out) >= 0 && state_put_json(out, error);
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
		http_reply_bytes(base->req, 200, "application/json", text, len);
	else
		api_error_reply(base->req, API_ERR_INTERNAL, 0, NULL, "out of memory");
	free(text);
}

void api_state_bulk_get(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct component *c = state_store(srv, req, store, API_ERR_STATE_BULK_GET);
	struct state_call *call;
	struct kv_list md = { 0 };
	struct state_problem p = { 0 };
	struct evkeyvalq q;
	char err[256];
	json_t *doc, *keys;

	if (c == NULL || (doc = state_parse_body(req, NULL, NULL)) == NULL)
		return;
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		json_decref(doc);
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, "keys",
				"the body must be {\"keys\":[\"k1\",\"k2\"]}");
		return;
	}
	if (json_array_size(keys) > STATE_BULK_MAX_KEYS) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, "keys",
				"a bulk get takes at most %d keys, and this one has %zu; split it into "
				"several requests",
				STATE_BULK_MAX_KEYS, json_array_size(keys));
		json_decref(doc);
		return;
	}
	if (state_metadata_check(json_object_get(doc, "metadata"), &p) != 0) {
		json_decref(doc);
		state_problem_reply(req, &p, API_ERR_STATE_BULK_GET);
		return;
	}
	http_query(req, &q);
	kv_add_query_metadata(&md, &q);
	evhttp_clear_headers(&q);
	if (kv_add_json(&md, json_object_get(doc, "metadata"), false, err, sizeof(err)) != 0) {
		json_decref(doc);
		kv_free(&md);
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, "metadata", "%s", err);
		return;
	}
	if (json_array_size(keys) == 0) {
		json_decref(doc);
		kv_free(&md);
		http_reply_json(req, 200, json_array());
		return;
	}
	call = state_call_new(srv, req, c, json_array_size(keys));
	if (call == NULL || !state_call_alloc_values(call)) {
		json_decref(doc);
		kv_free(&md);
		state_out_of_memory(req, call);
		return;
	}
	for (size_t i = 0; i < call->count; i++) {
		struct state_item *item = &call->items[i];
		json_t *key = json_array_get(keys, i);
		bool nul = state_json_has_nul(key);

		if (nul) {
			p.error = API_ERR_MALFORMED_REQUEST;
			snprintf(p.field, sizeof(p.field), "keys[%zu]", i);
			snprintf(p.message, sizeof(p.message),
				 "keys[%zu] holds a NUL character (\\u0000), which state keys cannot carry; "
				 "remove it",
				 i);
		}
		if (nul || state_key_prepare(&c->key_prefix, json_string_value(key), &item->key, &p) != 0) {
			json_decref(doc);
			kv_free(&md);
			state_call_release(&call->base);
			state_problem_reply(req, &p, API_ERR_STATE_BULK_GET);
			return;
		}
		for (size_t j = 0; j < md.count; j++)
			kv_set(&item->metadata, md.items[j].key, md.items[j].value);
	}
	json_decref(doc);
	kv_free(&md);
	state_submit_turns(srv, call, state_bulk_run, state_bulk_reply);
}

/* ---- POST /v1.0/state/{store}/transaction ---- */

static void state_transaction_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	struct outrig_state_op *ops = calloc(call->count, sizeof(*ops));
	struct outrig_metadata md = kv_view(&call->metadata);

	if (ops == NULL) {
		call->rc = outrig_err(&call->err, OUTRIG_ENOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < call->count; i++) {
		ops[i].kind = call->items[i].is_delete ? OUTRIG_STATE_DELETE : OUTRIG_STATE_UPSERT;
		if (call->items[i].is_delete)
			state_item_to_delete(&call->items[i], &ops[i].u.delete);
		else
			state_item_to_set(&call->items[i], &ops[i].u.set);
	}
	call->rc = call->ops->transact(call->comp->instance, ops, call->count, &md, &call->err);
	free(ops);
}

static void state_transaction_reply(struct http_call *base)
{
	struct state_call *call = (struct state_call *)base;
	char msg[OUTRIG_ERROR_MAX];

	if (call->rc == 0) {
		http_reply_empty(base->req);
		return;
	}
	api_error_reply(base->req, API_ERR_STATE_TRANSACTION, 0, NULL,
			"error while executing state transaction: %s",
			state_store_msg(call, call->err.message, msg, sizeof(msg)));
}

/* Parses operations[] (whose text starts at elem) into call->items. 0, or -1 with p filled. */
static int state_transaction_parse(json_t *ops, const char *elem, const char *end,
				   const struct kv_list *url_md, struct state_call *call,
				   struct state_problem *p)
{
	for (size_t i = 0; i < call->count; i++, elem = elem != NULL ? sjt_next(elem, end) : NULL) {
		const char *rend, *request = elem != NULL ? sjt_member(elem, end, "request", &rend) : NULL;
		json_t *op = json_array_get(ops, i);
		const char *kind = json_string_value(json_object_get(op, "operation"));
		/* "delete\u0000x" is no operation: never cut it short to one. */
		bool nul = state_json_has_nul(json_object_get(op, "operation"));
		bool is_delete = !nul && kind != NULL && strcmp(kind, "delete") == 0;

		if (nul)
			kind = "(a name holding a NUL character, \\u0000)";
		if (!is_delete && (kind == NULL || strcmp(kind, "upsert") != 0)) {
			p->error = API_ERR_STATE_OPERATION_NOT_SUPPORTED;
			snprintf(p->field, sizeof(p->field), "operations[%zu].operation", i);
			snprintf(p->message, sizeof(p->message),
				 "operation type %s not supported; use \"upsert\" or \"delete\"",
				 kind != NULL ? kind : "(missing)");
			return -1;
		}
		if (state_item_parse(json_object_get(op, "request"), is_delete, url_md,
				     &call->comp->key_prefix, &call->items[i], p) != 0)
			return -1;
		if (!is_delete && state_item_value_text(&call->items[i], request, end) != 0) {
			p->error = API_ERR_INTERNAL;
			snprintf(p->message, sizeof(p->message), "out of memory");
			return -1;
		}
	}
	return 0;
}

void api_state_transaction(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct component *c = state_store(srv, req, store, API_ERR_STATE_TRANSACTION);
	struct state_call *call;
	struct kv_list url_md = { 0 };
	struct state_problem p = { 0 };
	struct evkeyvalq q;
	char err[256];
	const char *body, *end, *ops_text, *ops_end;
	size_t len;
	json_t *doc, *ops;
	int rc;

	if (c == NULL)
		return;
	if (c->plugin->desc.state->transact == NULL) {
		api_error_reply(req, API_ERR_STATE_TRANSACTIONS_NOT_SUPPORTED, 0, NULL,
				"state store %s doesn't support transactions", c->name);
		return;
	}
	if ((doc = state_parse_body(req, &body, &len)) == NULL)
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
	if (json_array_size(ops) == 0) {
		json_decref(doc);
		http_reply_empty(req);
		return;
	}
	call = state_call_new(srv, req, c, json_array_size(ops));
	if (call == NULL) {
		json_decref(doc);
		state_out_of_memory(req, NULL);
		return;
	}
	http_query(req, &q);
	kv_add_query_metadata(&url_md, &q);
	evhttp_clear_headers(&q);
	rc = state_transaction_parse(ops, ops_text != NULL ? sjt_first(ops_text, ops_end) : NULL, end,
				     &url_md, call, &p);
	if (rc == 0)
		rc = state_metadata_check(json_object_get(doc, "metadata"), &p);
	if (rc == 0 &&
	    (kv_add_json(&call->metadata, json_object_get(doc, "metadata"), true, err, sizeof(err)) != 0)) {
		p.error = API_ERR_MALFORMED_REQUEST;
		snprintf(p.field, sizeof(p.field), "metadata");
		snprintf(p.message, sizeof(p.message), "%s", err);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < url_md.count; i++)
		kv_set(&call->metadata, url_md.items[i].key, url_md.items[i].value);
	json_decref(doc);
	kv_free(&url_md);
	if (rc != 0) {
		state_call_release(&call->base);
		state_problem_reply(req, &p, API_ERR_STATE_TRANSACTION);
		return;
	}
	state_submit(srv, call, state_transaction_run, state_transaction_reply);
}

/* ---- POST /v1.0-alpha1/state/{store}/query ---- */

void api_state_query(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct component *c = state_store(srv, req, store, API_ERR_STATE_QUERY_NOT_SUPPORTED);

	if (c != NULL)
		api_error_reply(req, API_ERR_STATE_QUERY_NOT_SUPPORTED, 0, NULL,
				"state store %s doesn't support query", c->name);
}
