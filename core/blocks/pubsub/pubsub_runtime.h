/* SPDX-License-Identifier: Apache-2.0 */
/* The pub/sub side of a running sidecar: which subscriptions exist, and bringing them up once the app is. */
#ifndef OUTRIG_CORE_PUBSUB_RUNTIME_H
#define OUTRIG_CORE_PUBSUB_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "blocks/pubsub/subscriptions.h"
#include "base/workers.h"
#include "channels/app_pubsub.h"

struct component;
struct delivery_engine;
struct res_set;
struct retry_policy;
struct server;
struct event;

/*
 * A subscription made live on one pub/sub component: what the SDK calls a sink. Plugins hold
 * a pointer to it from subscribe() until their destroy().
 */
struct outrig_pubsub_sink {
	struct pubsub_runtime *rt;
	struct component *component;
	const struct subscription *sub;	  /* points into rt->subs */
	const struct retry_policy *retry; /* the component's inbound retry policy, or NULL */
	bool active;			  /* the plugin's subscribe() succeeded (loop thread) */
	bool closed;			  /* a reload ended it (under the engine's backlog lock) */
	struct work work;		  /* runs subscribe() on a worker */
	int subscribe_rc;		  /* what subscribe() returned (worker, then read on the loop) */
	char error[512];		  /* why subscribe() failed */

	/* The backlog (see DELIVERY_SINK_MAX_*), under the delivery engine's backlog lock. */
	unsigned backlog;
	size_t backlog_bytes;
	/* Failed deliveries are logged at most once per interval (loop thread). */
	int64_t warned_ms;
	unsigned unlogged;
};

struct pubsub_runtime {
	struct server *srv;
	struct sub_list subs; /* declarative, then programmatic */
	struct outrig_pubsub_sink **sinks;
	size_t nsinks;
	/* Sinks a reload ended, until their component is destroyed (its plugin holds them until then). */
	struct outrig_pubsub_sink **retired;
	size_t nretired;
	bool app_ready; /* the app listens: its subscriptions were asked for, or none was needed */
	bool listed;	/* the subscriptions were made (runtime_subscribe_all ran) */
	bool unasked;	/* the app came up while there was no pub/sub component to subscribe to */
	struct app_pubsub *app; /* the app, whatever its protocol; NULL without one */
	struct delivery_engine *engine;
	/* Each pub/sub component's inbound retry policy from Resiliency files, copied at start. */
	struct pubsub_retry *retries;
	size_t nretries;
	unsigned subscribe_attempts; /* GET /dapr/subscribe tries so far */
	struct app_subscriptions_call listing; /* the try in flight */
	struct event *subscribe_timer;
};

/*
 * Sets up pub/sub for srv: takes the declarative subscriptions out of rs and copies the retry
 * policies it needs (rs may be freed afterwards), opens the
 * app channel when there is an --app-port, and once the app listens asks it for its
 * subscriptions and subscribes every one. Returns 0 or -1 (out of memory). Thread: the loop.
 */
int pubsub_runtime_start(struct pubsub_runtime *rt, struct server *srv, struct res_set *rs);

/*
 * After a reload put a new set of components in service (before[] is the set it replaced):
 * the subscriptions of each pub/sub instance no longer served end (delivery_sink_close: the plugin
 * keeps what it has not handed over; what it has goes on to the app and is settled on that
 * instance), and every subscription that names a new or re-made pub/sub component is made on it.
 * A removed component's subscriptions end with a log line each. Returns 0, or -1 when out of
 * memory. Thread: the loop.
 */
int pubsub_runtime_reload(struct pubsub_runtime *rt, struct component *const *before, size_t nbefore);

/*
 * Whether subscriptions a reload ended still hold messages of c not yet settled, or a subscribe()
 * of c is still in flight: c must not be destroyed yet. Thread: the loop.
 */
bool pubsub_runtime_busy(const struct pubsub_runtime *rt, const struct component *c);

/* Frees the ended subscriptions of c, once c is destroyed. Thread: the loop, or the main thread at exit. */
void pubsub_runtime_release(struct pubsub_runtime *rt, const struct component *c);

/* Subscriptions as GET /v1.0/metadata lists them (a new JSON array). Thread: the loop. */
json_t *pubsub_runtime_describe(const struct pubsub_runtime *rt);

/*
 * Stops delivering: every message not yet settled is handed back UNSETTLED, and plugins are
 * told no more. Call after the loop has stopped and the workers are joined, before the
 * components are destroyed. Thread: the main thread.
 */
void pubsub_runtime_stop(struct pubsub_runtime *rt);

/* Frees what start made, once the components (which hold sinks) are destroyed. Thread: the main thread. */
void pubsub_runtime_free(struct pubsub_runtime *rt);

#endif /* OUTRIG_CORE_PUBSUB_RUNTIME_H */
