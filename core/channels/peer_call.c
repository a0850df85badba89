/* SPDX-License-Identifier: Apache-2.0 */
/* The caller's half of outrig's internal protocol: one invocation sent to another sidecar (core/api/internal/internal_protocol.md). */
#include "config.h"

#include "channels/peer_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channels/peer_channels.h"
#include "security/mtls.h"

/* The marker header of the internal protocol's answers. */
#define PEER_STATUS_HEADER "outrig-status"

struct peer_call {
	peer_call_cb cb;
	void *arg;
};

static void peer_call_done(void *arg, struct app_call_answer *a)
{
	struct peer_call *call = arg;
	enum peer_answer who = PEER_ANSWER_NOT_OUTRIG;

	for (size_t i = 0; a->headers != NULL && i < a->headers->count; i++) {
		if (strcasecmp(a->headers->items[i].key, PEER_STATUS_HEADER) == 0) {
			who = strcmp(a->headers->items[i].value, "error") == 0 ? PEER_ANSWER_SIDECAR
									       : PEER_ANSWER_APP;
			break;
		}
	}
	/*
	 * A sidecar with mTLS on closes a plaintext connection without a word (its log says why): the
	 * caller can only guess, and says so.
	 */
	if (a->outcome != APP_CALL_ANSWERED && a->error != NULL && !mtls_enabled() &&
	    strstr(a->error, "closed before an answer") != NULL) {
		struct app_call_answer hinted = *a;
		char why[512];

		snprintf(
			why, sizeof(why),
			"%s; if mTLS is on at that sidecar (its log says \"does not speak TLS\"), turn it on here too (--enable-mtls)",
			a->error);
		hinted.error = why;
		call->cb(call->arg, &hinted, who);
	} else {
		call->cb(call->arg, a, who);
	}
	free(call);
}

int peer_call_send(struct peer_channels *pc, const char *host, int port, const struct peer_call_request *rq,
		   peer_call_cb cb, void *arg)
{
	struct app_channel *ch =
		pc != NULL ? peer_channels_get(pc, host, port, rq->callee_id, rq->callee_ns) : NULL;
	struct app_call_request out = rq->call;
	struct kv_list headers = { 0 };
	struct peer_call *call;
	char *path;
	int rc = 0;

	if (ch == NULL || asprintf(&path, "%s%s", PEER_CALL_PREFIX, rq->call.path) < 0)
		return PEER_CALL_NO_CHANNEL;
	for (size_t i = 0; rq->call.headers != NULL && i < rq->call.headers->count && rc == 0; i++)
		rc = kv_add(&headers, rq->call.headers->items[i].key, rq->call.headers->items[i].value);
	if (rc == 0)
		rc = kv_add(&headers, "outrig-callee-app-id", rq->callee_id);
	if (rc == 0 && rq->callee_ns != NULL && rq->callee_ns[0] != '\0')
		rc = kv_add(&headers, "outrig-callee-namespace", rq->callee_ns);
	if (rc == 0)
		rc = kv_add(&headers, "outrig-caller-app-id", rq->caller_id);
	if (rc == 0 && rq->caller_ns != NULL && rq->caller_ns[0] != '\0')
		rc = kv_add(&headers, "outrig-caller-namespace", rq->caller_ns);
	call = rc == 0 ? malloc(sizeof(*call)) : NULL;
	if (call != NULL) {
		call->cb = cb;
		call->arg = arg;
		out.path = path;
		out.headers = &headers;
		if (app_call_send(ch, &out, peer_call_done, call) != 0) {
			free(call);
			call = NULL;
		}
	}
	kv_free(&headers);
	free(path);
	return call != NULL ? 0 : PEER_CALL_NO_MEMORY;
}
