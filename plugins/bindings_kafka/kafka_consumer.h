/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer of a Kafka component: a group member on its own thread, committing only what the core settled. */
#ifndef OUTRIG_KAFKA_CONSUMER_H
#define OUTRIG_KAFKA_CONSUMER_H

#include <outrig/plugin.h>

#include "kafka_options.h"

struct kf_consumer;

/*
 * A consumer in o->group (which must be set) that delivers nothing until kf_consumer_add().
 * Returns 0, or OUTRIG_EINVAL / OUTRIG_ENOMEM / OUTRIG_EINTERNAL with err set.
 * Ownership: *out is the caller's, freed with kf_consumer_free(); o must outlive it.
 * Thread: create(), start_input() or subscribe().
 */
int kf_consumer_new(const struct kf_options *o, const struct outrig_host *host, struct outrig_handle *self,
		    struct kf_consumer **out, struct outrig_error *err);

/*
 * Hands every message of topic to sink from now on (host->pubsub_deliver for a pubsub.kafka, else
 * host->binding_deliver) and joins the group for it, starting the consumer's thread on first use.
 * A message goes to every sink of its topic and is committed once all of them settled it, and
 * every earlier message of its partition too.
 * Ownership: topic is copied; sink is the core's and must stay valid until kf_consumer_free().
 * Thread: a worker.
 */
int kf_consumer_add(struct kf_consumer *c, const char *topic, void *sink, struct outrig_error *err);

/*
 * Commits what was settled (waiting a bounded time), leaves the group and frees c. Call it only
 * after every accepted message had its done() (the core guarantees it before destroy()).
 * Thread: destroy().
 */
void kf_consumer_free(struct kf_consumer *c);

#endif /* OUTRIG_KAFKA_CONSUMER_H */
