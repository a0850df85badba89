/* SPDX-License-Identifier: Apache-2.0 */
/* A gRPC app's AppCallback and AppCallbackHealthCheck services as plain C calls over grpc_client, on the loop. */
#include "config.h"

#include "channels/app_grpc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "channels/app_grpc_pb.h"
#include "channels/grpc_client.h"
#include "channels/grpc_wire.h"
#include "dapr/proto/common/v1/common.pb-c.h"
#include "dapr/proto/runtime/v1/appcallback.pb-c.h"
#include "google/protobuf/any.pb-c.h"

#define AG_SERVICE "/dapr.proto.runtime.v1.AppCallback/"
#define AG_HEALTH_PATH "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck"

enum ag_kind {
	AG_INVOKE,
	AG_SUBSCRIPTIONS,
	AG_TOPIC,
	AG_BINDINGS,
	AG_BINDING,
	AG_HEALTH,
};

/* One call in flight: what to decode its answer as, and whom to tell. */
struct ag_call {
	TAILQ_ENTRY(ag_call) link;
	struct app_grpc *ag;
	enum ag_kind kind;
	union {
		app_grpc_invoke_cb invoke;
		app_grpc_subscriptions_cb subscriptions;
		app_grpc_topic_cb topic;
		app_grpc_bindings_cb bindings;
		app_grpc_binding_cb binding;
		app_grpc_health_cb health;
	} cb;
	void *arg;
	void (*abandon)(void *arg); /* told when the channel goes first (invoke only) */
};

struct app_grpc {
	struct grpc_client *client;
	char *token;
	/* Calls the client has not told yet: freed with ag when it goes first. */
	TAILQ_HEAD(, ag_call) calls;
};

struct app_grpc *app_grpc_new(struct event_base *base, const char *host, int port, int max_concurrency,
			      int timeout_s, const char *api_token)
{
	struct app_grpc *ag = calloc(1, sizeof(*ag));

	if (ag == NULL)
		return NULL;
	TAILQ_INIT(&ag->calls);
	if (api_token != NULL && *api_token != '\0' && (ag->token = strdup(api_token)) == NULL)
		goto fail;
	if ((ag->client = grpc_client_new(base, host, port, max_concurrency, timeout_s)) == NULL)
		goto fail;
	return ag;
fail:
	free(ag->token);
	free(ag);
	return NULL;
}

struct grpc_client *app_grpc_client(struct app_grpc *ag)
{
	return ag->client;
}

void app_grpc_free(struct app_grpc *ag)
{
	struct ag_call *call;

	if (ag == NULL)
		return;
	/* The client goes first: once it is freed, it can call none of the calls freed below. */
	grpc_client_free(ag->client);
	while ((call = TAILQ_FIRST(&ag->calls)) != NULL) {
		TAILQ_REMOVE(&ag->calls, call, link);
		if (call->abandon != NULL)
			call->abandon(call->arg);
		free(call);
	}
	free(ag->token);
	free(ag);
}

/* ---- metadata ---- */

/* A "-bin" value must be base64 to go on the wire; daprd drops one it cannot decode. */
static bool ag_base64_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if (!isalnum((unsigned char)*v) && *v != '+' && *v != '/' && *v != '=')
			return false;
	return true;
}

/*
 * Adds from's entries to out as gRPC metadata: names lowercased; names the client sets itself,
 * names or values that cannot go on the wire, and (for pub/sub metadata, as daprd's
 * WithCustomGRPCMetadata) content-length left out. Returns 0 or -1 (out of memory).
 */
static int ag_metadata_add(struct kv_list *out, const struct kv_list *from)
{
	char name[256];

	if (from == NULL)
		return 0;
	for (size_t i = 0; i < from->count; i++) {
		const char *k = from->items[i].key, *v = from->items[i].value;
		size_t n = strlen(k);

		if (n == 0 || n >= sizeof(name))
			continue;
		for (size_t j = 0; j <= n; j++)
			name[j] = (char)tolower((unsigned char)k[j]);
		if (!grpc_wire_name_ok(name) || grpc_wire_name_reserved(name) ||
		    strcmp(name, "content-length") == 0 || !grpc_wire_value_ok(v))
			continue;
		if (n > 4 && strcmp(name + n - 4, "-bin") == 0 && !ag_base64_ok(v))
			continue;
		if (kv_set(out, name, v) != 0)
			return -1;
	}
	return 0;
}

/* ---- sending ---- */

static void ag_on_done(void *arg, const struct grpc_client_response *r);

/*
 * Sends msg on path with metadata (plus the app token) for call, which the client then owns until
 * it tells ag_on_done. Returns 0, or -1 with call freed.
 */
static int ag_send(struct app_grpc *ag, struct ag_call *call, const char *path,
		   const struct kv_list *metadata, const void *msg, size_t len, int timeout_ms)
{
	struct kv_list md = { 0 };
	int rc = -1;

	call->ag = ag;
	if (ag_metadata_add(&md, metadata) != 0)
		goto out;
	/* daprd sets the token over whatever the caller's metadata held under that name. */
	if (ag->token != NULL && kv_set(&md, "dapr-api-token", ag->token) != 0)
		goto out;
	if (grpc_client_unary(ag->client, path, &md, msg, len, timeout_ms, ag_on_done, call) != 0)
		goto out;
	TAILQ_INSERT_TAIL(&ag->calls, call, link);
	rc = 0;
out:
	kv_free(&md);
	if (rc != 0)
		free(call);
	return rc;
}

static struct ag_call *ag_call_new(enum ag_kind kind, void *arg)
{
	struct ag_call *call = calloc(1, sizeof(*call));

	if (call != NULL) {
		call->kind = kind;
		call->arg = arg;
	}
	return call;
}

/* Packs msg into a malloc'd buffer (*out, *len); empty messages give a 1-byte buffer and len 0. */
static int ag_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	if ((*out = malloc(n ? n : 1)) == NULL)
		return -1;
	*len = protobuf_c_message_pack(msg, *out);
	return 0;
}

/* ---- OnInvoke ---- */

/* HTTPExtension.Verb of an HTTP method name (any case); POST for one it does not list, as daprd. */
static Dapr__Proto__Common__V1__HTTPExtension__Verb ag_verb(const char *verb)
{
	static const char *const names[] = { "NONE",   "GET",	  "HEAD",    "POST",  "PUT",
					     "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(verb, names[i]) == 0)
			return (Dapr__Proto__Common__V1__HTTPExtension__Verb)i;
	return DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__POST;
}

int app_grpc_invoke(struct app_grpc *ag, const struct app_grpc_invoke_request *req, app_grpc_invoke_cb cb,
		    void *arg)
{
	Dapr__Proto__Common__V1__InvokeRequest msg = DAPR__PROTO__COMMON__V1__INVOKE_REQUEST__INIT;
	Dapr__Proto__Common__V1__HTTPExtension ext = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	struct ag_call *call;
	uint8_t *buf;
	size_t len;
	int rc;

	msg.method = (char *)(req->method != NULL ? req->method : "");
	msg.content_type = (char *)(req->content_type != NULL ? req->content_type : "");
	/* daprd always sends data, an empty Any for an empty body. */
	any.type_url = (char *)(req->data_type_url != NULL ? req->data_type_url : "");
	any.value.data = (uint8_t *)req->data;
	any.value.len = req->data != NULL ? req->len : 0;
	msg.data = &any;
	if (req->verb != NULL) {
		ext.verb = ag_verb(req->verb);
		ext.querystring = (char *)(req->query != NULL ? req->query : "");
		msg.http_extension = &ext;
	}
	if ((call = ag_call_new(AG_INVOKE, arg)) == NULL)
		return -1;
	call->cb.invoke = cb;
	call->abandon = req->abandon;
	if (ag_pack(&msg.base, &buf, &len) != 0) {
		free(call);
		return -1;
	}
	rc = ag_send(ag, call, AG_SERVICE "OnInvoke", req->metadata, buf, len, req->timeout_ms);
	free(buf);
	return rc;
}

/* Metadata names grpc-go keeps out of what it reports as headers and trailers. */
static bool ag_reserved_answer_name(const char *name)
{
	static const char *const reserved[] = { "content-type",
						"user-agent",
						"grpc-message-type",
						"grpc-encoding",
						"grpc-message",
						"grpc-status",
						"grpc-timeout",
						"grpc-status-details-bin",
						"te" };

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

static int ag_answer_metadata(struct kv_list *out, const struct kv_list *from)
{
	for (size_t i = 0; i < from->count; i++)
		if (!ag_reserved_answer_name(from->items[i].key) &&
		    kv_set(out, from->items[i].key, from->items[i].value) != 0)
			return -1;
	return 0;
}

static void ag_invoke_done(struct ag_call *call, const struct grpc_client_response *r)
{
	struct app_grpc_invoke_result res = { .status = r->status, .message = r->message };
	struct kv_list headers = { 0 }, trailers = { 0 };
	Dapr__Proto__Common__V1__InvokeResponse *msg = NULL;
	/* A trailers-only answer (an error, mostly) came as headers that end the stream with grpc-status. */
	bool trailers_only = kv_get(r->headers, "grpc-status") != NULL;
	const struct kv_list *final = trailers_only ? r->headers : r->trailers;
	const char *details = kv_get(final, "grpc-status-details-bin");

	res.data_type_url = "";
	res.content_type = "";
	res.status_details_bin = "";
	if ((!trailers_only && ag_answer_metadata(&headers, r->headers) != 0) ||
	    ag_answer_metadata(&trailers, final) != 0) {
		res.status = GRPC_WIRE_INTERNAL;
		res.message = "out of memory reading the app's metadata";
	} else if (r->status == GRPC_WIRE_OK) {
		msg = dapr__proto__common__v1__invoke_response__unpack(NULL, r->len, r->data);
		if (msg == NULL) {
			res.status = GRPC_WIRE_INTERNAL;
			res.message =
				"the app's answer to OnInvoke is not a valid dapr.proto.common.v1.InvokeResponse";
		} else {
			if (msg->data != NULL) {
				res.data = msg->data->value.len > 0 ? msg->data->value.data : NULL;
				res.len = msg->data->value.len;
				res.data_type_url = msg->data->type_url;
			}
			res.content_type = msg->content_type;
		}
	} else if (details != NULL) {
		res.status_details_bin = details;
	}
	res.headers = &headers;
	res.trailers = &trailers;
	call->cb.invoke(call->arg, &res);
	if (msg != NULL)
		dapr__proto__common__v1__invoke_response__free_unpacked(msg, NULL);
	kv_free(&headers);
	kv_free(&trailers);
}

/* ---- ListTopicSubscriptions ---- */

int app_grpc_list_subscriptions(struct app_grpc *ag, int timeout_ms, app_grpc_subscriptions_cb cb, void *arg)
{
	struct ag_call *call;

	/* google.protobuf.Empty is zero bytes. */
	if ((call = ag_call_new(AG_SUBSCRIPTIONS, arg)) == NULL)
		return -1;
	call->cb.subscriptions = cb;
	return ag_send(ag, call, AG_SERVICE "ListTopicSubscriptions", NULL, "", 0, timeout_ms);
}

static void ag_subscriptions_done(struct ag_call *call, const struct grpc_client_response *r)
{
	struct app_grpc_subscriptions_result res = { .status = r->status, .message = r->message };
	Dapr__Proto__Runtime__V1__ListTopicSubscriptionsResponse *msg = NULL;
	struct app_grpc_subscription *subs = NULL;
	struct app_grpc_topic_rule *rules = NULL;
	struct kv_list *metas = NULL;
	size_t n = 0, n_rules = 0, used = 0;

	if (r->status == GRPC_WIRE_UNIMPLEMENTED) {
		res.status = GRPC_WIRE_OK;
		res.unimplemented = true;
		goto tell;
	}
	if (r->status != GRPC_WIRE_OK)
		goto tell;
	msg = dapr__proto__runtime__v1__list_topic_subscriptions_response__unpack(NULL, r->len, r->data);
	if (msg == NULL) {
		res.status = GRPC_WIRE_INTERNAL;
		res.message = "the app's answer to ListTopicSubscriptions is not a valid "
			      "dapr.proto.runtime.v1.ListTopicSubscriptionsResponse";
		goto tell;
	}
	n = msg->n_subscriptions;
	for (size_t i = 0; i < n; i++)
		if (msg->subscriptions[i]->routes != NULL)
			n_rules += msg->subscriptions[i]->routes->n_rules;
	subs = calloc(n ? n : 1, sizeof(*subs));
	metas = calloc(n ? n : 1, sizeof(*metas));
	rules = calloc(n_rules ? n_rules : 1, sizeof(*rules));
	if (subs == NULL || metas == NULL || rules == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const Dapr__Proto__Runtime__V1__TopicSubscription *s = msg->subscriptions[i];
		struct app_grpc_subscription *o = &subs[i];

		o->pubsub_name = s->pubsub_name;
		o->topic = s->topic;
		for (size_t j = 0; j < s->n_metadata; j++)
			if (kv_set(&metas[i], s->metadata[j]->key, s->metadata[j]->value) != 0)
				goto oom;
		o->metadata = &metas[i];
		o->default_path = "";
		if (s->routes != NULL) {
			o->has_routes = true;
			o->rules = &rules[used];
			o->n_rules = s->routes->n_rules;
			for (size_t j = 0; j < s->routes->n_rules; j++) {
				rules[used].match = s->routes->rules[j]->match;
				rules[used].path = s->routes->rules[j]->path;
				used++;
			}
			o->default_path = s->routes->default_;
		}
		o->dead_letter_topic = s->dead_letter_topic;
		if (s->bulk_subscribe != NULL) {
			o->has_bulk = true;
			o->bulk_enabled = s->bulk_subscribe->enabled;
			o->bulk_max_messages = s->bulk_subscribe->max_messages_count;
			o->bulk_max_await_ms = s->bulk_subscribe->max_await_duration_ms;
		}
	}
	res.subscriptions = subs;
	res.count = n;
	goto tell;
oom:
	res.status = GRPC_WIRE_INTERNAL;
	res.message = "out of memory reading the app's subscriptions";
tell:
	call->cb.subscriptions(call->arg, &res);
	if (metas != NULL)
		for (size_t i = 0; i < n; i++)
			kv_free(&metas[i]);
	free(metas);
	free(rules);
	free(subs);
	if (msg != NULL)
		dapr__proto__runtime__v1__list_topic_subscriptions_response__free_unpacked(msg, NULL);
}

/* ---- OnTopicEvent ---- */

#define AG_STR(s) ((char *)((s) != NULL ? (s) : ""))

int app_grpc_topic_event(struct app_grpc *ag, const struct app_grpc_topic_event *ev, app_grpc_topic_cb cb,
			 void *arg)
{
	Dapr__Proto__Runtime__V1__TopicEventRequest msg = DAPR__PROTO__RUNTIME__V1__TOPIC_EVENT_REQUEST__INIT;
	struct pb_arena arena = { 0 };
	struct ag_call *call;
	uint8_t *buf = NULL;
	size_t len;
	int rc = -1;

	msg.id = AG_STR(ev->id);
	msg.source = AG_STR(ev->source);
	msg.type = AG_STR(ev->type);
	msg.spec_version = AG_STR(ev->spec_version);
	msg.data_content_type = AG_STR(ev->data_content_type);
	msg.topic = AG_STR(ev->topic);
	msg.pubsub_name = AG_STR(ev->pubsub_name);
	msg.path = AG_STR(ev->path);
	msg.data.data = (uint8_t *)ev->data;
	msg.data.len = ev->data != NULL ? ev->len : 0;
	if (ev->extensions != NULL && (msg.extensions = pb_struct_from_json(&arena, ev->extensions)) == NULL)
		goto out;
	if ((call = ag_call_new(AG_TOPIC, arg)) == NULL)
		goto out;
	call->cb.topic = cb;
	if (ag_pack(&msg.base, &buf, &len) != 0) {
		free(call);
		goto out;
	}
	rc = ag_send(ag, call, AG_SERVICE "OnTopicEvent", ev->metadata, buf, len, ev->timeout_ms);
out:
	free(buf);
	pb_arena_free(&arena);
	return rc;
}

static void ag_topic_done(struct ag_call *call, const struct grpc_client_response *r)
{
	struct app_grpc_topic_result res = { .status = r->status, .message = r->message, .app_status = -1 };
	Dapr__Proto__Runtime__V1__TopicEventResponse *msg = NULL;
	char why[700];

	if (r->status == GRPC_WIRE_UNIMPLEMENTED) {
		/* daprd: the app does not take events at all, so retrying cannot help. */
		res.outcome = APP_GRPC_TOPIC_DROP;
		snprintf(why, sizeof(why), "the app does not implement OnTopicEvent (UNIMPLEMENTED: %s)",
			 r->message);
	} else if (r->status != GRPC_WIRE_OK) {
		res.outcome = APP_GRPC_TOPIC_RETRY;
		snprintf(why, sizeof(why), "OnTopicEvent failed with gRPC status %d: %s", r->status,
			 r->message);
	} else if ((msg = dapr__proto__runtime__v1__topic_event_response__unpack(NULL, r->len, r->data)) ==
		   NULL) {
		res.outcome = APP_GRPC_TOPIC_RETRY;
		res.status = GRPC_WIRE_INTERNAL;
		res.message =
			"the app's answer to OnTopicEvent is not a valid dapr.proto.runtime.v1.TopicEventResponse";
		snprintf(why, sizeof(why), "%s", res.message);
	} else {
		res.app_status = (int)msg->status;
		switch (res.app_status) {
		case DAPR__PROTO__RUNTIME__V1__TOPIC_EVENT_RESPONSE__TOPIC_EVENT_RESPONSE_STATUS__SUCCESS:
			res.outcome = APP_GRPC_TOPIC_SUCCESS;
			break;
		case DAPR__PROTO__RUNTIME__V1__TOPIC_EVENT_RESPONSE__TOPIC_EVENT_RESPONSE_STATUS__RETRY:
			res.outcome = APP_GRPC_TOPIC_RETRY;
			snprintf(why, sizeof(why), "the app answered RETRY");
			break;
		case DAPR__PROTO__RUNTIME__V1__TOPIC_EVENT_RESPONSE__TOPIC_EVENT_RESPONSE_STATUS__DROP:
			res.outcome = APP_GRPC_TOPIC_DROP;
			snprintf(why, sizeof(why), "the app answered DROP");
			break;
		default:
			res.outcome = APP_GRPC_TOPIC_RETRY;
			snprintf(why, sizeof(why), "the app answered an unknown status %d", res.app_status);
			break;
		}
	}
	res.reason = res.outcome == APP_GRPC_TOPIC_SUCCESS ? NULL : why;
	call->cb.topic(call->arg, &res);
	if (msg != NULL)
		dapr__proto__runtime__v1__topic_event_response__free_unpacked(msg, NULL);
}

/* ---- ListInputBindings ---- */

int app_grpc_list_bindings(struct app_grpc *ag, int timeout_ms, app_grpc_bindings_cb cb, void *arg)
{
	struct ag_call *call;

	/* google.protobuf.Empty is zero bytes. */
	if ((call = ag_call_new(AG_BINDINGS, arg)) == NULL)
		return -1;
	call->cb.bindings = cb;
	return ag_send(ag, call, AG_SERVICE "ListInputBindings", NULL, "", 0, timeout_ms);
}

static void ag_bindings_done(struct ag_call *call, const struct grpc_client_response *r)
{
	struct app_grpc_bindings_result res = { .status = r->status, .message = r->message };
	Dapr__Proto__Runtime__V1__ListInputBindingsResponse *msg = NULL;

	if (r->status == GRPC_WIRE_OK) {
		msg = dapr__proto__runtime__v1__list_input_bindings_response__unpack(NULL, r->len, r->data);
		if (msg == NULL) {
			res.status = GRPC_WIRE_INTERNAL;
			res.message = "the app's answer to ListInputBindings is not a valid "
				      "dapr.proto.runtime.v1.ListInputBindingsResponse";
		} else {
			res.names = (const char *const *)msg->bindings;
			res.count = msg->n_bindings;
		}
	}
	call->cb.bindings(call->arg, &res);
	if (msg != NULL)
		dapr__proto__runtime__v1__list_input_bindings_response__free_unpacked(msg, NULL);
}

/* ---- OnBindingEvent ---- */

int app_grpc_binding_event(struct app_grpc *ag, const struct app_grpc_binding_event *ev,
			   app_grpc_binding_cb cb, void *arg)
{
	Dapr__Proto__Runtime__V1__BindingEventRequest msg =
		DAPR__PROTO__RUNTIME__V1__BINDING_EVENT_REQUEST__INIT;
	struct pb_arena arena = { 0 };
	size_t n = ev->metadata != NULL ? ev->metadata->count : 0;
	struct ag_call *call;
	uint8_t *buf = NULL;
	size_t len;
	int rc = -1;

	msg.name = AG_STR(ev->name);
	msg.data.data = (uint8_t *)ev->data;
	msg.data.len = ev->data != NULL ? ev->len : 0;
	if (n > 0) {
		if ((msg.metadata = pb_alloc(&arena, n * sizeof(*msg.metadata))) == NULL)
			goto out;
		for (size_t i = 0; i < n; i++) {
			Dapr__Proto__Runtime__V1__BindingEventRequest__MetadataEntry *e =
				pb_alloc(&arena, sizeof(*e));

			if (e == NULL)
				goto out;
			dapr__proto__runtime__v1__binding_event_request__metadata_entry__init(e);
			e->key = (char *)ev->metadata->items[i].key;
			e->value = (char *)ev->metadata->items[i].value;
			msg.metadata[i] = e;
		}
		msg.n_metadata = n;
	}
	if ((call = ag_call_new(AG_BINDING, arg)) == NULL)
		goto out;
	call->cb.binding = cb;
	if (ag_pack(&msg.base, &buf, &len) != 0) {
		free(call);
		goto out;
	}
	rc = ag_send(ag, call, AG_SERVICE "OnBindingEvent", ev->grpc_metadata, buf, len, ev->timeout_ms);
out:
	free(buf);
	pb_arena_free(&arena);
	return rc;
}

static void ag_binding_done(struct ag_call *call, const struct grpc_client_response *r)
{
	struct app_grpc_binding_result res = { .status = r->status, .message = r->message, .store_name = "" };
	Dapr__Proto__Runtime__V1__BindingEventResponse *msg = NULL;
	struct app_grpc_state_item *states = NULL;
	struct kv_list *metas = NULL;
	size_t n = 0;

	if (r->status != GRPC_WIRE_OK)
		goto tell;
	msg = dapr__proto__runtime__v1__binding_event_response__unpack(NULL, r->len, r->data);
	if (msg == NULL) {
		res.status = GRPC_WIRE_INTERNAL;
		res.message =
			"the app's answer to OnBindingEvent is not a valid dapr.proto.runtime.v1.BindingEventResponse";
		goto tell;
	}
	res.data = msg->data.len > 0 ? msg->data.data : NULL;
	res.len = msg->data.len;
	res.to = (const char *const *)msg->to;
	res.n_to = msg->n_to;
	res.parallel = msg->concurrency ==
		       DAPR__PROTO__RUNTIME__V1__BINDING_EVENT_RESPONSE__BINDING_EVENT_CONCURRENCY__PARALLEL;
	res.store_name = msg->store_name;
	n = msg->n_states;
	states = calloc(n ? n : 1, sizeof(*states));
	metas = calloc(n ? n : 1, sizeof(*metas));
	if (states == NULL || metas == NULL) {
		res.status = GRPC_WIRE_INTERNAL;
		res.message = "out of memory reading the app's binding answer";
		goto tell;
	}
	for (size_t i = 0; i < n; i++) {
		const Dapr__Proto__Common__V1__StateItem *s = msg->states[i];

		states[i].key = s->key;
		states[i].value = s->value.data;
		states[i].len = s->value.len;
		states[i].etag = s->etag != NULL ? s->etag->value : NULL;
		for (size_t j = 0; j < s->n_metadata; j++)
			if (kv_set(&metas[i], s->metadata[j]->key, s->metadata[j]->value) != 0) {
				res.status = GRPC_WIRE_INTERNAL;
				res.message = "out of memory reading the app's binding answer";
				goto tell;
			}
		states[i].metadata = &metas[i];
		if (s->options != NULL) {
			states[i].has_options = true;
			states[i].concurrency = (int)s->options->concurrency;
			states[i].consistency = (int)s->options->consistency;
		}
	}
	res.states = states;
	res.n_states = n;
tell:
	if (res.status != GRPC_WIRE_OK) {
		/* A failed call has no answer to report. */
		res.data = NULL, res.len = 0, res.to = NULL, res.n_to = 0, res.parallel = false;
		res.store_name = "", res.states = NULL, res.n_states = 0;
	}
	call->cb.binding(call->arg, &res);
	if (metas != NULL)
		for (size_t i = 0; i < n; i++)
			kv_free(&metas[i]);
	free(metas);
	free(states);
	if (msg != NULL)
		dapr__proto__runtime__v1__binding_event_response__free_unpacked(msg, NULL);
}

/* ---- AppCallbackHealthCheck ---- */

int app_grpc_health_check(struct app_grpc *ag, int timeout_ms, app_grpc_health_cb cb, void *arg)
{
	struct ag_call *call;

	/* google.protobuf.Empty is zero bytes. */
	if ((call = ag_call_new(AG_HEALTH, arg)) == NULL)
		return -1;
	call->cb.health = cb;
	return ag_send(ag, call, AG_HEALTH_PATH, NULL, "", 0, timeout_ms);
}

static void ag_health_done(struct ag_call *call, const struct grpc_client_response *r)
{
	/* daprd reads the answer as google.protobuf.Empty: any well-formed message will do. */
	struct app_grpc_health_result res = { .status = r->status, .message = r->message };
	Dapr__Proto__Runtime__V1__HealthCheckResponse *msg = NULL;

	if (r->status == GRPC_WIRE_OK) {
		msg = dapr__proto__runtime__v1__health_check_response__unpack(NULL, r->len, r->data);
		if (msg == NULL) {
			res.status = GRPC_WIRE_INTERNAL;
			res.message = "the app's answer to HealthCheck is not a valid protobuf message";
		}
	}
	res.ok = res.status == GRPC_WIRE_OK;
	call->cb.health(call->arg, &res);
	if (msg != NULL)
		dapr__proto__runtime__v1__health_check_response__free_unpacked(msg, NULL);
}

/* ---- answers ---- */

static void ag_on_done(void *arg, const struct grpc_client_response *r)
{
	struct ag_call *call = arg;

	TAILQ_REMOVE(&call->ag->calls, call, link);
	switch (call->kind) {
	case AG_INVOKE: ag_invoke_done(call, r); break;
	case AG_SUBSCRIPTIONS: ag_subscriptions_done(call, r); break;
	case AG_TOPIC: ag_topic_done(call, r); break;
	case AG_BINDINGS: ag_bindings_done(call, r); break;
	case AG_BINDING: ag_binding_done(call, r); break;
	case AG_HEALTH: ag_health_done(call, r); break;
	}
	free(call);
}
