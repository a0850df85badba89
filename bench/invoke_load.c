/* SPDX-License-Identifier: Apache-2.0 */
/* The invocation bench's app A: an HTTP load generator over K keep-alive connections, at a fixed rate or flat out. */
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Where the reply parser is: status line, headers, a Content-Length body, or the parts of a chunked one. */
enum { S_STATUS, S_HEADERS, S_BODY, S_CHUNK_SIZE, S_CHUNK_DATA, S_TRAILER };

struct conn {
	struct bufferevent *bev;
	int busy;
	/* Open loop: when the request was due, so that a request kept waiting by a slow reply is charged
	 * for the wait (no coordinated omission). Closed loop: when it was written. */
	int64_t start_ns;
	int state, status, chunked, has_length, close_after;
	long body_left;
};

static struct {
	struct event_base *base;
	struct event *tick, *deadline;
	struct sockaddr_in addr;
	char *request;
	size_t request_len;
	struct conn *cs;
	long conns;
	double rate; /* requests per second; 0 = closed loop, as fast as replies come */
	int64_t t0, interval_ns, stop_ns;
	long n_total; /* open loop: rate × duration */
	long issued, done, ok, errors, reconnects, backlog_max, timeouts;
	int64_t lag_sum_ns, lag_max_ns, last_reply_ns;
	int64_t *lat; /* microseconds, one per 2xx reply */
	size_t lat_cap;
	int shown, failed;
} L;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void pump(void);

static int open_conn(struct conn *c)
{
	evutil_socket_t fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A blocking connect on loopback does not wait, and leaves every connection open before the clock. */
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

static void send_request(struct conn *c, int64_t start_ns)
{
	c->busy = 1;
	c->start_ns = start_ns;
	c->state = S_STATUS;
	c->status = c->chunked = c->has_length = c->close_after = 0;
	c->body_left = 0;
	L.issued++;
	bufferevent_write(c->bev, L.request, L.request_len);
}

static int finished(void)
{
	long i;

	if (L.rate > 0)
		return L.done >= L.n_total;
	if (now_ns() < L.stop_ns)
		return 0;
	for (i = 0; i < L.conns; i++)
		if (L.cs[i].busy)
			return 0;
	return 1;
}

/* next: a connection just became free; give it the next request, or end the run. */
static void next(struct conn *c)
{
	int64_t now;

	if (finished()) {
		event_base_loopbreak(L.base);
		return;
	}
	if (L.rate > 0) {
		pump();
		return;
	}
	now = now_ns();
	if (now < L.stop_ns && c->bev)
		send_request(c, now);
}

static void drop(struct conn *c, const char *why)
{
	if (c->busy) {
		L.errors++;
		L.done++;
		c->busy = 0;
	}
	if (L.shown++ < 3)
		fprintf(stderr, "invoke_load: connection dropped: %s\n", why);
	bufferevent_free(c->bev);
	c->bev = NULL;
	if ((L.rate > 0 && L.issued < L.n_total) || (L.rate == 0 && now_ns() < L.stop_ns)) {
		L.reconnects++;
		if (open_conn(c) != 0) {
			fprintf(stderr, "invoke_load: cannot reconnect: %s\n", strerror(errno));
			L.failed = 1;
			event_base_loopbreak(L.base);
			return;
		}
	}
	next(c);
}

static void record(int64_t us)
{
	if ((size_t)L.ok == L.lat_cap) {
		size_t cap = L.lat_cap ? L.lat_cap * 2 : 65536;
		int64_t *p = realloc(L.lat, cap * sizeof(*p));

		if (!p) {
			fprintf(stderr, "invoke_load: out of memory\n");
			exit(1);
		}
		L.lat = p;
		L.lat_cap = cap;
	}
	L.lat[L.ok++] = us;
}

static void complete(struct conn *c)
{
	int64_t now = now_ns();

	if (c->status / 100 == 2)
		record((now - c->start_ns) / 1000);
	else
		L.errors++;
	L.last_reply_ns = now;
	L.done++;
	c->busy = 0;
	if (c->close_after) {
		drop(c, "the server closed the connection (Connection: close)");
		return;
	}
	next(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line, *end;
	size_t n;

	for (;;) {
		if (!c->busy) {
			if (evbuffer_get_length(in) > 0)
				drop(c, "a reply to no request");
			return;
		}
		switch (c->state) {
		case S_BODY:
			if (evbuffer_get_length(in) < (size_t)c->body_left)
				return;
			if (c->status / 100 != 2 && L.shown++ < 3) {
				char text[256];
				size_t k = (size_t)c->body_left < sizeof(text) - 1 ? (size_t)c->body_left
										   : sizeof(text) - 1;

				evbuffer_copyout(in, text, k);
				text[k] = '\0';
				fprintf(stderr, "invoke_load: HTTP %d: %s\n", c->status, text);
			}
			evbuffer_drain(in, (size_t)c->body_left);
			complete(c);
			if (!c->bev)
				return;
			continue;
		case S_CHUNK_DATA:
			if (evbuffer_get_length(in) < (size_t)c->body_left + 2)
				return;
			evbuffer_drain(in, (size_t)c->body_left + 2);
			c->state = S_CHUNK_SIZE;
			continue;
		default: break;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
		if (!line)
			return;
		switch (c->state) {
		case S_STATUS:
			if (sscanf(line, "HTTP/1.%*d %d", &c->status) != 1) {
				free(line);
				drop(c, "not an HTTP status line");
				return;
			}
			c->state = S_HEADERS;
			break;
		case S_HEADERS:
			if (n > 0) {
				if (strncasecmp(line, "Content-Length:", 15) == 0) {
					c->body_left = atol(line + 15);
					c->has_length = 1;
				} else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
					   strstr(line + 18, "chunked")) {
					c->chunked = 1;
				} else if (strncasecmp(line, "Connection:", 11) == 0 &&
					   strstr(line + 11, "close")) {
					c->close_after = 1;
				}
				break;
			}
			if (c->status == 204 || c->status == 304) {
				c->body_left = 0;
				c->state = S_BODY;
			} else if (c->chunked) {
				c->state = S_CHUNK_SIZE;
			} else if (c->has_length) {
				c->state = S_BODY;
			} else {
				free(line);
				drop(c, "a reply with neither Content-Length nor chunked encoding");
				return;
			}
			break;
		case S_CHUNK_SIZE:
			c->body_left = strtol(line, &end, 16);
			if (end == line || c->body_left < 0) {
				free(line);
				drop(c, "a bad chunk size");
				return;
			}
			c->state = c->body_left ? S_CHUNK_DATA : S_TRAILER;
			break;
		case S_TRAILER:
			if (n == 0) {
				c->body_left = 0;
				c->state = S_BODY;
			}
			break;
		}
		free(line);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		drop(arg, what & BEV_EVENT_EOF ? "closed by the server" : strerror(EVUTIL_SOCKET_ERROR()));
}

/* pump (open loop): hands every request that is due to a free connection, and sets the timer for the
 * next one. A due request that finds no free connection waits for one; its clock is already running. */
static void pump(void)
{
	int64_t now = now_ns(), due_at;
	long due, i;
	struct timeval tv;

	due = now < L.t0 ? 0 : (long)((now - L.t0) / L.interval_ns) + 1;
	if (due > L.n_total)
		due = L.n_total;
	for (i = 0; i < L.conns && L.issued < due; i++) {
		struct conn *c = &L.cs[i];

		if (c->busy || !c->bev)
			continue;
		due_at = L.t0 + L.issued * L.interval_ns;
		L.lag_sum_ns += now - due_at;
		if (now - due_at > L.lag_max_ns)
			L.lag_max_ns = now - due_at;
		send_request(c, due_at);
	}
	if (due - L.issued > L.backlog_max)
		L.backlog_max = due - L.issued;
	if (due < L.n_total) {
		int64_t wait = L.t0 + due * L.interval_ns - now;

		if (wait < 0)
			wait = 0;
		tv.tv_sec = (long)(wait / 1000000000);
		tv.tv_usec = (long)(wait % 1000000000 / 1000);
		evtimer_add(L.tick, &tv);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	pump();
}

/* on_deadline: the run is over and some replies never came; they count as errors. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	long i;

	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < L.conns; i++)
		if (L.cs[i].busy)
			L.timeouts++;
	if (L.rate > 0)
		L.timeouts += L.n_total - L.issued;
	L.errors += L.timeouts;
	fprintf(stderr, "invoke_load: %ld requests had no reply when the run's time was up\n", L.timeouts);
	event_base_loopbreak(L.base);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: invoke_load -p PORT -u PATH [-k CONNECTIONS] [-R RATE] [-d SECONDS] [-s BYTES] [-T SECONDS]\n"
		"POSTs a JSON body of BYTES (default 64) to 127.0.0.1:PORT/PATH over CONNECTIONS (16) keep-alive\n"
		"connections, one request in flight each, for SECONDS (10), and prints one RESULT line.\n"
		"-R RATE: open loop, RATE requests/s in all, latency from when each request was due;\n"
		"without it (or -R 0): closed loop, each connection sends again as soon as its reply is in.\n"
		"-T: how long after the last send replies may still come (5 s); later ones count as errors.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	struct event_config *cfg;
	double duration = 10, grace = 5;
	int opt, port = 0;
	long i, size = 64;
	char *body;
	int len;

	L.conns = 16;
	while ((opt = getopt(argc, argv, "p:u:k:R:d:s:T:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'u': path = optarg; break;
		case 'k': L.conns = atol(optarg); break;
		case 'R': L.rate = atof(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 's': size = atol(optarg); break;
		case 'T': grace = atof(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || !path || path[0] != '/' || L.conns <= 0 || L.rate < 0 ||
	    duration <= 0 || grace <= 0 || size < 12 || size > 65536)
		usage();

	/* One request text, written as is every time: {"pad":"xx…"} of exactly size bytes. */
	body = malloc((size_t)size + 1);
	L.request = malloc(strlen(path) + (size_t)size + 256);
	if (!body || !L.request) {
		fprintf(stderr, "invoke_load: out of memory\n");
		return 1;
	}
	memset(body, 'x', (size_t)size);
	memcpy(body, "{\"pad\":\"", 8);
	memcpy(body + size - 2, "\"}", 3);
	len = sprintf(L.request,
		      "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		      "Content-Length: %ld\r\n\r\n%s",
		      path, size, body);
	L.request_len = (size_t)len;
	free(body);

	signal(SIGPIPE, SIG_IGN);
	/* Linux lets a timer fire up to 50 µs late by default (timer slack); every latency would carry it. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	L.addr.sin_family = AF_INET;
	L.addr.sin_port = htons((uint16_t)port);
	L.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A precise timer (timerfd) rather than epoll's millisecond timeout, so that requests leave when due. */
	cfg = event_config_new();
	if (cfg)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	L.base = cfg ? event_base_new_with_config(cfg) : NULL;
	if (cfg)
		event_config_free(cfg);
	L.cs = calloc((size_t)L.conns, sizeof(*L.cs));
	if (!L.base || !L.cs) {
		fprintf(stderr, "invoke_load: out of memory\n");
		return 1;
	}
	L.tick = evtimer_new(L.base, on_tick, NULL);
	L.deadline = evtimer_new(L.base, on_deadline, NULL);
	for (i = 0; i < L.conns; i++) {
		if (open_conn(&L.cs[i]) != 0) {
			fprintf(stderr, "invoke_load: cannot connect to 127.0.0.1:%d: %s\n", port,
				strerror(errno));
			return 1;
		}
	}

	L.t0 = now_ns();
	L.stop_ns = L.t0 + (int64_t)(duration * 1e9);
	{
		int64_t d = (int64_t)((duration + grace) * 1e6);
		struct timeval tv = { (long)(d / 1000000), (long)(d % 1000000) };

		evtimer_add(L.deadline, &tv);
	}
	if (L.rate > 0) {
		L.interval_ns = (int64_t)(1e9 / L.rate);
		if (L.interval_ns <= 0)
			usage();
		L.n_total = (long)(L.rate * duration);
		if (L.n_total <= 0)
			usage();
		pump();
	} else {
		for (i = 0; i < L.conns; i++)
			send_request(&L.cs[i], now_ns());
	}
	event_base_dispatch(L.base);

	{
		double span = (double)(L.last_reply_ns - L.t0) / 1e9;
		size_t n = (size_t)L.ok;
		int64_t p50 = bench_percentile(L.lat, n, 50, 0);
		int64_t p90 = bench_percentile(L.lat, n, 90, 1);
		int64_t p99 = bench_percentile(L.lat, n, 99, 1);
		int64_t p999 = bench_percentile(L.lat, n, 99.9, 1);
		int64_t max = n ? L.lat[n - 1] : 0;
		long sent = L.rate > 0 ? L.issued : 0;

		printf("RESULT mode=%s target_rate=%.0f connections=%ld size=%ld count=%ld ok=%ld errors=%ld "
		       "rate=%.0f p50_us=%lld p90_us=%lld p99_us=%lld p999_us=%lld max_us=%lld "
		       "backlog_max=%ld send_lag_mean_us=%.0f send_lag_max_us=%lld reconnects=%ld\n",
		       L.rate > 0 ? "rate" : "max", L.rate, L.conns, size, L.done, L.ok, L.errors,
		       span > 0 ? L.ok / span : 0.0, (long long)p50, (long long)p90, (long long)p99,
		       (long long)p999, (long long)max, L.backlog_max,
		       sent ? (double)L.lag_sum_ns / 1000.0 / (double)sent : 0.0,
		       (long long)(L.lag_max_ns / 1000), L.reconnects);
	}
	for (i = 0; i < L.conns; i++)
		if (L.cs[i].bev)
			bufferevent_free(L.cs[i].bev);
	event_free(L.tick);
	event_free(L.deadline);
	event_base_free(L.base);
	free(L.cs);
	free(L.lat);
	free(L.request);
	return !L.failed && L.errors == 0 && L.ok > 0 ? 0 : 1;
}
