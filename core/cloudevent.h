/* SPDX-License-Identifier: Apache-2.0 */
/* The CloudEvents 1.0 envelope daprd puts around published data (API.md §2.2), and its checks on delivery. */
#ifndef OUTRIG_CORE_CLOUDEVENT_H
#define OUTRIG_CORE_CLOUDEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <outrig/metadata.h>

/* What one published event is made from. */
struct cloudevent_input {
	const char *pubsub; /* the component's name */
	const char *topic;
	const char *app_id;	  /* the publisher's; "" gives source "Dapr" */
	const char *content_type; /* the request's Content-Type; NULL or "" means text/plain */
	const void *data;
	size_t data_len;
	/* Request metadata without the "metadata." prefix: cloudevent.id, ttlInSeconds, ... */
	const struct outrig_metadata *metadata;
	const char *traceparent; /* the request's W3C headers, or NULL */
	const char *tracestate;
	int64_t now_unix_ms;
};

/*
 * Builds the envelope: wraps data, or augments it when content_type is
 * application/cloudevents+json (§2.2). NULL when that cannot be done, with err saying why
 * (the caller answers 400 ERR_PUBSUB_EVENTS_SER or 500 ERR_PUBSUB_CLOUD_EVENTS_SER as
 * *bad_request says).
 * Ownership: the caller decrefs the result. Thread: any.
 */
json_t *cloudevent_build(const struct cloudevent_input *in, bool *bad_request, char *err, size_t errlen);

/*
 * The envelope daprd makes for a raw (rawPayload) message on delivery (§2.6): a new id,
 * source "Dapr", datacontenttype application/octet-stream and the bytes as data_base64.
 * Ownership: the caller decrefs the result. Thread: any.
 */
json_t *cloudevent_wrap_raw(const char *pubsub, const char *topic, const void *data, size_t len);

/* True when the event has an `expiration` (RFC 3339) at or before now_unix_ms. Thread: any. */
bool cloudevent_expired(const json_t *event, int64_t now_unix_ms);

/* A new random UUIDv4 as text, into buf (at least 37 bytes). Thread: any. */
void cloudevent_uuid(char *buf);

#endif /* OUTRIG_CORE_CLOUDEVENT_H */
