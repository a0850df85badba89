/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP call through an app channel in plain C terms (verb text, key/value headers, (ptr, len) bodies), for callers that must not know libevent's HTTP types. */
#include "config.h"

#include "channels/app_call.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "channels/app_channel.h"

struct app_call {
	app_call_cb cb;
	void *arg;
	void (*abandon)(void *arg);
};

/* The channel was freed with the call pending: no answer will come, the records go. */
static void app_call_abandoned(void *arg)
{
	struct app_call *call = arg;

	if (call->abandon != NULL)
		call->abandon(call->arg);
	free(call);
}

static const struct {
	const char *name;
	enum evhttp_cmd_type cmd;
} app_call_verbs[] = {
	{ "GET", EVHTTP_REQ_GET },	   { "POST", EVHTTP_REQ_POST },	  { "PUT", EVHTTP_REQ_PUT },
	{ "DELETE", EVHTTP_REQ_DELETE },   { "PATCH", EVHTTP_REQ_PATCH }, { "HEAD", EVHTTP_REQ_HEAD },
	{ "OPTIONS", EVHTTP_REQ_OPTIONS },
};

static bool app_call_cmd(const char *verb, enum evhttp_cmd_type *cmd)
{
	for (size_t i = 0; verb != NULL && i < sizeof(app_call_verbs) / sizeof(app_call_verbs[0]); i++) {
		if (strcmp(verb, app_call_verbs[i].name) == 0) {
			*cmd = app_call_verbs[i].cmd;
			return true;
		}
	}
	return false;
}

bool app_call_verb_ok(const char *verb)
{
	enum evhttp_cmd_type cmd;

	return app_call_cmd(verb, &cmd);
}

static void app_call_done(void *arg, const struct app_response *r)
{
	struct app_call *call = arg;
	struct app_call_answer a = { 0 };
	struct kv_list headers = { 0 };

	a.headers = &headers;
	a.error = r->error;
	switch (r->fault) {
	case APP_FAULT_UNREACHABLE: a.outcome = APP_CALL_UNREACHABLE; break;
	case APP_FAULT_TOO_LARGE: a.outcome = APP_CALL_TOO_LARGE; break;
	case APP_FAULT_INVALID: a.outcome = APP_CALL_INVALID; break;
	default: a.outcome = r->status != 0 ? APP_CALL_ANSWERED : APP_CALL_UNREACHABLE; break;
	}
	if (a.outcome == APP_CALL_ANSWERED) {
		const struct evkeyval *h;
		struct evbuffer *body = evhttp_request_get_input_buffer(r->req);

		a.status = r->status;
		a.reason = evhttp_request_get_response_code_line(r->req);
		TAILQ_FOREACH(h, evhttp_request_get_input_headers(r->req), next)
		{
			if (kv_add(&headers, h->key, h->value) != 0) {
				a.outcome = APP_CALL_UNREACHABLE;
				a.error = "out of memory while reading the answer";
				a.status = 0;
				break;
			}
		}
		a.len = evbuffer_get_length(body);
		a.body = a.len > 0 ? (const void *)evbuffer_pullup(body, -1) : (const void *)"";
		if (a.body == NULL) {
			a.outcome = APP_CALL_UNREACHABLE;
			a.error = "out of memory while reading the answer";
			a.status = 0;
			a.len = 0;
		}
	}
	call->cb(call->arg, &a);
	kv_free(&headers);
	free(call);
}

int app_call_send(struct app_channel *ch, const struct app_call_request *rq, app_call_cb cb, void *arg)
{
	struct app_call *call;
	struct evkeyvalq out;
	enum evhttp_cmd_type cmd;
	int rc;

	if (!app_call_cmd(rq->verb, &cmd) || (call = malloc(sizeof(*call))) == NULL)
		return -1;
	call->cb = cb;
	call->arg = arg;
	call->abandon = rq->abandon;
	TAILQ_INIT(&out);
	/* A header evhttp refuses (a bare CR or LF in its value) is left out, as evhttp would. */
	for (size_t i = 0; rq->headers != NULL && i < rq->headers->count; i++)
		evhttp_add_header(&out, rq->headers->items[i].key, rq->headers->items[i].value);
	rc = app_channel_send_wanted(ch, cmd, rq->path, &out, NULL, rq->body, rq->len, app_call_done, call,
				     rq->wanted, rq->wanted_arg, app_call_abandoned);
	evhttp_clear_headers(&out);
	if (rc != 0)
		free(call);
	return rc;
}

const char *app_call_address(const struct app_channel *ch)
{
	return app_channel_address(ch);
}
