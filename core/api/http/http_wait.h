/* SPDX-License-Identifier: Apache-2.0 */
/* An HTTP request waiting for a block operation: knowing when its client went away meanwhile. */
#ifndef OUTRIG_CORE_HTTP_WAIT_H
#define OUTRIG_CORE_HTTP_WAIT_H

struct evhttp_request;

/*
 * Put in a front end's context while a block operation runs for req: evhttp frees the request
 * with its connection, so the context must learn it before answering.
 */
struct http_wait {
	struct evhttp_request *req; /* NULL once the client went away */
};

/* Starts watching req's connection; w must stay put until http_wait_end. Thread: the loop. */
void http_wait_begin(struct http_wait *w, struct evhttp_request *req);

/*
 * Stops watching. Returns the request to answer, or NULL when its client went away (then only
 * free the context). Thread: the loop.
 */
struct evhttp_request *http_wait_end(struct http_wait *w);

#endif /* OUTRIG_CORE_HTTP_WAIT_H */
