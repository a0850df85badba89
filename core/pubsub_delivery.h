/* SPDX-License-Identifier: Apache-2.0 */
/* Delivering received messages to the app: routing, retries with backoff, dead letters, settling. */
#ifndef OUTRIG_CORE_PUBSUB_DELIVERY_H
#define OUTRIG_CORE_PUBSUB_DELIVERY_H

#include <outrig/pubsub.h>

struct app_channel;
struct event_base;
struct server;
struct delivery_engine;

/*
 * An engine that delivers through app (NULL: no app, so every message is held until stop)
 * with at most max_in_flight messages between receipt and settlement at the app at once
 * (--app-max-concurrency; -1 = no limit of its own). Thread: the loop.
 */
struct delivery_engine *delivery_engine_new(struct server *srv, struct app_channel *app, int max_in_flight);

/*
 * host->pubsub_deliver: copies msg and queues it for the loop. Returns 0, OUTRIG_EUNAVAIL once
 * the engine stopped, OUTRIG_ENOMEM or OUTRIG_EINVAL. Thread: any.
 */
int delivery_accept(struct outrig_pubsub_sink *sink, const struct outrig_pubsub_message *msg,
		    void (*done)(void *done_ctx, int outcome), void *done_ctx);

/* Messages accepted and not yet settled. Thread: any. */
unsigned delivery_engine_pending(struct delivery_engine *e);

/*
 * Refuses new messages from now on (plugins may still call in until they are destroyed) and
 * settles every held one UNSETTLED. Call once the loop stopped and the workers are joined.
 * Thread: the main thread.
 */
void delivery_engine_stop(struct delivery_engine *e);

/* Frees a stopped engine, once no plugin can call delivery_accept (after components_destroy). */
void delivery_engine_free(struct delivery_engine *e);

#endif /* OUTRIG_CORE_PUBSUB_DELIVERY_H */
