/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC proxying bench's app: an h2c gRPC server echoing every unary call's message back, on any path. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static struct {
	struct event_base *base;
	long calls;
} E;

/* One call: its request body (the 5-byte-prefixed message), which is also the answer's. Listed on its
 * connection, as nghttp2_session_del frees its streams without calling on_stream_close. */
struct stream {
	struct evbuffer *body;
	struct stream *prev, *next;
};

struct conn {
	struct bufferevent *bev;
	nghttp2_session *ng;
	struct stream *streams;
};

static void stream_free(struct conn *c, struct stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	evbuffer_free(s->body);
	free(s);
}

static ssize_t on_send(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct conn *c = arg;

	(void)ng;
	(void)flags;
	if (bufferevent_write(c->bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *arg)
{
	struct conn *c = arg;
	struct stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->body = evbuffer_new())) {
		free(s);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	s->next = c->streams;
	if (s->next)
		s->next->prev = s;
	c->streams = s;
	nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, s);
	return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
			 void *arg)
{
	struct stream *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)flags;
	(void)arg;
	if (s && evbuffer_add(s->body, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return 0;
}

/* The answer's DATA: the request body; then trailers with grpc-status 0 instead of END_STREAM. */
static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			 nghttp2_data_source *src, void *arg)
{
	static const nghttp2_nv trailers[] = {
		{ (uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE },
	};
	struct stream *s = src->ptr;
	int n = evbuffer_remove(s->body, buf, len);

	(void)arg;
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_get_length(s->body) == 0) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(ng, id, trailers, 1) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return n;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *arg)
{
	static const nghttp2_nv headers[] = {
		{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16, NGHTTP2_NV_FLAG_NONE },
	};
	struct stream *s;
	nghttp2_data_provider body;

	(void)arg;
	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (!s)
		return 0;
	E.calls++;
	body.source.ptr = s;
	body.read_callback = read_body;
	if (nghttp2_submit_response(ng, frame->hd.stream_id, headers, 2, &body) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *arg)
{
	struct stream *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)code;
	if (s)
		stream_free(arg, s);
	return 0;
}

static void conn_close(struct conn *c)
{
	nghttp2_session_del(c->ng);
	while (c->streams)
		stream_free(c, c->streams);
	bufferevent_free(c->bev);
	free(c);
}

/* Once the session is done, the connection closes when what nghttp2 wrote last has gone out. */
static void on_drained(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_close(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what; /* EOF or error: either way the peer is gone */
	conn_close(arg);
}

static void flush(struct conn *c)
{
	if (nghttp2_session_send(c->ng) != 0) {
		conn_close(c);
		return;
	}
	if (nghttp2_session_want_read(c->ng) || nghttp2_session_want_write(c->ng))
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close(c);
	else
		bufferevent_setcb(c->bev, NULL, on_drained, on_event, c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);

	if (nghttp2_session_mem_recv(c->ng, evbuffer_pullup(in, -1), len) < 0) {
		conn_close(c);
		return;
	}
	evbuffer_drain(in, len);
	flush(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	static const nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000 },
	};
	nghttp2_session_callbacks *cbs;
	struct conn *c;
	int one = 1, rc;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (c)
		c->bev = bufferevent_socket_new(E.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev || nghttp2_session_callbacks_new(&cbs) != 0) {
		if (c && c->bev)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		free(c);
		return;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, on_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	rc = nghttp2_session_server_new(&c->ng, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0) {
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, settings, 1);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	flush(c);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	event_base_loopbreak(E.base);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: grpc_echo -p PORT\n"
		"Answers every unary gRPC call (h2c, any path) on 127.0.0.1:PORT with its own message and\n"
		"grpc-status 0; prints LISTENING once bound, and the call count on SIGTERM.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct event *sigterm, *sigint;
	struct evconnlistener *l;
	int opt, port = 0;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535)
		usage();

	signal(SIGPIPE, SIG_IGN);
	E.base = event_base_new();
	if (!E.base) {
		fprintf(stderr, "grpc_echo: out of memory\n");
		return 1;
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	l = evconnlistener_new_bind(E.base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
				    (struct sockaddr *)&sin, sizeof(sin));
	if (!l) {
		fprintf(stderr, "grpc_echo: cannot listen on 127.0.0.1:%d\n", port);
		return 1;
	}
	sigterm = evsignal_new(E.base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(E.base, SIGINT, on_signal, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	printf("LISTENING port=%d\n", port);
	fflush(stdout);
	event_base_dispatch(E.base);
	printf("CALLS %ld\n", E.calls);
	event_free(sigterm);
	event_free(sigint);
	evconnlistener_free(l);
	event_base_free(E.base);
	return 0;
}
