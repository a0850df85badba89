/* SPDX-License-Identifier: Apache-2.0 */
/* The pub/sub bench's publisher through outrigd: K keep-alive connections POSTing to /v1.0/publish. */
#include "pubsub_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
	struct bufferevent *bev;
	int64_t sent_at;
	/* Response parsing: 0 status line, 1 headers, 2 body. */
	int state, status;
	long body_left;
	int close_after;
};

static struct {
	struct event_base *base;
	struct sockaddr_in addr;
	char path[256];
	long n, conns, size, run, next, done, ok, errors, reconnects;
	int64_t *lat;
	int shown;
} L;

static void start_request(struct conn *c);
static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static int open_conn(struct conn *c)
{
	evutil_socket_t fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A blocking connect on loopback: it does not wait, and every connection exists before the clock. */
	if (connect(fd, (struct sockaddr *)&L.addr, sizeof(L.addr)) != 0) {
		close(fd);
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	c->bev = bufferevent_socket_new(L.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		return -1;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

/* drop: the connection is no good (closed, or a reply we cannot read); the request counts as an error
 * and the connection is opened again while requests remain. */
static void drop(struct conn *c, const char *why)
{
	if (c->sent_at) {
		L.errors++;
		L.done++;
		c->sent_at = 0;
	}
	if (L.shown++ < 3)
		fprintf(stderr, "pubsub_load: connection dropped: %s\n", why);
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (L.next < L.n) {
		L.reconnects++;
		if (open_conn(c) != 0) {
			fprintf(stderr, "pubsub_load: cannot reconnect: %s\n", strerror(errno));
			event_base_loopbreak(L.base);
			return;
		}
		start_request(c);
	} else if (L.done == L.n) {
		event_base_loopbreak(L.base);
	}
}

static void start_request(struct conn *c)
{
	char body[4096];
	int len;

	if (L.next >= L.n)
		return;
	c->sent_at = bench_now_us();
	len = bench_body(body, sizeof(body), (size_t)L.size, c->sent_at, L.next++, L.run);
	c->state = 0;
	c->status = 0;
	c->body_left = 0;
	c->close_after = 0;
	evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
			    "Content-Length: %d\r\n\r\n%s",
			    L.path, len, body);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	for (;;) {
		/* Idle once the requests ran out: nothing more may come, and nothing is counted. */
		if (!c->sent_at) {
			if (evbuffer_get_length(in) > 0)
				drop(c, "a reply to no request");
			return;
		}
		if (c->state < 2) {
			line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
			if (!line)
				return;
			if (c->state == 0) {
				if (sscanf(line, "HTTP/1.%*d %d", &c->status) != 1) {
					free(line);
					drop(c, "not an HTTP status line");
					return;
				}
				c->state = 1;
			} else if (n == 0) {
				c->state = 2;
			} else if (strncasecmp(line, "Content-Length:", 15) == 0) {
				c->body_left = atol(line + 15);
			} else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
				free(line);
				drop(c, "chunked replies are not read by this client");
				return;
			} else if (strncasecmp(line, "Connection:", 11) == 0 && strstr(line + 11, "close")) {
				c->close_after = 1;
			}
			free(line);
			continue;
		}
		n = evbuffer_get_length(in);
		if ((long)n < c->body_left)
			return;
		if (c->status / 100 != 2 && L.shown++ < 3) {
			char text[256];
			long k =
				c->body_left < (long)sizeof(text) - 1 ? c->body_left : (long)sizeof(text) - 1;

			evbuffer_copyout(in, text, (size_t)k);
			text[k] = '\0';
			fprintf(stderr, "pubsub_load: HTTP %d: %s\n", c->status, text);
		}
		evbuffer_drain(in, (size_t)c->body_left);
		if (c->status / 100 == 2) {
			L.lat[L.ok++] = bench_now_us() - c->sent_at;
		} else {
			L.errors++;
		}
		c->sent_at = 0;
		c->state = 0;
		if (++L.done == L.n) {
			event_base_loopbreak(L.base);
			return;
		}
		if (c->close_after) {
			drop(c, "the server closed the connection (Connection: close)");
			return;
		}
		start_request(c);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		drop(arg, what & BEV_EVENT_EOF ? "closed by the server" : strerror(EVUTIL_SOCKET_ERROR()));
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pubsub_load -p PORT [-P PUBSUB] [-t TOPIC] [-n MESSAGES] [-k CONNECTIONS] "
		"[-s BYTES] [-r RUN]\n"
		"POSTs MESSAGES JSON bodies of BYTES to 127.0.0.1:PORT/v1.0/publish/PUBSUB/TOPIC over\n"
		"CONNECTIONS keep-alive connections, one request in flight each, and prints one RESULT line.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *pubsub = "pubsub", *topic = "bench";
	struct conn *cs;
	int64_t t0, t1;
	int opt, port = 0;
	long i;

	L.n = 10000;
	L.conns = 16;
	L.size = 64;
	L.run = 1;
	while ((opt = getopt(argc, argv, "p:P:t:n:k:s:r:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'P': pubsub = optarg; break;
		case 't': topic = optarg; break;
		case 'n': L.n = atol(optarg); break;
		case 'k': L.conns = atol(optarg); break;
		case 's': L.size = atol(optarg); break;
		case 'r': L.run = atol(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || L.n <= 0 || L.conns <= 0 || L.size <= 0 || L.size >= 4096)
		usage();
	snprintf(L.path, sizeof(L.path), "/v1.0/publish/%s/%s", pubsub, topic);
	signal(SIGPIPE, SIG_IGN);
	L.addr.sin_family = AF_INET;
	L.addr.sin_port = htons((uint16_t)port);
	L.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	L.lat = calloc((size_t)L.n, sizeof(*L.lat));
	cs = calloc((size_t)L.conns, sizeof(*cs));
	L.base = event_base_new();
	if (!L.lat || !cs || !L.base) {
		fprintf(stderr, "pubsub_load: out of memory\n");
		return 1;
	}
	for (i = 0; i < L.conns; i++) {
		if (open_conn(&cs[i]) != 0) {
			fprintf(stderr, "pubsub_load: cannot connect to 127.0.0.1:%d: %s\n", port,
				strerror(errno));
			return 1;
		}
	}
	t0 = bench_now_us();
	for (i = 0; i < L.conns; i++)
		start_request(&cs[i]);
	event_base_dispatch(L.base);
	t1 = bench_now_us();

	{
		int64_t p50 = bench_percentile(L.lat, (size_t)L.ok, 50, 0);
		int64_t p99 = bench_percentile(L.lat, (size_t)L.ok, 99, 1);

		printf("RESULT run=%ld n=%ld connections=%ld size=%ld publish_rate=%.0f req_p50_us=%lld "
		       "req_p99_us=%lld ok=%ld errors=%ld reconnects=%ld\n",
		       L.run, L.n, L.conns, L.size, L.done / ((double)(t1 - t0) / 1e6), (long long)p50,
		       (long long)p99, L.ok, L.errors, L.reconnects);
	}
	for (i = 0; i < L.conns; i++)
		if (cs[i].bev)
			bufferevent_free(cs[i].bev);
	event_base_free(L.base);
	return L.ok == L.n ? 0 : 1;
}
