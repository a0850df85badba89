/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pub/sub's calls to the app, whatever protocol the app speaks: deliver one event and learn how
 * the app took it (SUCCESS, RETRY, DROP), and ask the app for its subscriptions. The pub/sub block
 * reaches the app only through this header. Today the app speaks HTTP (API.md §2.4, §2.6); a
 * gRPC app (OnTopicEvent, ListTopicSubscriptions, §13.4) goes behind the same functions.
 */
#ifndef OUTRIG_CORE_CHANNELS_APP_PUBSUB_H
#define OUTRIG_CORE_CHANNELS_APP_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <outrig/metadata.h>

struct app_channel;
struct app_grpc;
struct app_grpc_subscriptions_result;

/*
 * Pub/sub's side of the app channel, whatever protocol the app speaks. The pub/sub block holds
 * one and never learns which protocol is behind it.
 */
struct app_pubsub;

/*
 * Pub/sub's calls to an HTTP app through ch, which stays the caller's (it must outlive the
 * result). NULL when out of memory. Thread: the loop.
 */
struct app_pubsub *app_pubsub_new_http(struct app_channel *ch);

/*
 * Pub/sub's calls to a gRPC app through ag (OnTopicEvent, ListTopicSubscriptions), which stays the
 * caller's. NULL when out of memory. Thread: the loop.
 */
struct app_pubsub *app_pubsub_new_grpc(struct app_grpc *ag);

/* Frees ap (NULL is fine); its calls still pending are never answered. Thread: the loop's thread. */
void app_pubsub_free(struct app_pubsub *ap);

/* How the app took an event. */
enum app_event_status {
	APP_EVENT_SUCCESS, /* taken: settle it */
	APP_EVENT_RETRY,   /* not taken, or no answer: deliver it again later */
	APP_EVENT_DROP,	   /* the app will never take it: dead-letter or drop it */
};

/* One event for the app. */
struct app_event {
	const char *route; /* the path the subscription's rules chose */
	const char *pubsub;
	const char *topic;
	const void *cloudevent; /* the CloudEvent as JSON text, sent as it is over HTTP */
	size_t len;
	/* The same CloudEvent parsed, for an app whose protocol carries its fields (gRPC's TopicEventRequest). */
	const json_t *event;
	const char *traceparent; /* the event's W3C trace context, or NULL / "" */
	const char *tracestate;
	const struct outrig_metadata *metadata; /* the broker's metadata of the message */
};

/*
 * Told how a delivery ended. why says, for RETRY and DROP, what the app did (a clause for logs,
 * e.g. "the app answered HTTP 500"); NULL for SUCCESS. Valid during the call. Thread: the loop.
 */
typedef void (*app_event_cb)(void *arg, enum app_event_status status, const char *why);

/*
 * A delivery in flight, in the caller's memory (a member of its own record): nothing is allocated
 * per call, so a channel freed with calls pending leaks nothing. Left alone by the caller from
 * app_pubsub_deliver until its callback ran.
 */
struct app_event_call {
	app_event_cb cb;
	void *arg;
	const char *route;
	/*
	 * Set before cb runs, for Resiliency matching: the status of a failed answer (HTTP status
	 * over HTTP, the call's gRPC status code over gRPC, grpc saying which); 0 when the failure
	 * has none (no answer, or the app asked for RETRY in a successful answer).
	 */
	int code;
	bool grpc;
};

/*
 * Delivers ev to the app, then calls cb(arg, ...) exactly once on the loop (unless the channel is
 * freed first). Over HTTP: POST {route} with the CloudEvent, the broker's metadata, pubsubname
 * and the trace context as headers; 2xx with no status, SUCCESS or an unreadable body is SUCCESS,
 * {"status":"RETRY"} RETRY, {"status":"DROP"} DROP, another status RETRY; 404 DROP (the route does
 * not exist); any other answer or none RETRY. Returns 0, or -1 when out of memory (cb is then
 * never called). Ownership: ev is copied, but for ev->route, which call keeps: it must stay valid
 * until cb runs. Thread: the loop.
 */
int app_pubsub_deliver(struct app_pubsub *ap, const struct app_event *ev, struct app_event_call *call,
		       app_event_cb cb, void *arg);

/* What the app said of its subscriptions. */
enum app_subscriptions_outcome {
	APP_SUBSCRIPTIONS_LISTED,      /* doc holds them */
	APP_SUBSCRIPTIONS_NONE,	       /* the app has none to declare (HTTP: 404) */
	APP_SUBSCRIPTIONS_REFUSED,     /* the app answered with an error */
	APP_SUBSCRIPTIONS_UNREACHABLE, /* no answer: the app may not be quite ready */
};

struct app_subscriptions {
	enum app_subscriptions_outcome outcome;
	/*
	 * LISTED by an HTTP app: the JSON array of GET /dapr/subscribe (§2.4); NULL for a gRPC app,
	 * whose answer is grpc below.
	 */
	const char *doc;
	size_t len;
	const char *call;   /* the call made, for logs: "GET /dapr/subscribe" */
	const char *detail; /* NONE, REFUSED, UNREACHABLE: what happened, e.g. "answered HTTP 500" */
	/* LISTED by a gRPC app: its ListTopicSubscriptionsResponse (subscriptions_from_grpc reads it); else NULL. */
	const struct app_grpc_subscriptions_result *grpc;
};

/* Told what the app said. Everything is valid during the call. Thread: the loop. */
typedef void (*app_subscriptions_cb)(void *arg, const struct app_subscriptions *r);

/* A listing in flight, in the caller's memory, as struct app_event_call. */
struct app_subscriptions_call {
	app_subscriptions_cb cb;
	void *arg;
};

/*
 * Asks the app for its subscriptions once, as app_id (HTTP: the dapr-app-id header), then calls
 * cb(arg, ...) exactly once on the loop (unless the channel is freed first). Returns 0, or -1 when
 * out of memory (cb is then never called). Thread: the loop.
 */
int app_pubsub_list_subscriptions(struct app_pubsub *ap, const char *app_id, struct app_subscriptions_call *call,
				  app_subscriptions_cb cb, void *arg);

/* Calls ready(arg) once the app accepts connections. Thread: the loop. */
void app_pubsub_when_ready(struct app_pubsub *ap, void (*ready)(void *arg), void *arg);

#endif /* OUTRIG_CORE_CHANNELS_APP_PUBSUB_H */
