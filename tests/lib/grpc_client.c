/* SPDX-License-Identifier: Apache-2.0 */
/* A small blocking gRPC client (HTTP/2 cleartext with nghttp2) for tests that talk to outrigd. */
#include "grpc_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct grpc_client {
	int fd;
	nghttp2_session *ng;
	bool gone;
	bool hold; /* the call in progress sends no DATA and never ends its stream */
	bool chatty; /* sends a PING after each read (grpc_client_ping_on_read) */
	/* The call in progress. */
	int32_t stream_id;
	bool done;
	struct grpc_result *res;
	const uint8_t *body;
	size_t body_len, body_off;
	uint8_t *in; /* the response body, prefix included */
	size_t in_len;
};

static long grpc_client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static ssize_t grpc_client_send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct grpc_client *c = arg;
	ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return NGHTTP2_ERR_WOULDBLOCK;
	if (n < 0) {
		c->gone = true;
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return n;
}

static char *grpc_client_dup(const uint8_t *s, size_t n)
{
	char *d = malloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* grpc-message is percent-encoded on the wire. */
static char *grpc_client_unpercent(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	for (; *s != '\0'; s++) {
		unsigned v;

		if (s[0] == '%' && s[1] != '\0' && s[2] != '\0' && sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static int grpc_client_header_cb(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
				 size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
				 void *arg)
{
	struct grpc_client *c = arg;
	struct grpc_result *r = c->res;

	if (r == NULL || frame->hd.stream_id != c->stream_id)
		return 0;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		r->http_status = atoi((const char *)value);
		return 0;
	}
	if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		r->status = atoi((const char *)value);
	if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
		char *raw = grpc_client_dup(value, valuelen);

		free(r->message);
		r->message = grpc_client_unpercent(raw);
		free(raw);
	}
	if (namelen == 23 && memcmp(name, "grpc-status-details-bin", 23) == 0) {
		free(r->details_bin);
		r->details_bin = grpc_client_dup(value, valuelen);
	}
	if (r->ntrailers < GRPC_RESULT_MAX_TRAILERS) {
		r->name[r->ntrailers] = grpc_client_dup(name, namelen);
		r->value[r->ntrailers] = grpc_client_dup(value, valuelen);
		r->ntrailers++;
	}
	return 0;
}

static int grpc_client_data_cb(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data,
			       size_t len, void *arg)
{
	struct grpc_client *c = arg;

	if (stream_id != c->stream_id)
		return 0;
	if (len == 0)
		return 0;
	c->in = realloc(c->in, c->in_len + len);
	memcpy(c->in + c->in_len, data, len);
	c->in_len += len;
	return 0;
}

static int grpc_client_frame_cb(nghttp2_session *ng, const nghttp2_frame *frame, void *arg)
{
	struct grpc_client *c = arg;

	if (frame->hd.type == NGHTTP2_GOAWAY)
		c->gone = true;
	if (frame->hd.type == NGHTTP2_RST_STREAM && frame->hd.stream_id == c->stream_id && c->res != NULL) {
		c->res->reset = true;
		c->res->reset_code = frame->rst_stream.error_code;
	}
	return 0;
}

static int grpc_client_close_cb(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *arg)
{
	struct grpc_client *c = arg;

	if (stream_id == c->stream_id)
		c->done = true;
	return 0;
}

/* Bytes a slow reader's windows allow (grpc_client_connect_slow), and its socket's receive buffer. */
#define GRPC_CLIENT_SLOW_WINDOW (16 << 20)
#define GRPC_CLIENT_SLOW_RCVBUF 4096

static struct grpc_client *grpc_client_open(int port, bool slow)
{
	struct grpc_client *c = calloc(1, sizeof(*c));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry settings[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
					      { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GRPC_CLIENT_SLOW_WINDOW } };
	int one = 1, rcvbuf = GRPC_CLIENT_SLOW_RCVBUF;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* Before connect, so that the window TCP offers is small from the start. */
	if (slow && c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_send_callback(cbs, grpc_client_send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, grpc_client_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, grpc_client_data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, grpc_client_frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, grpc_client_close_cb);
	nghttp2_session_client_new(&c->ng, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, settings, slow ? 2 : 1);
	if (slow)
		nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0, GRPC_CLIENT_SLOW_WINDOW);
	if (nghttp2_session_send(c->ng) != 0) {
		grpc_client_close(c);
		return NULL;
	}
	return c;
}

struct grpc_client *grpc_client_connect(int port)
{
	return grpc_client_open(port, false);
}

struct grpc_client *grpc_client_connect_slow(int port)
{
	return grpc_client_open(port, true);
}

/* Sends and receives until the current call is done or the deadline passes. 0, or -1. */
static int grpc_client_pump(struct grpc_client *c, long deadline)
{
	uint8_t buf[16384];

	while (!c->done) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		long left = deadline - grpc_client_now_ms();
		ssize_t n;

		if (nghttp2_session_send(c->ng) != 0)
			return -1;
		if (nghttp2_session_want_write(c->ng))
			p.events |= POLLOUT;
		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		if ((p.revents & POLLIN) == 0 && (p.revents & (POLLHUP | POLLERR)) != 0) {
			c->gone = true;
			return -1;
		}
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			c->gone = true;
			return -1;
		}
		if (nghttp2_session_mem_recv(c->ng, buf, (size_t)n) < 0) {
			c->gone = true;
			return -1;
		}
		if (c->chatty)
			nghttp2_submit_ping(c->ng, NGHTTP2_FLAG_NONE, NULL);
	}
	return 0;
}

static ssize_t grpc_client_read_body(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
				     uint32_t *data_flags, nghttp2_data_source *source, void *arg)
{
	struct grpc_client *c = arg;
	size_t n = c->body_len - c->body_off;

	if (c->hold)
		return NGHTTP2_ERR_DEFERRED;
	if (n > length)
		n = length;
	if (n > 0)
		memcpy(buf, c->body + c->body_off, n);
	c->body_off += n;
	if (c->body_off == c->body_len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

#define GRPC_CLIENT_NV(n, v)                                                                                 \
	{                                                                                                    \
		(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE                   \
	}

static int grpc_client_submit(struct grpc_client *c, const char *path, const char *const *metadata,
			      const uint8_t *body, size_t len)
{
	nghttp2_nv nv[40] = {
		GRPC_CLIENT_NV(":method", "POST"),
		GRPC_CLIENT_NV(":scheme", "http"),
		GRPC_CLIENT_NV(":authority", "127.0.0.1"),
		GRPC_CLIENT_NV(":path", path),
		GRPC_CLIENT_NV("content-type", "application/grpc"),
		GRPC_CLIENT_NV("te", "trailers"),
	};
	size_t n = 6;
	nghttp2_data_provider prd = { .read_callback = grpc_client_read_body };

	for (size_t i = 0; metadata != NULL && metadata[i] != NULL && metadata[i + 1] != NULL && n < 40;
	     i += 2)
		nv[n++] = (nghttp2_nv)GRPC_CLIENT_NV(metadata[i], metadata[i + 1]);
	c->body = body;
	c->body_len = len;
	c->body_off = 0;
	c->done = false;
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
	c->stream_id = nghttp2_submit_request(c->ng, NULL, nv, n, &prd, c);
	return c->stream_id > 0 ? 0 : -1;
}

/* Waits for the current call's answer into out (already zeroed and set as c->res). 0, or -1. */
static int grpc_client_collect(struct grpc_client *c, int timeout_ms, struct grpc_result *out)
{
	int rc = grpc_client_pump(c, grpc_client_now_ms() + timeout_ms);

	c->res = NULL;
	if (out->message == NULL)
		out->message = calloc(1, 1);
	if (c->in_len >= 5) {
		out->len = c->in_len - 5;
		out->data = malloc(out->len + 1);
		memcpy(out->data, c->in + 5, out->len);
	}
	return rc;
}

static int grpc_client_exchange(struct grpc_client *c, const char *path, const char *const *metadata,
				const uint8_t *body, size_t len, int timeout_ms, struct grpc_result *out)
{
	memset(out, 0, sizeof(*out));
	out->status = -1;
	c->res = out;
	if (grpc_client_submit(c, path, metadata, body, len) != 0) {
		c->res = NULL;
		return -1;
	}
	return grpc_client_collect(c, timeout_ms, out);
}

int grpc_client_call_raw(struct grpc_client *c, const char *path, const char *const *metadata,
			 const uint8_t *body, size_t len, int timeout_ms, struct grpc_result *out)
{
	return grpc_client_exchange(c, path, metadata, body, len, timeout_ms, out);
}

static uint8_t *grpc_client_frame(const uint8_t *msg, size_t len)
{
	uint8_t *b = malloc(len + 5);

	b[0] = 0;
	b[1] = (uint8_t)(len >> 24);
	b[2] = (uint8_t)(len >> 16);
	b[3] = (uint8_t)(len >> 8);
	b[4] = (uint8_t)len;
	if (len > 0)
		memcpy(b + 5, msg, len);
	return b;
}

int grpc_client_call(struct grpc_client *c, const char *path, const char *const *metadata, const uint8_t *msg,
		     size_t len, int timeout_ms, struct grpc_result *out)
{
	uint8_t *b = grpc_client_frame(msg, len);
	int rc = grpc_client_exchange(c, path, metadata, b, len + 5, timeout_ms, out);

	free(b);
	return rc;
}

int grpc_client_start(struct grpc_client *c, const char *path, const char *const *metadata,
		      const uint8_t *msg, size_t len)
{
	uint8_t *b = grpc_client_frame(msg, len);
	int rc = grpc_client_submit(c, path, metadata, b, len + 5);
	long deadline = grpc_client_now_ms() + 2000;

	/* Send it all (the body must not outlive this function), without waiting for an answer. */
	while (rc == 0 && (c->body_off < c->body_len || nghttp2_session_want_write(c->ng)) &&
	       grpc_client_now_ms() < deadline) {
		if (nghttp2_session_send(c->ng) != 0)
			rc = -1;
		else if (c->body_off < c->body_len)
			poll(NULL, 0, 1);
	}
	c->body = NULL;
	free(b);
	return rc;
}

void grpc_client_ping_on_read(struct grpc_client *c)
{
	c->chatty = true;
}

int grpc_client_finish(struct grpc_client *c, int timeout_ms, struct grpc_result *out)
{
	memset(out, 0, sizeof(*out));
	out->status = -1;
	c->res = out;
	return grpc_client_collect(c, timeout_ms, out);
}

int grpc_client_call_open(struct grpc_client *c, const char *path, const char *const *metadata,
			  int timeout_ms, struct grpc_result *out)
{
	int rc;

	c->hold = true;
	rc = grpc_client_exchange(c, path, metadata, NULL, 0, timeout_ms, out);
	c->hold = false;
	return rc;
}

const char *grpc_result_header(const struct grpc_result *r, const char *name)
{
	for (size_t i = 0; i < r->ntrailers; i++)
		if (strcmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

void grpc_result_free(struct grpc_result *out)
{
	free(out->message);
	free(out->details_bin);
	free(out->data);
	for (size_t i = 0; i < out->ntrailers; i++) {
		free(out->name[i]);
		free(out->value[i]);
	}
	memset(out, 0, sizeof(*out));
}

bool grpc_client_hung_up(struct grpc_client *c, int timeout_ms)
{
	long deadline = grpc_client_now_ms() + timeout_ms;
	uint8_t buf[16384];

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		long left = deadline - grpc_client_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			c->gone = true;
			return n == 0;
		}
		nghttp2_session_mem_recv(c->ng, buf, (size_t)n);
	}
}

bool grpc_client_gone(const struct grpc_client *c)
{
	return c->gone;
}

void grpc_client_close(struct grpc_client *c)
{
	if (c == NULL)
		return;
	nghttp2_session_del(c->ng);
	close(c->fd);
	free(c->in);
	free(c);
}
