/* SPDX-License-Identifier: Apache-2.0 */
/* Delivering received messages to the app: routing, retries with backoff, dead letters, settling. */
#ifndef OUTRIG_CORE_PUBSUB_DELIVERY_H
#define OUTRIG_CORE_PUBSUB_DELIVERY_H

#include <stdbool.h>

#include <outrig/pubsub.h>

struct app_pubsub;
struct event_base;
struct server;
struct delivery_engine;

/*
 * An engine that delivers through app (NULL: no app, so every message is held until stop)
 * with at most max_in_flight messages between receipt and settlement at the app at once
 * (--app-max-concurrency; -1 = no limit of its own). Thread: the loop.
 */
struct delivery_engine *delivery_engine_new(struct server *srv, struct app_pubsub *app, int max_in_flight);

/*
 * The backlog of one subscription: messages accepted and not yet settled (queued, at the app or
 * waiting for a retry), and their bytes. While either bound is reached, pubsub_deliver holds the
 * plugin's delivering thread back instead of taking more: an app that does not answer cannot make outrigd buffer
 * without bound (300 x 1 MiB took it to 933 MB). One message larger than the byte bound is still
 * taken when the backlog is empty.
 */
#define DELIVERY_SINK_MAX_MESSAGES 256
#define DELIVERY_SINK_MAX_BYTES ((size_t)16 << 20)

/* How long a plugin's publish() (a worker, e.g. the in-memory broker) may wait for room. */
#define DELIVERY_PUBLISH_WAIT_MS 2000

/*
 * host->pubsub_deliver: copies msg and queues it for the loop. While the sink's backlog is full
 * (DELIVERY_SINK_MAX_*) it waits for room on a plugin's own thread, until outrigd stops; inside
 * a plugin's publish() at most DELIVERY_PUBLISH_WAIT_MS; on the loop not at all. Returns 0,
 * OUTRIG_EUNAVAIL once the engine stopped or stops, or when no room came in that time (the
 * message was not taken), OUTRIG_ENOMEM or OUTRIG_EINVAL. Thread: any.
 */
int delivery_accept(struct outrig_pubsub_sink *sink, const struct outrig_pubsub_message *msg,
		    void (*done)(void *done_ctx, int outcome), void *done_ctx);

/*
 * Ends sink's taking of messages (a reload replaced or removed its component): from now on
 * delivery_accept refuses its messages with OUTRIG_EUNAVAIL, which tells the plugin to keep them,
 * and a plugin thread waiting for room gives up. Those already accepted go on to the app and are
 * settled as usual. Thread: the loop.
 */
void delivery_sink_close(struct outrig_pubsub_sink *sink);

/* Whether sink holds no message accepted and not yet settled. Thread: any. */
bool delivery_sink_idle(struct outrig_pubsub_sink *sink);

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
