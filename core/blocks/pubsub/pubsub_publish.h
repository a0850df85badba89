/* SPDX-License-Identifier: Apache-2.0 */
/* Publishing through a pub/sub plugin off the event loop, for the publish API and the dead-letter path. */
#ifndef OUTRIG_CORE_PUBSUB_PUBLISH_H
#define OUTRIG_CORE_PUBSUB_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include <outrig/metadata.h>

struct component;
struct server;

/*
 * Told how a publish ended: rc 0 once the broker accepted the message, else a negative
 * OUTRIG_E* code with error (a sentence naming the cause; valid during the call).
 * Thread: the event loop.
 */
typedef void (*pubsub_publish_cb)(void *arg, int rc, const char *error);

/*
 * Publishes data to topic through c (a pub/sub component) on a worker thread, on c's lane,
 * then calls cb(arg, ...) on the loop. topic, data, content_type and md are copied.
 * Returns 0, or -1 when out of memory (cb is then never called).
 * Thread: the event loop.
 */
int pubsub_publish_submit(struct server *srv, struct component *c, const char *topic, const void *data,
			  size_t len, const char *content_type, const struct outrig_metadata *md,
			  pubsub_publish_cb cb, void *arg);

/*
 * Whether the calling thread is inside a plugin's publish() (a worker running a publish, e.g. the
 * in-memory broker handing the message straight to its subscriptions). Thread: any.
 */
bool pubsub_publish_in_call(void);

#endif /* OUTRIG_CORE_PUBSUB_PUBLISH_H */
