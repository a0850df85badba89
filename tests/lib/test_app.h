/* SPDX-License-Identifier: Apache-2.0 */
/* A stand-in application for pub/sub tests: serves /dapr/subscribe, records and answers deliveries. */
#ifndef OUTRIG_TESTS_TEST_APP_H
#define OUTRIG_TESTS_TEST_APP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* How the app answers one delivery (API.md §2.6 says what outrigd must make of each). */
enum app_answer {
	APP_SUCCESS,   /* 200 {"status":"SUCCESS"} */
	APP_RETRY,     /* 200 {"status":"RETRY"} */
	APP_DROP,      /* 200 {"status":"DROP"} */
	APP_404,       /* 404, empty body: a non-retriable drop */
	APP_500,       /* 500, empty body: retried */
	APP_EMPTY_200, /* 200 with no body: an ack */
	APP_SLOW,      /* waits delay_ms, then 200 {"status":"SUCCESS"} */
};

struct app_reply {
	enum app_answer answer;
	int delay_ms; /* APP_SLOW only */
};

/* One request the app received, other than GET /dapr/subscribe and GET /dapr/config (answered
 * 404). Immutable once recorded. */
struct delivery {
	char method[16];
	char *path;	 /* without the query string */
	char *query;	 /* after '?', or "" */
	json_t *headers; /* object: lower-cased header name -> value */
	char *body;	 /* NUL-terminated copy; body_len excludes the NUL */
	size_t body_len;
	json_t *event;		/* the body parsed as JSON, or NULL */
	const char *id;		/* event.id, or "" (points into event) */
	int attempt;		/* 1 for the first delivery of this event id (any path), 2 for the next ... */
	long seq;		/* 1 for the first request the app got, 2 for the next ... */
	long at_ms;		/* arrival, on xnow_ms()'s clock */
	struct app_reply reply; /* what the app answered */
};

/*
 * Decides the answer to d. Runs on the app's thread with no lock held, so it must not block; it
 * may not call test_app_* functions (APP_SLOW is how to hold a delivery).
 */
typedef struct app_reply (*app_policy)(const struct delivery *d, void *arg);

struct test_app;

/*
 * Starts the app on a free 127.0.0.1 port in a thread of its own. Until told otherwise it answers
 * 404 to GET /dapr/subscribe and SUCCESS to every delivery. Returns NULL on failure (on stderr).
 * Ownership: release with test_app_destroy().
 */
struct test_app *test_app_start(void);

int test_app_port(const struct test_app *app);

/* The JSON text GET /dapr/subscribe answers with 200, or NULL for 404. Copied. Thread: any. */
void test_app_set_subscribe(struct test_app *app, const char *json);

/* NULL policy: always SUCCESS. Thread: any; applies to deliveries that arrive afterwards. */
void test_app_set_policy(struct test_app *app, app_policy policy, void *arg);

/* Closes the listener and every connection, as a crashed app would; records are kept. */
void test_app_stop(struct test_app *app);

/* Listens again on the same port after test_app_stop(). Returns 0 or -1 (on stderr). */
int test_app_restart(struct test_app *app);

/* Stops the app and frees it and its records; NULL is fine. */
void test_app_destroy(struct test_app *app);

/* GET /dapr/subscribe requests received, and the dapr-app-id header of the last ("" if none).
 * Ownership: app_id is copied into the caller's buffer. */
size_t test_app_subscribe_calls(struct test_app *app, char *app_id, size_t size);

/* Requests recorded so far. */
size_t test_app_count(struct test_app *app);

/* Requests recorded on path (NULL: any). */
size_t test_app_count_path(struct test_app *app, const char *path);

/* Distinct event ids recorded on path (NULL: any). */
size_t test_app_distinct_ids(struct test_app *app, const char *path);

/* Distinct event ids on path (NULL: any) the app acknowledged: SUCCESS, empty 200 or SLOW. */
size_t test_app_acked_ids(struct test_app *app, const char *path);

/*
 * The i-th request recorded (0-based), or NULL past the end.
 * Ownership: the app's; valid until test_app_destroy(). Thread: any.
 */
const struct delivery *test_app_delivery(struct test_app *app, size_t i);

/* The most requests the app held unanswered at one time (for --app-max-concurrency). */
int test_app_max_in_flight(struct test_app *app);

/*
 * Polls (every 5 ms) until pred(app, arg) is true or timeout_ms passes. Returns pred's last value.
 * pred may call the counting functions above.
 */
bool test_app_wait(struct test_app *app, bool (*pred)(struct test_app *app, void *arg), void *arg,
		   long timeout_ms);

/* test_app_wait() for at least n requests, on path (NULL: any). */
bool test_app_wait_count(struct test_app *app, const char *path, size_t n, long timeout_ms);

/* test_app_wait() for at least n distinct event ids on path (NULL: any). */
bool test_app_wait_ids(struct test_app *app, const char *path, size_t n, long timeout_ms);

/* test_app_wait() for at least n distinct event ids acknowledged on path (NULL: any). */
bool test_app_wait_acked(struct test_app *app, const char *path, size_t n, long timeout_ms);

#endif /* OUTRIG_TESTS_TEST_APP_H */
