/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's publish API over HTTP (API.md §2.1-2.3): check on the loop, envelope, publish on a worker, reply. */
#include "config.h"

#include "api.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <outrig/plugin.h>

#include "cloudevent.h"
#include "component.h"
#include "http_call.h"
#include "http_errors.h"
#include "kv.h"
#include "pubsub_publish.h"
#include "pubsub_scopes.h"
#include "server.h"

#define PUBSUB_DEFAULT_CONTENT_TYPE "text/plain"

/* One entry of a publish: a single publish is a bulk of one. */
struct publish_entry {
	struct publish_call *call;
	char *entry_id;
	/* What to publish, prepared before anything is: a refused request publishes nothing. */
	char *payload;
	size_t payload_len;
	char *content_type;
	struct kv_list metadata;
	int rc;
	char *error;
};

/* A publish request in flight; replied to once every entry's publish has ended. */
struct publish_call {
	struct evhttp_request *req; /* NULL once the client went away */
	struct component *comp;
	char *topic;
	bool bulk;
	size_t count, pending;
	struct publish_entry *entries;
};

/* evhttp frees the request with its connection; from then on the call must not touch it. */
static void publish_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct publish_call *call = arg;

	call->req = NULL;
}

static void publish_call_free(struct publish_call *call)
{
	for (size_t i = 0; i < call->count; i++) {
		struct publish_entry *e = &call->entries[i];

		free(e->entry_id);
		free(e->payload);
		free(e->content_type);
		kv_free(&e->metadata);
		free(e->error);
	}
	free(call->entries);
	free(call->topic);
	free(call);
}

static struct publish_call *publish_call_new(struct evhttp_request *req, struct component *c,
					     const char *topic, size_t count, bool bulk)
{
	struct publish_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return NULL;
	call->req = req;
	call->comp = c;
	call->bulk = bulk;
	call->count = count;
	call->topic = strdup(topic);
	call->entries = calloc(count > 0 ? count : 1, sizeof(*call->entries));
	if (call->topic == NULL || call->entries == NULL) {
		publish_call_free(call);
		return NULL;
	}
	for (size_t i = 0; i < count; i++)
		call->entries[i].call = call;
	return call;
}

static void publish_reply_single(struct publish_call *call)
{
	struct publish_entry *e = &call->entries[0];

	if (e->rc == 0)
		http_reply_empty(call->req);
	else if (e->rc == OUTRIG_ENOTFOUND)
		api_error_reply(call->req, API_ERR_PUBSUB_TEST_NOT_FOUND, 0, NULL,
				"topic %s not found in pubsub %s: %s", call->topic, call->comp->name,
				e->error);
	else
		api_error_reply(call->req, API_ERR_PUBSUB_PUBLISH_MESSAGE, 0, NULL,
				"error when publishing to topic %s in pubsub %s: %s", call->topic,
				call->comp->name, e->error);
}

/* §2.3: 204 when every entry was accepted, else 500 listing only the entries that were not. */
static void publish_reply_bulk(struct publish_call *call)
{
	json_t *failed = json_array(), *body;

	for (size_t i = 0; i < call->count; i++) {
		struct publish_entry *e = &call->entries[i];

		if (e->rc != 0)
			json_array_append_new(failed,
					      json_pack("{s:s, s:s}", "entryId", e->entry_id, "error",
							e->error != NULL ? e->error : "out of memory"));
	}
	if (json_array_size(failed) == 0) {
		json_decref(failed);
		http_reply_empty(call->req);
		return;
	}
	body = json_pack("{s:o, s:s}", "failedEntries", failed, "errorCode",
			 api_error_code(API_ERR_PUBSUB_PUBLISH_MESSAGE));
	http_reply_json(call->req, 500, body);
}

static void publish_finish(struct publish_call *call)
{
	if (call->req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(call->req), NULL, NULL);
		if (call->bulk)
			publish_reply_bulk(call);
		else
			publish_reply_single(call);
	}
	publish_call_free(call);
}

/* One entry's publish ended (pubsub_publish_cb). Thread: the loop. */
static void publish_entry_done(void *arg, int rc, const char *error)
{
	struct publish_entry *e = arg;
	struct publish_call *call = e->call;

	e->rc = rc;
	if (rc != 0)
		e->error = strdup(error != NULL && error[0] != '\0' ? error : outrig_status_name(rc));
	if (--call->pending == 0)
		publish_finish(call);
}

/*
 * Queues every prepared entry's publish; the reply goes out once all have ended. An entry
 * that cannot even be queued counts as failed.
 */
static void publish_start(struct server *srv, struct publish_call *call)
{
	call->pending = call->count;
	evhttp_connection_set_closecb(evhttp_request_get_connection(call->req), publish_conn_closed, call);
	for (size_t i = 0; i < call->count; i++) {
		struct publish_entry *e = &call->entries[i];
		struct outrig_metadata view = kv_view(&e->metadata);

		if (pubsub_publish_submit(srv, call->comp, call->topic, e->payload, e->payload_len,
					  e->content_type, &view, publish_entry_done, e) != 0) {
			e->rc = OUTRIG_ENOMEM;
			e->error = strdup("out of memory");
			call->pending--;
		}
		/* pubsub_publish_submit copied them. */
		free(e->payload);
		e->payload = NULL;
		kv_free(&e->metadata);
	}
	if (call->pending == 0)
		publish_finish(call);
}

/*
 * The pub/sub component and topic of the URL, or NULL after replying with Dapr's error, in
 * daprd's order of checks (§2.1). A component whose create() failed is returned: publishing
 * to it answers 500 with the cause.
 */
static struct component *publish_target(struct server *srv, struct evhttp_request *req, const char *pubsub,
					const char *topic)
{
	struct component *c = components_find(srv->components, pubsub);

	if (components_count_kind(srv->components, "pubsub.") == 0) {
		api_error_reply(req, API_ERR_PUBSUB_NOT_CONFIGURED, 0, NULL,
				"no pubsub is configured; add a component of a pubsub.* type to a "
				"--resources-path folder");
		return NULL;
	}
	if (pubsub[0] == '\0') {
		api_error_reply(req, API_ERR_PUBSUB_EMPTY, 0, NULL,
				"pubsub name is empty; publish to /v1.0/publish/<pubsub>/<topic>");
		return NULL;
	}
	if (c == NULL || strncmp(c->type, "pubsub.", 7) != 0) {
		api_error_reply(req, API_ERR_PUBSUB_NOT_FOUND, 0, NULL, "pubsub %s is not found", pubsub);
		return NULL;
	}
	if (topic[0] == '\0') {
		api_error_reply(req, API_ERR_PUBSUB_TOPIC_NAME_EMPTY, 0, NULL,
				"topic is empty in pubsub %s; publish to /v1.0/publish/%s/<topic>", pubsub,
				pubsub);
		return NULL;
	}
	return c;
}

/* Go's strconv.ParseBool, which daprd reads rawPayload with. */
static bool publish_parse_bool(const char *text, bool *value)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False", NULL };

	for (int i = 0; yes[i] != NULL; i++) {
		if (strcmp(text, yes[i]) == 0)
			return *value = true;
		if (strcmp(text, no[i]) == 0) {
			*value = false;
			return true;
		}
	}
	return false;
}

/* Reads rawPayload and checks ttlInSeconds of md. false after replying 400 ERR_PUBSUB_REQUEST_METADATA. */
static bool publish_check_metadata(struct evhttp_request *req, const struct kv_list *md, bool *raw)
{
	struct outrig_metadata view = kv_view(md);
	const char *text = outrig_metadata_get(&view, "rawPayload");
	char why[256];
	int64_t ttl;

	*raw = false;
	if (text != NULL && text[0] != '\0' && !publish_parse_bool(text, raw)) {
		snprintf(why, sizeof(why),
			 "rawPayload value must be a valid boolean: actual is '%s'; use true or false", text);
	} else if (cloudevent_ttl(&view, &ttl, why, sizeof(why)) < 0) {
		;
	} else {
		return true;
	}
	api_error_reply(req, API_ERR_PUBSUB_REQUEST_METADATA, 0, NULL, "failed deserializing metadata: %s",
			why);
	return false;
}

static const char *publish_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

static int64_t publish_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The bytes to publish for one event: data as-is with rawPayload, else its CloudEvent. NULL after replying. */
static char *publish_payload(struct server *srv, struct evhttp_request *req, struct component *c,
			     const char *topic, const void *data, size_t len, const char *content_type,
			     const struct kv_list *md, bool raw, size_t *out_len)
{
	struct outrig_metadata view = kv_view(md);
	struct cloudevent_input in = {
		.pubsub = c->name,
		.topic = topic,
		.app_id = srv->opts->app_id,
		.content_type = content_type,
		.data = data,
		.data_len = len,
		.metadata = &view,
		.traceparent = publish_header(req, "traceparent"),
		.tracestate = publish_header(req, "tracestate"),
		.now_unix_ms = publish_now_ms(),
		.broker_ttl = c->plugin->desc.pubsub != NULL &&
			      (c->plugin->desc.pubsub->capabilities & OUTRIG_PUBSUB_MESSAGE_TTL) != 0,
	};
	char err[512];
	bool bad_request;
	char *text;

	if (raw) {
		text = malloc(len + 1);
		if (text == NULL) {
			api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
			return NULL;
		}
		if (len > 0)
			memcpy(text, data, len);
		text[len] = '\0';
		*out_len = len;
		return text;
	}
	text = cloudevent_build_text(&in, out_len, &bad_request, err, sizeof(err));
	if (text == NULL && bad_request)
		api_error_reply(req, API_ERR_PUBSUB_REQUEST_METADATA, 0, NULL,
				"failed deserializing metadata: %s", err);
	else if (text == NULL)
		api_error_reply(req, API_ERR_PUBSUB_CLOUD_EVENTS_SER, 0, NULL,
				"cannot create a CloudEvent for topic %s in pubsub %s: %s", topic, c->name,
				err);
	return text;
}

/*
 * Topic scoping (publishingScopes, allowedTopics, protectedTopics). daprd's publisher checks
 * it after the envelope is made, so bad metadata still answers 400 first. false after replying.
 */
static bool publish_allowed(struct server *srv, struct evhttp_request *req, const struct publish_call *call)
{
	const char *app_id = srv->opts->app_id != NULL ? srv->opts->app_id : "";

	if (pubsub_scopes_allowed(&call->comp->scopes, PUBSUB_SCOPE_PUBLISH, call->topic, app_id, NULL, 0))
		return true;
	api_error_reply(req, API_ERR_PUBSUB_FORBIDDEN, 0, NULL, "topic %s is not allowed for app id %s",
			call->topic, app_id);
	return false;
}

/* ---- POST /v1.0/publish/{pubsub}/{topic...} ---- */

/*
 * Prepares entry i: its payload (data as-is with rawPayload, else its CloudEvent), content
 * type and metadata, which it takes over. false after replying.
 */
static bool publish_entry_prepare(struct server *srv, struct evhttp_request *req, struct publish_call *call,
				  size_t i, const void *data, size_t len, const char *content_type,
				  struct kv_list *md)
{
	struct publish_entry *e = &call->entries[i];
	bool raw;

	if (!publish_check_metadata(req, md, &raw))
		return false;
	e->payload = publish_payload(srv, req, call->comp, call->topic, data, len, content_type, md, raw,
				     &e->payload_len);
	if (e->payload == NULL)
		return false;
	e->content_type = strdup(raw ? content_type : "application/cloudevents+json");
	if (e->content_type == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return false;
	}
	e->metadata = *md;
	memset(md, 0, sizeof(*md));
	return true;
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

void api_pubsub_publish(struct server *srv, struct evhttp_request *req, const char *pubsub, const char *topic)
{
	struct component *c = publish_target(srv, req, pubsub, topic);
	const char *content_type = publish_header(req, "Content-Type");
	struct publish_call *call;
	struct kv_list md = { 0 };
	const char *body;
	size_t len;

	if (c == NULL)
		return;
	if (content_type == NULL || content_type[0] == '\0')
		content_type = PUBSUB_DEFAULT_CONTENT_TYPE;
	/* A single publish is a bulk of one whose entry id is never shown. */
	call = publish_call_new(req, c, topic, 1, false);
	if (call == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	body = http_body(req, &len);
	if (!publish_query_metadata(req, &md) ||
	    !publish_entry_prepare(srv, req, call, 0, body, len, content_type, &md) ||
	    !publish_allowed(srv, req, call)) {
		kv_free(&md);
		publish_call_free(call);
		return;
	}
	publish_start(srv, call);
}

/* ---- POST /v1.0[-alpha1]/publish/bulk/{pubsub}/{topic} ---- */

/*
 * A bulk entry's event as the bytes its contentType says (§2.3): JSON types marshalled,
 * binary ones base64-decoded from a string, every other type a string's own text. An empty
 * contentType is inferred: text/plain for a string, application/json for anything else.
 * NULL with err set when the event does not fit its type.
 */
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

/* Request metadata, then the entry's over it. false after replying 400. */
static bool bulk_entry_metadata(struct evhttp_request *req, const struct kv_list *request_md, json_t *entry,
				size_t i, struct kv_list *md)
{
	char err[256];

	for (size_t k = 0; k < request_md->count; k++) {
		if (kv_set(md, request_md->items[k].key, request_md->items[k].value) != 0) {
			api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
			return false;
		}
	}
	if (kv_add_json(md, bulk_field(entry, "metadata"), true, err, sizeof(err)) != 0) {
		api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL, "entry %zu of the bulk: %s", i, err);
		return false;
	}
	return true;
}

/* Checks an entry's entryId (present, a non-empty string, not used by an earlier entry). */
static const char *bulk_entry_id(struct evhttp_request *req, json_t *entries, size_t i)
{
	const char *id = json_string_value(bulk_field(json_array_get(entries, i), "entryId"));

	if (!json_is_object(json_array_get(entries, i))) {
		api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
				"entry %zu of the bulk is not an object; send "
				"[{\"entryId\":\"1\",\"event\":...,\"contentType\":\"application/json\"}]",
				i);
		return NULL;
	}
	if (id == NULL || id[0] == '\0') {
		api_error_reply(
			req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
			"entry %zu of the bulk has no entryId; every entry needs a unique string entryId", i);
		return NULL;
	}
	for (size_t k = 0; k < i; k++) {
		if (strcmp(id, json_string_value(bulk_field(json_array_get(entries, k), "entryId"))) == 0) {
			api_error_reply(
				req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
				"entryId %s is used by entries %zu and %zu of the bulk; entryIds must be unique",
				id, k, i);
			return NULL;
		}
	}
	return id;
}

/* Prepares entry i of a bulk (§2.3). false after replying. */
static bool bulk_entry_prepare(struct server *srv, struct evhttp_request *req, struct publish_call *call,
			       json_t *entries, size_t i, const struct kv_list *request_md)
{
	json_t *entry = json_array_get(entries, i);
	const char *content_type = json_string_value(bulk_field(entry, "contentType"));
	struct kv_list md = { 0 };
	char *event = NULL, err[256];
	size_t event_len = 0;
	bool ok = false;

	call->entries[i].entry_id = strdup(json_string_value(bulk_field(entry, "entryId")));
	if (call->entries[i].entry_id == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return false;
	}
	if (!bulk_entry_metadata(req, request_md, entry, i, &md))
		goto out;
	event = bulk_event_bytes(bulk_field(entry, "event"), &content_type, &event_len, err, sizeof(err));
	if (event == NULL) {
		api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
				"error marshalling entry %s of the bulk for topic %s in pubsub %s: %s",
				call->entries[i].entry_id, call->topic, call->comp->name, err);
		goto out;
	}
	ok = publish_entry_prepare(srv, req, call, i, event, event_len, content_type, &md);
out:
	free(event);
	kv_free(&md);
	return ok;
}

void api_pubsub_bulk_publish(struct server *srv, struct evhttp_request *req, const char *pubsub,
			     const char *topic)
{
	struct component *c = publish_target(srv, req, pubsub, topic);
	struct publish_call *call = NULL;
	struct kv_list md = { 0 };
	json_t *entries;
	const char *body;
	size_t len;
	bool ok;

	if (c == NULL)
		return;
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
	ok = publish_query_metadata(req, &md);
	for (size_t i = 0; ok && i < json_array_size(entries); i++)
		ok = bulk_entry_id(req, entries, i) != NULL;
	if (ok && (call = publish_call_new(req, c, topic, json_array_size(entries), true)) == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		ok = false;
	}
	for (size_t i = 0; ok && i < call->count; i++)
		ok = bulk_entry_prepare(srv, req, call, entries, i, &md);
	if (ok)
		ok = publish_allowed(srv, req, call);
	json_decref(entries);
	kv_free(&md);
	if (ok)
		publish_start(srv, call);
	else if (call != NULL)
		publish_call_free(call);
}
