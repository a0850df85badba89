/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pub/sub building block's publish operations, free of any transport (API.md §2.1-2.3): the
 * component lookup and its failure rules, metadata rules (rawPayload, ttlInSeconds), CloudEvent
 * shaping, topic scopes and the publishes through the plugin. The HTTP and gRPC front ends only
 * decode their request into a struct pubsub_request and encode what the completion reports.
 */
#ifndef OUTRIG_CORE_BLOCKS_PUBSUB_H
#define OUTRIG_CORE_BLOCKS_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>

#include "base/kv.h"
#include "blocks/errors.h"

struct server;

/* The content type of an event published without one. */
#define PUBSUB_DEFAULT_CONTENT_TYPE "text/plain"

/* One event to publish: a single publish is one entry, a bulk publish many. */
struct pubsub_entry {
	const char *entry_id; /* bulk: a unique, non-empty id; single: NULL */
	const void *data;     /* the event as the client sent it */
	size_t len;
	const char *content_type;	/* NULL or "": PUBSUB_DEFAULT_CONTENT_TYPE */
	const struct kv_list *metadata; /* the entry's own (bulk), over the request's; NULL: none */
};

struct pubsub_request {
	const char *pubsub;
	const char *topic;
	/* The request's metadata (HTTP metadata.* query parameters, gRPC's metadata map), or NULL. */
	const struct kv_list *metadata;
	const char *traceparent; /* the caller's W3C trace context, or NULL */
	const char *tracestate;
	const struct pubsub_entry *entries;
	size_t count; /* exactly 1 unless bulk */
	bool bulk;
	/*
	 * Optional: asked between slices of a big bulk's preparation; false (the client went away)
	 * stops it before anything is published. Thread: the loop.
	 */
	bool (*alive)(void *arg);
};

/* A bulk entry the broker did not take. */
struct pubsub_failed_entry {
	const char *entry_id;
	int rc;		   /* a negative OUTRIG_E* code */
	const char *error; /* why, a sentence (UTF-8 is not guaranteed: it may quote the broker) */
};

/*
 * How a publish ended. err is NULL when the request was carried out; else it was refused or
 * (single publish) the broker failed, and nothing more is said. A bulk's broker failures are
 * not an error: failed lists the entries that were not published (nfailed 0: all were).
 * Everything is valid during the call only. Thread: the loop.
 */
typedef void (*pubsub_done_fn)(void *arg, const struct block_error *err,
			       const struct pubsub_failed_entry *failed, size_t nfailed);

/*
 * Checks the target of a publish in daprd's order: a pub/sub is configured at all, the name
 * is not empty and names a pub/sub component, the topic is not empty, and the topic and
 * tracestate are UTF-8. Returns 0, or -1 with err filled. pubsub_publish checks the same; a
 * front end calls this first when it must refuse a bad target before reading the body.
 * Thread: the loop.
 */
int pubsub_check_target(struct server *srv, const char *pubsub, const char *topic, const char *tracestate,
			struct block_error *err);

/*
 * The checks of a request that need none of its events' data, in daprd's order: the target, the
 * content types, and for a bulk the size of the request's metadata once copied into every entry
 * and the entry ids (present, unique). Returns 0, or -1 with err filled. pubsub_publish checks the
 * same; a front end that decodes the events in a second pass calls this in between.
 * Thread: the loop.
 */
int pubsub_check_request(struct server *srv, const struct pubsub_request *req, struct block_error *err);

/*
 * Publishes req's entries: checks the target, the entries (ids, content types, metadata), makes
 * each one's CloudEvent (or takes it as it is with rawPayload), checks the topic's scopes, then
 * publishes every entry through the component on its lane. A big bulk is prepared and queued in
 * slices, so that the loop serves other requests in between. done(arg, ...) is called exactly
 * once on the loop, possibly before pubsub_publish returns.
 * Ownership: req and everything it points to is copied; the caller may free it on return.
 * Thread: the loop.
 */
void pubsub_publish(struct server *srv, const struct pubsub_request *req, pubsub_done_fn done, void *arg);

#endif /* OUTRIG_CORE_BLOCKS_PUBSUB_H */
