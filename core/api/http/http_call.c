/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for HTTP handlers: bodies, queries, JSON replies, and calls run on worker threads. */
#include "api/http/http_call.h"

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static struct http_call *http_call_of(struct work *w)
{
	return (struct http_call *)((char *)w - offsetof(struct http_call, work));
}

/* evhttp frees the request with its connection; from then on the call must not touch it. */
static void http_call_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct http_call *call = arg;

	call->req = NULL;
}

static void http_call_done(struct work *w)
{
	struct http_call *call = http_call_of(w);

	if (call->req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(call->req), NULL, NULL);
		call->reply(call);
	}
	call->release(call);
}

void http_call_submit(struct server *srv, struct http_call *call, struct lane *lane)
{
	call->srv = srv;
	call->work.done = http_call_done;
	call->work.lane = lane;
	evhttp_connection_set_closecb(evhttp_request_get_connection(call->req), http_call_conn_closed, call);
	workers_submit(srv->workers, &call->work);
}

const char *http_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	unsigned char *data;

	/* A terminating NUL lets parsers treat the body as a string. */
	evbuffer_add(in, "", 1);
	data = evbuffer_pullup(in, -1);
	*len = n;
	return (const char *)data;
}

void http_query(struct evhttp_request *req, struct evkeyvalq *q)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

	TAILQ_INIT(q);
	if (query != NULL)
		evhttp_parse_query_str(query, q);
}

void http_reply_bytes(struct evhttp_request *req, int status, const char *content_type, const void *data,
		      size_t len)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(out, data, len);
	if (content_type != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
	evhttp_send_reply(req, status, NULL, out);
	evbuffer_free(out);
}

void http_reply_json(struct evhttp_request *req, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(body);
	if (text == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	http_reply_bytes(req, status, "application/json", text, strlen(text));
	free(text);
}

void http_reply_empty(struct evhttp_request *req)
{
	evhttp_send_reply(req, 204, NULL, NULL);
}
