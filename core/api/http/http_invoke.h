/* SPDX-License-Identifier: Apache-2.0 */
/* An invocation over HTTP/1.1, both listeners' half: an evhttp request read into the block's request, and the block's answer written back. */
#ifndef OUTRIG_CORE_HTTP_INVOKE_H
#define OUTRIG_CORE_HTTP_INVOKE_H

#include "base/kv.h"
#include "blocks/invoke/invoke.h"

struct evhttp;
struct evhttp_request;

/* What an invoke_request read from an evhttp request points into. */
struct http_invoke_in {
	struct kv_list headers;
	char client[64], self[64];
};

/*
 * Fills rq's verb, query, headers, body, client and self from req (target, method, content_type
 * and wanted are left as they are), with in holding the copies. Returns 0, or -1 when out of
 * memory. Ownership: free in with http_invoke_in_free once the block call returned; the body
 * points into req. Thread: the loop.
 */
int http_invoke_read(struct evhttp_request *req, struct http_invoke_in *in, struct invoke_request *rq);

void http_invoke_in_free(struct http_invoke_in *in);

/*
 * Answers req with ans as it is: status, reason phrase, headers and body, plus the internal
 * protocol's marker header when marker is not NULL. http is the listener req came in on: when ans
 * has no Content-Type, its default one is suspended for this answer, then set back to default_ct.
 * Thread: the loop.
 */
void http_invoke_pass(struct evhttp *http, const char *default_ct, struct evhttp_request *req,
		      const struct invoke_answer *ans, const char *marker);

#endif /* OUTRIG_CORE_HTTP_INVOKE_H */
