/* SPDX-License-Identifier: Apache-2.0 */
/* The pub/sub bench's publisher through outrigd: K keep-alive connections POSTing to /v1.0/publish. */
#include "http_load.h"
#include "pubsub_common.h"

#include <event2/bufferevent.h>
#include <getopt.h>

static struct {
	struct http_load h;
	char path[256];
	long n, conns, size, run, next, done, ok, errors;
	int64_t *lat;
} L;

static void start_request(struct http_conn *c)
{
	char body[4096], request[4096 + 512];
	int64_t now;
	int len;

	if (L.next >= L.n)
		return;
	now = bench_now_us();
	len = bench_body(body, sizeof(body), (size_t)L.size, now, L.next++, L.run);
	len = http_post_format(request, sizeof(request), L.path, body, (size_t)len);
	http_conn_send(c, request, (size_t)len, now);
}

/* drop: the request in flight counts as an error, and the connection is opened again while requests remain. */
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
	if (c->status / 100 == 2)
		L.lat[L.ok++] = bench_now_us() - c->start;
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
	struct http_conn *cs;
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
	http_load_init(&L.h, "pubsub_load", port);
	L.h.reply = reply;
	L.h.drop = drop;
	L.lat = calloc((size_t)L.n, sizeof(*L.lat));
	cs = calloc((size_t)L.conns, sizeof(*cs));
	L.h.base = event_base_new();
	if (!L.lat || !cs || !L.h.base) {
		fprintf(stderr, "pubsub_load: out of memory\n");
		return 1;
	}
	if (http_load_connect(&L.h, cs, L.conns) != 0)
		return 1;
	t0 = bench_now_us();
	for (i = 0; i < L.conns; i++)
		start_request(&cs[i]);
	event_base_dispatch(L.h.base);
	t1 = bench_now_us();

	{
		int64_t p50 = bench_percentile(L.lat, (size_t)L.ok, 50, 0);
		int64_t p99 = bench_percentile(L.lat, (size_t)L.ok, 99, 1);

		printf("RESULT run=%ld n=%ld connections=%ld size=%ld publish_rate=%.0f req_p50_us=%lld "
		       "req_p99_us=%lld ok=%ld errors=%ld reconnects=%ld\n",
		       L.run, L.n, L.conns, L.size, L.done / ((double)(t1 - t0) / 1e6), (long long)p50,
		       (long long)p99, L.ok, L.errors, L.h.reconnects);
	}
	http_load_close_all(cs, L.conns);
	event_base_free(L.h.base);
	return L.ok == L.n ? 0 : 1;
}
