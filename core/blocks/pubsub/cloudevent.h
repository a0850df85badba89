/* SPDX-License-Identifier: Apache-2.0 */
/* The CloudEvents 1.0 envelope daprd puts around published data (API.md §2.2), and its checks on delivery. */
#ifndef OUTRIG_CORE_CLOUDEVENT_H
#define OUTRIG_CORE_CLOUDEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <outrig/metadata.h>

/* What a Content-Type makes of a body in an envelope (§2.2); only the media type counts. */
enum cloudevent_kind {
	CLOUDEVENT_TEXT,     /* anything else: data is the body as a JSON string */
	CLOUDEVENT_JSON,     /* application/json (not +json types): data is the body's JSON value */
	CLOUDEVENT_BINARY,   /* application/octet-stream, cloudevents+protobuf, x-protobuf: data_base64 */
	CLOUDEVENT_ENVELOPE, /* application/cloudevents+json: the body is the envelope, augmented */
};

/* The kind of a Content-Type, matched case-insensitively, parameters ignored. Thread: any. */
enum cloudevent_kind cloudevent_kind_of(const char *content_type);

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
	/* The broker expires messages itself (OUTRIG_PUBSUB_MESSAGE_TTL): no `expiration` field. */
	bool broker_ttl;
};

/*
 * Builds the envelope: wraps data, or augments it when content_type is
 * application/cloudevents+json (§2.2). NULL when that cannot be done, with err saying why:
 * *bad_request true means the request's metadata is wrong (400 ERR_PUBSUB_REQUEST_METADATA,
 * e.g. ttlInSeconds "soon"), false that the body cannot be made a CloudEvent (500
 * ERR_PUBSUB_CLOUD_EVENTS_SER, e.g. a cloudevents+json body that is not a JSON object).
 * JSON data is held as jansson values: integers beyond int64 become doubles; use
 * cloudevent_build_text to publish the body's digits unchanged.
 * Ownership: the caller decrefs the result. Thread: any.
 */
json_t *cloudevent_build(const struct cloudevent_input *in, bool *bad_request, char *err, size_t errlen);

/*
 * cloudevent_build, serialised as the bytes to publish. For application/json data the
 * body's own text becomes "data", so numbers keep every digit (jansson would turn 0.1 into
 * 0.10000000000000001 and cannot hold 2^64). NULL as cloudevent_build, or out of memory
 * (*bad_request false, err says so).
 * Ownership: the caller frees the result. Thread: any.
 */
char *cloudevent_build_text(const struct cloudevent_input *in, size_t *len, bool *bad_request, char *err,
			    size_t errlen);

/*
 * Reads metadata ttlInSeconds as daprd does: absent or "" is no TTL (returns 0); a decimal
 * integer above zero sets *seconds (returns 1); anything else (not an integer, zero or
 * negative) returns -1 with err saying why. Thread: any.
 */
int cloudevent_ttl(const struct outrig_metadata *md, int64_t *seconds, char *err, size_t errlen);

/*
 * Parses JSON text as daprd accepts it (any value, NULs in strings). Integers beyond int64,
 * which jansson refuses, are read as doubles rather than rejected. NULL if it is not JSON.
 * Ownership: the caller decrefs the result. Thread: any.
 */
json_t *cloudevent_json_parse(const void *text, size_t len);

/*
 * Decodes standard base64 (with or without padding). NULL when text is not base64.
 * Ownership: the caller frees the result (len bytes, plus a NUL). Thread: any.
 */
unsigned char *cloudevent_base64_decode(const char *text, size_t *len);

/*
 * The envelope daprd makes for a raw (rawPayload) message on delivery (§2.6): a new id,
 * source "Dapr", datacontenttype application/octet-stream and the bytes as data_base64.
 * Ownership: the caller decrefs the result. Thread: any.
 */
json_t *cloudevent_wrap_raw(const char *pubsub, const char *topic, const void *data, size_t len);

/*
 * True when the event has an `expiration` (RFC 3339) at or before now_unix_ms. An
 * expiration that is not RFC 3339 never expires (daprd ignores it too). Thread: any.
 */
bool cloudevent_expired(const json_t *event, int64_t now_unix_ms);

/* Whether len bytes at s are well-formed UTF-8 (what a JSON string may hold). Thread: any. */
bool cloudevent_utf8_valid(const char *s, size_t len);

/* A new random UUIDv4 as text, into buf (at least 37 bytes). Thread: any. */
void cloudevent_uuid(char *buf);

/* A new W3C traceparent "00-<32 hex>-<16 hex>-01", into buf (at least 56 bytes). Thread: any. */
void cloudevent_traceparent(char *buf);

#endif /* OUTRIG_CORE_CLOUDEVENT_H */
