/* SPDX-License-Identifier: Apache-2.0 */
/* The binding bench's path through outrigd: N POSTs of one fixed JSON body over K keep-alive connections. */
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
	int64_t sent_ns; /* 0 while idle */
	/* Reply parsing: 0 status line, 1 headers, 2 body. */
	int state, status, close_after;
	long body_left;
};

static struct {
	struct event_base *base;
	struct sockaddr_in addr;
	char *request;
	size_t request_len;
	long n, conns, next, done, ok, errors, reconnects, timeouts;
	int64_t *lat; /* microseconds, one per 2xx reply */
	int64_t last_reply_ns;
	int shown, failed;
} L;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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
	if (!c->bev) {
		close(fd);
		return -1;
	}
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

/* drop: the connection is no good (closed, or a reply we cannot read); its request counts as an error and
 * the connection is opened again while requests remain. */
static void drop(struct conn *c, const char *why)
{
	if (c->sent_ns) {
		L.errors++;
		L.done++;
		c->sent_ns = 0;
	}
	if (L.shown++ < 3)
		fprintf(stderr, "binding_load: connection dropped: %s\n", why);
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (L.next < L.n) {
		L.reconnects++;
		if (open_conn(c) != 0) {
			fprintf(stderr, "binding_load: cannot reconnect: %s\n", strerror(errno));
			L.failed = 1;
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
	if (L.next >= L.n)
		return;
	L.next++;
	c->sent_ns = mono_ns();
	c->state = 0;
	c->status = 0;
	c->body_left = 0;
	c->close_after = 0;
	bufferevent_write(c->bev, L.request, L.request_len);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	for (;;) {
		if (!c->sent_ns) {
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
		if (c->status == 204 || c->status == 304)
			c->body_left = 0;
		n = evbuffer_get_length(in);
		if ((long)n < c->body_left)
			return;
		if (c->status / 100 != 2 && L.shown++ < 3) {
			char text[256];
			long k =
				c->body_left < (long)sizeof(text) - 1 ? c->body_left : (long)sizeof(text) - 1;

			evbuffer_copyout(in, text, (size_t)k);
			text[k] = '\0';
			fprintf(stderr, "binding_load: HTTP %d: %s\n", c->status, text);
		}
		evbuffer_drain(in, (size_t)c->body_left);
		L.last_reply_ns = mono_ns();
		if (c->status / 100 == 2)
			L.lat[L.ok++] = (L.last_reply_ns - c->sent_ns) / 1000;
		else
			L.errors++;
		c->sent_ns = 0;
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
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		drop(arg, what & BEV_EVENT_EOF ? "closed by the server" : strerror(EVUTIL_SOCKET_ERROR()));
}

/* on_deadline: the run took too long; whatever has no reply yet counts as an error. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	L.timeouts = L.n - L.done;
	L.errors += L.timeouts;
	fprintf(stderr, "binding_load: %ld requests had no reply when the time was up\n", L.timeouts);
	event_base_loopbreak(L.base);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: binding_load -p PORT -u PATH -b BODY [-n REQUESTS] [-k CONNECTIONS] [-w SECONDS]\n"
		"POSTs BODY (JSON) to 127.0.0.1:PORT/PATH REQUESTS (10000) times over CONNECTIONS (16) keep-alive\n"
		"connections, one request in flight each (closed loop), and prints one RESULT line: requests/s from\n"
		"the first send to the last reply, and latency from write to reply. Every reply must be 2xx.\n"
		"-w: give up after SECONDS (60); unanswered requests count as errors.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *body = NULL;
	struct conn *cs;
	struct event *deadline;
	double give_up = 60;
	int64_t t0;
	int opt, port = 0, len;
	long i;

	L.n = 10000;
	L.conns = 16;
	while ((opt = getopt(argc, argv, "p:u:b:n:k:w:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'u': path = optarg; break;
		case 'b': body = optarg; break;
		case 'n': L.n = atol(optarg); break;
		case 'k': L.conns = atol(optarg); break;
		case 'w': give_up = atof(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || !path || path[0] != '/' || !body || L.n <= 0 || L.conns <= 0 ||
	    give_up <= 0)
		usage();
	if (L.conns > L.n)
		L.conns = L.n;

	/* One request text, written as is every time. */
	L.request = malloc(strlen(path) + strlen(body) + 256);
	if (!L.request) {
		fprintf(stderr, "binding_load: out of memory\n");
		return 1;
	}
	len = sprintf(L.request,
		      "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		      "Content-Length: %zu\r\n\r\n%s",
		      path, strlen(body), body);
	L.request_len = (size_t)len;

	signal(SIGPIPE, SIG_IGN);
	L.addr.sin_family = AF_INET;
	L.addr.sin_port = htons((uint16_t)port);
	L.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	L.lat = calloc((size_t)L.n, sizeof(*L.lat));
	cs = calloc((size_t)L.conns, sizeof(*cs));
	L.base = event_base_new();
	if (!L.lat || !cs || !L.base) {
		fprintf(stderr, "binding_load: out of memory\n");
		return 1;
	}
	for (i = 0; i < L.conns; i++) {
		if (open_conn(&cs[i]) != 0) {
			fprintf(stderr, "binding_load: cannot connect to 127.0.0.1:%d: %s\n", port,
				strerror(errno));
			return 1;
		}
	}
	deadline = evtimer_new(L.base, on_deadline, NULL);
	{
		int64_t us = (int64_t)(give_up * 1e6);
		struct timeval tv = { (long)(us / 1000000), (long)(us % 1000000) };

		evtimer_add(deadline, &tv);
	}
	t0 = mono_ns();
	for (i = 0; i < L.conns; i++)
		start_request(&cs[i]);
	event_base_dispatch(L.base);

	{
		double span = (double)(L.last_reply_ns - t0) / 1e9;
		size_t k = (size_t)L.ok;
		int64_t p50 = bench_percentile(L.lat, k, 50, 0);
		int64_t p90 = bench_percentile(L.lat, k, 90, 1);
		int64_t p99 = bench_percentile(L.lat, k, 99, 1);
		int64_t max = k ? L.lat[k - 1] : 0;

		printf("RESULT n=%ld connections=%ld size=%zu ok=%ld errors=%ld rate=%.0f p50_us=%lld p90_us=%lld "
		       "p99_us=%lld max_us=%lld reconnects=%ld\n",
		       L.n, L.conns, strlen(body), L.ok, L.errors, span > 0 ? (double)L.ok / span : 0.0,
		       (long long)p50, (long long)p90, (long long)p99, (long long)max, L.reconnects);
	}
	for (i = 0; i < L.conns; i++)
		if (cs[i].bev)
			bufferevent_free(cs[i].bev);
	event_free(deadline);
	event_base_free(L.base);
	free(cs);
	free(L.lat);
	free(L.request);
	return !L.failed && L.errors == 0 && L.ok == L.n ? 0 : 1;
}
