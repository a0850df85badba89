/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guard in front of evhttp on every accepted connection: it reads each request head and body
 * framing itself, strictly, before evhttp sees a byte, and times the head.
 */
#ifndef OUTRIG_CORE_HTTP_GUARD_H
#define OUTRIG_CORE_HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct event_base;
struct evhttp;
struct evhttp_request;

struct http_guard {
	struct event_base *base;
	int64_t max_body;	/* --max-body-size: larger bodies get a JSON 413 */
	int header_timeout_ms;	/* a head must be complete this long after it is awaited */
	size_t max_head;	/* request line, headers (and chunked trailers) together */
	size_t read_high_water; /* set by http_guard_attach: input buffered per connection, at most */
	/*
	 * When set (the internal port), a connection whose first bytes are HTTP/2's client preface is
	 * handed over whole instead of to evhttp: as one end of a bufferevent pair, which h2_accept
	 * owns from then on (it frees it, or its end, to hang up). Returns 0, or -1 after freeing it.
	 */
	int (*h2_accept)(void *arg, struct bufferevent *bev);
	void *h2_arg;
	/* mTLS (the internal port with mTLS on): every connection is TLS, its peer verified (security/mtls.h). */
	bool tls;
};

/*
 * Puts the guard in front of every connection http accepts from now on, and sets evhttp's own
 * body limit a little above g->max_body so the guard always answers first.
 * g must outlive http. Returns 0 or -1.
 */
int http_guard_attach(struct http_guard *g, struct evhttp *http);

/*
 * The guard refuses a request by handing evhttp a stand-in request in its place, so the answer
 * comes in order after the answers to earlier pipelined requests. A listener's request handler
 * calls this first: when req is such a stand-in, it answers it with Dapr's JSON error
 * (and Connection: close) and returns true.
 */
bool http_guard_answer(const struct http_guard *g, struct evhttp_request *req);

/*
 * The bufferevent that carries a guarded connection's bytes (a socket's, or TLS's: give it to
 * tls_peer_identity), from evhttp's bufferevent of it or from the end of the pair h2_accept was
 * given. NULL for any other bufferevent. Thread: the loop.
 */
struct bufferevent *http_guard_transport(struct bufferevent *bev);

#endif /* OUTRIG_CORE_HTTP_GUARD_H */
