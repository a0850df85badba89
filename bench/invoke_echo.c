/* SPDX-License-Identifier: Apache-2.0 */
/* The invocation bench's app B: an evhttp server answering every request 200 with a small JSON body. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_FDS 65536

static struct {
	struct event_base *base;
	/* Sockets already given TCP_NODELAY: evhttp 2.1 has no callback for a new connection, so the
	 * first request on a socket sets it, and the connection's close callback forgets it. */
	unsigned char nodelay[MAX_FDS];
	char body[1024];
	size_t body_len;
	long requests;
} E;

static void on_close(struct evhttp_connection *conn, void *arg)
{
	long fd = (long)arg;

	(void)conn;
	if (fd >= 0 && fd < MAX_FDS)
		E.nodelay[fd] = 0;
}

static void nodelay(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	int one = 1;

	if (fd < 0 || fd >= MAX_FDS || E.nodelay[fd])
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	E.nodelay[fd] = 1;
	evhttp_connection_set_closecb(conn, on_close, (void *)(long)fd);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();

	(void)arg;
	nodelay(req);
	E.requests++;
	/* The request body is read by evhttp and dropped with the request. */
	evbuffer_add(b, E.body, E.body_len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
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
		"usage: invoke_echo -p PORT [-s BYTES]\n"
		"Answers every request on 127.0.0.1:PORT with 200 and a JSON body of BYTES (16-1023);\n"
		"prints LISTENING once bound, and the request count on SIGTERM.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct event *sigterm, *sigint;
	struct evhttp *http;
	int opt, port = 0;
	long size = 16;

	while ((opt = getopt(argc, argv, "p:s:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 's': size = atol(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || size < 16 || size >= (long)sizeof(E.body))
		usage();
	/* {"pad":"xx…"} padded to exactly size bytes. */
	E.body_len = (size_t)size;
	memset(E.body, 'x', E.body_len);
	memcpy(E.body, "{\"pad\":\"", 8);
	memcpy(E.body + E.body_len - 2, "\"}", 2);

	signal(SIGPIPE, SIG_IGN);
	E.base = event_base_new();
	http = E.base ? evhttp_new(E.base) : NULL;
	if (!http) {
		fprintf(stderr, "invoke_echo: out of memory\n");
		return 1;
	}
	evhttp_set_gencb(http, on_request, NULL);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						 EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD |
						 EVHTTP_REQ_OPTIONS);
	if (!evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port)) {
		fprintf(stderr, "invoke_echo: cannot listen on 127.0.0.1:%d\n", port);
		return 1;
	}
	sigterm = evsignal_new(E.base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(E.base, SIGINT, on_signal, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	printf("LISTENING port=%d\n", port);
	fflush(stdout);
	event_base_dispatch(E.base);
	printf("REQUESTS %ld\n", E.requests);
	event_free(sigterm);
	event_free(sigint);
	evhttp_free(http);
	event_base_free(E.base);
	return 0;
}
