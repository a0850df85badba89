/* SPDX-License-Identifier: Apache-2.0 */
/* The pub/sub kind (ABI 1.2): publishing to a broker, and handing received messages to the core. */
#ifndef OUTRIG_PUBSUB_H
#define OUTRIG_PUBSUB_H

#include <stddef.h>
#include <stdint.h>

#include <outrig/host.h>
#include <outrig/metadata.h>
#include <outrig/status.h>

/* Capabilities, reported in GET /v1.0/metadata with Dapr's names. */
#define OUTRIG_PUBSUB_WILDCARDS (1u << 0)   /* "SUBSCRIBE_WILDCARDS": topics may hold + and # */
#define OUTRIG_PUBSUB_MESSAGE_TTL (1u << 1) /* "MESSAGE_TTL": the broker expires messages itself */

/*
 * One message to publish. The core has already built the payload: a CloudEvent (JSON,
 * content type application/cloudevents+json) or, with rawPayload, the caller's bytes.
 */
struct outrig_pubsub_publish {
	const char *topic;
	const void *data;
	size_t data_len;
	const char *content_type;
	/*
	 * The request's metadata (`metadata.*` query keys without the prefix, or a bulk
	 * entry's metadata merged over them), e.g. "ttlInSeconds", "retain".
	 */
	struct outrig_metadata metadata;
};

/*
 * Where a subscription's messages go: the core's, handed to subscribe() and back to
 * host->pubsub_deliver(). Valid from subscribe() until destroy() returns.
 */
struct outrig_pubsub_sink;

/* One subscription the core asks for. Several may name one topic (different routes). */
struct outrig_pubsub_subscribe {
	const char *topic; /* may hold wildcards when the plugin declares OUTRIG_PUBSUB_WILDCARDS */
	struct outrig_metadata metadata; /* the subscription's metadata (rawPayload, ...) */
	struct outrig_pubsub_sink *sink;
};

/* A message the broker delivered, as a plugin hands it to host->pubsub_deliver(). */
struct outrig_pubsub_message {
	const char *topic; /* the topic it was published to (never a wildcard) */
	const void *data;  /* the bytes as published: a CloudEvent, or a raw payload */
	size_t data_len;
	/* Broker metadata (e.g. "retained"), forwarded to the app as HTTP headers. */
	struct outrig_metadata metadata;
};

/*
 * How the core settled a message it accepted from pubsub_deliver(); passed to the
 * plugin's done callback exactly once per message.
 */
enum outrig_pubsub_outcome {
	/*
	 * The core is finished with it: the app acknowledged it, it was dropped (the app said
	 * DROP, or 404, or it expired), or it was published to the dead-letter topic.
	 * Acknowledge it to the broker and forget it.
	 */
	OUTRIG_PUBSUB_SETTLED = 0,
	/*
	 * The core stopped before the app acknowledged it. Do not acknowledge it: it must be
	 * delivered again (by the broker, or from the plugin's own store) when outrigd returns.
	 */
	OUTRIG_PUBSUB_UNSETTLED = 1,
};

/*
 * A broker. The core owns delivery to the app (routing, retries with backoff, the
 * dead-letter topic, --app-max-concurrency); the plugin's part is to publish, and to hand
 * every message of a subscription to the core and acknowledge it to the broker only once
 * the core settled it (at least once: a message the plugin gave up on must come again).
 */
struct outrig_pubsub_ops {
	uint32_t struct_size;
	uint32_t capabilities; /* OUTRIG_PUBSUB_* */

	/*
	 * Publishes one message and returns once the broker has accepted it (for MQTT: the
	 * PUBACK of QoS 1). The core answers the app 204 only after this returned 0, so
	 * returning 0 early may lose a message. OUTRIG_EUNAVAIL or OUTRIG_ETIMEDOUT when the
	 * broker is down or slow (HTTP 500, ERR_PUBSUB_PUBLISH_MESSAGE), with the cause in err.
	 * Ownership: req is the core's for the call. Thread: a worker; may block, bounded by
	 * the plugin's own timeouts.
	 */
	int (*publish)(void *instance, const struct outrig_pubsub_publish *req, struct outrig_error *err);

	/*
	 * Starts delivering the messages of req->topic to req->sink through
	 * host->pubsub_deliver(), from now until destroy(). Called once per subscription,
	 * after create() and possibly long after it (programmatic subscriptions are known
	 * only once the app is up).
	 * Ownership: req is the core's for the call; req->sink stays valid until destroy().
	 * Thread: a worker; may block (e.g. waiting for the broker's SUBACK).
	 */
	int (*subscribe)(void *instance, const struct outrig_pubsub_subscribe *req, struct outrig_error *err);
};

#endif /* OUTRIG_PUBSUB_H */
