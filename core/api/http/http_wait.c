/* SPDX-License-Identifier: Apache-2.0 */
/* An HTTP request waiting for a block operation: knowing when its client went away meanwhile. */
#include "config.h"

#include "api/http/http_wait.h"

#include <event2/http.h>
#include <stddef.h>

static void http_wait_closed(struct evhttp_connection *conn, void *arg)
{
	struct http_wait *w = arg;

	w->req = NULL;
}

void http_wait_begin(struct http_wait *w, struct evhttp_request *req)
{
	w->req = req;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), http_wait_closed, w);
}

struct evhttp_request *http_wait_end(struct http_wait *w)
{
	struct evhttp_request *req = w->req;

	if (req != NULL)
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
	w->req = NULL;
	return req;
}
