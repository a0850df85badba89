/* SPDX-License-Identifier: Apache-2.0 */
/* Pub/sub's calls to the app over HTTP: an event delivered, its answer read as SUCCESS/RETRY/DROP; GET /dapr/subscribe. */
#include "config.h"

#include "channels/app_pubsub.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "channels/app_channel.h"
#include "channels/app_grpc.h"
#include "channels/app_pubsub_grpc.h"
#include "channels/grpc_client.h"

#define APP_SUBSCRIBE_PATH "/dapr/subscribe"

/* A gRPC app (OnTopicEvent, ListTopicSubscriptions) is another kind here, behind the same calls. */
struct app_pubsub {
	struct app_channel *http; /* an HTTP app's, or NULL */
	struct app_grpc *grpc;	  /* a gRPC app's, or NULL */
};

struct app_pubsub *app_pubsub_new_grpc(struct app_grpc *ag)
{
	struct app_pubsub *ap = calloc(1, sizeof(*ap));

	if (ap != NULL)
		ap->grpc = ag;
	return ap;
}

struct app_pubsub *app_pubsub_new_http(struct app_channel *ch)
{
	struct app_pubsub *ap = calloc(1, sizeof(*ap));

	if (ap != NULL)
		ap->http = ch;
	return ap;
}

void app_pubsub_free(struct app_pubsub *ap)
{
	free(ap);
}

/* What the app's 2xx body says, per API.md §2.6: NULL for success, else the reason to retry or drop. */
static const char *app_event_status_of(struct evhttp_request *req, bool *drop)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_t *body, *status;
	const char *s, *why = NULL;

	*drop = false;
	if (len == 0)
		return NULL;
	body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL);
	/* A body that is not a JSON object counts as success, as daprd does. */
	if (!json_is_object(body)) {
		json_decref(body);
		return NULL;
	}
	status = json_object_get(body, "status");
	s = json_string_value(status);
	if (status == NULL || json_is_null(status) ||
	    (s != NULL && (*s == '\0' || strcasecmp(s, "SUCCESS") == 0)))
		why = NULL;
	else if (s != NULL && strcasecmp(s, "RETRY") == 0)
		why = "the app answered RETRY";
	else if (s != NULL && strcasecmp(s, "DROP") == 0)
		*drop = true, why = "the app answered DROP";
	else
		why = "the app answered an unknown status";
	json_decref(body);
	return why;
}

static void app_event_answered(void *arg, const struct app_response *r)
{
	struct app_event_call *d = arg;
	char why[300];
	bool drop;

	d->code = r->status < 200 || r->status > 299 ? r->status : 0;
	d->grpc = false;
	if (r->status == 0) {
		snprintf(why, sizeof(why), "%s", r->error);
		d->cb(d->arg, APP_EVENT_RETRY, why);
	} else if (r->status == 404) {
		/* daprd: the route does not exist, so retrying cannot help. */
		snprintf(why, sizeof(why), "the app answered 404 for %s", d->route);
		d->cb(d->arg, APP_EVENT_DROP, why);
	} else if (r->status < 200 || r->status > 299) {
		snprintf(why, sizeof(why), "the app answered HTTP %d", r->status);
		d->cb(d->arg, APP_EVENT_RETRY, why);
	} else {
		const char *reason = app_event_status_of(r->req, &drop);

		if (reason == NULL)
			d->cb(d->arg, APP_EVENT_SUCCESS, NULL);
		else
			d->cb(d->arg, drop ? APP_EVENT_DROP : APP_EVENT_RETRY, reason);
	}
}

int app_pubsub_deliver(struct app_pubsub *ap, const struct app_event *ev, struct app_event_call *call,
		       app_event_cb cb, void *arg)
{
	struct evkeyvalq headers;
	int rc;

	if (ap->grpc != NULL)
		return app_pubsub_grpc_deliver(ap->grpc, ev, call, cb, arg);
	call->cb = cb;
	call->arg = arg;
	call->route = ev->route;
	/* The broker's metadata goes to the app as headers; a value evhttp cannot send is left out. */
	TAILQ_INIT(&headers);
	for (size_t i = 0; ev->metadata != NULL && i < ev->metadata->count; i++)
		evhttp_add_header(&headers, ev->metadata->items[i].key, ev->metadata->items[i].value);
	evhttp_add_header(&headers, "pubsubname", ev->pubsub);
	if (ev->traceparent != NULL && ev->traceparent[0] != '\0')
		evhttp_add_header(&headers, "traceparent", ev->traceparent);
	if (ev->tracestate != NULL && ev->tracestate[0] != '\0')
		evhttp_add_header(&headers, "tracestate", ev->tracestate);
	rc = app_channel_send(ap->http, EVHTTP_REQ_POST, ev->route, &headers, "application/cloudevents+json",
			      ev->cloudevent, ev->len, app_event_answered, call);
	evhttp_clear_headers(&headers);
	return rc;
}

/* ---- GET /dapr/subscribe ---- */

static void app_subscriptions_answered(void *arg, const struct app_response *r)
{
	struct app_subscriptions_call *l = arg;
	struct app_subscriptions s = { .call = "GET " APP_SUBSCRIBE_PATH };
	char detail[300];

	if (r->status == 200) {
		struct evbuffer *in = evhttp_request_get_input_buffer(r->req);

		s.outcome = APP_SUBSCRIPTIONS_LISTED;
		s.len = evbuffer_get_length(in);
		s.doc = s.len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	} else if (r->status == 404) {
		s.outcome = APP_SUBSCRIPTIONS_NONE;
		s.detail = "404";
	} else if (r->status != 0) {
		s.outcome = APP_SUBSCRIPTIONS_REFUSED;
		snprintf(detail, sizeof(detail), "answered HTTP %d", r->status);
		s.detail = detail;
	} else {
		s.outcome = APP_SUBSCRIPTIONS_UNREACHABLE;
		s.detail = r->error != NULL ? r->error : "no answer";
	}
	l->cb(l->arg, &s);
}

int app_pubsub_list_subscriptions(struct app_pubsub *ap, const char *app_id, struct app_subscriptions_call *call,
				  app_subscriptions_cb cb, void *arg)
{
	struct evkeyvalq headers;
	int rc;

	if (ap->grpc != NULL)
		return app_pubsub_grpc_list(ap->grpc, call, cb, arg);
	call->cb = cb;
	call->arg = arg;
	TAILQ_INIT(&headers);
	evhttp_add_header(&headers, "dapr-app-id", app_id != NULL ? app_id : "");
	rc = app_channel_send(ap->http, EVHTTP_REQ_GET, APP_SUBSCRIBE_PATH, &headers, "application/json", NULL, 0,
			      app_subscriptions_answered, call);
	evhttp_clear_headers(&headers);
	return rc;
}

void app_pubsub_when_ready(struct app_pubsub *ap, void (*ready)(void *arg), void *arg)
{
	if (ap->grpc != NULL)
		grpc_client_wait_ready(app_grpc_client(ap->grpc), ready, arg);
	else
		app_channel_wait_ready(ap->http, ready, arg);
}
