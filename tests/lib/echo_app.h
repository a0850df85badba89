/* SPDX-License-Identifier: Apache-2.0 */
/* A stand-in application for invocation tests: records each request and echoes its body, method, path and query. */
#ifndef OUTRIG_TESTS_ECHO_APP_H
#define OUTRIG_TESTS_ECHO_APP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * What the app answers, steered by request headers (so it works through any number of sidecars):
 *   x-echo-status: N          answer with status N (default 200)
 *   x-echo-delay-ms: N        answer after N ms
 *   x-echo-reply-header: H: V add the response header H: V (repeatable as H1: V1|H2: V2)
 *   x-echo-no-type: 1         send no Content-Type
 * and a path /echo-status/N answers with status N (for health-check paths).
 * The answer's body is the request's body, byte for byte (none for HEAD); its headers say what came:
 *   x-echo-app (the name given to echo_app_start), x-echo-method, x-echo-path (raw, as on the
 *   request line), x-echo-query (after '?', or none), x-echo-length (body bytes);
 *   Content-Type is the request's, or application/octet-stream.
 */

/* One request the app received. Immutable once recorded. */
struct echo_request {
	char method[16];
	char *path;	 /* raw, as on the request line, without the query string */
	char *query;	 /* after '?', or NULL when there was no '?' */
	json_t *headers; /* object: lower-cased header name -> value (a repeated name's values joined by ", ") */
	char *body;	 /* NUL-terminated copy; body_len excludes the NUL */
	size_t body_len;
};

struct echo_app;

/* Starts the app on a free 127.0.0.1 port in a thread of its own. NULL on failure (on stderr). */
struct echo_app *echo_app_start(const char *name);

/*
 * The same app serving HTTPS only, with the PEM certificate (chain) cert and key key. NULL on
 * failure (on stderr).
 */
struct echo_app *echo_app_start_tls(const char *name, const char *cert, const char *key);

/* TLS handshakes completed (0 for a plain app). Thread: any. */
int echo_app_tls_handshakes(struct echo_app *app);

/* The server name (SNI) the last TLS handshake asked for, "" when it sent none. Thread: any. */
void echo_app_tls_sni(struct echo_app *app, char *buf, size_t len);

int echo_app_port(const struct echo_app *app);

/* Requests recorded so far. Thread: any. */
size_t echo_app_count(struct echo_app *app);

/* The i-th request recorded (0-based), or NULL past the end. Ownership: the app's, until destroy. */
const struct echo_request *echo_app_request(struct echo_app *app, size_t i);

/* How many start-up calls echo_app_startup_request keeps. */
#define ECHO_APP_STARTUP_MAX 16

/*
 * The i-th start-up call (GET /dapr/subscribe or /dapr/config, answered 404 and not among the
 * records above; only the first ECHO_APP_STARTUP_MAX are kept), or NULL past the end.
 * Ownership: the app's, until destroy. Thread: any.
 */
const struct echo_request *echo_app_startup_request(struct echo_app *app, size_t i);

/* The last request recorded, or NULL. */
const struct echo_request *echo_app_last(struct echo_app *app);

/* The first request (startup ones included) with method on path, waiting up to timeout_ms for one; NULL if none
 * came. */
const struct echo_request *echo_app_wait(struct echo_app *app, const char *method, const char *path,
					 int timeout_ms);

/* A header of r (name lower-case), or NULL. */
const char *echo_header(const struct echo_request *r, const char *name);

/* The most requests held unanswered at one time. */
int echo_app_max_in_flight(struct echo_app *app);

/* Stops the app and frees it and its records; NULL is fine. */
void echo_app_destroy(struct echo_app *app);

#endif /* OUTRIG_TESTS_ECHO_APP_H */
