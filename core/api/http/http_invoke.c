/* SPDX-License-Identifier: Apache-2.0 */
/* An invocation over HTTP/1.1, both listeners' half: an evhttp request read into the block's request, and the block's answer written back. */
#include "config.h"

#include "api/http/http_invoke.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "base/net_addr.h"
#include "blocks/invoke/invoke_request.h"
#include "channels/http_method.h"

int http_invoke_read(struct evhttp_request *req, struct http_invoke_in *in, struct invoke_request *rq)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	const struct evkeyval *h;

	memset(in, 0, sizeof(*in));
	TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next)
	{
		if (kv_add(&in->headers, h->key, h->value) != 0)
			return -1;
	}
	rq->client = net_addr_text(fd, true, in->client, sizeof(in->client)) ? in->client : NULL;
	rq->self = net_addr_text(fd, false, in->self, sizeof(in->self)) ? in->self : NULL;
	rq->verb = http_method_name(evhttp_request_get_command(req), "");
	rq->query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	rq->headers = &in->headers;
	rq->len = evbuffer_get_length(body);
	rq->body = rq->len > 0 ? evbuffer_pullup(body, -1) : NULL;
	return rq->len > 0 && rq->body == NULL ? -1 : 0;
}

void http_invoke_in_free(struct http_invoke_in *in)
{
	kv_free(&in->headers);
}

void http_invoke_pass(struct evhttp *http, const char *default_ct, struct evhttp_request *req,
		      const struct invoke_answer *ans, const char *marker)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();
	bool typed = ans->content_type != NULL;

	/* The app's own trace context wins over the one this sidecar set (as daprd: added if absent). */
	for (size_t i = 0; ans->headers != NULL && i < ans->headers->count; i++)
		if (strcasecmp(ans->headers->items[i].key, "traceparent") == 0) {
			evhttp_remove_header(out, "traceparent");
			evhttp_remove_header(out, "tracestate");
		}
	for (size_t i = 0; ans->headers != NULL && i < ans->headers->count; i++)
		evhttp_add_header(out, ans->headers->items[i].key, ans->headers->items[i].value);
	if (marker != NULL)
		evhttp_add_header(out, INVOKE_STATUS_HEADER, marker);
	if (body == NULL || (ans->len > 0 && evbuffer_add(body, ans->body, ans->len) != 0)) {
		if (body != NULL)
			evbuffer_free(body);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	/* The app's answer goes back as it is: evhttp must not give it a Content-Type of its own. */
	if (!typed)
		evhttp_set_default_content_type(http, NULL);
	evhttp_send_reply(req, ans->status, ans->reason, body);
	if (!typed)
		evhttp_set_default_content_type(http, default_ct);
	evbuffer_free(body);
}
