/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's publish API over HTTP (API.md §2.1-2.3): the request decoded, the pub/sub block called, its answer encoded. */
#include "config.h"

#include "api/http/api.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <outrig/status.h>

#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "api/http/http_query.h"
#include "base/kv.h"
#include "blocks/pubsub/cloudevent.h"
#include "blocks/pubsub/pubsub.h"
#include "runtime.h"

/* A publish request in flight in the block; replied to by its completion. */
struct http_publish {
	struct evhttp_request *req; /* NULL once the client went away */
	bool bulk;
	bool watching; /* the close callback is set */
};

/* evhttp frees the request with its connection; from then on the reply must not touch it. */
static void publish_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct http_publish *p = arg;

	p->req = NULL;
}

static bool publish_alive(void *arg)
{
	const struct http_publish *p = arg;

	return p->req != NULL;
}

/* §2.3: 204 when every entry was accepted, else 500 listing only the entries that were not. */
static void publish_reply_bulk(struct evhttp_request *req, const struct pubsub_failed_entry *failed,
			       size_t nfailed)
{
	json_t *list, *body;

	if (nfailed == 0) {
		http_reply_empty(req);
		return;
	}
	list = json_array();
	for (size_t i = 0; i < nfailed; i++) {
		json_t *item = json_pack("{s:s, s:s}", "entryId", failed[i].entry_id, "error", failed[i].error);

		/* A broker's error text need not be UTF-8: the entry must still be listed as failed. */
		if (item == NULL)
			item = json_pack("{s:s, s:s}", "entryId", failed[i].entry_id, "error",
					 outrig_status_name(failed[i].rc));
		json_array_append_new(list, item);
	}
	body = json_pack("{s:o, s:s}", "failedEntries", list, "errorCode",
			 api_error_code(API_ERR_PUBSUB_PUBLISH_MESSAGE));
	http_reply_json(req, 500, body);
}

/* The block's completion (pubsub_done_fn). Thread: the loop. */
static void publish_done(void *arg, const struct block_error *err, const struct pubsub_failed_entry *failed,
			 size_t nfailed)
{
	struct http_publish *p = arg;

	if (p->req != NULL) {
		if (p->watching)
			evhttp_connection_set_closecb(evhttp_request_get_connection(p->req), NULL, NULL);
		if (err != NULL)
			api_error_reply_block(p->req, err);
		else if (p->bulk)
			publish_reply_bulk(p->req, failed, nfailed);
		else
			http_reply_empty(p->req);
	}
	free(p);
}

static const char *publish_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* The request's metadata.* query parameters. false after replying. */
static bool publish_query_metadata(struct evhttp_request *req, struct kv_list *md)
{
	struct evkeyvalq q;
	int rc;

	http_query(req, &q);
	rc = kv_add_query_metadata(md, &q);
	evhttp_clear_headers(&q);
	if (rc != 0)
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
	return rc == 0;
}

/*
 * Hands req to the block; the reply goes out from publish_done. The close callback is set
 * once the block holds the request: a reply made inside pubsub_publish must not find it set.
 */
static void publish_start(struct server *srv, struct evhttp_request *req, struct pubsub_request *r)
{
	struct http_publish *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	p->req = req;
	p->bulk = r->bulk;
	r->alive = publish_alive;
	/*
	 * Watched from the start: the completion may come later. publish_done clears it before
	 * replying, also when it runs inside pubsub_publish.
	 */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), publish_conn_closed, p);
	p->watching = true;
	pubsub_publish(srv, r, publish_done, p);
}

/* ---- POST /v1.0/publish/{pubsub}/{topic...} ---- */

void api_pubsub_publish(struct server *srv, struct evhttp_request *req, const char *pubsub, const char *topic)
{
	struct kv_list md = { 0 };
	struct pubsub_entry entry = { 0 };
	struct pubsub_request r = {
		.pubsub = pubsub,
		.topic = topic,
		.metadata = &md,
		.traceparent = publish_header(req, "traceparent"),
		.tracestate = publish_header(req, "tracestate"),
		.entries = &entry,
		.count = 1,
	};
	struct block_error err;

	/* daprd refuses a bad target before anything else, even metadata it cannot read. */
	if (pubsub_check_target(srv, pubsub, topic, r.tracestate, &err) != 0) {
		api_error_reply_block(req, &err);
		return;
	}
	if (!publish_query_metadata(req, &md)) {
		kv_free(&md);
		return;
	}
	entry.content_type = publish_header(req, "Content-Type");
	entry.data = http_body(req, &entry.len);
	publish_start(srv, req, &r);
	kv_free(&md);
}

/* ---- POST /v1.0[-alpha1]/publish/bulk/{pubsub}/{topic} ---- */

/* The decoded body of a bulk: what the block is handed, and the storage behind it. */
struct bulk_body {
	struct pubsub_entry *entries;
	char **events;		 /* each entry's event bytes */
	struct kv_list *mds;	 /* each entry's own metadata */
	size_t count;
};

static void bulk_body_free(struct bulk_body *b)
{
	for (size_t i = 0; i < b->count; i++) {
		if (b->events != NULL)
			free(b->events[i]);
		if (b->mds != NULL)
			kv_free(&b->mds[i]);
	}
	free(b->entries);
	free(b->events);
	free(b->mds);
}

/*
 * A bulk entry's field by name, matched case-insensitively as Go's JSON decoder does: the JS SDK
 * sends "entryID" where daprd's struct says "entryId", and daprd takes both.
 */
static json_t *bulk_field(json_t *entry, const char *name)
{
	const char *key;
	json_t *value;

	json_object_foreach(entry, key, value)
	{
		if (strcasecmp(key, name) == 0)
			return value;
	}
	return NULL;
}

/*
 * A bulk entry's event as the bytes its contentType says (§2.3): JSON types marshalled,
 * binary ones base64-decoded from a string, every other type a string's own text. An empty
 * contentType is inferred: text/plain for a string, application/json for anything else.
 * NULL with err set when the event does not fit its type.
 */
static char *bulk_event_bytes(json_t *event, const char **content_type, size_t *len, char *err, size_t errlen)
{
	const char *ct = *content_type;
	enum cloudevent_kind kind;
	char *bytes;

	if (ct == NULL || ct[0] == '\0')
		ct = *content_type = json_is_string(event) ? PUBSUB_DEFAULT_CONTENT_TYPE : "application/json";
	kind = cloudevent_kind_of(ct);
	if (kind == CLOUDEVENT_JSON || kind == CLOUDEVENT_ENVELOPE || strstr(ct, "+json") != NULL) {
		bytes = json_dumps(event, JSON_COMPACT | JSON_ENCODE_ANY);
		if (bytes != NULL)
			*len = strlen(bytes);
		else
			snprintf(err, errlen, "the event cannot be written as JSON");
		return bytes;
	}
	if (!json_is_string(event)) {
		snprintf(err, errlen, "the event must be a JSON string for contentType %s%s", ct,
			 kind == CLOUDEVENT_BINARY ? " (the bytes in base64)" : "");
		return NULL;
	}
	if (kind == CLOUDEVENT_BINARY) {
		bytes = (char *)cloudevent_base64_decode(json_string_value(event), len);
		if (bytes == NULL)
			snprintf(err, errlen, "the event is not valid base64, which contentType %s requires",
				 ct);
		return bytes;
	}
	*len = json_string_length(event);
	bytes = malloc(*len + 1);
	if (bytes != NULL)
		memcpy(bytes, json_string_value(event), *len + 1);
	else
		snprintf(err, errlen, "out of memory");
	return bytes;
}

/*
 * An entry's own metadata, an object of strings (numbers and booleans as their JSON text). A
 * value with a NUL byte is refused: it would reach the broker cut short. The block merges it over
 * the request's. false after replying 400.
 */
static bool bulk_entry_metadata(struct evhttp_request *req, json_t *entry, size_t i, struct kv_list *md)
{
	json_t *own = bulk_field(entry, "metadata");
	char why[512];

	if (json_is_null(own))
		return true;
	if (own != NULL && !json_is_object(own)) {
		api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
				"entry %zu of the bulk: metadata must be an object of strings", i);
		return false;
	}
	if (kv_add_json(md, own, false, why, sizeof(why)) == 0)
		return true;
	if (strcmp(why, "out of memory") == 0)
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
	else
		api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL, "entry %zu of the bulk: %s", i, why);
	return false;
}

/*
 * First pass over the entries: each is an object, and its entryId (when a string) holds no NUL
 * byte, which would cut it short everywhere it is used. false after replying.
 */
static bool bulk_decode_ids(struct evhttp_request *req, json_t *entries, struct bulk_body *b)
{
	for (size_t i = 0; i < b->count; i++) {
		json_t *entry = json_array_get(entries, i), *field;

		if (!json_is_object(entry)) {
			api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
					"entry %zu of the bulk is not an object; send "
					"[{\"entryId\":\"1\",\"event\":...,\"contentType\":\"application/json\"}]",
					i);
			return false;
		}
		field = bulk_field(entry, "entryId");
		b->entries[i].entry_id = json_string_value(field);
		if (b->entries[i].entry_id != NULL &&
		    strlen(b->entries[i].entry_id) != json_string_length(field)) {
			api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
					"the entryId of entry %zu of the bulk holds a NUL byte (\\u0000); remove it",
					i);
			return false;
		}
	}
	return true;
}

/* Second pass: entry i's contentType, metadata and event bytes. false after replying. */
static bool bulk_decode_entry(struct evhttp_request *req, const char *pubsub, const char *topic, json_t *entries,
			      size_t i, struct bulk_body *b)
{
	json_t *entry = json_array_get(entries, i), *ct_field = bulk_field(entry, "contentType");
	struct pubsub_entry *e = &b->entries[i];
	char err[256];

	e->content_type = json_string_value(ct_field);
	if (e->content_type != NULL && strlen(e->content_type) != json_string_length(ct_field)) {
		api_error_reply(
			req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
			"the contentType of entry %zu of the bulk holds a NUL byte (\\u0000); remove it", i);
		return false;
	}
	if (!bulk_entry_metadata(req, entry, i, &b->mds[i]))
		return false;
	e->metadata = &b->mds[i];
	b->events[i] = bulk_event_bytes(bulk_field(entry, "event"), &e->content_type, &e->len, err, sizeof(err));
	if (b->events[i] == NULL) {
		api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
				"error marshalling entry %s of the bulk for topic %s in pubsub %s: %s",
				e->entry_id, topic, pubsub, err);
		return false;
	}
	e->data = b->events[i];
	return true;
}

void api_pubsub_bulk_publish(struct server *srv, struct evhttp_request *req, const char *pubsub,
			     const char *topic)
{
	struct kv_list md = { 0 };
	struct bulk_body b = { 0 };
	struct pubsub_request r = {
		.pubsub = pubsub,
		.topic = topic,
		.metadata = &md,
		.traceparent = publish_header(req, "traceparent"),
		.tracestate = publish_header(req, "tracestate"),
		.bulk = true,
	};
	struct block_error err;
	json_t *entries = NULL;
	const char *body;
	size_t len;
	bool ok;

	if (pubsub_check_target(srv, pubsub, topic, r.tracestate, &err) != 0) {
		api_error_reply_block(req, &err);
		return;
	}
	body = http_body(req, &len);
	entries = cloudevent_json_parse(body, len);
	if (!json_is_array(entries)) {
		json_decref(entries);
		api_error_reply(
			req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
			"error when unmarshaling the request for topic %s pubsub %s: the body must be a JSON "
			"array of entries, e.g. [{\"entryId\":\"1\",\"event\":{\"a\":1},"
			"\"contentType\":\"application/json\"}]",
			topic, pubsub);
		return;
	}
	b.count = json_array_size(entries);
	b.entries = calloc(b.count > 0 ? b.count : 1, sizeof(*b.entries));
	b.events = calloc(b.count > 0 ? b.count : 1, sizeof(*b.events));
	b.mds = calloc(b.count > 0 ? b.count : 1, sizeof(*b.mds));
	ok = publish_query_metadata(req, &md);
	if (ok && (b.entries == NULL || b.events == NULL || b.mds == NULL)) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		ok = false;
	}
	r.entries = b.entries;
	r.count = b.count;
	/* The block's checks of ids and metadata come before the events are read, as in daprd. */
	ok = ok && bulk_decode_ids(req, entries, &b);
	if (ok && pubsub_check_request(srv, &r, &err) != 0) {
		api_error_reply_block(req, &err);
		ok = false;
	}
	for (size_t i = 0; ok && i < b.count; i++)
		ok = bulk_decode_entry(req, pubsub, topic, entries, i, &b);
	if (ok)
		publish_start(srv, req, &r);
	bulk_body_free(&b);
	json_decref(entries);
	kv_free(&md);
}
