/* SPDX-License-Identifier: Apache-2.0 */
/* Pub/sub's calls to a gRPC app (OnTopicEvent, ListTopicSubscriptions), behind app_pubsub.h's functions. */
#include "config.h"

#include "channels/app_pubsub_grpc.h"

#include <stdio.h>
#include <string.h>

#include "base/kv.h"
/* The CloudEvent's shape as a TopicEventRequest is pub/sub's rule; this file only sends it. */
#include "blocks/pubsub/grpc_envelope.h"
#include "channels/app_grpc.h"

/* gRPC's UNAVAILABLE: the app could not be reached (or dropped the connection). */
#define APG_UNAVAILABLE 14

static void apg_delivered(void *arg, const struct app_grpc_topic_result *r)
{
	struct app_event_call *c = arg;
	char why[300];

	c->code = r->app_status < 0 ? r->status : 0;
	c->grpc = true;
	switch (r->outcome) {
	case APP_GRPC_TOPIC_SUCCESS: c->cb(c->arg, APP_EVENT_SUCCESS, NULL); return;
	case APP_GRPC_TOPIC_DROP:
		snprintf(why, sizeof(why), "OnTopicEvent %s: %s", c->route,
			 r->reason != NULL ? r->reason : "DROP");
		c->cb(c->arg, APP_EVENT_DROP, why);
		return;
	case APP_GRPC_TOPIC_RETRY: break;
	}
	snprintf(why, sizeof(why), "OnTopicEvent %s: %s", c->route, r->reason != NULL ? r->reason : "RETRY");
	c->cb(c->arg, APP_EVENT_RETRY, why);
}

int app_pubsub_grpc_deliver(struct app_grpc *ag, const struct app_event *ev, struct app_event_call *call,
			    app_event_cb cb, void *arg)
{
	struct grpc_envelope env = { 0 };
	struct kv_list md = { 0 };
	char err[300], why[400];
	int rc = -1;

	call->cb = cb;
	call->arg = arg;
	call->route = ev->route;
	call->code = 0;
	call->grpc = true;
	if (grpc_envelope_from_cloudevent((json_t *)ev->event, ev->topic, ev->pubsub, ev->route, &env, err,
					  sizeof(err)) != 0) {
		/* daprd retries an event it cannot shape; told through the callback like any answer. */
		grpc_envelope_free(&env);
		snprintf(why, sizeof(why), "the event cannot be sent to a gRPC app: %s", err);
		cb(arg, APP_EVENT_RETRY, why);
		return 0;
	}
	for (size_t i = 0; ev->metadata != NULL && i < ev->metadata->count; i++)
		if (kv_set(&md, ev->metadata->items[i].key, ev->metadata->items[i].value) != 0)
			goto out;
	if ((ev->traceparent != NULL && *ev->traceparent != '\0' &&
	     kv_set(&md, "traceparent", ev->traceparent) != 0) ||
	    (ev->tracestate != NULL && *ev->tracestate != '\0' &&
	     kv_set(&md, "tracestate", ev->tracestate) != 0))
		goto out;
	env.ev.metadata = &md;
	rc = app_grpc_topic_event(ag, &env.ev, apg_delivered, call);
out:
	kv_free(&md);
	grpc_envelope_free(&env);
	return rc;
}

static void apg_listed(void *arg, const struct app_grpc_subscriptions_result *r)
{
	struct app_subscriptions_call *l = arg;
	struct app_subscriptions s = { .call = "ListTopicSubscriptions" };
	char detail[300];

	if (r->status == 0 && r->unimplemented) {
		s.outcome = APP_SUBSCRIPTIONS_NONE;
		s.detail = "the app does not implement it";
	} else if (r->status == 0) {
		s.outcome = APP_SUBSCRIPTIONS_LISTED;
		s.grpc = r;
	} else if (r->status == APG_UNAVAILABLE) {
		s.outcome = APP_SUBSCRIPTIONS_UNREACHABLE;
		s.detail = r->message;
	} else {
		s.outcome = APP_SUBSCRIPTIONS_REFUSED;
		snprintf(detail, sizeof(detail), "answered gRPC status %d: %s", r->status, r->message);
		s.detail = detail;
	}
	l->cb(l->arg, &s);
}

int app_pubsub_grpc_list(struct app_grpc *ag, struct app_subscriptions_call *call, app_subscriptions_cb cb,
			 void *arg)
{
	call->cb = cb;
	call->arg = arg;
	return app_grpc_list_subscriptions(ag, 0, apg_listed, call);
}
