/* SPDX-License-Identifier: Apache-2.0 */
/* What the pub/sub conformance cases share: the plugin row under test, its daemon and app, assertions. */
#ifndef OUTRIG_TESTS_PUBSUB_CONF_H
#define OUTRIG_TESTS_PUBSUB_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "pubsub_helpers.h"
#include "server.h"
#include "test_app.h"

/* One pub/sub plugin and what it needs. */
struct pubsub_row {
	const char *name; /* names the TCase: CK_RUN_CASE=mqtt3 runs just that one */
	const char *type; /* spec.type of the component */
	/* spec.metadata YAML lines; ${URL} is the row's server (server_mosquitto_url), ${CONSUMER} an
	 * id unique to the case's daemon, so persistent broker sessions never mix. */
	const char *metadata;
	/* NULL, or starts the row's own fresh server: 0, SERVER_UNAVAILABLE (row skipped), or -1. */
	int (*start)(struct test_server *s);
	const char *(*url)(const struct test_server *s);
};

/*
 * The row under test. The server lives as long as the row (unchecked fixture); daemon and app
 * are per case (checked fixture), since cases differ in flags and resources.
 */
struct under_test {
	const struct pubsub_row *row;
	struct test_server server;
	bool skipped; /* the plugin or its server is missing here: every case returns at once */
	struct daemon dmn;
	struct test_app *app;
};

extern struct under_test ut;

#define APP_ID "conformance"
#define PUBSUB "pubsub" /* the component's name in every case; the fixtures say so too */

/* What a case needs of its daemon; zero fields are left out. */
struct case_setup {
	const char *subscribe;	     /* GET /dapr/subscribe's answer (NULL: 404) */
	const char *const *fixtures; /* files of tests/data/pubsub copied to resources, NULL-ended */
	const char *const *topics;   /* topics that must be subscribed before the case publishes */
	int max_concurrency;	     /* --app-max-concurrency; 0: not given */
	app_policy policy;	     /* NULL: always SUCCESS */
	void *policy_arg;
};

/* Returns from a case when the row cannot run here. */
#define REQUIRE_ROW()                                                                                        \
	do {                                                                                                 \
		if (ut.skipped)                                                                              \
			return;                                                                              \
	} while (0)

/*
 * Writes the component (and fixtures), starts the daemon with --app-port on the case's app and
 * waits until /v1.0/metadata lists every topic of s. Returns the subscriptions array.
 * Ownership: caller decrefs.
 */
json_t *bring_up(const struct case_setup *s);

/* Publishes a NUL-terminated body and asserts 204. query: NULL, or "?metadata.x=y". */
void publish(const char *topic, const char *content_type, const char *body, const char *query);

/* Same with len bytes of body and extra header lines. */
void publish_bytes(const char *topic, const char *content_type, const char *headers, const void *body,
		   size_t len, const char *query);

/* Waits (PS_SOON_MS) until path got n requests, and fails saying what arrived otherwise. */
void expect_requests(const char *path, size_t n);

/* The first request on path; fails after PS_SOON_MS when there is none. */
const struct delivery *first_on(const char *path);

/* Watches path for window_ms (0: one look) and fails if it gets more than n requests: no redelivery. */
void expect_no_more(const char *path, size_t n, long window_ms);

/*
 * The envelope fields every delivery carries (API.md §2.2, §2.6): a POST with Content-Type
 * application/cloudevents+json, a non-empty id, source APP_ID, type com.dapr.event.sent,
 * specversion 1.0, topic, pubsubname PUBSUB, the given datacontenttype, time, and traceparent
 * equal to traceid.
 */
void expect_envelope(const struct delivery *d, const char *topic, const char *datacontenttype);

/* A field of d's CloudEvent, or NULL. Borrowed from d. */
json_t *ce(const struct delivery *d, const char *field);

/* The first request on path whose CloudEvent has the string field == value; fails when none. */
const struct delivery *with_field(const char *path, const char *field, const char *value);

/* The nth request in arrival order (0-based); fails when absent. */
const struct delivery *nth(size_t i);

/* The nth request on path (0-based); fails when absent. */
const struct delivery *nth_on(const char *path, size_t i);

/* The cases, by theme. */
void add_delivery_cases(TCase *tc);
void add_answer_cases(TCase *tc);
void add_subscription_cases(TCase *tc);

#endif /* OUTRIG_TESTS_PUBSUB_CONF_H */
