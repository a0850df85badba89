/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for HTTP handlers: bodies, queries, JSON replies, and calls run on worker threads. */
#ifndef OUTRIG_CORE_HTTP_CALL_H
#define OUTRIG_CORE_HTTP_CALL_H

#include <stddef.h>

#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "api/http/http_query.h"
#include "base/workers.h"

struct evhttp_request;
struct server;

/*
 * A request whose work runs on a worker thread. If the client goes away meanwhile,
 * req becomes NULL and reply() is skipped; release() always runs.
 */
struct http_call {
	struct work work; /* run() is the worker half */
	struct evhttp_request *req;
	struct server *srv;
	void (*reply)(struct http_call *call);	 /* loop thread, only while req is alive */
	void (*release)(struct http_call *call); /* loop thread, frees the call */
};

/* Submits call; its work.run must be set. Thread: the loop. */
void http_call_submit(struct server *srv, struct http_call *call, struct lane *lane);

/* The request body as a NUL-terminated string (the body may hold NULs; len says). */
const char *http_body(struct evhttp_request *req, size_t *len);

/* Parses the query string into q (empty if none). Free with evhttp_clear_headers. */
void http_query(struct evhttp_request *req, struct evkeyvalq *q);

/* Replies status with body as compact JSON (steals body). */
void http_reply_json(struct evhttp_request *req, int status, json_t *body);

/* Replies status with raw bytes and a content type. */
void http_reply_bytes(struct evhttp_request *req, int status, const char *content_type, const void *data,
		      size_t len);

/* Replies 204 No Content. */
void http_reply_empty(struct evhttp_request *req);

#endif /* OUTRIG_CORE_HTTP_CALL_H */
