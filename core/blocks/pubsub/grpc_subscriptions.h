/* SPDX-License-Identifier: Apache-2.0 */
/* Subscriptions a gRPC app lists (ListTopicSubscriptions), as the model subscriptions.h keeps for every other kind. */
#ifndef OUTRIG_CORE_BLOCKS_PUBSUB_GRPC_SUBSCRIPTIONS_H
#define OUTRIG_CORE_BLOCKS_PUBSUB_GRPC_SUBSCRIPTIONS_H

#include <stddef.h>

#include "base/diag.h"
#include "blocks/pubsub/subscriptions.h"
#include "channels/app_grpc.h"

/*
 * Appends the subscriptions of a successful ListTopicSubscriptions answer r to out, as daprd reads
 * them: routes.rules in order, then routes.default as a rule matching every event; without
 * routes (or with neither rules nor default), one route "" that matches every event. Paths are
 * kept as the app wrote them (they go back to it in TopicEventRequest.path). An element that
 * names no pub/sub or topic, or whose rule is outside the supported CEL, is left out with an
 * error in d naming its index, pub/sub and topic, the field and what to do; bulk_subscribe is
 * accepted and ignored with a warning, as subscriptions_parse_app does. Returns the number of
 * errors added. Ownership: out owns what is appended. Thread: any.
 */
size_t subscriptions_from_grpc(const struct app_grpc_subscriptions_result *r, struct sub_list *out,
			       struct diag *d);

#endif /* OUTRIG_CORE_BLOCKS_PUBSUB_GRPC_SUBSCRIPTIONS_H */
