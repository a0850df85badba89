/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A gRPC app's AppCallback and AppCallbackHealthCheck services as plain C calls on the loop: each
 * takes a request struct and finishes through one callback with a result struct. No protobuf type
 * crosses this header; the messages are built and read in app_grpc.c.
 */
#ifndef OUTRIG_CORE_APP_GRPC_H
#define OUTRIG_CORE_APP_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/kv.h"

struct event_base;
struct grpc_client;
struct app_grpc;

/*
 * The app at host:port, called through a grpc_client of its own (max_concurrency and timeout_s as
 * grpc_client_new takes them). api_token (APP_API_TOKEN; NULL or "" for none) goes with every
 * call as dapr-api-token metadata, as daprd sends it. Returns NULL when out of memory.
 * Ownership: api_token is copied. Thread: the event loop.
 */
struct app_grpc *app_grpc_new(struct event_base *base, const char *host, int port, int max_concurrency,
			      int timeout_s, const char *api_token);

/*
 * The client underneath, for grpc_client_set_limits, grpc_client_wait_ready, grpc_client_busy
 * and grpc_client_address. Ownership: app_grpc's; never free it.
 */
struct grpc_client *app_grpc_client(struct app_grpc *ag);

/* Stops every call: callbacks still pending are never called. Fine with NULL. Thread: the event loop. */
void app_grpc_free(struct app_grpc *ag);

/* ---- OnInvoke ---- */

struct app_grpc_invoke_request {
	const char *method; /* InvokeRequest.method: the path after /method/ */
	/* HTTP method name, any case ("GET", "patch"; one it does not know is POST, as daprd); NULL: no HTTPExtension. */
	const char *verb;
	const char *query;	  /* HTTPExtension.querystring, without '?'; NULL for none */
	const char *content_type; /* NULL for none */
	const void *data;	  /* InvokeRequest.data.value */
	size_t len;
	const char *data_type_url; /* InvokeRequest.data.type_url, as a gRPC caller set it; NULL for none */
	/*
	 * gRPC metadata for the call (app_grpc_metadata_from_http makes them from an HTTP caller's
	 * headers). Names are lowercased; what cannot go on the wire is left out (grpc-go drops or
	 * refuses it too): names the client sets itself (content-type, user-agent, te, grpc-timeout,
	 * grpc-status...), content-length, names or values outside printable ASCII, "-bin" values
	 * that are not base64. With an app
	 * token, dapr-api-token is the token, whatever the caller sent. NULL for none.
	 */
	const struct kv_list *metadata;
	int timeout_ms; /* > 0: the call's deadline; 0: the client's timeout_s */
	/*
	 * Told instead of the callback when the channel is freed before the app answered (outrigd
	 * stopping), so the caller can free what it keeps for the call; NULL: nothing to tell.
	 */
	void (*abandon)(void *arg);
};

struct app_grpc_invoke_result {
	/*
	 * The gRPC status: the app's, or the client's own when the app was not reached or its answer
	 * was broken or too large (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL;
	 * grpc_client.h says when). daprd hands either on to the caller the same way.
	 */
	int status;
	const char *message; /* grpc-message, or the client's reason; "" when none */
	/* InvokeResponse.data.value (NULL, len 0, when the app sent no data) and .type_url ("" when none). */
	const void *data;
	size_t len;
	const char *data_type_url;
	const char *content_type; /* InvokeResponse.content_type; "" when none */
	/*
	 * The app's initial metadata (empty for a trailers-only answer, as grpc-go reports it) and its
	 * trailing metadata; grpc-status and grpc-message are left out of the trailers.
	 */
	const struct kv_list *headers;
	const struct kv_list *trailers;
	/* grpc-status-details-bin of a failed call (base64 of google.rpc.Status), for a gRPC caller; "" when none. */
	const char *status_details_bin;
};

typedef void (*app_grpc_invoke_cb)(void *arg, const struct app_grpc_invoke_result *r);

/*
 * Calls AppCallback/OnInvoke. cb(arg, r) is called exactly once, from the loop and never from
 * within this function, unless ag is freed first; r and everything it points to is valid during
 * the callback only. Returns 0, or -1 when out of memory (cb is then never called).
 * Ownership: everything in req is copied. Thread: the event loop.
 */
int app_grpc_invoke(struct app_grpc *ag, const struct app_grpc_invoke_request *req, app_grpc_invoke_cb cb,
		    void *arg);

/* ---- ListTopicSubscriptions ---- */

struct app_grpc_topic_rule {
	const char *match; /* a CEL expression; "" for none */
	const char *path;
};

struct app_grpc_subscription {
	const char *pubsub_name;
	const char *topic;
	const struct kv_list *metadata;
	/* routes.rules in order, then routes.default ("" for none); has_routes false when routes was absent. */
	bool has_routes;
	const struct app_grpc_topic_rule *rules;
	size_t n_rules;
	const char *default_path;
	const char *dead_letter_topic; /* "" for none */
	/* bulk_subscribe, when the app sent one. */
	bool has_bulk;
	bool bulk_enabled;
	int32_t bulk_max_messages;
	int32_t bulk_max_await_ms;
};

struct app_grpc_subscriptions_result {
	/*
	 * OK with the list; or the failure. An app that does not implement ListTopicSubscriptions
	 * (UNIMPLEMENTED) has no subscriptions: status is then OK, the list empty and unimplemented
	 * true, as daprd treats it.
	 */
	int status;
	const char *message;
	bool unimplemented;
	const struct app_grpc_subscription *subscriptions;
	size_t count;
};

typedef void (*app_grpc_subscriptions_cb)(void *arg, const struct app_grpc_subscriptions_result *r);

/* Calls AppCallback/ListTopicSubscriptions; as app_grpc_invoke for cb, the result and the return value. */
int app_grpc_list_subscriptions(struct app_grpc *ag, int timeout_ms, app_grpc_subscriptions_cb cb, void *arg);

/* ---- OnTopicEvent ---- */

struct app_grpc_topic_event {
	/* TopicEventRequest's fields; NULL for "". */
	const char *id;
	const char *source;
	const char *type;
	const char *spec_version;
	const char *data_content_type;
	const char *topic;
	const char *pubsub_name;
	const char *path; /* the route the subscription chose */
	const void *data;
	size_t len;
	/* The CloudEvent's other attributes, a JSON object sent as google.protobuf.Struct; NULL for none. */
	json_t *extensions;
	/* The message's metadata, sent as gRPC metadata (content-type and content-length left out). NULL for none. */
	const struct kv_list *metadata;
	int timeout_ms;
};

/* What a delivery does with the event. */
enum app_grpc_topic_outcome {
	APP_GRPC_TOPIC_SUCCESS, /* settled */
	APP_GRPC_TOPIC_RETRY,	/* delivered again later */
	APP_GRPC_TOPIC_DROP,	/* given up (dead-letter topic, if any) */
};

struct app_grpc_topic_result {
	enum app_grpc_topic_outcome outcome;
	/*
	 * Why, for RETRY and DROP; NULL for SUCCESS. As daprd: RETRY for RETRY, for a status value
	 * it does not know and for any gRPC error but UNIMPLEMENTED; DROP for DROP and for
	 * UNIMPLEMENTED (retrying cannot help).
	 */
	const char *reason;
	int status; /* the call's gRPC status */
	const char *message;
	int app_status; /* TopicEventResponse.status as the app sent it; -1 when the call failed */
};

typedef void (*app_grpc_topic_cb)(void *arg, const struct app_grpc_topic_result *r);

/* Calls AppCallback/OnTopicEvent; as app_grpc_invoke for cb, the result and the return value. */
int app_grpc_topic_event(struct app_grpc *ag, const struct app_grpc_topic_event *ev, app_grpc_topic_cb cb,
			 void *arg);

/* ---- ListInputBindings ---- */

struct app_grpc_bindings_result {
	/*
	 * OK with the names, or the failure. daprd takes a failure for an empty list (the app
	 * subscribes to no binding); the caller decides, and may log message.
	 */
	int status;
	const char *message;
	const char *const *names;
	size_t count;
};

typedef void (*app_grpc_bindings_cb)(void *arg, const struct app_grpc_bindings_result *r);

/* Calls AppCallback/ListInputBindings; as app_grpc_invoke for cb, the result and the return value. */
int app_grpc_list_bindings(struct app_grpc *ag, int timeout_ms, app_grpc_bindings_cb cb, void *arg);

/* ---- OnBindingEvent ---- */

struct app_grpc_binding_event {
	const char *name;
	const void *data;
	size_t len;
	/* BindingEventRequest.metadata (a field of the message, not gRPC metadata); NULL for none. */
	const struct kv_list *metadata;
	/* gRPC metadata (trace headers); NULL for none. */
	const struct kv_list *grpc_metadata;
	int timeout_ms;
};

/* common.v1.StateOptions' enums, by their wire values. */
enum app_grpc_concurrency {
	APP_GRPC_CONCURRENCY_UNSPECIFIED = 0,
	APP_GRPC_CONCURRENCY_FIRST_WRITE = 1,
	APP_GRPC_CONCURRENCY_LAST_WRITE = 2,
};
enum app_grpc_consistency {
	APP_GRPC_CONSISTENCY_UNSPECIFIED = 0,
	APP_GRPC_CONSISTENCY_EVENTUAL = 1,
	APP_GRPC_CONSISTENCY_STRONG = 2,
};

struct app_grpc_state_item {
	const char *key;
	const void *value;
	size_t len;
	const char *etag; /* NULL when the item has none */
	const struct kv_list *metadata;
	bool has_options;
	int concurrency; /* enum app_grpc_concurrency, or another value the app sent */
	int consistency; /* enum app_grpc_consistency, or another value */
};

struct app_grpc_binding_result {
	/* OK, or the failure (daprd: "error invoking app"; the event is not acknowledged). */
	int status;
	const char *message;
	/* BindingEventResponse: data (NULL when empty), to, concurrency, store_name and states. */
	const void *data;
	size_t len;
	const char *const *to;
	size_t n_to;
	bool parallel; /* concurrency PARALLEL; SEQUENTIAL (or any other value) otherwise */
	const char *store_name;
	const struct app_grpc_state_item *states;
	size_t n_states;
};

typedef void (*app_grpc_binding_cb)(void *arg, const struct app_grpc_binding_result *r);

/* Calls AppCallback/OnBindingEvent; as app_grpc_invoke for cb, the result and the return value. */
int app_grpc_binding_event(struct app_grpc *ag, const struct app_grpc_binding_event *ev,
			   app_grpc_binding_cb cb, void *arg);

/* ---- AppCallbackHealthCheck ---- */

struct app_grpc_health_result {
	bool ok; /* the app answered HealthCheck with OK */
	int status;
	const char *message;
};

typedef void (*app_grpc_health_cb)(void *arg, const struct app_grpc_health_result *r);

/* Calls AppCallbackHealthCheck/HealthCheck; as app_grpc_invoke for cb, the result and the return value. */
int app_grpc_health_check(struct app_grpc *ag, int timeout_ms, app_grpc_health_cb cb, void *arg);

#endif /* OUTRIG_CORE_APP_GRPC_H */
