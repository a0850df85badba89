/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus endpoint (see metrics_endpoint.h). */
#include "config.h"

#include "api/http/metrics_endpoint.h"

#include <errno.h>
#include <stddef.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http/http_call.h"
#include "api/http/http_listener.h"
#include "base/log.h"
#include "observe/metrics.h"
#include "observe/trace.h"
#include "runtime.h"

static struct evhttp *metrics_http;
static int metrics_port;

static void metrics_free_text(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/*
 * The tracer's own counts (core/observe/trace.c keeps them, on the loop) as counters: what they
 * grew by since the last scrape. Exported and dropped spans tell that a collector is down.
 */
static void metrics_trace_counts(void)
{
	static struct trace_counters last;
	static struct metric *started, *exported, *dropped;
	struct trace_counters now;

	if (!trace_enabled())
		return;
	if (started == NULL) {
		started = metric_counter("outrig_trace_spans_started_total", "Spans sampled and recorded.",
					 NULL);
		exported = metric_counter("outrig_trace_spans_exported_total",
					  "Spans a collector accepted (or written to the log with stdout).",
					  NULL);
		dropped = metric_counter(
			"outrig_trace_spans_dropped_total",
			"Spans dropped: the queue was full, or a collector was down, slow or refusing.",
			NULL);
	}
	now = trace_counters();
	metric_add(started, NULL, now.started - last.started);
	metric_add(exported, NULL, now.exported - last.exported);
	metric_add(dropped, NULL, now.dropped - last.dropped);
	last = now;
}

/* A scrape: the text is rendered on a worker thread, since thousands of label sets take
 * milliseconds to print and the loop must not wait for them. */
struct metrics_scrape {
	struct http_call call;
	char *text;
	size_t len;
};

/* Scrapes render one at a time; a scraper that asks while more are waiting than this gets 503. */
#define METRICS_SCRAPES_QUEUED 4
static struct lane metrics_lane = { .limit = 1 };

static struct metrics_scrape *metrics_scrape_of(struct http_call *call)
{
	return (struct metrics_scrape *)((char *)call - offsetof(struct metrics_scrape, call));
}

static void metrics_scrape_render(struct work *w)
{
	struct metrics_scrape *sc = metrics_scrape_of((struct http_call *)w);

	sc->text = metrics_render(&sc->len);
}

static void metrics_scrape_reply(struct http_call *call)
{
	struct metrics_scrape *sc = metrics_scrape_of(call);
	struct evbuffer *out = evbuffer_new();

	if (sc->text == NULL || out == NULL) {
		if (out != NULL)
			evbuffer_free(out);
		evhttp_send_error(call->req, 500, "out of memory");
		return;
	}
	/* The buffer takes the text without a copy, and frees it once sent. */
	if (evbuffer_add_reference(out, sc->text, sc->len, metrics_free_text, NULL) == 0)
		sc->text = NULL;
	else
		evbuffer_add(out, sc->text, sc->len);
	evhttp_add_header(evhttp_request_get_output_headers(call->req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(call->req, 200, "OK", out);
	evbuffer_free(out);
}

static void metrics_scrape_release(struct http_call *call)
{
	struct metrics_scrape *sc = metrics_scrape_of(call);

	free(sc->text);
	free(sc);
}

static void metrics_handle(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct metrics_scrape *sc;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, 404, "the metrics are at /metrics");
		return;
	}
	if (metrics_lane.queued >= METRICS_SCRAPES_QUEUED) {
		evhttp_send_error(req, 503, "scrapes are already waiting to be rendered; scrape less often");
		return;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	/* The tracer's counts live on the loop: read them here, into metrics the worker then prints. */
	metrics_trace_counts();
	sc->call.req = req;
	sc->call.work.run = metrics_scrape_render;
	sc->call.reply = metrics_scrape_reply;
	sc->call.release = metrics_scrape_release;
	http_call_submit(srv, &sc->call, &metrics_lane);
}

int metrics_endpoint_listen(struct server *srv)
{
	const struct options *opts = srv->opts;
	int port = opts->metrics_port > 0 ? opts->metrics_port : OPTIONS_DEFAULT_METRICS_PORT;
	struct sockaddr_storage ss;
	int sslen = sizeof(ss), one = 1;
	const char *addr = opts->metrics_listen_address;
	char spec[300];
	evutil_socket_t fd = -1;

	if (!metrics_enabled())
		return 0;
	snprintf(spec, sizeof(spec), strchr(addr, ':') != NULL ? "[%s]:%d" : "%s:%d", addr, port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
		log_error(
			"runtime",
			"--metrics-listen-address: \"%s\" is not an IP address; give one such as 0.0.0.0 or 127.0.0.1",
			addr);
		return -1;
	}
	metrics_http = evhttp_new(srv->base);
	if (metrics_http == NULL)
		return -1;
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(metrics_http, 16 * 1024);
	evhttp_set_max_body_size(metrics_http, 0);
	evhttp_set_timeout(metrics_http, 30);
	evhttp_set_gencb(metrics_http, metrics_handle, srv);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit it. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0 || listen(fd, 64) != 0)
		goto fail;
	if (http_listener_bind(srv->base, metrics_http, fd, "the metrics endpoint") != 0) {
		fd = -1;
		goto fail;
	}
	metrics_port = port;
	log_info("runtime", "metrics (Prometheus) listening on %s/metrics", spec);
	return 0;
fail:
	if (opts->metrics_port > 0)
		log_error(
			"runtime",
			"--metrics-port %d: cannot listen on %s: %s; pick a free port with --metrics-port, or "
			"turn metrics off with --enable-metrics=false",
			port, spec, strerror(errno));
	else
		log_warn("runtime",
			 "metrics: cannot listen on %s (the default --metrics-port): %s; serving no metrics. "
			 "Give each sidecar its own port with --metrics-port",
			 spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	metrics_endpoint_close();
	return opts->metrics_port > 0 ? -1 : 0;
}

int metrics_endpoint_port(void)
{
	return metrics_port;
}

void metrics_endpoint_close(void)
{
	if (metrics_http != NULL) {
		http_listener_release(metrics_http);
		evhttp_free(metrics_http);
	}
	metrics_http = NULL;
	metrics_port = 0;
}
