/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC client reading answers: nghttp2's callbacks turn headers, DATA, trailers and resets into a call's end. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "channels/grpc_client_internal.h"
#include "channels/grpc_wire.h"

static struct gc_call *gc_stream_call(nghttp2_session *session, int32_t stream_id)
{
	struct gc_call *call = nghttp2_session_get_stream_user_data(session, stream_id);

	return call != NULL && call->state == GC_ACTIVE ? call : NULL;
}

static int gc_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct gc_call *call = gc_stream_call(session, frame->hd.stream_id);

	if (call != NULL) {
		call->in_trailers = call->got_headers;
		call->block_size = 0;
	}
	return 0;
}

static int gc_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
			size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
	struct gc_call *call = gc_stream_call(session, frame->hd.stream_id);
	struct grpc_client *c;

	if (call == NULL || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	c = call->c;
	/* RFC 9113 §6.5.2: a field counts its name, its value and 32 bytes. */
	call->block_size += namelen + valuelen + 32;
	if (c->max_headers >= 0 && call->block_size > (uint64_t)c->max_headers) {
		gc_finishf(
			call, GRPC_WIRE_RESOURCE_EXHAUSTED,
			"the gRPC server's %s are larger than %lld bytes (the limit --read-buffer-size sets)",
			call->in_trailers ? "trailers" : "headers", (long long)c->max_headers);
		/* nghttp2 resets the stream and reads no more of this block. */
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	/* nghttp2 checked the field (no NUL, no uppercase, pseudo-headers first): a copy ends it with NUL. */
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		if (valuelen == 3)
			call->http_status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
		return 0;
	}
	if (namelen > 0 && name[0] == ':')
		return 0;
	{
		char *n = strndup((const char *)name, namelen);
		char *v = strndup((const char *)value, valuelen);
		int rv = n != NULL && v != NULL
				 ? gc_kv_add(call->in_trailers ? &call->trailers : &call->headers, n, v)
				 : -1;

		free(n);
		free(v);
		if (rv != 0) {
			gc_finish(call, GRPC_WIRE_RESOURCE_EXHAUSTED,
				  "outrigd ran out of memory reading the answer");
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		}
	}
	return 0;
}

static int gc_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct gc_conn *conn = user_data;
	struct gc_call *call;

	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		/* Told once the whole block (CONTINUATIONs included) was read. */
		call = gc_stream_call(session, frame->hd.stream_id);
		if (call != NULL)
			call->got_headers = true;
		break;
	case NGHTTP2_GOAWAY:
		/* Calls it took finish on it; new ones go to a new connection. */
		conn->draining = true;
		if (conn->c->current == conn)
			conn->c->current = NULL;
		event_active(conn->c->deferred, EV_TIMEOUT, 0);
		break;
	case NGHTTP2_PING:
		if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && conn->ping_out) {
			conn->ping_out = false;
			evtimer_del(conn->ping_timer);
		}
		break;
	case NGHTTP2_SETTINGS:
		/* The first lets calls start; a later SETTINGS_MAX_CONCURRENT_STREAMS may let more start. */
		if (!(frame->hd.flags & NGHTTP2_FLAG_ACK) && !conn->settled) {
			conn->settled = true;
			/* From now on an idle connection stays open. */
			bufferevent_set_timeouts(conn->bev, NULL, NULL);
		}
		event_active(conn->c->deferred, EV_TIMEOUT, 0);
		break;
	}
	return 0;
}

/* The declared length of the message in call's answer, once its prefix has come. */
static uint32_t gc_message_length(const uint8_t *prefix)
{
	return (uint32_t)prefix[1] << 24 | (uint32_t)prefix[2] << 16 | (uint32_t)prefix[3] << 8 | prefix[4];
}

static int gc_on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
		      size_t len, void *user_data)
{
	struct gc_call *call = gc_stream_call(session, stream_id);
	struct grpc_client *c;
	size_t want;

	if (call == NULL || len == 0)
		return 0;
	c = call->c;
	/* The prefix first, byte by byte (it may come split), so that the length is known before the message. */
	while (call->resp_len < 5 && len > 0) {
		if (call->resp == NULL && (call->resp = malloc(call->resp_cap = 64)) == NULL)
			goto oom;
		call->resp[call->resp_len++] = *data++;
		len--;
		if (call->resp_len < 5)
			continue;
		if (call->resp[0] != 0) {
			gc_abort(call, GRPC_WIRE_INTERNAL,
				 "the gRPC server sent a compressed message, but outrigd asked for none");
			return 0;
		}
		if (c->max_message >= 0 && gc_message_length(call->resp) > (uint64_t)c->max_message) {
			char message[200];

			snprintf(
				message, sizeof(message),
				"the gRPC server's answer of %u bytes is larger than %lld bytes (the limit --max-body-size sets)",
				gc_message_length(call->resp), (long long)c->max_message);
			gc_abort(call, GRPC_WIRE_RESOURCE_EXHAUSTED, message);
			return 0;
		}
	}
	if (len == 0)
		return 0;
	want = 5 + (size_t)gc_message_length(call->resp);
	if (call->resp_len + len > want) {
		gc_abort(call, GRPC_WIRE_INTERNAL,
			 "the gRPC server sent more than one message in answer to a unary call");
		return 0;
	}
	if (call->resp_len + len > call->resp_cap) {
		/* Doubling, capped at the declared length: a short answer never costs the declared size up front. */
		size_t cap = call->resp_cap * 2;
		uint8_t *grown;

		if (cap < call->resp_len + len)
			cap = call->resp_len + len;
		if (cap > want)
			cap = want;
		grown = realloc(call->resp, cap);
		if (grown == NULL)
			goto oom;
		call->resp = grown;
		call->resp_cap = cap;
	}
	memcpy(call->resp + call->resp_len, data, len);
	call->resp_len += len;
	return 0;
oom:
	gc_abort(call, GRPC_WIRE_RESOURCE_EXHAUSTED, "outrigd ran out of memory reading the answer");
	return 0;
}

/* How a stream that closed without the client ending it first ended. */
static void gc_complete(struct gc_call *call, uint32_t error_code)
{
	const struct kv_list *from =
		call->got_headers && call->in_trailers ? &call->trailers : &call->headers;
	const char *status = kv_get(from, "grpc-status");
	int code;

	if (status != NULL) {
		char *message;

		code = grpc_wire_status(status);
		if (code < 0) {
			gc_finishf(call, GRPC_WIRE_UNKNOWN,
				   "the gRPC server answered an invalid grpc-status \"%.20s\"", status);
			return;
		}
		if (code != GRPC_WIRE_OK) {
			message = strdup(kv_get(from, "grpc-message") != NULL ? kv_get(from, "grpc-message")
									      : "");
			if (message != NULL)
				grpc_wire_percent_decode(message);
			gc_finish(call, code, message != NULL ? message : "");
			free(message);
			return;
		}
	} else if (call->http_status != 0 && call->http_status != 200) {
		gc_finishf(call, grpc_wire_from_http(call->http_status),
			   "the gRPC server answered HTTP status %d without a grpc-status",
			   call->http_status);
		return;
	} else if (error_code != NGHTTP2_NO_ERROR) {
		gc_finishf(call, grpc_wire_from_h2_error(error_code),
			   "the gRPC server reset the call's stream (%s)",
			   nghttp2_http2_strerror(error_code));
		return;
	} else {
		gc_finish(call, GRPC_WIRE_INTERNAL, "the gRPC server ended the call without a grpc-status");
		return;
	}
	/* OK: a unary call's answer is exactly one message. */
	if (call->resp_len == 0)
		gc_finish(call, GRPC_WIRE_INTERNAL, "the gRPC server answered OK without a response message");
	else if (call->resp_len < 5 || call->resp_len < 5 + (size_t)gc_message_length(call->resp))
		gc_finishf(call, GRPC_WIRE_INTERNAL,
			   "the gRPC server's answer ended inside its message (%zu bytes)", call->resp_len);
	else
		gc_finish(call, GRPC_WIRE_OK, "");
}

static int gc_on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			      void *user_data)
{
	struct gc_conn *conn = user_data;
	struct gc_call *call = nghttp2_session_get_stream_user_data(session, stream_id);

	if (call == NULL)
		return 0;
	LIST_REMOVE(call, stream_link);
	conn->open--;
	call->conn = NULL;
	if (call->state == GC_ACTIVE && error_code == NGHTTP2_REFUSED_STREAM && !call->retried &&
	    call->http_status == 0 && !call->got_headers && call->resp_len == 0)
		gc_requeue(call);
	else if (call->state == GC_ACTIVE)
		gc_complete(call, error_code);
	gc_call_unref(call);
	/* A slot is free. */
	event_active(conn->c->deferred, EV_TIMEOUT, 0);
	return 0;
}

nghttp2_session_callbacks *gc_answer_callbacks(void)
{
	nghttp2_session_callbacks *cbs;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return NULL;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, gc_on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, gc_on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, gc_on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, gc_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, gc_on_stream_close);
	return cbs;
}
