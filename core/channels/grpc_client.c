/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC client: unary calls to a gRPC server (the app's AppCallback) over one HTTP/2 connection, on the loop. */
#include "config.h"

#include "channels/grpc_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "base/log.h"
#include "security/app_tls.h"
#include "channels/grpc_client_internal.h"
#include "channels/grpc_wire.h"

/* The largest flow-control window granted: enough for full speed on loopback, bounded memory. */
#define GC_WINDOW_MAX (1 << 20)
/* Bytes queued for the socket before nghttp2 is asked for more; the rest waits in the calls. */
#define GC_OUT_HIGH (64 * 1024)

static int64_t gc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool gc_is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* ---- calls: their life ---- */

void gc_call_unref(struct gc_call *call)
{
	if (--call->refs > 0)
		return;
	if (call->timer != NULL)
		event_free(call->timer);
	kv_free(&call->metadata);
	kv_free(&call->headers);
	kv_free(&call->trailers);
	free(call->refusal);
	free(call->path);
	free(call->req);
	free(call->resp);
	free(call->message);
	free(call);
}

static struct gc_calls *gc_list(struct grpc_client *c, enum gc_state state)
{
	switch (state) {
	case GC_WAITING: return &c->waiting;
	case GC_ACTIVE: return &c->active;
	case GC_DONE: break;
	}
	return &c->done;
}

/* Ends a call with status and message (copied); its callback runs from the deferred event. */
void gc_finish(struct gc_call *call, int status, const char *message)
{
	struct grpc_client *c = call->c;

	if (call->state == GC_DONE)
		return;
	TAILQ_REMOVE(gc_list(c, call->state), call, link);
	if (call->state == GC_ACTIVE)
		c->nactive--;
	call->state = GC_DONE;
	TAILQ_INSERT_TAIL(&c->done, call, link);
	call->status = status;
	free(call->message);
	call->message = strdup(message != NULL ? message : "");
	if (call->timer != NULL)
		evtimer_del(call->timer);
	event_active(c->deferred, EV_TIMEOUT, 0);
}

void gc_finishf(struct gc_call *call, int status, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	gc_finish(call, status, message);
}

/* Ends a call whose stream is open and resets the stream, so that nothing more of it is read. */
void gc_abort(struct gc_call *call, int status, const char *message)
{
	if (call->state == GC_ACTIVE && call->conn != NULL && call->conn->session != NULL)
		nghttp2_submit_rst_stream(call->conn->session, NGHTTP2_FLAG_NONE, call->stream_id,
					  NGHTTP2_CANCEL);
	gc_finish(call, status, message);
}

/* ---- connections ---- */

static void gc_conn_free(struct gc_conn *conn, const char *why);
static void gc_conn_flush(struct gc_conn *conn);

/*
 * How long the server may stay silent when it owes an answer to the connection itself (its first
 * SETTINGS, a PING's ACK): the client's timeout_s, or gRPC's keepalive timeout without one.
 */
static int gc_ping_timeout_s(const struct grpc_client *c)
{
	return c->timeout_s > 0 ? c->timeout_s : 20;
}

/* The window the client grants a stream (and the connection): no larger than one answer may be. */
static int32_t gc_window(const struct grpc_client *c)
{
	if (c->max_message < 0 || c->max_message + 5 >= GC_WINDOW_MAX)
		return GC_WINDOW_MAX;
	return c->max_message + 5 < 1024 ? 1024 : (int32_t)(c->max_message + 5);
}

/*
 * Closes a connection for good. Its unfinished calls fail UNAVAILABLE with why; when it never
 * got as far as the server's SETTINGS, so do the calls waiting for it (gRPC's calls do not wait
 * for a server that is down, and a server that is not HTTP/2 must not be dialled in a loop).
 */
static void gc_conn_free(struct gc_conn *conn, const char *why)
{
	struct grpc_client *c = conn->c;
	struct gc_call *call;

	if (!conn->settled && c->current == conn) {
		while ((call = TAILQ_FIRST(&c->waiting)) != NULL)
			gc_finishf(call, GRPC_WIRE_UNAVAILABLE,
				   "could not connect to the gRPC server at %s: %s", c->authority, why);
	}
	if (c->current == conn)
		c->current = NULL;
	/* Worth a line only when it cost calls; an idle connection the server closed is routine. */
	if (conn->open > 0)
		log_warn(GC_SCOPE, "the connection to the gRPC server at %s ended with calls on it (%u): %s",
			 c->authority, conn->open, why);
	else
		log_debug(GC_SCOPE, "the connection to the gRPC server at %s ended: %s", c->authority, why);
	/* nghttp2_session_del calls no callback: the streams' references are dropped here. */
	while ((call = LIST_FIRST(&conn->streams)) != NULL) {
		LIST_REMOVE(call, stream_link);
		call->conn = NULL;
		if (call->state == GC_ACTIVE)
			gc_finishf(call, GRPC_WIRE_UNAVAILABLE,
				   "the connection to the gRPC server at %s ended before the answer: %s",
				   c->authority, why);
		gc_call_unref(call);
	}
	if (conn->session != NULL)
		nghttp2_session_del(conn->session);
	if (conn->bev != NULL)
		bufferevent_free(conn->bev);
	if (conn->ping_timer != NULL)
		event_free(conn->ping_timer);
	LIST_REMOVE(conn, link);
	free(conn);
	/* Calls waiting for a slot on it go to a new connection. */
	event_active(c->deferred, EV_TIMEOUT, 0);
}

/* Closes the connection once nghttp2 is done with it (GOAWAY both ways, nothing left to send). */
static void gc_conn_check(struct gc_conn *conn)
{
	if (conn->session == NULL || evbuffer_get_length(bufferevent_get_output(conn->bev)) > 0)
		return;
	if (conn->draining && conn->open == 0)
		gc_conn_free(conn, "the connection was drained");
	else if (!nghttp2_session_want_read(conn->session) && !nghttp2_session_want_write(conn->session))
		gc_conn_free(conn, "the server closed the connection (GOAWAY)");
}

/* Moves what nghttp2 has to send into the socket's buffer, up to GC_OUT_HIGH; the write callback asks again. */
static void gc_conn_flush(struct gc_conn *conn)
{
	struct evbuffer *out = bufferevent_get_output(conn->bev);

	while (evbuffer_get_length(out) < GC_OUT_HIGH) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(conn->session, &data);

		if (n < 0) {
			char why[160];

			snprintf(why, sizeof(why), "HTTP/2 failed: %s", nghttp2_strerror((int)n));
			gc_conn_free(conn, why);
			return;
		}
		if (n == 0)
			return;
		if (evbuffer_add(out, data, (size_t)n) != 0) {
			gc_conn_free(conn, "out of memory");
			return;
		}
	}
}

static void gc_conn_read(struct bufferevent *bev, void *arg)
{
	struct gc_conn *conn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;

	while ((n = evbuffer_get_contiguous_space(in)) > 0) {
		ssize_t used = nghttp2_session_mem_recv(conn->session, evbuffer_pullup(in, (ssize_t)n), n);

		if (used < 0) {
			char why[200];

			snprintf(why, sizeof(why), "the server broke HTTP/2 (%s); is it a gRPC server?",
				 nghttp2_strerror((int)used));
			gc_conn_free(conn, why);
			return;
		}
		evbuffer_drain(in, n);
	}
	/* SETTINGS acknowledgements, WINDOW_UPDATEs and resets answer what was read. */
	gc_conn_flush(conn);
}

static void gc_conn_written(struct bufferevent *bev, void *arg)
{
	struct gc_conn *conn = arg;

	if (conn->session != NULL)
		gc_conn_flush(conn);
}

static void gc_conn_event(struct bufferevent *bev, short what, void *arg);

static bool gc_conn_start_session(struct gc_conn *conn)
{
	struct grpc_client *c = conn->c;
	nghttp2_session_callbacks *cbs = gc_answer_callbacks();
	nghttp2_settings_entry iv[3];
	size_t n = 0;
	int32_t window = gc_window(c);
	int rv;

	if (cbs == NULL)
		return false;
	rv = nghttp2_session_client_new(&conn->session, cbs, conn);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0)
		return false;
	iv[n++] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 };
	iv[n++] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)window };
	if (c->max_headers >= 0)
		iv[n++] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
						    c->max_headers > UINT32_MAX ? UINT32_MAX
										: (uint32_t)c->max_headers };
	if (nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, iv, n) != 0)
		return false;
	/* The connection's window starts at 65535; raising it lets several answers arrive at once. */
	if (window > 65535 &&
	    nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0, window) != 0)
		return false;
	return true;
}

static void gc_conn_event(struct bufferevent *bev, short what, void *arg)
{
	int sock_err = EVUTIL_SOCKET_ERROR(); /* before anything else can change it */
	struct gc_conn *conn = arg;
	struct grpc_client *c = conn->c;
	struct timeval settle = { 0, 0 };
	char why[400];

	if (what & BEV_EVENT_CONNECTED) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		int one = 1;

		if (c->tls != NULL && !app_tls_alpn_ok(c->tls, bev, why, sizeof(why))) {
			gc_conn_free(conn, why);
			return;
		}
		/* Nagle's algorithm would hold small frames back ~40 ms. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* The connect timeout is done; the server's SETTINGS are waited for as long as a PING's ACK. */
		settle.tv_sec = gc_ping_timeout_s(c);
		bufferevent_set_timeouts(bev, &settle, NULL);
		if (!gc_conn_start_session(conn)) {
			gc_conn_free(conn, "out of memory");
			return;
		}
		conn->connected = true;
		bufferevent_setwatermark(bev, EV_WRITE, GC_OUT_HIGH / 2, 0);
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		log_debug(GC_SCOPE, "connected to the gRPC server at %s", c->authority);
		/* The preface and SETTINGS; calls start once the server's SETTINGS came. */
		gc_conn_flush(conn);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && conn->connected) {
		snprintf(why, sizeof(why), "no HTTP/2 SETTINGS from it within %d s; is it a gRPC server?",
			 gc_ping_timeout_s(c));
	} else if (what & BEV_EVENT_TIMEOUT) {
		snprintf(why, sizeof(why), "no connection within %d s", c->timeout_s);
	} else if (!conn->connected && c->tls != NULL && app_tls_failure(bev, sock_err, why, sizeof(why))) {
		/* why says what went wrong with TLS. */
	} else if (what & BEV_EVENT_EOF) {
		snprintf(why, sizeof(why), "the server closed the connection");
	} else {
		int dns = bufferevent_socket_get_dns_error(bev);
		int err = EVUTIL_SOCKET_ERROR();

		if (dns != 0)
			snprintf(why, sizeof(why), "cannot resolve %s: %s", c->host,
				 evutil_gai_strerror(dns));
		else
			snprintf(why, sizeof(why), "%s",
				 err != 0 ? evutil_socket_error_to_string(err) : "connection failed");
	}
	gc_conn_free(conn, why);
}

/* Opens the connection new calls go on (c->current); it may fail, and be gone, before this returns. */
static void gc_conn_open(struct grpc_client *c)
{
	struct gc_conn *conn = calloc(1, sizeof(*conn));
	struct timeval tv = { c->timeout_s, 0 };

	if (conn == NULL)
		goto oom;
	conn->c = c;
	LIST_INIT(&conn->streams);
	conn->bev = c->tls != NULL ? app_tls_bufferevent(c->tls, c->base, 0)
				   : bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		free(conn);
		goto oom;
	}
	LIST_INSERT_HEAD(&c->conns, conn, link);
	c->current = conn;
	bufferevent_setcb(conn->bev, gc_conn_read, gc_conn_written, gc_conn_event, conn);
	if (c->timeout_s > 0)
		bufferevent_set_timeouts(conn->bev, NULL, &tv);
	/* On failure the event callback has already run and freed conn. */
	bufferevent_socket_connect_hostname(conn->bev, c->dns, AF_UNSPEC, c->host, c->port);
	return;
oom:
	while (!TAILQ_EMPTY(&c->waiting))
		gc_finish(TAILQ_FIRST(&c->waiting), GRPC_WIRE_UNAVAILABLE,
			  "outrigd could not open a connection (out of memory)");
}

/* ---- starting calls ---- */

/* Adds name: value to l, joining a repeated name's values with ",". */
int gc_kv_add(struct kv_list *l, const char *name, const char *value)
{
	const char *had = kv_get(l, name);
	char *joined;
	int rv;

	if (had == NULL)
		return kv_set(l, name, value);
	if (asprintf(&joined, "%s,%s", had, value) < 0)
		return -1;
	rv = kv_set(l, name, joined);
	free(joined);
	return rv;
}

/*
 * Puts a call the server refused back at the head of the queue, to go out again (on a new
 * connection when the refusal came with GOAWAY). REFUSED_STREAM promises that the server did
 * nothing with it (RFC 9113 §8.7), so this is safe for any call, as gRPC's transparent retry is.
 */
void gc_requeue(struct gc_call *call)
{
	struct grpc_client *c = call->c;

	TAILQ_REMOVE(&c->active, call, link);
	c->nactive--;
	call->state = GC_WAITING;
	TAILQ_INSERT_HEAD(&c->waiting, call, link);
	call->retried = true;
	call->req_sent = 0;
	call->stream_id = 0;
	call->block_size = 0;
}

/* The request body, as nghttp2 asks for it (the call lives while its stream is open). */
static ssize_t gc_read_request(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
			       uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
	struct gc_call *call = source->ptr;
	size_t n = call->req_len - call->req_sent;

	if (n > length)
		n = length;
	memcpy(buf, call->req + call->req_sent, n);
	call->req_sent += n;
	if (call->req_sent == call->req_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Submits call's HEADERS and body on conn. Returns 0, or an nghttp2 error (the call then still waits). */
static int gc_call_start(struct gc_conn *conn, struct gc_call *call)
{
	struct grpc_client *c = conn->c;
	nghttp2_nv *nva;
	size_t n = 0;
	char timeout[GRPC_WIRE_TIMEOUT_SIZE];
	nghttp2_data_provider body = { .source.ptr = call, .read_callback = gc_read_request };
	int32_t id;

#define GC_NV(k, v)                                                                                          \
	(nva[n++] = (nghttp2_nv){ .name = (uint8_t *)(k),                                                    \
				  .value = (uint8_t *)(v),                                                   \
				  .namelen = strlen(k),                                                      \
				  .valuelen = strlen(v),                                                     \
				  .flags = NGHTTP2_NV_FLAG_NONE })
	nva = calloc(8 + call->metadata.count, sizeof(*nva));
	if (nva == NULL)
		return NGHTTP2_ERR_NOMEM;
	GC_NV(":method", "POST");
	GC_NV(":scheme", c->tls != NULL ? "https" : "http");
	GC_NV(":path", call->path);
	GC_NV(":authority", c->authority);
	GC_NV("te", "trailers");
	GC_NV("content-type", "application/grpc");
	GC_NV("user-agent", "outrigd/" PACKAGE_VERSION);
	if (call->deadline_ms != 0) {
		/* The time left, not the time asked: the call may have waited for a slot. */
		grpc_wire_timeout(call->deadline_ms - gc_now_ms(), timeout);
		GC_NV("grpc-timeout", timeout);
	}
	for (size_t i = 0; i < call->metadata.count; i++)
		GC_NV(call->metadata.items[i].key, call->metadata.items[i].value);
#undef GC_NV
	id = nghttp2_submit_request(conn->session, NULL, nva, n, &body, call);
	free(nva);
	if (id < 0)
		return id;
	call->stream_id = id;
	call->conn = conn;
	call->refs++;
	LIST_INSERT_HEAD(&conn->streams, call, stream_link);
	conn->open++;
	TAILQ_REMOVE(&c->waiting, call, link);
	call->state = GC_ACTIVE;
	TAILQ_INSERT_TAIL(&c->active, call, link);
	c->nactive++;
	return 0;
}

/* Starts waiting calls while there are slots; opens a connection when there is none. */
static void gc_pump(struct grpc_client *c)
{
	struct gc_conn *conn;
	struct gc_call *call;

	while ((call = TAILQ_FIRST(&c->waiting)) != NULL) {
		uint32_t limit;
		int rv;

		if (c->current == NULL) {
			gc_conn_open(c);
			continue;
		}
		conn = c->current;
		/* Before the server's SETTINGS its limits are unknown: calls past them would be refused. */
		if (!conn->settled)
			return;
		limit = nghttp2_session_get_remote_settings(conn->session,
							    NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
		if (conn->open >= limit ||
		    (c->max_concurrency > 0 && c->nactive >= (unsigned)c->max_concurrency))
			break;
		rv = gc_call_start(conn, call);
		if (rv == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
			/* Stream ids run out after 2^30 calls: the next connection takes over. */
			conn->draining = true;
			c->current = NULL;
		} else if (rv != 0) {
			gc_finishf(call, GRPC_WIRE_INTERNAL, "outrigd could not start the call: %s",
				   nghttp2_strerror(rv));
		}
	}
	if (c->current != NULL && c->current->settled)
		gc_conn_flush(c->current);
}

/* Runs finished calls' callbacks, then starts waiting calls, then closes connections nghttp2 is done with. */
static void gc_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_client *c = arg;
	struct gc_call *call;
	struct gc_conn *conn, *next;
	bool alive = true;

	c->alive = &alive;
	while ((call = TAILQ_FIRST(&c->done)) != NULL) {
		bool ok = call->status == GRPC_WIRE_OK;
		struct grpc_client_response r = {
			.status = call->status,
			.message = call->message != NULL ? call->message : "",
			.data = ok ? call->resp + 5 : NULL,
			.len = ok ? call->resp_len - 5 : 0,
			.headers = &call->headers,
			.trailers = &call->trailers,
		};

		TAILQ_REMOVE(&c->done, call, link);
		c->busy--;
		dm_grpc_client(call->path != NULL ? call->path : "", call->status,
			       metrics_now_ms() - call->started_ms);
		dm_grpc_client_bytes(call->path != NULL ? call->path : "", call->req_len > 5 ? call->req_len - 5 : 0,
				     r.len);
		call->cb(call->arg, &r);
		gc_call_unref(call);
		if (!alive)
			return;
	}
	c->alive = NULL;
	gc_pump(c);
	for (conn = LIST_FIRST(&c->conns); conn != NULL; conn = next) {
		next = LIST_NEXT(conn, link);
		if (conn->connected)
			gc_conn_check(conn);
	}
}

static void gc_ping_late(evutil_socket_t fd, short what, void *arg)
{
	struct gc_conn *conn = arg;
	char why[100];

	snprintf(why, sizeof(why), "no answer to a PING within %d s", gc_ping_timeout_s(conn->c));
	gc_conn_free(conn, why);
}

/*
 * Asks the server for a PING's ACK, once a deadline passed on conn: a slow call is the server's
 * business, but a connection that went silent (a host gone without a FIN) would otherwise take
 * every later call to its deadline too. Without the ACK in time, the connection is closed.
 */
static void gc_conn_ping(struct gc_conn *conn)
{
	struct timeval tv = { gc_ping_timeout_s(conn->c), 0 };

	if (conn->ping_out || conn->session == NULL)
		return;
	if (conn->ping_timer == NULL &&
	    (conn->ping_timer = evtimer_new(conn->c->base, gc_ping_late, conn)) == NULL)
		return;
	if (nghttp2_submit_ping(conn->session, NGHTTP2_FLAG_NONE, NULL) != 0)
		return;
	conn->ping_out = true;
	evtimer_add(conn->ping_timer, &tv);
}

static void gc_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct gc_call *call = arg;
	struct gc_conn *conn = call->conn;
	char message[600];

	snprintf(message, sizeof(message), "the gRPC server at %s did not answer %.200s within %d ms",
		 call->c->authority, call->path, call->timeout_ms);
	gc_abort(call, GRPC_WIRE_DEADLINE_EXCEEDED, message);
	/* The RST_STREAM (and the PING) go out now. */
	if (conn != NULL && conn->session != NULL) {
		gc_conn_ping(conn);
		gc_conn_flush(conn);
	}
}

/* Copies metadata into call, leaving out names the client sets itself; notes the first invalid entry. */
static int gc_copy_metadata(struct gc_call *call, const struct kv_list *metadata)
{
	for (size_t i = 0; metadata != NULL && i < metadata->count; i++) {
		const char *k = metadata->items[i].key, *v = metadata->items[i].value;

		if (!grpc_wire_name_ok(k)) {
			if (asprintf(
				    &call->refusal,
				    "the metadata name \"%.60s\" is invalid: gRPC takes lowercase letters, digits, '-', '_' and '.'",
				    k) < 0) {
				call->refusal = NULL;
				return -1;
			}
			call->refusal_status = GRPC_WIRE_INTERNAL;
			return 0;
		}
		if (!grpc_wire_value_ok(v)) {
			if (asprintf(
				    &call->refusal,
				    "the value of metadata \"%.60s\" is invalid: gRPC takes printable ASCII (base64 for a -bin name)",
				    k) < 0) {
				call->refusal = NULL;
				return -1;
			}
			call->refusal_status = GRPC_WIRE_INTERNAL;
			return 0;
		}
		if (grpc_wire_name_reserved(k))
			continue;
		if (gc_kv_add(&call->metadata, k, v) != 0)
			return -1;
	}
	return 0;
}

int grpc_client_unary(struct grpc_client *c, const char *path, const struct kv_list *metadata,
		      const void *msg, size_t len, int timeout_ms, grpc_client_cb cb, void *arg)
{
	struct gc_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return -1;
	call->c = c;
	call->refs = 1;
	call->cb = cb;
	call->arg = arg;
	call->started_ms = metrics_start_ms();
	call->path = strdup(path);
	/* The prefix's length field has 32 bits. */
	if (len > UINT32_MAX) {
		if (asprintf(&call->refusal,
			     "the request message of %zu bytes is larger than gRPC's 4 GiB limit", len) < 0) {
			call->refusal = NULL;
			gc_call_unref(call);
			return -1;
		}
		call->refusal_status = GRPC_WIRE_RESOURCE_EXHAUSTED;
		len = 0;
	}
	call->req_len = 5 + len;
	call->req = malloc(call->req_len);
	if (timeout_ms <= 0 && c->timeout_s > 0)
		timeout_ms = c->timeout_s * 1000;
	call->timeout_ms = timeout_ms;
	if (timeout_ms > 0)
		call->timer = evtimer_new(c->base, gc_deadline, call);
	if (call->path == NULL || call->req == NULL || (timeout_ms > 0 && call->timer == NULL) ||
	    (call->refusal == NULL && gc_copy_metadata(call, metadata) != 0)) {
		gc_call_unref(call);
		return -1;
	}
	call->req[0] = 0; /* not compressed */
	call->req[1] = (uint8_t)(len >> 24);
	call->req[2] = (uint8_t)(len >> 16);
	call->req[3] = (uint8_t)(len >> 8);
	call->req[4] = (uint8_t)len;
	if (len > 0)
		memcpy(call->req + 5, msg, len);
	if (timeout_ms > 0) {
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

		call->deadline_ms = gc_now_ms() + timeout_ms;
		evtimer_add(call->timer, &tv);
	}
	call->state = GC_WAITING;
	TAILQ_INSERT_TAIL(&c->waiting, call, link);
	c->busy++;
	/* Told from the deferred event, like every call: never from within this function. */
	if (call->refusal != NULL)
		gc_finish(call, call->refusal_status, call->refusal);
	/* Started from the deferred event: a connect that fails at once must not call cb from here. */
	event_active(c->deferred, EV_TIMEOUT, 0);
	return 0;
}

/* ---- the client ---- */

struct grpc_client *grpc_client_new(struct event_base *base, const char *host, int port, int max_concurrency,
				    int timeout_s)
{
	struct grpc_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->base = base;
	c->host = strdup(host);
	c->port = port;
	c->max_concurrency = max_concurrency;
	c->timeout_s = timeout_s;
	c->max_message = c->max_headers = -1;
	TAILQ_INIT(&c->waiting);
	TAILQ_INIT(&c->active);
	TAILQ_INIT(&c->done);
	LIST_INIT(&c->conns);
	snprintf(c->authority, sizeof(c->authority), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	c->deferred = event_new(base, -1, 0, gc_deferred, c);
	/* A name is resolved with evdns so that the loop never waits on DNS. */
	if (c->host != NULL && !gc_is_ip(host))
		c->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (c->host == NULL || c->deferred == NULL || (!gc_is_ip(host) && c->dns == NULL)) {
		grpc_client_free(c);
		return NULL;
	}
	return c;
}

void grpc_client_set_tls(struct grpc_client *c, struct app_tls *tls)
{
	c->tls = tls;
}

void grpc_client_set_limits(struct grpc_client *c, int64_t max_message, int64_t max_headers)
{
	c->max_message = max_message;
	c->max_headers = max_headers;
}

/* ---- waiting for the server's port ---- */

static void gc_probe_start(struct grpc_client *c);

static void gc_probe_retry(evutil_socket_t fd, short what, void *arg)
{
	gc_probe_start(arg);
}

static void gc_probe_event(struct bufferevent *bev, short what, void *arg)
{
	struct grpc_client *c = arg;
	int sock_err = EVUTIL_SOCKET_ERROR(); /* before anything else can change it */
	struct timeval again = { 0, 100 * 1000 };
	char why[sizeof(c->tls_failure)];

	/* A TLS dial, as daprd's for grpcs: ready once the handshake is done, not only the connect. */
	if (!(what & BEV_EVENT_CONNECTED) && c->tls != NULL &&
	    app_tls_failure(bev, sock_err, why, sizeof(why)) && strcmp(why, c->tls_failure) != 0) {
		snprintf(c->tls_failure, sizeof(c->tls_failure), "%s", why);
		log_error(GC_SCOPE, "the gRPC server at %s: %s; still trying", c->authority, why);
	}
	bufferevent_free(bev);
	c->probe = NULL;
	if (what & BEV_EVENT_CONNECTED) {
		log_info(GC_SCOPE, "the gRPC server answers on %s", c->authority);
		struct gc_waiter *waiters = c->waiters;
		size_t n = c->nwaiters;
		bool alive = true;

		/* is_ready first: a waiter that asks again is answered at once, not added to the list. */
		c->is_ready = true;
		c->waiters = NULL;
		c->nwaiters = 0;
		/* A waiter may free the client: the rest are then not told, as after grpc_client_free. */
		c->alive = &alive;
		for (size_t i = 0; i < n && alive; i++)
			waiters[i].ready(waiters[i].arg);
		if (alive)
			c->alive = NULL;
		free(waiters);
		return;
	}
	/* Every 10 s, so that a forgotten server is visible in the log without flooding it. */
	if (++c->probes % 100 == 1)
		log_info(GC_SCOPE, "waiting for the gRPC server to listen on %s (for the app: --app-port)",
			 c->authority);
	event_add(c->probe_timer, &again);
}

static void gc_probe_start(struct grpc_client *c)
{
	c->probe = c->tls != NULL ? app_tls_bufferevent(c->tls, c->base, 0)
				  : bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->probe == NULL) {
		log_error(GC_SCOPE, "out of memory while waiting for the gRPC server at %s", c->authority);
		return;
	}
	bufferevent_setcb(c->probe, NULL, NULL, gc_probe_event, c);
	/* On failure the event callback has already run (and rescheduled the probe). */
	bufferevent_socket_connect_hostname(c->probe, c->dns, AF_UNSPEC, c->host, c->port);
}

void grpc_client_wait_ready(struct grpc_client *c, void (*ready)(void *arg), void *arg)
{
	struct gc_waiter *grown;

	if (c->is_ready) {
		ready(arg);
		return;
	}
	grown = realloc(c->waiters, (c->nwaiters + 1) * sizeof(*grown));
	if (grown == NULL) {
		log_error(GC_SCOPE, "out of memory while waiting for the gRPC server at %s", c->authority);
		return;
	}
	c->waiters = grown;
	c->waiters[c->nwaiters].ready = ready;
	c->waiters[c->nwaiters++].arg = arg;
	/* One probe serves every waiter. */
	if (c->probe != NULL || (c->probe_timer != NULL && evtimer_pending(c->probe_timer, NULL)))
		return;
	if (c->probe_timer == NULL)
		c->probe_timer = evtimer_new(c->base, gc_probe_retry, c);
	if (c->probe_timer != NULL)
		gc_probe_start(c);
}

const char *grpc_client_address(const struct grpc_client *c)
{
	return c->authority;
}

unsigned grpc_client_busy(const struct grpc_client *c)
{
	return c->busy;
}

void grpc_client_free(struct grpc_client *c)
{
	struct gc_calls *lists[3];
	struct gc_conn *conn;

	if (c == NULL)
		return;
	if (c->alive != NULL)
		*c->alive = false;
	lists[0] = &c->waiting;
	lists[1] = &c->active;
	lists[2] = &c->done;
	for (size_t i = 0; i < 3; i++) {
		struct gc_call *call;

		while ((call = TAILQ_FIRST(lists[i])) != NULL) {
			TAILQ_REMOVE(lists[i], call, link);
			call->state = GC_DONE;
			gc_call_unref(call);
		}
	}
	/* No callback runs from here on: every call is off the lists, and nghttp2_session_del calls none. */
	while ((conn = LIST_FIRST(&c->conns)) != NULL) {
		struct gc_call *call;

		while ((call = LIST_FIRST(&conn->streams)) != NULL) {
			LIST_REMOVE(call, stream_link);
			gc_call_unref(call);
		}
		if (conn->session != NULL)
			nghttp2_session_del(conn->session);
		bufferevent_free(conn->bev);
		if (conn->ping_timer != NULL)
			event_free(conn->ping_timer);
		LIST_REMOVE(conn, link);
		free(conn);
	}
	if (c->deferred != NULL)
		event_free(c->deferred);
	if (c->probe != NULL)
		bufferevent_free(c->probe);
	if (c->probe_timer != NULL)
		event_free(c->probe_timer);
	if (c->dns != NULL)
		evdns_base_free(c->dns, 0);
	free(c->waiters);
	free(c->host);
	free(c);
}
