/* SPDX-License-Identifier: Apache-2.0 */
/* The binding bench's path through outrigd: N POSTs of one fixed JSON body over K keep-alive connections. */
#include "http_load.h"
#include "pubsub_common.h"

#include <event2/bufferevent.h>
#include <getopt.h>

static struct {
	struct http_load h;
	char *request;
	size_t request_len;
	long n, conns, next, done, ok, errors, timeouts;
	int64_t *lat; /* microseconds, one per 2xx reply */
	int64_t last_reply_ns;
} L;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void start_request(struct http_conn *c)
{
	if (L.next >= L.n)
		return;
	L.next++;
	http_conn_send(c, L.request, L.request_len, mono_ns());
}

/* drop: its request counts as an error, and the connection is opened again while requests remain. */
static void drop(struct http_conn *c, const char *why)
{
	if (c->busy) {
		L.errors++;
		L.done++;
		c->busy = 0;
	}
	http_conn_close(c, why);
	if (L.next < L.n) {
		if (http_conn_reopen(c) == 0)
			start_request(c);
	} else if (L.done == L.n) {
		event_base_loopbreak(L.h.base);
	}
}

static void reply(struct http_conn *c)
{
	L.last_reply_ns = mono_ns();
	if (c->status / 100 == 2)
		L.lat[L.ok++] = (L.last_reply_ns - c->start) / 1000;
	else
		L.errors++;
	if (++L.done == L.n) {
		event_base_loopbreak(L.h.base);
		return;
	}
	if (c->close_after) {
		drop(c, "the server closed the connection (Connection: close)");
		return;
	}
	start_request(c);
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
	event_base_loopbreak(L.h.base);
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
	struct http_conn *cs;
	struct event *deadline;
	double give_up = 60;
	int64_t t0;
	int opt, port = 0;
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
	L.request = http_post_new(path, body, strlen(body), &L.request_len);
	http_load_init(&L.h, "binding_load", port);
	L.h.reply = reply;
	L.h.drop = drop;
	L.lat = calloc((size_t)L.n, sizeof(*L.lat));
	cs = calloc((size_t)L.conns, sizeof(*cs));
	L.h.base = event_base_new();
	if (!L.request || !L.lat || !cs || !L.h.base) {
		fprintf(stderr, "binding_load: out of memory\n");
		return 1;
	}
	if (http_load_connect(&L.h, cs, L.conns) != 0)
		return 1;
	deadline = evtimer_new(L.h.base, on_deadline, NULL);
	{
		int64_t us = (int64_t)(give_up * 1e6);
		struct timeval tv = { (long)(us / 1000000), (long)(us % 1000000) };

		evtimer_add(deadline, &tv);
	}
	t0 = mono_ns();
	for (i = 0; i < L.conns; i++)
		start_request(&cs[i]);
	event_base_dispatch(L.h.base);

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
		       (long long)p50, (long long)p90, (long long)p99, (long long)max, L.h.reconnects);
	}
	http_load_close_all(cs, L.conns);
	event_free(deadline);
	event_base_free(L.h.base);
	free(cs);
	free(L.lat);
	free(L.request);
	return !L.h.failed && L.errors == 0 && L.ok == L.n ? 0 : 1;
}
