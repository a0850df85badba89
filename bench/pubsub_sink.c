/* SPDX-License-Identifier: Apache-2.0 */
/* The pub/sub bench's app: subscribes through /dapr/subscribe, acks each delivery and times it from data.t. */
#include "pubsub_common.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

/* One run at a time: /control/start names it and its size; deliveries of any other run are stale. */
static struct {
	const char *pubsub, *topic;
	long run, n;
	unsigned char *seen;
	int64_t *lat;
	long deliveries, received, dups, stale, bad, subscribe_calls;
	int64_t first_t, last_recv;
	char result[512];
} s = { .pubsub = "pubsub", .topic = "bench" };

static void nodelay(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	int one = 1;

	/* evhttp accepts on its own; this is the first moment the socket is ours to touch. Repeated per
	 * request because evhttp says nothing about a connection's first one; it costs one syscall. */
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void reply(struct evhttp_request *req, int code, const char *type, const char *body)
{
	struct evbuffer *b = NULL;

	if (body) {
		b = evbuffer_new();
		evbuffer_add(b, body, strlen(body));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	}
	evhttp_send_reply(req, code, code == 200 ? "OK" : code == 204 ? "No Content" : "Other", b);
	if (b)
		evbuffer_free(b);
}

static void finish(void)
{
	double span = (double)(s.last_recv - s.first_t) / 1e6;
	int64_t p50 = bench_percentile(s.lat, (size_t)s.received, 50, 0);
	int64_t p99 = bench_percentile(s.lat, (size_t)s.received, 99, 1);

	snprintf(
		s.result, sizeof(s.result),
		"RESULT run=%ld n=%ld rate=%.0f p50_us=%lld p99_us=%lld received=%ld dups=%ld stale=%ld bad=%ld\n",
		s.run, s.n, span > 0 ? s.received / span : 0.0, (long long)p50, (long long)p99, s.received,
		s.dups, s.stale, s.bad);
	fputs(s.result, stdout);
	fflush(stdout);
}

/* data.t, data.seq and data.run of a CloudEvent; data may also come as a JSON string. */
static int read_event(const char *body, size_t len, long long *t, long long *seq, long long *run)
{
	json_t *ev = json_loadb(body, len, 0, NULL), *data, *inner = NULL;
	int rc = -1;

	if (!ev)
		return -1;
	data = json_object_get(ev, "data");
	if (json_is_string(data))
		data = inner = json_loads(json_string_value(data), 0, NULL);
	if (json_is_object(data) && json_is_integer(json_object_get(data, "t")) &&
	    json_is_integer(json_object_get(data, "seq")) && json_is_integer(json_object_get(data, "run"))) {
		*t = json_integer_value(json_object_get(data, "t"));
		*seq = json_integer_value(json_object_get(data, "seq"));
		*run = json_integer_value(json_object_get(data, "run"));
		rc = 0;
	}
	json_decref(inner);
	json_decref(ev);
	return rc;
}

static void on_delivery(struct evhttp_request *req)
{
	int64_t now = bench_now_us();
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	long long t, seq, run;

	s.deliveries++;
	if (read_event((const char *)evbuffer_pullup(in, -1), len, &t, &seq, &run) != 0) {
		/* Acked all the same: a redelivery would only count as bad again. */
		s.bad++;
	} else if (run != s.run || !s.seen || seq < 0 || seq >= s.n) {
		s.stale++;
	} else if (s.seen[seq]) {
		s.dups++;
	} else {
		s.seen[seq] = 1;
		s.lat[s.received++] = now - t;
		if (s.first_t == 0 || t < s.first_t)
			s.first_t = t;
		s.last_recv = now;
		if (s.received == s.n)
			finish();
	}
	reply(req, 200, NULL, NULL);
}

static long query_long(struct evhttp_request *req, const char *name)
{
	struct evkeyvalq q;
	const char *v, *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	long r = -1;

	if (!query || evhttp_parse_query_str(query, &q) != 0)
		return -1;
	v = evhttp_find_header(&q, name);
	if (v)
		r = atol(v);
	evhttp_clear_headers(&q);
	return r;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char buf[512];

	nodelay(req);
	if (!path)
		path = "";
	if (cmd == EVHTTP_REQ_POST && strcmp(path, "/bench") == 0) {
		on_delivery(req);
	} else if (cmd == EVHTTP_REQ_GET && strcmp(path, "/dapr/subscribe") == 0) {
		s.subscribe_calls++;
		snprintf(buf, sizeof(buf), "[{\"pubsubname\":\"%s\",\"topic\":\"%s\",\"route\":\"/bench\"}]",
			 s.pubsub, s.topic);
		reply(req, 200, "application/json", buf);
	} else if (cmd == EVHTTP_REQ_POST && strcmp(path, "/control/start") == 0) {
		long run = query_long(req, "run"), n = query_long(req, "n");

		if (run < 0 || n <= 0) {
			reply(req, 400, "text/plain", "run and n are needed\n");
			return;
		}
		free(s.seen);
		free(s.lat);
		s.seen = calloc((size_t)n, 1);
		s.lat = calloc((size_t)n, sizeof(*s.lat));
		if (!s.seen || !s.lat) {
			fprintf(stderr, "pubsub_sink: out of memory\n");
			exit(1);
		}
		s.run = run;
		s.n = n;
		s.deliveries = s.received = s.dups = s.stale = s.bad = 0;
		s.first_t = s.last_recv = 0;
		s.result[0] = '\0';
		reply(req, 204, NULL, NULL);
	} else if (cmd == EVHTTP_REQ_GET && strcmp(path, "/control/result") == 0) {
		if (s.result[0] && query_long(req, "run") == s.run) {
			reply(req, 200, "text/plain", s.result);
		} else {
			int len = snprintf(
				buf, sizeof(buf),
				"PENDING run=%ld n=%ld deliveries=%ld received=%ld dups=%ld stale=%ld bad=%ld "
				"subscribe_calls=%ld missing:",
				s.run, s.n, s.deliveries, s.received, s.dups, s.stale, s.bad,
				s.subscribe_calls);
			long i, shown = 0;

			/* The first few missing sequence numbers, to tell a lost message from a slow one. */
			for (i = 0; i < s.n && shown < 8 && len > 0 && len < (int)sizeof(buf) - 24; i++)
				if (s.seen && !s.seen[i]) {
					len += snprintf(buf + len, sizeof(buf) - (size_t)len, " %ld", i);
					shown++;
				}
			snprintf(buf + len, sizeof(buf) - (size_t)len, "\n");
			reply(req, 202, "text/plain", buf);
		}
	} else {
		reply(req, 404, NULL, NULL);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pubsub_sink -p PORT [-P PUBSUB] [-t TOPIC]\n"
		"An app for outrigd on 127.0.0.1:PORT: GET /dapr/subscribe names PUBSUB/TOPIC with route /bench;\n"
		"POST /control/start?run=R&n=N begins a run, GET /control/result?run=R answers its RESULT line\n"
		"(200) once N distinct messages of run R arrived, else 202 with the progress.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct evhttp *http;
	int opt, port = 0;

	while ((opt = getopt(argc, argv, "p:P:t:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'P': s.pubsub = optarg; break;
		case 't': s.topic = optarg; break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535)
		usage();
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	http = base ? evhttp_new(base) : NULL;
	if (!http) {
		fprintf(stderr, "pubsub_sink: cannot set up libevent\n");
		return 1;
	}
	evhttp_set_gencb(http, on_request, NULL);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	if (!evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port)) {
		/* The script picks another port on this status. */
		fprintf(stderr, "pubsub_sink: cannot listen on 127.0.0.1:%d\n", port);
		return 3;
	}
	printf("LISTENING port=%d\n", port);
	fflush(stdout);
	event_base_dispatch(base);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
