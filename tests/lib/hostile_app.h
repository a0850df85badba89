/* SPDX-License-Identifier: Apache-2.0 */
/* An app that answers badly on purpose (huge bodies and headers, invalid statuses, bodies where none belong), over raw sockets. */
#ifndef OUTRIG_TESTS_HOSTILE_APP_H
#define OUTRIG_TESTS_HOSTILE_APP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * What it answers, by request path (keep-alive: several requests per connection):
 *   /ok                  200 with body "ok"
 *   /length/N            Content-Length: N, then N bytes streamed as fast as the reader takes them
 *   /chunked/N           chunked, 64 KiB chunks up to N bytes
 *   /bigchunk/N          chunked, one chunk announced as N bytes, then streamed
 *   /close/N             neither length nor chunks: N bytes, then the connection closes
 *   /headers/N           200 with N bytes of header lines (1 KiB each), streamed, then "ok"
 *   /status/S            "HTTP/1.1 S Hostile", Content-Length 2, body "no" (S verbatim)
 *   /204-body            204 with Content-Length, followed in the same write by a whole
 *                        second answer "HTTP/1.1 200 OK ... stale"
 *   /head-body           the same for any verb with a 200 (for HEAD: a body where none belongs)
 *   /head-late           a 200 announcing a body, the body (a whole answer) 200 ms later
 *   /dapr/subscribe      one subscription: pub/sub "pubsub", topic "huge", route /length/268435456
 *   any OPTIONS          200 (an input binding's question: yes)
 * A stream stops early when the reader closes; hostile_app_last tells how far it got.
 */

struct hostile_app;

/* Starts the app on a free 127.0.0.1 port in threads of its own. NULL on failure (on stderr). */
struct hostile_app *hostile_app_start(void);

int hostile_app_port(const struct hostile_app *app);

/* Requests answered so far. Thread: any. */
size_t hostile_app_count(struct hostile_app *app);

/*
 * For the last answer that streamed: the bytes it sent, and whether the reader closed the
 * connection before all of them were sent. Thread: any.
 */
void hostile_app_last(struct hostile_app *app, size_t *sent, bool *cut);

/* Stops the app and frees it; NULL is fine. */
void hostile_app_destroy(struct hostile_app *app);

#endif /* OUTRIG_TESTS_HOSTILE_APP_H */
