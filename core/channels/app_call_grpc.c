/* SPDX-License-Identifier: Apache-2.0 */
/* One call of app_call.h's kind to a gRPC app: AppCallback/OnInvoke, answered as daprd answers an HTTP caller. */
#include "config.h"

#include "channels/app_call_grpc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channels/app_grpc.h"
#include "channels/app_grpc_http.h"

/* gRPC's UNAVAILABLE (channels include nothing of blocks/, where errors.h names the codes). */
#define APP_CALL_GRPC_UNAVAILABLE 14

struct app_call_grpc {
	app_call_cb cb;
	void *arg;
	void (*abandon)(void *arg); /* the caller's, told when the channel goes first */
};

/* outrigd stops with the call in flight: the caller frees what it keeps, and so does this record. */
static void app_call_grpc_abandoned(void *arg)
{
	struct app_call_grpc *call = arg;

	if (call->abandon != NULL)
		call->abandon(call->arg);
	free(call);
}

static void app_call_grpc_done(void *arg, const struct app_grpc_invoke_result *r)
{
	struct app_call_grpc *call = arg;
	struct app_grpc_http_answer h = { 0 };
	struct app_call_answer a = { 0 };

	a.grpc = r;
	a.headers = &h.headers;
	/* Nothing came back from the app: the client could not reach it, as a refused TCP connection. */
	if (r->status == APP_CALL_GRPC_UNAVAILABLE && r->headers->count == 0 && r->trailers->count == 0) {
		a.outcome = APP_CALL_UNREACHABLE;
		a.error = r->message;
	} else if (app_grpc_http_answer(r, &h) != 0 ||
		   (h.content_type != NULL && kv_add(&h.headers, "Content-Type", h.content_type) != 0)) {
		a.outcome = APP_CALL_UNREACHABLE;
		a.error = "out of memory while reading the answer";
	} else {
		a.outcome = APP_CALL_ANSWERED;
		a.status = h.status;
		a.body = h.body != NULL ? h.body : "";
		a.len = h.len;
	}
	call->cb(call->arg, &a);
	app_grpc_http_answer_free(&h);
	free(call);
}

int app_call_send_grpc(struct app_grpc *ag, const struct app_call_request *rq, app_call_cb cb, void *arg)
{
	struct app_grpc_invoke_request req = { 0 };
	struct kv_list md = { 0 };
	struct app_call_grpc *call;
	const char *path = rq->path != NULL ? rq->path : "";
	const char *q = strchr(path, '?');
	char *method;
	int rc = -1;

	if (rq->verb != NULL && !app_call_verb_ok(rq->verb))
		return -1;
	/* InvokeRequest.method is the path after /method/, without the leading slash. */
	if (*path == '/')
		path++;
	method = q != NULL ? strndup(path, (size_t)(q - path)) : strdup(path);
	call = malloc(sizeof(*call));
	if (method == NULL || call == NULL || app_grpc_metadata_from_http(rq->headers, &md) != 0)
		goto out;
	call->cb = cb;
	call->arg = arg;
	call->abandon = rq->abandon;
	req.abandon = app_call_grpc_abandoned;
	req.method = method;
	req.verb = rq->verb;
	req.query = q != NULL && q[1] != '\0' ? q + 1 : NULL;
	for (size_t i = 0; rq->headers != NULL && i < rq->headers->count; i++)
		if (strcasecmp(rq->headers->items[i].key, "Content-Type") == 0)
			req.content_type = rq->headers->items[i].value;
	req.data = rq->body;
	req.len = rq->len;
	req.data_type_url = rq->data_type_url;
	req.metadata = &md;
	req.timeout_ms = rq->timeout_ms;
	rc = app_grpc_invoke(ag, &req, app_call_grpc_done, call);
out:
	if (rc != 0)
		free(call);
	kv_free(&md);
	free(method);
	return rc;
}
