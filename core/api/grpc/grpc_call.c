/* SPDX-License-Identifier: Apache-2.0 */
/* One unary gRPC call: checks before dispatch, the handler's view, and the answer. */
#include "api/grpc/grpc_call.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nghttp2/nghttp2.h>

#include "api/grpc/grpc_api_lists.h"
#include "api/grpc/grpc_call_internal.h"
#include "api/grpc/grpc_conn.h"
#include "api/grpc/grpc_proxy.h"
#include "api/grpc/grpc_server.h"
#include "api/grpc/grpc_status.h"
#include "api/grpc/grpc_trace.h"
#include "api/grpc/grpc_timeout.h"
#include "base/log.h"
#include "observe/api_log.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "blocks/errors.h"
#include "options.h"
#include "runtime.h"

/* The method the API token never guards: probes must see the sidecar's health without a secret. */
#define GRPC_HEALTH_CHECK "/grpc.health.v1.Health/Check"

static struct grpc_call **grpc_call_list(struct grpc_call *call)
{
	return call->conn != NULL ? grpc_conn_calls(call->conn) : &call->gs->orphans;
}

static void grpc_call_link(struct grpc_call *call)
{
	struct grpc_call **head = grpc_call_list(call);

	call->prev = NULL;
	call->next = *head;
	if (*head != NULL)
		(*head)->prev = call;
	*head = call;
}

static void grpc_call_unlink(struct grpc_call *call)
{
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		*grpc_call_list(call) = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	call->next = call->prev = NULL;
}

struct grpc_call *grpc_call_new(struct grpc_conn *conn, int32_t stream_id)
{
	struct grpc_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return NULL;
	call->gs = grpc_conn_server(conn);
	call->conn = conn;
	call->stream_id = stream_id;
	call->started_ms = metrics_enabled() || api_log_enabled() ? metrics_now_ms() : 0;
	grpc_call_link(call);
	return call;
}

/* The handler is done with the call (or it is freed): it stops counting as held. */
static void grpc_call_release(struct grpc_call *call)
{
	if (!call->held)
		return;
	call->held = false;
	call->gs->held--;
	if (call->held_by != NULL)
		(*grpc_conn_held(call->held_by))--;
	call->held_by = NULL;
}

void grpc_call_free(struct grpc_call *call)
{
	grpc_trace_end(call);
	grpc_call_release(call);
	grpc_call_unlink(call);
	if (call->deadline != NULL)
		event_free(call->deadline);
	if (call->request_timer != NULL)
		event_free(call->request_timer);
	for (size_t i = 0; i < call->n_md; i++) {
		free(call->md[i].name);
		free(call->md[i].value);
	}
	free(call->md);
	free(call->path);
	free(call->content_type);
	free(call->authority);
	if (call->body_cap > 0)
		grpc_conn_bytes_freed(call->gs, call->body_cap);
	if (call->unconsumed > 0)
		call->gs->starved--;
	free(call->body);
	free(call->out);
	free(call->trailer_message);
	kv_free(&call->reply_headers);
	kv_free(&call->reply_trailers);
	free(call);
}

void grpc_call_stream_gone(struct grpc_call *call)
{
	if (call->gone)
		return;
	call->gone = true;
	call->answered = true;
	if (call->deadline != NULL)
		event_del(call->deadline);
	if (call->proxy != NULL) {
		grpc_proxy_downstream_gone(call->proxy);
		call->proxy = NULL;
	}
	if (!call->dispatched || call->handler_done) {
		grpc_call_free(call);
		return;
	}
	/* The handler still has it: keep it, off the connection, until it completes. */
	grpc_call_unlink(call);
	call->conn = NULL;
	grpc_call_link(call);
}

/* Submits the answer in call->status (and call->out or call->trailer_message) and sends it. */
static void grpc_call_submit(struct grpc_call *call, const char *details_bin)
{
	struct grpc_conn *conn = call->conn;

	if (!call->observed && (metrics_enabled() || api_log_enabled())) {
		double ms = metrics_now_ms() - call->started_ms;
		const char *method = call->path != NULL ? call->path : "";

		call->observed = true;
		dm_grpc_server(method, call->status, ms);
		/* Messages without their prefix; an error answer sends none (daprd: 0). */
		dm_grpc_server_bytes(method, call->body_len > 5 ? call->body_len - 5 : 0,
				     call->status == 0 && call->out_len > 5 ? call->out_len - 5 : 0);
		api_log_grpc(method, call->status, ms, grpc_call_metadata(call, "user-agent"));
	}
	call->answered = true;
	if (call->deadline != NULL)
		event_del(call->deadline);
	if (conn == NULL)
		return;
	if (grpc_conn_submit(conn, call, details_bin) != 0)
		grpc_conn_reset_stream(conn, call->stream_id, NGHTTP2_INTERNAL_ERROR);
}

static void grpc_call_vstatus(struct grpc_call *call, int code, const char *details_bin, const char *fmt,
			      va_list ap)
{
	char text[1024];

	vsnprintf(text, sizeof(text), fmt, ap);
	/* A character cut at 1024 bytes would make clients fail to decode the status. */
	api_message_make_utf8(text);
	free(call->trailer_message);
	call->trailer_message = grpc_percent_encode(text);
	call->status = code;
	grpc_call_submit(call, details_bin);
}

void grpc_call_answer_status(struct grpc_call *call, int code, const char *details_bin, const char *fmt, ...)
{
	va_list ap;

	if (call->answered)
		return;
	va_start(ap, fmt);
	grpc_call_vstatus(call, code, details_bin, fmt, ap);
	va_end(ap);
}

static int64_t grpc_call_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t grpc_call_remaining_ms(const struct grpc_call *call)
{
	int64_t left;

	if (call->deadline_at == 0)
		return -1;
	left = call->deadline_at - grpc_call_now_ms();
	return left > 0 ? left : 0;
}

static void grpc_call_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_call *call = arg;
	struct grpc_conn *conn = call->conn;

	if (call->answered || conn == NULL)
		return;
	grpc_call_answer_status(call, GRPC_DEADLINE_EXCEEDED, NULL,
				"the call's grpc-timeout of %lld ms passed before %s finished",
				(long long)call->timeout_ms, call->path != NULL ? call->path : "the method");
	/* A request still arriving is cut off once the answer is out (grpc_conn.c). */
	grpc_conn_flush(conn);
}

/*
 * The request's body did not arrive in time: a client cannot keep up to --max-body-size per stream
 * buffered by never ending its request. First answered (the answer's HEADERS then reset the stream,
 * grpc_conn.c); if even that cannot go out, the stream is reset on the next expiry.
 */
static void grpc_call_request_late(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_call *call = arg;
	struct grpc_conn *conn = call->conn;
	struct timeval tv = { call->gs->request_timeout_ms / 1000,
			      (call->gs->request_timeout_ms % 1000) * 1000 };

	if (call->request_complete || call->gone || conn == NULL)
		return;
	if (!call->answered) {
		grpc_call_answer_status(
			call, GRPC_DEADLINE_EXCEEDED, NULL,
			"the request to %s was not complete %d ms after its headers; send the whole message at once",
			call->path != NULL ? call->path : "the method", call->gs->request_timeout_ms);
		evtimer_add(call->request_timer, &tv);
	} else {
		grpc_conn_reset_stream(conn, call->stream_id, NGHTTP2_CANCEL);
	}
	grpc_conn_flush(conn);
}

static bool grpc_call_admit(struct grpc_call *call);

void grpc_call_headers_done(struct grpc_call *call)
{
	const char *timeout = grpc_call_metadata(call, "grpc-timeout");
	struct timeval tv;

	grpc_trace_begin(call);
	if (call->answered || !grpc_call_admit(call))
		return;
	/* A proxied call may stream for as long as its client and app like; its deadline is theirs. */
	if (call->proxy != NULL)
		return;
	if (call->request_timer == NULL && call->gs->request_timeout_ms > 0) {
		call->request_timer = evtimer_new(call->gs->srv->base, grpc_call_request_late, call);
		if (call->request_timer != NULL) {
			tv.tv_sec = call->gs->request_timeout_ms / 1000;
			tv.tv_usec = (call->gs->request_timeout_ms % 1000) * 1000;
			evtimer_add(call->request_timer, &tv);
		}
	}
	if (timeout == NULL || call->deadline != NULL)
		return;
	if (grpc_timeout_parse(timeout, &call->timeout_ms) != 0) {
		grpc_call_answer_status(
			call, GRPC_INTERNAL, NULL,
			"malformed grpc-timeout \"%.32s\"; give 1 to 8 digits and a unit (H, M, S, m, u, n)",
			timeout);
		return;
	}
	call->deadline_at = grpc_call_now_ms() + call->timeout_ms;
	call->deadline = evtimer_new(call->gs->srv->base, grpc_call_deadline, call);
	if (call->deadline == NULL)
		return;
	tv.tv_sec = call->timeout_ms / 1000;
	tv.tv_usec = (call->timeout_ms % 1000) * 1000;
	evtimer_add(call->deadline, &tv);
}

/* daprd's answer to a missing or wrong token: UNAUTHENTICATED "Unauthorized" with an ErrorInfo. */
static bool grpc_call_token_ok(struct grpc_call *call)
{
	const char *want = call->gs->srv->api_token;
	const char *got = grpc_call_metadata(call, "dapr-api-token");
	const char *why;

	if (want == NULL || strcmp(call->path, GRPC_HEALTH_CHECK) == 0)
		return true;
	if (got != NULL && strcmp(got, want) == 0)
		return true;
	why = got == NULL ? "missing api token in request metadata"
			  : "authentication error: api token mismatch";
	{
		const char *meta[] = { "http.code", "401", "http.error_message", why };
		char *details = grpc_status_details_bin(GRPC_UNAUTHENTICATED, "Unauthorized", "Unauthorized",
							GRPC_ERROR_DOMAIN, meta, 2);

		grpc_call_answer_status(call, GRPC_UNAUTHENTICATED, details, "Unauthorized");
		free(details);
	}
	return false;
}

/* Checks the 5-byte framing of a unary request; answers and returns false when it is wrong. */
static bool grpc_call_frame_ok(struct grpc_call *call, size_t *msg_len)
{
	size_t declared;

	if (call->body_len < 5) {
		grpc_call_answer_status(call, GRPC_INTERNAL, NULL,
					"the request to %s ended without a complete gRPC message (%zu bytes)",
					call->path, call->body_len);
		return false;
	}
	declared = (size_t)call->body[1] << 24 | (size_t)call->body[2] << 16 | (size_t)call->body[3] << 8 |
		   call->body[4];
	if (call->body[0] != 0) {
		grpc_call_answer_status(
			call, GRPC_UNIMPLEMENTED, NULL,
			"the request to %s is compressed (flag %u); outrig takes uncompressed messages only",
			call->path, call->body[0]);
		return false;
	}
	if (declared > call->body_len - 5) {
		grpc_call_answer_status(
			call, GRPC_INTERNAL, NULL,
			"the request to %s ended inside its gRPC message: the length prefix says %zu bytes, %zu arrived",
			call->path, declared, call->body_len - 5);
		return false;
	}
	if (declared < call->body_len - 5) {
		grpc_call_answer_status(
			call, GRPC_INTERNAL, NULL,
			"the request to %s has more than one message; unary methods take exactly one",
			call->path);
		return false;
	}
	*msg_len = declared;
	return true;
}

/*
 * Decided from the headers alone, as grpc-go does, so a call to a method not served is answered
 * at once even when its client would stream forever (SubscribeTopicEventsAlpha1 and the like).
 */
static bool grpc_call_admit(struct grpc_call *call)
{
	struct server *srv = call->gs->srv;

	if (call->path == NULL || call->path[0] != '/') {
		grpc_call_answer_status(call, GRPC_UNIMPLEMENTED, NULL, "the request has no method path");
		return false;
	}
	if (call->content_type == NULL || strncmp(call->content_type, "application/grpc", 16) != 0) {
		grpc_call_answer_status(
			call, GRPC_INTERNAL, NULL,
			"the request to %s has content-type \"%.64s\"; gRPC needs application/grpc",
			call->path, call->content_type != NULL ? call->content_type : "");
		return false;
	}
	if (srv->stopping) {
		grpc_call_answer_status(call, GRPC_UNAVAILABLE, NULL, "outrig is shutting down");
		return false;
	}
	/* The internal port serves other sidecars, which the API token does not guard (internal_protocol.md). */
	if (!call->gs->internal && !grpc_call_token_ok(call))
		return false;
	if (!call->gs->internal && !grpc_api_lists_ok(call))
		return false;
	call->fn = call->gs->internal ? NULL : grpc_methods_find(call->path);
	if (call->fn == NULL && grpc_methods_known(call->path) && !call->gs->internal) {
		grpc_call_answer_status(call, GRPC_UNIMPLEMENTED, NULL, "method %s is not implemented by outrig yet",
					call->path);
		return false;
	}
	/*
	 * Calls whose client left still count until their handler completes them: without this a
	 * client resetting calls to an app that never answers piles them up without limit.
	 */
	if (*grpc_conn_held(call->conn) >= GRPC_MAX_STREAMS || call->gs->held >= call->gs->max_held) {
		grpc_call_answer_status(
			call, GRPC_RESOURCE_EXHAUSTED, NULL,
			"too many calls to outrig are still in progress (%zu on this connection, %zu in all; limits %d and %zu), some of them cancelled by their callers; retry when they have finished",
			*grpc_conn_held(call->conn), call->gs->held, GRPC_MAX_STREAMS, call->gs->max_held);
		return false;
	}
	/* Any other method is an app's: passed through to the app dapr-app-id names (grpc_proxy.c). */
	if (call->fn == NULL)
		return grpc_proxy_start(call);
	return true;
}

void grpc_call_request_done(struct grpc_call *call)
{
	size_t len = 0;
	uint8_t *body;

	if (call->request_timer != NULL)
		event_del(call->request_timer);
	if (call->answered || call->dispatched || call->fn == NULL)
		return;
	if (!grpc_call_frame_ok(call, &len))
		return;
	call->dispatched = true;
	call->held = true;
	call->held_by = call->conn;
	call->gs->held++;
	(*grpc_conn_held(call->conn))++;
	/*
	 * The message is the handler's only during the call (grpc_call.h): freed when it returns, so a
	 * call waiting long for its answer does not keep up to --max-body-size with it.
	 */
	body = call->body;
	grpc_conn_bytes_freed(call->gs, call->body_cap);
	call->body = NULL;
	call->body_len = call->body_cap = 0;
	/* The plugin calls the handler makes now are children of the call's span. */
	grpc_trace_set_current(call);
	call->fn(call, body + 5, len);
	grpc_trace_set_current(NULL);
	free(body);
}

const char *grpc_call_metadata(const struct grpc_call *call, const char *lowercase_name)
{
	for (size_t i = 0; i < call->n_md; i++)
		if (strcmp(call->md[i].name, lowercase_name) == 0)
			return call->md[i].value;
	return NULL;
}

bool grpc_call_metadata_at(const struct grpc_call *call, size_t i, const char **name, const char **value)
{
	if (i >= call->n_md)
		return false;
	*name = call->md[i].name;
	*value = call->md[i].value;
	return true;
}

const char *grpc_call_path(const struct grpc_call *call)
{
	return call->path;
}

const char *grpc_call_authority(const struct grpc_call *call)
{
	return call->authority;
}

int grpc_call_socket(const struct grpc_call *call)
{
	return call->conn != NULL ? grpc_conn_socket(call->conn) : -1;
}

struct server *grpc_call_server(const struct grpc_call *call)
{
	return call->gs->srv;
}

bool grpc_call_alive(const struct grpc_call *call)
{
	return !call->gone && !call->answered;
}

/* The handler's side is done: answer if still possible, then let the stream's end free the call. */
static bool grpc_call_complete(struct grpc_call *call)
{
	if (call->handler_done) {
		log_error("grpc", "%s: the call was completed twice; the second answer is dropped",
			  call->path);
		return false;
	}
	call->handler_done = true;
	grpc_call_release(call);
	if (call->gone) {
		grpc_call_free(call);
		return false;
	}
	return !call->answered;
}

static void grpc_call_finish(struct grpc_call *call)
{
	struct grpc_conn *conn = call->conn;

	/* The stream's close frees the call; flushing may close the connection, so the call is not touched after. */
	if (conn != NULL)
		grpc_conn_flush(conn);
}

void grpc_call_reply(struct grpc_call *call, const ProtobufCMessage *msg)
{
	size_t len;

	if (!grpc_call_complete(call))
		return;
	len = msg != NULL ? protobuf_c_message_get_packed_size(msg) : 0;
	call->out = malloc(len + 5);
	if (call->out == NULL) {
		grpc_call_answer_status(call, GRPC_RESOURCE_EXHAUSTED, NULL, "out of memory for the answer");
	} else {
		call->out[0] = 0;
		call->out[1] = (uint8_t)(len >> 24);
		call->out[2] = (uint8_t)(len >> 16);
		call->out[3] = (uint8_t)(len >> 8);
		call->out[4] = (uint8_t)len;
		if (msg != NULL)
			protobuf_c_message_pack(msg, call->out + 5);
		call->out_len = len + 5;
		call->status = GRPC_OK;
		grpc_call_submit(call, NULL);
	}
	grpc_call_finish(call);
}

static void grpc_call_vfail(struct grpc_call *call, int code, const char *reason, const char *const *meta,
			    size_t n_meta, const char *fmt, va_list ap)
{
	char text[1024];
	char *details = NULL;

	if (!grpc_call_complete(call))
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	/* Status.message of grpc-status-details-bin is a proto string: UTF-8, or Go clients refuse it. */
	api_message_make_utf8(text);
	if (reason != NULL)
		details = grpc_status_details_bin(code, text, reason, GRPC_ERROR_DOMAIN, meta, n_meta);
	grpc_call_answer_status(call, code, details, "%s", text);
	free(details);
	grpc_call_finish(call);
}

void grpc_call_fail(struct grpc_call *call, int grpc_code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	grpc_call_vfail(call, grpc_code, reason, NULL, 0, fmt, ap);
	va_end(ap);
}

void grpc_call_fail_info(struct grpc_call *call, int grpc_code, const char *reason, const char *const *meta,
			 size_t n_meta, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	grpc_call_vfail(call, grpc_code, reason, meta, n_meta, fmt, ap);
	va_end(ap);
}

void grpc_call_fail_details(struct grpc_call *call, int grpc_code, const char *details_bin,
			    const char *message)
{
	if (!grpc_call_complete(call))
		return;
	grpc_call_answer_status(call, grpc_code,
				details_bin != NULL && *details_bin != '\0' ? details_bin : NULL, "%s",
				message != NULL ? message : "");
	grpc_call_finish(call);
}

/* Whether name may go as reply metadata: not one gRPC or HTTP/2 sets itself, and in lowercase. */
static bool grpc_call_reply_name_ok(const char *name)
{
	static const char *const reserved[] = { "content-type",	     "content-length", "te",
						"connection",	     "keep-alive",     "proxy-connection",
						"transfer-encoding", "upgrade",	       "host" };

	/* grpc-* is gRPC's own: grpc-encoding or grpc-accept-encoding would speak for outrig's transport. */
	if (*name == '\0' || *name == ':' || strncmp(name, "grpc-", 5) == 0)
		return false;
	for (const char *c = name; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			return false;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return false;
	return true;
}

static int grpc_call_copy_reply_md(struct kv_list *out, const struct kv_list *in)
{
	for (size_t i = 0; in != NULL && i < in->count; i++)
		if (grpc_call_reply_name_ok(in->items[i].key) &&
		    kv_add(out, in->items[i].key, in->items[i].value) != 0)
			return -1;
	return 0;
}

int grpc_call_add_reply_metadata(struct grpc_call *call, const struct kv_list *headers,
				 const struct kv_list *trailers)
{
	if (grpc_call_copy_reply_md(&call->reply_headers, headers) != 0 ||
	    grpc_call_copy_reply_md(&call->reply_trailers, trailers) != 0)
		return -1;
	return 0;
}
