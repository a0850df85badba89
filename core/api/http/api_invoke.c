/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation over HTTP, caller side (API.md §3.1): decode the request, call the block, pass its answer on. */
#include "config.h"

#include <event2/http.h>
#include <stdlib.h>

#include "api/http/api.h"
#include "api/http/http_errors.h"
#include "api/http/http_invoke.h"
#include "blocks/invoke/invoke.h"
#include "runtime.h"

/* The public listener's default Content-Type (server.c), restored after a passthrough. */
#define API_INVOKE_DEFAULT_CT "application/json"

struct api_invoke_call {
	struct server *srv;
	struct evhttp_request *req; /* NULL once the caller went away */
	struct api_invoke_call *next, *prev; /* in srv->http_invokes until the block answers */
};

static void api_invoke_unlink(struct api_invoke_call *call)
{
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		call->srv->http_invokes = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
}

void api_invoke_free_pending(struct server *srv)
{
	while (srv->http_invokes != NULL) {
		struct api_invoke_call *call = srv->http_invokes;

		api_invoke_unlink(call);
		free(call);
	}
}

/* evhttp frees the request with its connection; from then on the call must not touch it. */
static void api_invoke_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct api_invoke_call *call = arg;

	call->req = NULL;
}

static bool api_invoke_wanted(void *arg)
{
	const struct api_invoke_call *call = arg;

	return call->req != NULL;
}

static void api_invoke_done(void *arg, const struct block_error *err, const struct invoke_answer *ans)
{
	struct api_invoke_call *call = arg;
	struct evhttp_request *req = call->req;

	if (req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
		/* An answer, even the callee sidecar's error, goes back as it came. */
		if (ans != NULL)
			http_invoke_pass(call->srv->http, API_INVOKE_DEFAULT_CT, req, ans, NULL);
		else
			api_error_reply_block(req, err);
	}
	api_invoke_unlink(call);
	free(call);
}

void api_invoke(struct server *srv, struct evhttp_request *req, const char *app_id, const char *method)
{
	struct api_invoke_call *call = calloc(1, sizeof(*call));
	struct invoke_request rq = { 0 };
	struct http_invoke_in in;

	if (call == NULL || http_invoke_read(req, &in, &rq) != 0) {
		if (call != NULL)
			http_invoke_in_free(&in);
		free(call);
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	call->srv = srv;
	call->req = req;
	call->next = srv->http_invokes;
	if (call->next != NULL)
		call->next->prev = call;
	srv->http_invokes = call;
	rq.target = app_id;
	rq.method = method;
	rq.wanted = api_invoke_wanted;
	/* Before the call: the block may answer from inside it, or long after the caller left. */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), api_invoke_conn_closed, call);
	invoke_call(srv, &rq, api_invoke_done, call);
	http_invoke_in_free(&in);
}
