/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP/2 connection of the gRPC API: nghttp2's server session on a libevent bufferevent. */
#include "api/grpc/grpc_conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif

#include "api/grpc/grpc_call_internal.h"
#include "api/grpc/grpc_proxy.h"
#include "api/grpc/grpc_server.h"
#include "base/log.h"
#include "options.h"
#include "runtime.h"

/* Output queued in the socket's buffer beyond which nghttp2 waits (answers are not made faster than sent). */
#define GRPC_CONN_MAX_OUTPUT (1024 * 1024)
/* How long a closing connection's last bytes may wait for a client that reads nothing, and then its hang-up. */
#define GRPC_CONN_LINGER_S 5

struct grpc_conn {
	struct grpc_server *gs;
	struct bufferevent *bev;
	nghttp2_session *ng;
	struct grpc_call *calls;
	size_t held;	    /* calls of this connection a handler still has (grpc_call.c) */
	struct event *idle; /* closes the connection after the server's idle_timeout_ms without a stream */
	int64_t last_busy;  /* CLOCK_MONOTONIC ms when a stream last began or ended */
	struct grpc_conn *next, *prev;
	bool in_recv; /* inside nghttp2_session_mem_recv: sending and freeing wait */
	bool closing; /* free once the output is written */
	bool lingering; /* all written and our FIN sent: waits for the client's (grpc_conn_linger) */
	bool greeted; /* a first frame came after the preface */
};

static ssize_t grpc_conn_send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct grpc_conn *conn = arg;
	struct evbuffer *out = bufferevent_get_output(conn->bev);

	if (evbuffer_get_length(out) >= GRPC_CONN_MAX_OUTPUT)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (evbuffer_add(out, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int64_t grpc_conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int grpc_conn_begin_headers_cb(nghttp2_session *ng, const nghttp2_frame *frame, void *arg)
{
	struct grpc_conn *conn = arg;
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	conn->last_busy = grpc_conn_now_ms();
	call = grpc_call_new(conn, frame->hd.stream_id);
	if (call == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, call);
	return 0;
}

static char *grpc_conn_dup(const uint8_t *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int grpc_conn_header_cb(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
			       size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
			       void *arg)
{
	struct grpc_call *call = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	char **slot = NULL;

	if (call == NULL || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	/* HPACK lets a small frame expand into much metadata: the bound is on what is kept. */
	call->md_bytes += namelen + valuelen + 32;
	if (call->md_bytes > GRPC_MAX_METADATA_BYTES)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* trailers of the request: gRPC defines none a server reads */
	if (namelen == 5 && memcmp(name, ":path", 5) == 0) {
		slot = &call->path;
	} else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
		slot = &call->content_type;
	} else if (namelen == 10 && memcmp(name, ":authority", 10) == 0) {
		slot = &call->authority; /* the Host of invocation's Forwarded headers */
	} else if (namelen > 0 && name[0] == ':') {
		return 0; /* :method, :scheme: nghttp2 checked them */
	} else {
		struct grpc_md *md = realloc(call->md, (call->n_md + 1) * sizeof(*md));

		if (md == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		call->md = md;
		md[call->n_md].name = grpc_conn_dup(name, namelen);
		md[call->n_md].value = grpc_conn_dup(value, valuelen);
		call->n_md++;
		if (md[call->n_md - 1].name == NULL || md[call->n_md - 1].value == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		return 0;
	}
	free(*slot);
	*slot = grpc_conn_dup(value, valuelen);
	return *slot == NULL ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
}

static int grpc_conn_data_cb(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data,
			     size_t len, void *arg)
{
	struct grpc_conn *conn = arg;
	struct grpc_call *call = nghttp2_session_get_stream_user_data(ng, stream_id);
	size_t limit;

	/*
	 * Flow control is ours (no automatic WINDOW_UPDATE): the connection's window always comes back,
	 * so other streams go on, but a stream's only for bytes kept, so a request past the limit
	 * (or already answered) is not granted more than the window it started with.
	 */
	if (call != NULL && call->proxy != NULL) {
		/* Passed through: the stream's window comes back once the bytes went upstream. */
		nghttp2_session_consume_connection(ng, len);
		grpc_proxy_request_data(call->proxy, data, len);
		return 0;
	}
	if (call == NULL || call->too_big || call->answered) {
		nghttp2_session_consume_connection(ng, len);
		return 0;
	}
	limit = (size_t)conn->gs->srv->opts->max_body_bytes + 5;
	/* The length prefix tells early when a message cannot fit: answer before it all arrives. */
	if (call->body_len < 5 && call->body_len + len >= 5) {
		uint8_t prefix[5];
		size_t have = call->body_len;

		if (have > 0)
			memcpy(prefix, call->body, have);
		memcpy(prefix + have, data, 5 - have);
		if ((size_t)((uint32_t)prefix[1] << 24 | (uint32_t)prefix[2] << 16 |
			     (uint32_t)prefix[3] << 8 | prefix[4]) +
			    5 >
		    limit)
			call->too_big = true;
	}
	if (call->too_big || call->body_len + len > limit) {
		call->too_big = true;
		grpc_call_answer_status(
			call, GRPC_RESOURCE_EXHAUSTED, NULL,
			"the request message is larger than the --max-body-size limit of %lld bytes; send less, or start outrigd with a larger --max-body-size",
			(long long)conn->gs->srv->opts->max_body_bytes);
		nghttp2_session_consume_connection(ng, len);
		return 0;
	}
	if (call->body_len + len > call->body_cap) {
		size_t cap = call->body_cap != 0 ? call->body_cap : 1024;
		uint8_t *body;

		while (cap < call->body_len + len)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		body = realloc(call->body, cap);
		if (body == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		call->body = body;
		conn->gs->buffered += cap - call->body_cap;
		call->body_cap = cap;
	}
	memcpy(call->body + call->body_len, data, len);
	call->body_len += len;
	/*
	 * Past the budget of buffered request bytes, the stream's window is not given back (the
	 * connection's is, so other streams go on): its client waits until bytes are freed.
	 */
	if (conn->gs->buffered > conn->gs->buffer_budget || call->unconsumed > 0) {
		if (call->unconsumed == 0)
			conn->gs->starved++;
		call->unconsumed += len;
		nghttp2_session_consume_connection(ng, len);
		return 0;
	}
	nghttp2_session_consume(ng, stream_id, len);
	return 0;
}

void grpc_conn_bytes_freed(struct grpc_server *gs, size_t n)
{
	gs->buffered -= n < gs->buffered ? n : gs->buffered;
	if (gs->starved > 0 && gs->grant != NULL)
		event_active(gs->grant, 0, 0);
}

void grpc_conn_grant(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_server *gs = arg;
	struct grpc_conn *conn, *next;

	for (conn = gs->conns; conn != NULL && gs->starved > 0; conn = next) {
		bool granted = false;

		next = conn->next;
		for (struct grpc_call *call = conn->calls; call != NULL; call = call->next) {
			if (call->unconsumed == 0)
				continue;
			if (gs->buffered > gs->buffer_budget)
				break;
			nghttp2_session_consume_stream(conn->ng, call->stream_id, call->unconsumed);
			call->unconsumed = 0;
			gs->starved--;
			granted = true;
		}
		/* May free the connection: next was taken before. */
		if (granted)
			grpc_conn_flush(conn);
		if (gs->buffered > gs->buffer_budget)
			break;
	}
}

static int grpc_conn_frame_cb(nghttp2_session *ng, const nghttp2_frame *frame, void *arg)
{
	struct grpc_conn *conn = arg;
	struct grpc_call *call;

	/* The client's preface and first frame are in: from now on an idle connection may stay. */
	if (!conn->greeted) {
		conn->greeted = true;
		bufferevent_set_timeouts(conn->bev, NULL, NULL);
	}
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	call = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (call == NULL)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
		grpc_call_headers_done(call);
	if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 && call->proxy != NULL) {
		call->request_complete = true;
		grpc_proxy_request_end(call->proxy);
	} else if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
		call->request_complete = true;
		/* Nothing more comes on this stream: it needs no window, held back or not. */
		if (call->unconsumed > 0) {
			call->unconsumed = 0;
			conn->gs->starved--;
		}
		if (!call->too_big && !call->answered)
			grpc_call_request_done(call);
	}
	return 0;
}

/*
 * An answer sent before the request ended (too large, deadline passed): RST_STREAM(NO_ERROR) tells
 * the client to stop sending, as RFC 9113 8.1 allows. Submitted only now: nghttp2 drops a queued
 * answer when a reset of its stream is submitted first.
 */
static int grpc_conn_frame_sent_cb(nghttp2_session *ng, const nghttp2_frame *frame, void *arg)
{
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS || (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0)
		return 0;
	call = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (call != NULL && !call->request_complete)
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
	return 0;
}

static int grpc_conn_close_cb(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *arg)
{
	struct grpc_conn *conn = arg;
	struct grpc_call *call = nghttp2_session_get_stream_user_data(ng, stream_id);

	conn->last_busy = grpc_conn_now_ms();
	if (call != NULL) {
		nghttp2_session_set_stream_user_data(ng, stream_id, NULL);
		grpc_call_stream_gone(call);
	}
	return 0;
}

/* Appends a call's reply metadata l (grpc_call_add_reply_metadata) to nv; returns how many. */
static size_t grpc_conn_reply_md(nghttp2_nv *nv, const struct kv_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		nv[i] = (nghttp2_nv){ (uint8_t *)l->items[i].key, (uint8_t *)l->items[i].value,
				      strlen(l->items[i].key), strlen(l->items[i].value),
				      NGHTTP2_NV_FLAG_NONE };
	return l->count;
}

static ssize_t grpc_conn_read_body(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
				   uint32_t *data_flags, nghttp2_data_source *source, void *arg)
{
	struct grpc_call *call = source->ptr;
	size_t n = call->out_len - call->out_off;

	if (n > length)
		n = length;
	if (n > 0)
		memcpy(buf, call->out + call->out_off, n);
	call->out_off += n;
	if (call->out_off == call->out_len) {
		nghttp2_nv *trailers = calloc(1 + call->reply_trailers.count, sizeof(*trailers));
		size_t nt = 0;
		int rc;

		if (trailers == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		trailers[nt++] =
			(nghttp2_nv){ (uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE };
		nt += grpc_conn_reply_md(trailers + nt, &call->reply_trailers);
		*data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		/* nghttp2 copies the fields. */
		rc = nghttp2_submit_trailer(ng, stream_id, trailers, nt);
		free(trailers);
		if (rc != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

#define GRPC_NV(n, v)                                                                                        \
	{                                                                                                    \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE               \
	}

int grpc_conn_submit(struct grpc_conn *conn, struct grpc_call *call, const char *details_bin)
{
	char status[16];

	/* The fixed fields, then the reply metadata of the call (nghttp2 copies them all). */
	nghttp2_nv *hdrs = calloc(5 + call->reply_headers.count + call->reply_trailers.count, sizeof(*hdrs));
	size_t n = 0;
	int rc;

	if (hdrs == NULL)
		return -1;
	snprintf(status, sizeof(status), "%d", call->status);
	hdrs[n++] = (nghttp2_nv)GRPC_NV(":status", "200");
	hdrs[n++] = (nghttp2_nv)GRPC_NV("content-type", "application/grpc");
	if (call->status == GRPC_OK) {
		nghttp2_data_provider prd = { .source.ptr = call, .read_callback = grpc_conn_read_body };

		n += grpc_conn_reply_md(hdrs + n, &call->reply_headers);
		rc = nghttp2_submit_response(conn->ng, call->stream_id, hdrs, n, &prd);
	} else {
		/* Trailers-Only: one HEADERS frame carries the status and ends the stream. */
		hdrs[n++] = (nghttp2_nv)GRPC_NV("grpc-status", status);
		if (call->trailer_message != NULL)
			hdrs[n++] = (nghttp2_nv)GRPC_NV("grpc-message", call->trailer_message);
		if (details_bin != NULL)
			hdrs[n++] = (nghttp2_nv)GRPC_NV("grpc-status-details-bin", details_bin);
		n += grpc_conn_reply_md(hdrs + n, &call->reply_headers);
		n += grpc_conn_reply_md(hdrs + n, &call->reply_trailers);
		rc = nghttp2_submit_response(conn->ng, call->stream_id, hdrs, n, NULL);
	}
	free(hdrs);
	return rc == 0 ? 0 : -1;
}

int grpc_conn_respond(struct grpc_conn *conn, int32_t stream_id, const nghttp2_nv *nv, size_t n,
		      const nghttp2_data_provider *body)
{
	return nghttp2_submit_response(conn->ng, stream_id, nv, n, body) == 0 ? 0 : -1;
}

void grpc_conn_resume(struct grpc_conn *conn, int32_t stream_id)
{
	nghttp2_session_resume_data(conn->ng, stream_id);
}

void grpc_conn_consume(struct grpc_conn *conn, int32_t stream_id, size_t n)
{
	nghttp2_session_consume_stream(conn->ng, stream_id, n);
}

void grpc_conn_reset_stream(struct grpc_conn *conn, int32_t stream_id, uint32_t error_code)
{
	nghttp2_submit_rst_stream(conn->ng, NGHTTP2_FLAG_NONE, stream_id, error_code);
}

void grpc_conn_goaway(struct grpc_conn *conn)
{
	nghttp2_submit_goaway(conn->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(conn->ng),
			      NGHTTP2_NO_ERROR, NULL, 0);
	grpc_conn_flush(conn);
}

void grpc_conn_free(struct grpc_conn *conn)
{
	struct grpc_call *call, *next;

	/* nghttp2 says nothing of the streams it drops with the session: each call learns it here. */
	for (call = conn->calls; call != NULL; call = next) {
		next = call->next;
		grpc_call_stream_gone(call);
	}
	/* Calls still in handlers' hands outlive the connection: they stop counting against it. */
	for (call = conn->gs->orphans; call != NULL; call = call->next)
		if (call->held_by == conn)
			call->held_by = NULL;
	if (conn->idle != NULL)
		event_free(conn->idle);
	nghttp2_session_del(conn->ng);
	/*
	 * A connection on a bufferevent pair (the internal port's) tells the other end it is over: a
	 * deferred callback, so only while the loop runs (after it, the other end is freed in turn
	 * by internal_server_close, and a callback never run would leak both ends).
	 */
	if (!event_base_got_exit(conn->gs->srv->base) && !event_base_got_break(conn->gs->srv->base))
		bufferevent_flush(conn->bev, EV_WRITE, BEV_FINISHED);
	bufferevent_free(conn->bev);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		conn->gs->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	free(conn);
}

static void grpc_conn_idle(evutil_socket_t fd, short what, void *arg);

/*
 * A closing connection's output is all written: FIN goes after it (shutdown), and the connection
 * waits for the client's, reading and dropping what it still sends, for GRPC_CONN_LINGER_S at
 * most. Closed at once, its socket would answer whatever the client still sends (a keepalive PING,
 * a WINDOW_UPDATE for what it read) with RST, and the kernel would drop the end of the answer it
 * had yet to deliver. False when there is no socket to wait on (a bufferevent pair: the internal
 * port's other end writes to it) or no timer: then the connection is freed now.
 */
static bool grpc_conn_linger(struct grpc_conn *conn)
{
	struct timeval linger = { GRPC_CONN_LINGER_S, 0 };
	evutil_socket_t fd = bufferevent_getfd(conn->bev);

	if (conn->lingering)
		return true;
	if (fd < 0)
		return false;
	if (conn->idle == NULL)
		conn->idle = evtimer_new(bufferevent_get_base(conn->bev), grpc_conn_idle, conn);
	if (conn->idle == NULL || shutdown(fd, SHUT_WR) != 0)
		return false;
	conn->lingering = true;
	bufferevent_set_timeouts(conn->bev, NULL, NULL);
	evtimer_add(conn->idle, &linger);
	return true;
}

void grpc_conn_flush(struct grpc_conn *conn)
{
	if (conn->in_recv)
		return;
	if (!conn->closing && nghttp2_session_send(conn->ng) != 0)
		conn->closing = true;
	if (!nghttp2_session_want_read(conn->ng) && !nghttp2_session_want_write(conn->ng))
		conn->closing = true;
	if (conn->closing) {
		/* A client that never reads its GOAWAY does not keep the connection for long. */
		struct timeval linger = { GRPC_CONN_LINGER_S, 0 };

		if (evbuffer_get_length(bufferevent_get_output(conn->bev)) > 0)
			bufferevent_set_timeouts(conn->bev, NULL, &linger);
		else if (!grpc_conn_linger(conn))
			grpc_conn_free(conn);
	}
}

static void grpc_conn_read(struct bufferevent *bev, void *arg)
{
	struct grpc_conn *conn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	ssize_t rv;

	if (conn->closing) {
		evbuffer_drain(in, n);
		return;
	}
	conn->in_recv = true;
	rv = nghttp2_session_mem_recv(conn->ng, evbuffer_pullup(in, -1), n);
	conn->in_recv = false;
	evbuffer_drain(in, n);
	if (rv < 0) {
		/*
		 * A bad preface (HTTP/1.1 sent to this port), a flood, or broken framing: say GOAWAY
		 * if nghttp2 still can, then hang up without reading more.
		 */
		log_debug("grpc", "closing a connection: %s", nghttp2_strerror((int)rv));
		nghttp2_session_terminate_session(conn->ng, rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC
								    ? NGHTTP2_PROTOCOL_ERROR
								    : NGHTTP2_ENHANCE_YOUR_CALM);
		nghttp2_session_send(conn->ng);
		conn->closing = true;
	}
	grpc_conn_flush(conn);
}

static void grpc_conn_write(struct bufferevent *bev, void *arg)
{
	grpc_conn_flush(arg);
}

static void grpc_conn_event(struct bufferevent *bev, short what, void *arg)
{
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) != 0)
		grpc_conn_free(arg);
}

/*
 * A connection that carried no stream for idle_timeout_ms is closed (GOAWAY first): pings and
 * settings alone do not keep it, so idle clients cannot hold descriptors and sessions forever.
 */
static void grpc_conn_idle(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_conn *conn = arg;
	int64_t quiet = grpc_conn_now_ms() - conn->last_busy;
	int64_t wait = conn->gs->idle_timeout_ms;
	struct timeval tv;

	/* The linger is over (grpc_conn_linger): the client did not hang up. */
	if (conn->lingering) {
		grpc_conn_free(conn);
		return;
	}
	if (conn->calls == NULL && quiet >= wait) {
		log_debug("grpc", "closing a connection idle for %lld ms", (long long)quiet);
		nghttp2_session_terminate_session(conn->ng, NGHTTP2_NO_ERROR);
		grpc_conn_flush(conn);
		return;
	}
	if (conn->calls == NULL && quiet < wait)
		wait -= quiet;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(conn->idle, &tv);
}

static int grpc_conn_session(struct grpc_conn *conn)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, GRPC_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, GRPC_MAX_METADATA_BYTES },
	};
	int rc;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_send_callback(cbs, grpc_conn_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, grpc_conn_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, grpc_conn_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, grpc_conn_data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, grpc_conn_frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, grpc_conn_close_cb);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, grpc_conn_frame_sent_cb);
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cbs);
		return -1;
	}
	/*
	 * Flood limits, set here rather than trusted to defaults: queued SETTINGS/PING acks a client
	 * never reads, SETTINGS entries, CONTINUATION frames per header block (CVE-2024-28182), and
	 * streams a client opens and resets at once (rapid reset, CVE-2023-44487). Going over ends
	 * the connection with GOAWAY.
	 */
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_settings(opt, 32);
	nghttp2_option_set_max_continuations(opt, 8);
	nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
	nghttp2_option_set_max_send_header_block_length(opt, 64 * 1024);
	nghttp2_option_set_no_auto_window_update(opt, 1);
	rc = nghttp2_session_server_new2(&conn->ng, cbs, conn, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0)
		return -1;
	return nghttp2_submit_settings(conn->ng, NGHTTP2_FLAG_NONE, settings, 2) == 0 ? 0 : -1;
}

struct bufferevent *grpc_conn_bufferevent(const struct grpc_conn *conn)
{
	return conn->bev;
}

int grpc_conn_socket(const struct grpc_conn *conn)
{
	return conn->bev != NULL ? (int)bufferevent_getfd(conn->bev) : -1;
}

int grpc_conn_accept(struct grpc_server *gs, evutil_socket_t fd)
{
	struct bufferevent *bev;
	int one = 1;

	/* Small answers must not wait for Nagle's timer. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bev = bufferevent_socket_new(gs->srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return -1;
	}
	return grpc_conn_attach(gs, bev);
}

int grpc_conn_attach(struct grpc_server *gs, struct bufferevent *bev)
{
	struct grpc_conn *conn = calloc(1, sizeof(*conn));

	if (conn == NULL) {
		bufferevent_free(bev);
		return -1;
	}
	conn->gs = gs;
	conn->bev = bev;
	if (grpc_conn_session(conn) != 0) {
		if (conn->ng != NULL)
			nghttp2_session_del(conn->ng);
		bufferevent_free(conn->bev);
		free(conn);
		return -1;
	}
	conn->next = gs->conns;
	if (gs->conns != NULL)
		gs->conns->prev = conn;
	gs->conns = conn;
	/*
	 * A connection that never says its preface holds a descriptor for nothing: it gets
	 * --outrig-read-header-timeout, as an HTTP request's head does (0 = no limit).
	 */
	if (gs->srv->opts->read_header_timeout_ms > 0) {
		struct timeval tv = { gs->srv->opts->read_header_timeout_ms / 1000,
				      (gs->srv->opts->read_header_timeout_ms % 1000) * 1000 };

		bufferevent_set_timeouts(conn->bev, &tv, NULL);
	}
	conn->last_busy = grpc_conn_now_ms();
	if (gs->idle_timeout_ms > 0) {
		struct timeval tv = { gs->idle_timeout_ms / 1000, (gs->idle_timeout_ms % 1000) * 1000 };

		conn->idle = evtimer_new(gs->srv->base, grpc_conn_idle, conn);
		if (conn->idle != NULL)
			evtimer_add(conn->idle, &tv);
	}
	bufferevent_setcb(conn->bev, grpc_conn_read, grpc_conn_write, grpc_conn_event, conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	grpc_conn_flush(conn);
	return 0;
}

bool grpc_conn_finishing(const struct grpc_conn *conn)
{
	int unacked = 1;

	if (!conn->closing)
		return false;
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) > 0)
		return true;
	if (!conn->lingering)
		return false;
	/* Lingering: until the client's kernel acknowledged the last byte, closing could still lose it. */
#ifdef SIOCOUTQ
	if (ioctl(bufferevent_getfd(conn->bev), SIOCOUTQ, &unacked) != 0)
		unacked = 0;
#endif
	return unacked > 0;
}

/* The call list of a connection, for grpc_call.c's linking. */
struct grpc_call **grpc_conn_calls(struct grpc_conn *conn)
{
	return &conn->calls;
}

size_t *grpc_conn_held(struct grpc_conn *conn)
{
	return &conn->held;
}

struct grpc_server *grpc_conn_server(struct grpc_conn *conn)
{
	return conn->gs;
}

struct grpc_conn *grpc_conn_next(struct grpc_conn *conn)
{
	return conn->next;
}
