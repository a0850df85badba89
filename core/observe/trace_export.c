/* SPDX-License-Identifier: Apache-2.0 */
/* Span export: a bounded queue, batches sent from the loop to Zipkin (JSON v2) and OTLP/HTTP (JSON). */
#include "config.h"

#include "observe/trace_internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/log.h"

/* Bounds: what a dead collector can cost is this many spans of memory, no more. */
#define EXPORT_QUEUE_MAX 2048
#define EXPORT_BATCH_MAX 512
#define EXPORT_FLUSH_MS 1000
#define EXPORT_TIMEOUT_S 2
#define EXPORT_REPORT_S 30

/* Appends a string literal. */
#define ADDS(b, lit) evbuffer_add((b), (lit), sizeof(lit) - 1)

struct export_target {
	const char *what;	   /* "zipkin" or "otel" */
	char host[256];		   /* for the Host header */
	char addr[64];		   /* numeric, resolved once at start */
	int port;
	char path[256];
	struct evhttp_connection *conn;
	bool busy;
	size_t batch; /* spans in the request in flight */
	bool otlp;
};

static struct {
	struct event_base *base;
	struct event *timer;
	struct trace_counters *counters;
	char service[128];
	bool to_stdout;
	struct span *head, *tail;
	size_t queued;
	struct export_target targets[2];
	size_t ntargets;
	uint64_t reported_dropped; /* what the last report said */
	char last_failure[320];	   /* which collector failed last, and how */
	time_t reported_at;
	bool flushing; /* stopping: every queued span goes now, batch after batch */
} ex;

static int export_url(struct export_target *t, const char *url, char *err, size_t errlen)
{
	const char *p = url, *host, *colon, *slash;
	struct addrinfo hints = { 0 }, *res = NULL;
	char port[8];
	size_t hl;
	int rc;

	if (strncmp(p, "https://", 8) == 0) {
		snprintf(err, errlen, "%s endpoint %s: https is not supported by outrig yet; use http:// (e.g. through a local collector)",
			 t->what, url);
		return -1;
	}
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	host = p;
	slash = strchr(host, '/');
	if (slash == NULL)
		slash = host + strlen(host);
	colon = memchr(host, ':', (size_t)(slash - host));
	if (*host == '[') { /* [v6]:port */
		const char *close = memchr(host, ']', (size_t)(slash - host));

		if (close == NULL)
			goto bad;
		host++;
		hl = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		hl = (size_t)((colon != NULL ? colon : slash) - host);
	}
	if (hl == 0 || hl >= sizeof(t->host))
		goto bad;
	memcpy(t->host, host, hl);
	t->host[hl] = '\0';
	t->port = colon != NULL ? atoi(colon + 1) : 80;
	if (t->port <= 0 || t->port > 65535)
		goto bad;
	snprintf(t->path, sizeof(t->path), "%s", *slash == '/' ? slash : "/");
	snprintf(port, sizeof(port), "%d", t->port);
	hints.ai_socktype = SOCK_STREAM;
	/* Resolved once, before the loop runs: a lookup on the loop would block it. */
	rc = getaddrinfo(t->host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "%s endpoint %s: cannot resolve %s: %s; check the host name", t->what,
			 url, t->host, gai_strerror(rc));
		return -1;
	}
	if (getnameinfo(res->ai_addr, res->ai_addrlen, t->addr, sizeof(t->addr), NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(t->addr, sizeof(t->addr), "%.63s", t->host);
	freeaddrinfo(res);
	return 0;
bad:
	snprintf(err, errlen, "%s endpoint \"%s\" is not http://host:port/path", t->what, url);
	return -1;
}

/* Appends s as a JSON string. */
static void export_json_str(struct evbuffer *b, const char *s)
{
	const char *run = s;

	ADDS(b, "\"");
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		evbuffer_add(b, run, (size_t)(p - run));
		if (c == '"' || c == '\\')
			evbuffer_add_printf(b, "\\%c", c);
		else
			evbuffer_add_printf(b, "\\u%04x", c);
		run = p + 1;
	}
	evbuffer_add(b, run, strlen(run));
	ADDS(b, "\"");
}

static const char *const zipkin_kinds[] = { NULL, NULL, "SERVER", "CLIENT", "PRODUCER", "CONSUMER" };

void trace_export_zipkin_span(struct evbuffer *b, const struct span *sp, const char *service)
{
	char tid[33], sid[17], pid[17];

	trace_hex(sp->ctx.trace_id, 16, tid);
	trace_hex(sp->ctx.span_id, 8, sid);
	evbuffer_add_printf(b, "{\"traceId\":\"%s\",\"id\":\"%s\",", tid, sid);
	if (sp->has_parent) {
		trace_hex(sp->parent, 8, pid);
		evbuffer_add_printf(b, "\"parentId\":\"%s\",", pid);
	}
	if (sp->kind < 6 && zipkin_kinds[sp->kind] != NULL)
		evbuffer_add_printf(b, "\"kind\":\"%s\",", zipkin_kinds[sp->kind]);
	ADDS(b, "\"name\":");
	export_json_str(b, sp->name);
	evbuffer_add_printf(b, ",\"timestamp\":%lld,\"duration\":%lld,\"localEndpoint\":{\"serviceName\":",
			    (long long)sp->start_us, (long long)(sp->end_us - sp->start_us));
	export_json_str(b, service);
	ADDS(b, "},\"tags\":{");
	for (int i = 0; i < sp->nattrs; i++) {
		if (i > 0)
			ADDS(b, ",");
		export_json_str(b, sp->room + sp->key_off[i]);
		ADDS(b, ":");
		export_json_str(b, sp->room + sp->val_off[i]);
	}
	if (sp->error)
		evbuffer_add_printf(b, "%s\"error\":\"true\"", sp->nattrs > 0 ? "," : "");
	ADDS(b, "}}");
}

static void export_otlp_span(struct evbuffer *b, const struct span *sp)
{
	char tid[33], sid[17], pid[17];

	trace_hex(sp->ctx.trace_id, 16, tid);
	trace_hex(sp->ctx.span_id, 8, sid);
	evbuffer_add_printf(b, "{\"traceId\":\"%s\",\"spanId\":\"%s\",", tid, sid);
	if (sp->has_parent) {
		trace_hex(sp->parent, 8, pid);
		evbuffer_add_printf(b, "\"parentSpanId\":\"%s\",", pid);
	}
	ADDS(b, "\"name\":");
	export_json_str(b, sp->name);
	evbuffer_add_printf(b,
			    ",\"kind\":%d,\"startTimeUnixNano\":\"%lld000\",\"endTimeUnixNano\":\"%lld000\","
			    "\"status\":{\"code\":%d},\"attributes\":[",
			    sp->kind, (long long)sp->start_us, (long long)sp->end_us, sp->error ? 2 : 1);
	for (int i = 0; i < sp->nattrs; i++) {
		if (i > 0)
			ADDS(b, ",");
		ADDS(b, "{\"key\":");
		export_json_str(b, sp->room + sp->key_off[i]);
		ADDS(b, ",\"value\":{\"stringValue\":");
		export_json_str(b, sp->room + sp->val_off[i]);
		ADDS(b, "}}");
	}
	ADDS(b, "]}");
}

static void export_body(struct evbuffer *b, const struct export_target *t, struct span *first, size_t n)
{
	size_t i = 0;

	if (t->otlp) {
		ADDS(b, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":");
		export_json_str(b, ex.service);
		evbuffer_add_printf(b, "}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"outrig\",\"version\":\"%s\"},\"spans\":[",
				    PACKAGE_VERSION);
	} else {
		ADDS(b, "[");
	}
	for (struct span *sp = first; sp != NULL && i < n; sp = sp->next, i++) {
		if (i > 0)
			ADDS(b, ",");
		if (t->otlp)
			export_otlp_span(b, sp);
		else
			trace_export_zipkin_span(b, sp, ex.service);
	}
	if (t->otlp)
		ADDS(b, "]}]}]}");
	else
		ADDS(b, "]");
}

/* Says how many spans were dropped since the last report, at most once per EXPORT_REPORT_S. */
static void export_report(void)
{
	time_t now = time(NULL);

	if (ex.counters->dropped == ex.reported_dropped || now - ex.reported_at < EXPORT_REPORT_S)
		return;
	log_warn("trace",
		 "%llu spans dropped in the last %ds (%llu in all; last failure: %s; or the queue of %d was full); requests are not slowed",
		 (unsigned long long)(ex.counters->dropped - ex.reported_dropped),
		 ex.reported_at == 0 ? 0 : (int)(now - ex.reported_at), (unsigned long long)ex.counters->dropped,
		 ex.last_failure[0] != '\0' ? ex.last_failure : "none", EXPORT_QUEUE_MAX);
	ex.reported_dropped = ex.counters->dropped;
	ex.reported_at = now;
}

static void export_done(struct evhttp_request *req, void *arg)
{
	struct export_target *t = arg;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;

	t->busy = false;
	/* Counted per exporter: with two set, a span can be exported by one and dropped by the other. */
	if (code >= 200 && code < 300) {
		ex.counters->exported += t->batch;
	} else {
		ex.counters->dropped += t->batch;
		ex.counters->batches_failed++;
		if (code == 0)
			snprintf(ex.last_failure, sizeof(ex.last_failure), "%s at %s:%d did not answer in %ds",
				 t->what, t->host, t->port, EXPORT_TIMEOUT_S);
		else
			snprintf(ex.last_failure, sizeof(ex.last_failure), "%s at %s:%d answered %d", t->what,
				 t->host, t->port, code);
		log_debug("trace", "%s collector %s:%d answered %d to a batch of %zu spans", t->what, t->host,
			  t->port, code, t->batch);
	}
	t->batch = 0;
	export_report();
	/* A full batch waiting goes at once rather than at the next tick: the collector sets the pace. */
	if ((ex.queued >= EXPORT_BATCH_MAX || (ex.flushing && ex.queued > 0)) && ex.timer != NULL)
		event_active(ex.timer, EV_TIMEOUT, 0);
}

static bool export_send(struct export_target *t, struct span *first, size_t n)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;
	struct bufferevent *bev;
	char hostport[300];
	int one = 1;

	if (t->conn == NULL) {
		t->conn = evhttp_connection_base_new(ex.base, NULL, t->addr, (unsigned short)t->port);
		if (t->conn == NULL)
			return false;
		evhttp_connection_set_timeout(t->conn, EXPORT_TIMEOUT_S);
		evhttp_connection_set_retries(t->conn, 0);
	}
	req = evhttp_request_new(export_done, t);
	if (req == NULL)
		return false;
	h = evhttp_request_get_output_headers(req);
	snprintf(hostport, sizeof(hostport), "%s:%d", t->host, t->port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Content-Type", "application/json");
	export_body(evhttp_request_get_output_buffer(req), t, first, n);
	t->batch = n;
	t->busy = true;
	if (evhttp_make_request(t->conn, req, EVHTTP_REQ_POST, t->path) != 0) {
		t->busy = false;
		t->batch = 0;
		return false;
	}
	bev = evhttp_connection_get_bufferevent(t->conn);
	if (bev != NULL && bufferevent_getfd(bev) >= 0)
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return true;
}

static void export_flush(evutil_socket_t fd, short what, void *arg)
{
	struct span *first = ex.head, *sp;
	size_t n = 0;
	bool sent = false;

	(void)fd, (void)what, (void)arg;
	for (size_t i = 0; i < ex.ntargets; i++)
		if (ex.targets[i].busy) {
			export_report();
			return;
		}
	if (ex.queued == 0) {
		export_report();
		return;
	}
	for (sp = ex.head; sp != NULL && n < EXPORT_BATCH_MAX; sp = sp->next)
		n++;
	for (size_t i = 0; i < ex.ntargets; i++) {
		bool ok = export_send(&ex.targets[i], first, n);

		if (!ok)
			ex.counters->dropped += n;
		sent |= ok;
	}
	/* The bodies are built: the spans go. */
	for (size_t i = 0; i < n; i++) {
		sp = ex.head;
		ex.head = sp->next;
		free(sp);
	}
	if (ex.head == NULL)
		ex.tail = NULL;
	ex.queued -= n;
	if (ex.ntargets == 0)
		ex.counters->exported += n; /* stdout only */
	(void)sent;
	export_report();
}

void trace_export_push(struct span *sp)
{
	if (ex.to_stdout) {
		struct evbuffer *b = evbuffer_new();

		if (b != NULL) {
			trace_export_zipkin_span(b, sp, ex.service);
			evbuffer_add(b, "", 1);
			log_info("trace", "span %s", (const char *)evbuffer_pullup(b, -1));
			evbuffer_free(b);
		}
		if (ex.ntargets == 0) {
			ex.counters->exported++;
			free(sp);
			return;
		}
	}
	if (ex.queued >= EXPORT_QUEUE_MAX) {
		ex.counters->dropped++;
		free(sp);
		return;
	}
	sp->next = NULL;
	if (ex.tail != NULL)
		ex.tail->next = sp;
	else
		ex.head = sp;
	ex.tail = sp;
	ex.queued++;
	if (ex.queued >= EXPORT_BATCH_MAX && ex.timer != NULL)
		event_active(ex.timer, EV_TIMEOUT, 0);
}

int trace_export_start(struct event_base *base, const struct trace_settings *s, const char *service,
		       struct trace_counters *counters, char *err, size_t errlen)
{
	struct timeval every = { EXPORT_FLUSH_MS / 1000, (EXPORT_FLUSH_MS % 1000) * 1000 };

	memset(&ex, 0, sizeof(ex));
	ex.base = base;
	ex.counters = counters;
	ex.to_stdout = s->to_stdout;
	snprintf(ex.service, sizeof(ex.service), "%s", service != NULL && *service ? service : "outrigd");
	if (s->zipkin_url != NULL) {
		ex.targets[ex.ntargets].what = "zipkin";
		if (export_url(&ex.targets[ex.ntargets], s->zipkin_url, err, errlen) != 0)
			return -1;
		ex.ntargets++;
	}
	if (s->otlp_url != NULL) {
		ex.targets[ex.ntargets].what = "otel";
		ex.targets[ex.ntargets].otlp = true;
		if (export_url(&ex.targets[ex.ntargets], s->otlp_url, err, errlen) != 0)
			return -1;
		ex.ntargets++;
	}
	ex.timer = event_new(base, -1, EV_PERSIST, export_flush, NULL);
	if (ex.timer == NULL || event_add(ex.timer, &every) != 0) {
		snprintf(err, errlen, "tracing: out of memory");
		return -1;
	}
	for (size_t i = 0; i < ex.ntargets; i++)
		log_info("trace", "exporting spans to %s at http://%s:%d%s (sampling %g)", ex.targets[i].what,
			 ex.targets[i].host, ex.targets[i].port, ex.targets[i].path, s->rate);
	return 0;
}

size_t trace_export_unsent(void)
{
	size_t n = ex.queued;

	for (size_t i = 0; i < ex.ntargets; i++)
		n += ex.targets[i].batch;
	return ex.ntargets > 0 ? n : 0;
}

void trace_export_flush(void)
{
	ex.flushing = true;
	if (ex.timer != NULL && ex.queued > 0)
		event_active(ex.timer, EV_TIMEOUT, 0);
}

void trace_export_stop(void)
{
	if (ex.timer != NULL)
		event_free(ex.timer);
	ex.timer = NULL;
	/* What a collector had not answered, and what was still queued, is lost: counted as dropped. */
	for (size_t i = 0; i < ex.ntargets; i++) {
		struct export_target *t = &ex.targets[i];
		size_t lost = t->batch + ex.queued;

		if (t->conn != NULL)
			evhttp_connection_free(t->conn);
		t->conn = NULL;
		if (lost == 0 || ex.counters == NULL)
			continue;
		ex.counters->dropped += lost;
		log_warn("trace", "%zu spans not sent to %s at %s:%d at stop (%zu in a batch it had not answered, %zu queued); counted as dropped",
			 lost, t->what, t->host, t->port, t->batch, ex.queued);
	}
	ex.ntargets = 0;
	while (ex.head != NULL) {
		struct span *sp = ex.head;

		ex.head = sp->next;
		free(sp);
	}
	ex.tail = NULL;
	ex.queued = 0;
}
