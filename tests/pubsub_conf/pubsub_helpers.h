/* SPDX-License-Identifier: Apache-2.0 */
/* What pub/sub tests share: publishing, waiting for subscriptions, fixtures, CloudEvent decoding. */
#ifndef OUTRIG_TESTS_PUBSUB_HELPERS_H
#define OUTRIG_TESTS_PUBSUB_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "daemon.h"

/* How long anything that should happen "soon" (a delivery, a subscription) may take on a loaded
 * 2-core CI machine before a test calls it lost. */
#define PS_SOON_MS 10000

/*
 * POSTs len bytes of body to /v1.0/publish/<pubsub>/<topic><query> (query: "" or "?metadata.x=y")
 * with Content-Type content_type (NULL: none) and extra header lines (NULL: none).
 * Returns the HTTP status or a negative errno. Thread: any.
 */
int ps_publish(int port, const char *pubsub, const char *topic, const char *content_type, const char *headers,
	       const void *body, size_t len, const char *query);

/*
 * Polls GET /v1.0/metadata until its "subscriptions" list a subscription of pubsub to each of
 * topics (NULL-terminated). Returns that subscriptions array, or NULL when timeout_ms passed (the
 * last metadata body is then printed on stderr). Ownership: caller decrefs. Thread: any.
 */
json_t *ps_wait_subscribed(int port, const char *pubsub, const char *const *topics, long timeout_ms);

/* The element of subs (a metadata "subscriptions" array) for topic, or NULL. Borrowed. */
json_t *ps_subscription(json_t *subs, const char *pubsub, const char *topic);

/* Copies tests/data/pubsub/<file> ($OUTRIG_TEST_DATA) into d's resources folder. Returns 0 or -1. */
int ps_copy_fixture(struct daemon *d, const char *file);

/* Writes resources/<name>.yaml: a pubsub.mqtt3 component on the broker at url, QoS 1, persistent
 * session under consumer_id (which must be unique per daemon on a broker). Returns 0 or < 0. */
int ps_write_mqtt3(struct daemon *d, const char *name, const char *url, const char *consumer_id);

/* Standard base64 decoded; NULL when s is not base64. Ownership: caller frees. */
unsigned char *ps_base64_decode(const char *s, size_t *len);

/* A process-unique string for consumer ids and topic suffixes: "<prefix>-<pid>-<n>". Caller frees. */
char *ps_unique(const char *prefix);

#endif /* OUTRIG_TESTS_PUBSUB_HELPERS_H */
