/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's publish API over HTTP (API.md §2.1-2.3): check on the loop, envelope, publish on a worker, reply. */
#include "config.h"

#include "api/http/api.h"

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <outrig/plugin.h>

#include "blocks/pubsub/cloudevent.h"
#include "components/component.h"
#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "base/kv.h"
#include "blocks/pubsub/pubsub_publish.h"
#include "blocks/pubsub/pubsub_scopes.h"
#include "runtime.h"

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

		json_t *item;

		if (e->rc == 0)
			continue;
		item = json_pack("{s:s, s:s}", "entryId", e->entry_id, "error",
				 e->error != NULL ? e->error : "out of memory");
		/* A broker's error text need not be UTF-8: the entry must still be listed as failed. */
		if (item == NULL)
			item = json_pack("{s:s, s:s}", "entryId", e->entry_id, "error",
					 outrig_status_name(e->rc));
		json_array_append_new(failed, item);
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
/* From now on every entry counts as pending, and the call watches its client. */
static void publish_begin(struct publish_call *call)
{
	call->pending = call->count;
	evhttp_connection_set_closecb(evhttp_request_get_connection(call->req), publish_conn_closed, call);
}

/*
 * Queues the publishes of entries [from, to). The call cannot finish meanwhile: entries not yet
 * queued still count as pending. An entry that cannot even be queued counts as failed.
 */
static void publish_submit_range(struct server *srv, struct publish_call *call, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
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
}

/* Once every entry is queued: the reply goes out when all have ended (now, if none could start). */
static void publish_queued(struct publish_call *call)
{
	if (call->pending == 0)
		publish_finish(call);
}

/* Queues every prepared entry's publish; the reply goes out once all have ended. */
static void publish_start(struct server *srv, struct publish_call *call)
{
	publish_begin(call);
	publish_submit_range(srv, call, 0, call->count);
	publish_queued(call);
}

static const char *publish_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/*
 * Text the CloudEvent or the broker carries must be UTF-8 (JSON strings are): refused with 400
 * here rather than failing later as if memory had run out. false after replying.
 */
static bool publish_text_ok(struct evhttp_request *req, const char *what, const char *text)
{
	if (text == NULL || cloudevent_utf8_valid(text, strlen(text)))
		return true;
	api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, NULL,
			"%s is not valid UTF-8; send it as UTF-8 text (percent-encoded in the URL)", what);
	return false;
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
	if (!publish_text_ok(req, "the topic", topic))
		return NULL;
	/* The CloudEvent carries it: JSON text is UTF-8, so anything else is the client's error. */
	if (!publish_text_ok(req, "the tracestate header", publish_header(req, "tracestate")))
		return NULL;
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
	if (!publish_text_ok(req, "the Content-Type header", content_type))
		return;
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

/* Appends key=value to md, whose items have room for it. Returns 0 or -1 (out of memory). */
static int bulk_md_append(struct kv_list *md, const char *key, const char *value)
{
	struct outrig_kv *kv = &md->items[md->count];

	kv->key = strdup(key);
	kv->value = strdup(value);
	if (kv->key == NULL || kv->value == NULL) {
		free((char *)kv->key);
		free((char *)kv->value);
		return -1;
	}
	md->count++;
	return 0;
}

/*
 * An entry's metadata over the request's, as daprd merges them. One pass each: JSON object keys
 * are unique, and whether the entry overrides a request key is a hash lookup in its object, so
 * an entry with many keys costs linear time on the loop. A value with a NUL byte is refused: it
 * would reach the broker cut short. false after replying 400.
 */
static bool bulk_entry_metadata(struct evhttp_request *req, const struct kv_list *request_md, json_t *entry,
				size_t i, struct kv_list *md)
{
	json_t *own = bulk_field(entry, "metadata"), *value;
	const char *key;

	if (json_is_null(own))
		own = NULL;
	if (own != NULL && !json_is_object(own)) {
		api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
				"entry %zu of the bulk: metadata must be an object of strings", i);
		return false;
	}
	md->items = calloc(json_object_size(own) + request_md->count + 1, sizeof(*md->items));
	if (md->items == NULL)
		goto oom;
	json_object_foreach(own, key, value)
	{
		char *text = NULL;
		int rc;

		if (json_is_string(value) && strlen(json_string_value(value)) != json_string_length(value)) {
			api_error_reply(
				req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
				"entry %zu of the bulk: metadata.%s holds a NUL byte (\\u0000); remove it", i,
				key);
			return false;
		}
		if (json_is_string(value)) {
			rc = bulk_md_append(md, key, json_string_value(value));
		} else if (json_is_number(value) || json_is_boolean(value)) {
			text = json_dumps(value, JSON_ENCODE_ANY);
			rc = text != NULL ? bulk_md_append(md, key, text) : -1;
			free(text);
		} else {
			api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
					"entry %zu of the bulk: metadata.%s must be a string", i, key);
			return false;
		}
		if (rc != 0)
			goto oom;
	}
	for (size_t k = 0; k < request_md->count; k++) {
		if (json_object_get(own, request_md->items[k].key) == NULL &&
		    bulk_md_append(md, request_md->items[k].key, request_md->items[k].value) != 0)
			goto oom;
	}
	return true;
oom:
	api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
	return false;
}

/*
 * The request's metadata is copied into every entry: refuses (400) a request whose copies would
 * come to more than the body limit, so that what one request makes outrigd hold stays bounded by
 * that limit (a long query times 100,000 entries would otherwise take gigabytes). false after
 * replying.
 */
static bool bulk_metadata_fits(struct server *srv, struct evhttp_request *req, const struct kv_list *md,
			       size_t entries)
{
	size_t bytes = 0;

	for (size_t k = 0; k < md->count; k++)
		bytes += strlen(md->items[k].key) + strlen(md->items[k].value) + 2 + sizeof(md->items[k]);
	if (entries <= 1 || bytes == 0 || srv->opts->max_body_bytes <= 0 ||
	    bytes <= (size_t)srv->opts->max_body_bytes / entries)
		return true;
	api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
			"the request's metadata.* query parameters (%zu bytes) copied into each of the %zu "
			"entries of the bulk would take more than the body limit of %lld bytes "
			"(--max-body-size); send fewer entries per request, or the metadata in the "
			"entries that need it",
			bytes, entries, (long long)srv->opts->max_body_bytes);
	return false;
}

/*
 * Checks an entry's entryId: present, a non-empty string without NUL bytes (which would cut it
 * short everywhere it is used), and not used by an earlier entry. seen maps every earlier id to
 * its entry's index: a hash lookup keeps the check linear in the number of entries (comparing
 * with every earlier id took 13 s on the loop for 30,000 entries).
 */
static const char *bulk_entry_id(struct evhttp_request *req, json_t *entries, size_t i, json_t *seen)
{
	json_t *field = bulk_field(json_array_get(entries, i), "entryId");
	const char *id = json_string_value(field);
	json_t *earlier;

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
	if (strlen(id) != json_string_length(field)) {
		api_error_reply(req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
				"the entryId of entry %zu of the bulk holds a NUL byte (\\u0000); remove it",
				i);
		return NULL;
	}
	if ((earlier = json_object_get(seen, id)) != NULL) {
		api_error_reply(
			req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
			"entryId %s is used by entries %lld and %zu of the bulk; entryIds must be unique", id,
			(long long)json_integer_value(earlier), i);
		return NULL;
	}
	if (json_object_set_new(seen, id, json_integer((json_int_t)i)) != 0) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return NULL;
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

	if (content_type != NULL &&
	    strlen(content_type) != json_string_length(bulk_field(entry, "contentType"))) {
		api_error_reply(
			req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
			"the contentType of entry %zu of the bulk holds a NUL byte (\\u0000); remove it", i);
		return false;
	}
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

/*
 * Entries prepared per turn of the loop. Each makes a CloudEvent (parse, two random ids, JSON
 * text): 30,000 at once held the loop for over a second, so a big bulk is prepared in slices
 * and every other request is served in between.
 */
#define BULK_SLICE 256

/* A bulk whose entries are being prepared, slice by slice. */
struct bulk_job {
	struct server *srv;
	struct evhttp_request *req; /* NULL once the client went away */
	struct publish_call *call;
	json_t *entries;
	struct kv_list md; /* the request's metadata.* query parameters */
	size_t next;	   /* the entry to prepare next, then to queue next */
	bool queuing;	   /* all are prepared: their publishes are being queued */
	struct event *turn;
};

/* Ownership: job's own, not the request (which it no longer watches by then). */
static void bulk_job_free(struct bulk_job *job)
{
	if (job->turn != NULL)
		event_free(job->turn);
	if (job->call != NULL)
		publish_call_free(job->call);
	json_decref(job->entries);
	kv_free(&job->md);
	free(job);
}

static void bulk_job_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct bulk_job *job = arg;

	job->req = NULL;
}

/*
 * Prepares the next slice of entries, then yields to the loop, or starts the publishes after the
 * last. The close callback is off while it runs: a reply may free the request.
 */
static bool bulk_job_yield(struct bulk_job *job)
{
	static const struct timeval now = { 0, 0 };

	/* A timer, not event_active(): that would run again before the loop polls for I/O. */
	return evtimer_add(job->turn, &now) == 0;
}

/* Queues the next slice of publishes (a worker hand-off each), yielding to the loop in between. */
static void bulk_job_queue(struct bulk_job *job)
{
	struct publish_call *call = job->call;
	size_t end = job->next + BULK_SLICE < call->count ? job->next + BULK_SLICE : call->count;

	publish_submit_range(job->srv, call, job->next, end);
	job->next = end;
	if (job->next < call->count && bulk_job_yield(job))
		return;
	/* Cannot wait for the next turn: queue the rest now. */
	publish_submit_range(job->srv, call, job->next, call->count);
	job->call = NULL;
	bulk_job_free(job);
	publish_queued(call);
}

static void bulk_job_slice(evutil_socket_t fd, short what, void *arg)
{
	struct bulk_job *job = arg;
	struct publish_call *call = job->call;
	struct evhttp_connection *conn;
	size_t end = job->next + BULK_SLICE < call->count ? job->next + BULK_SLICE : call->count;
	bool ok = true;

	if (job->queuing) {
		bulk_job_queue(job);
		return;
	}
	if (job->req == NULL) {
		bulk_job_free(job);
		return;
	}
	conn = evhttp_request_get_connection(job->req);
	evhttp_connection_set_closecb(conn, NULL, NULL);
	for (; ok && job->next < end; job->next++)
		ok = bulk_entry_prepare(job->srv, job->req, call, job->entries, job->next, &job->md);
	if (ok && job->next < call->count) {
		if (bulk_job_yield(job)) {
			evhttp_connection_set_closecb(conn, bulk_job_conn_closed, job);
			return;
		}
		api_error_reply(job->req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		ok = false;
	} else if (ok && publish_allowed(job->srv, job->req, call)) {
		/* All prepared: the publishes are queued in slices too (30,000 hand-offs take a while). */
		job->req = NULL;
		job->queuing = true;
		job->next = 0;
		publish_begin(call);
		bulk_job_queue(job);
		return;
	}
	bulk_job_free(job);
}

void api_pubsub_bulk_publish(struct server *srv, struct evhttp_request *req, const char *pubsub,
			     const char *topic)
{
	struct component *c = publish_target(srv, req, pubsub, topic);
	struct bulk_job *job;
	json_t *seen = NULL;
	const char *body;
	size_t len;
	bool ok;

	if (c == NULL)
		return;
	job = calloc(1, sizeof(*job));
	if (job == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	job->srv = srv;
	body = http_body(req, &len);
	job->entries = cloudevent_json_parse(body, len);
	if (!json_is_array(job->entries)) {
		bulk_job_free(job);
		api_error_reply(
			req, API_ERR_PUBSUB_EVENTS_SER, 0, NULL,
			"error when unmarshaling the request for topic %s pubsub %s: the body must be a JSON "
			"array of entries, e.g. [{\"entryId\":\"1\",\"event\":{\"a\":1},"
			"\"contentType\":\"application/json\"}]",
			topic, pubsub);
		return;
	}
	ok = publish_query_metadata(req, &job->md) &&
	     bulk_metadata_fits(srv, req, &job->md, json_array_size(job->entries));
	if (ok && (seen = json_object()) == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		ok = false;
	}
	for (size_t i = 0; ok && i < json_array_size(job->entries); i++)
		ok = bulk_entry_id(req, job->entries, i, seen) != NULL;
	json_decref(seen);
	if (ok &&
	    ((job->call = publish_call_new(req, c, topic, json_array_size(job->entries), true)) == NULL ||
	     (job->turn = event_new(srv->base, -1, 0, bulk_job_slice, job)) == NULL)) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		ok = false;
	}
	if (!ok) {
		bulk_job_free(job);
		return;
	}
	job->req = req;
	bulk_job_slice(-1, 0, job);
}
