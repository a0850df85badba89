/* SPDX-License-Identifier: Apache-2.0 */
/* Pub/sub's calls to a gRPC app (OnTopicEvent, ListTopicSubscriptions), behind app_pubsub.h's functions. */
#ifndef OUTRIG_CORE_CHANNELS_APP_PUBSUB_GRPC_H
#define OUTRIG_CORE_CHANNELS_APP_PUBSUB_GRPC_H

#include "channels/app_pubsub.h"

struct app_grpc;

/*
 * app_pubsub_deliver for a gRPC app: ev->event shaped as daprd shapes a TopicEventRequest
 * (grpc_envelope.h), the broker's metadata and the trace context as gRPC metadata; SUCCESS, RETRY
 * and DROP as app_grpc_topic_event reads the answer (a gRPC error RETRY, UNIMPLEMENTED DROP). An
 * event that cannot be shaped (data_base64 not base64) is RETRY, as daprd. Returns 0 or -1 (out of
 * memory). Thread: the loop.
 */
int app_pubsub_grpc_deliver(struct app_grpc *ag, const struct app_event *ev, struct app_event_call *call,
			    app_event_cb cb, void *arg);

/*
 * app_pubsub_list_subscriptions for a gRPC app: ListTopicSubscriptions, LISTED with r->grpc set
 * (r->doc NULL); NONE when the app does not implement it; UNREACHABLE when it could not be reached;
 * REFUSED for another gRPC error. Returns 0 or -1 (out of memory). Thread: the loop.
 */
int app_pubsub_grpc_list(struct app_grpc *ag, struct app_subscriptions_call *call, app_subscriptions_cb cb,
			 void *arg);

#endif /* OUTRIG_CORE_CHANNELS_APP_PUBSUB_GRPC_H */
