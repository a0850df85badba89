/* SPDX-License-Identifier: Apache-2.0 */
/* The invocation bench's app A: an HTTP load generator over K keep-alive connections, at a fixed rate or flat out. */
#include "http_load.h"
#include "pubsub_common.h"

#include <event2/bufferevent.h>
#include <getopt.h>
#include <sys/prctl.h>

static struct {
	struct http_load h;
	struct event *tick, *deadline;
	char *request;
	size_t request_len;
	/* Open loop: start is when the request was due, so that a request kept waiting by a slow reply is
	 * charged for the wait (no coordinated omission). Closed loop: when it was written. */
	struct http_conn *cs;
	long conns;
	double rate; /* requests per second; 0 = closed loop, as fast as replies come */
	int64_t t0, interval_ns, stop_ns;
	long n_total; /* open loop: rate × duration */
	long issued, done, ok, errors, backlog_max, timeouts;
	int64_t lag_sum_ns, lag_max_ns, last_reply_ns;
	int64_t *lat; /* microseconds, one per 2xx reply */
	size_t lat_cap;
} L;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pump(void);

static void send_request(struct http_conn *c, int64_t start_ns)
{
	L.issued++;
	http_conn_send(c, L.request, L.request_len, start_ns);
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
static void next(struct http_conn *c)
{
	int64_t now;

	if (finished()) {
		event_base_loopbreak(L.h.base);
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

static void drop(struct http_conn *c, const char *why)
{
	if (c->busy) {
		L.errors++;
		L.done++;
		c->busy = 0;
	}
	http_conn_close(c, why);
	if ((L.rate > 0 && L.issued < L.n_total) || (L.rate == 0 && now_ns() < L.stop_ns)) {
		if (http_conn_reopen(c) != 0)
			return;
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

static void reply(struct http_conn *c)
{
	int64_t now = now_ns();

	if (c->status / 100 == 2)
		record((now - c->start) / 1000);
	else
		L.errors++;
	L.last_reply_ns = now;
	L.done++;
	if (c->close_after) {
		drop(c, "the server closed the connection (Connection: close)");
		return;
	}
	next(c);
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
		struct http_conn *c = &L.cs[i];

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
	event_base_loopbreak(L.h.base);
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
	if (!body) {
		fprintf(stderr, "invoke_load: out of memory\n");
		return 1;
	}
	memset(body, 'x', (size_t)size);
	memcpy(body, "{\"pad\":\"", 8);
	memcpy(body + size - 2, "\"}", 3);
	L.request = http_post_new(path, body, (size_t)size, &L.request_len);
	free(body);

	http_load_init(&L.h, "invoke_load", port);
	L.h.reply = reply;
	L.h.drop = drop;
	/* Linux lets a timer fire up to 50 µs late by default (timer slack); every latency would carry it. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	/* A precise timer (timerfd) rather than epoll's millisecond timeout, so that requests leave when due. */
	cfg = event_config_new();
	if (cfg)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	L.h.base = cfg ? event_base_new_with_config(cfg) : NULL;
	if (cfg)
		event_config_free(cfg);
	L.cs = calloc((size_t)L.conns, sizeof(*L.cs));
	if (!L.request || !L.h.base || !L.cs) {
		fprintf(stderr, "invoke_load: out of memory\n");
		return 1;
	}
	L.tick = evtimer_new(L.h.base, on_tick, NULL);
	L.deadline = evtimer_new(L.h.base, on_deadline, NULL);
	if (http_load_connect(&L.h, L.cs, L.conns) != 0)
		return 1;

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
	event_base_dispatch(L.h.base);

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
		       (long long)(L.lag_max_ns / 1000), L.h.reconnects);
	}
	http_load_close_all(L.cs, L.conns);
	event_free(L.tick);
	event_free(L.deadline);
	event_base_free(L.h.base);
	free(L.cs);
	free(L.lat);
	free(L.request);
	return !L.h.failed && L.errors == 0 && L.ok > 0 ? 0 : 1;
}
