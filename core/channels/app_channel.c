/* SPDX-License-Identifier: Apache-2.0 */
/* The app channel: outrigd's HTTP client to its own app, pooled keep-alive connections, bounded concurrency. */
#include "config.h"

#include "channels/app_channel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "channels/http_method.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "base/log.h"
#include "security/app_tls.h"
#include "security/mtls.h"

#define APP_SCOPE "app-channel"

/* One keep-alive connection; evhttp runs one request at a time on it. */
struct app_conn {
	struct evhttp_connection *evcon; /* NULL after it was closed for good; made again on use */
	struct app_call *call;		 /* the call on it, or NULL when idle */
	evutil_socket_t tuned_fd;	 /* the socket TCP_NODELAY was last set on */
	size_t received;		 /* bytes of the current call's answer read so far */
	bool closed;			 /* a TLS connection that closed: made anew, never reconnected */
};

struct app_call {
	struct app_channel *ch;
	enum evhttp_cmd_type method;
	char *path;
	struct evkeyvalq headers;
	char *content_type;
	void *body;
	size_t len;
	app_response_cb cb;
	void *arg;
	bool (*wanted)(void *arg); /* asked before the call is sent: false drops it */
	void *wanted_arg;
	void (*abandon)(void *arg); /* told instead of cb when the channel is freed first */
	struct app_conn *conn;
	enum evhttp_request_error error;
	bool failed;
	enum app_fault fault;  /* found by outrig itself (header check), before evhttp failed the call */
	bool unclean;	       /* the answer leaves bytes behind: its connection must not be reused */
	bool no_reuse;	       /* a bodiless answer (HEAD, 304): a late body could still come */
	bool status_read;      /* app_check_status_line saw the answer's status line */
	char why[256];	       /* the error text when it names a number */
	double started_ms;     /* metrics_now_ms() when the call was asked for */
	struct app_call *next; /* in the waiting queue */
};

/* One caller of app_channel_wait_ready. */
struct app_waiter {
	void (*ready)(void *arg);
	void *arg;
};

struct app_channel {
	struct event_base *base;
	struct evdns_base *dns; /* only for an address that is a name, not an IP */
	char *address;
	char host_header[300];
	int port;
	int timeout_s;
	int64_t max_body, max_headers; /* -1: unbounded */
	char *token;		       /* APP_API_TOKEN, sent as dapr-api-token; NULL for none */
	struct app_tls *tls;	       /* --app-protocol https: every connection speaks TLS; NULL: plain */
	char tls_failure[300];	       /* the probe's last TLS failure, logged when it changes */
	char *tls_id, *tls_ns;	       /* mTLS to another sidecar: the app its certificate must name */
	struct app_conn *conns;
	size_t nconns, maxconns;
	struct app_call *wait_head, *wait_tail;
	unsigned busy;
	/* wait_ready */
	struct bufferevent *probe;
	struct event *probe_timer;
	struct app_waiter *waiters; /* told, in order, once the app listens */
	size_t nwaiters;
	bool is_ready;
	unsigned probes;
};

static bool app_is_ip(const char *address)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, address, buf) == 1 || inet_pton(AF_INET6, address, buf) == 1;
}

struct app_channel *app_channel_new(struct event_base *base, const char *address, int port,
				    int max_concurrency, int timeout_s)
{
	struct app_channel *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return NULL;
	ch->base = base;
	ch->address = strdup(address);
	ch->port = port;
	ch->timeout_s = timeout_s;
	ch->max_body = ch->max_headers = -1;
	ch->maxconns = max_concurrency > 0 ? (size_t)max_concurrency : APP_CHANNEL_MAX_CONNECTIONS;
	ch->conns = calloc(ch->maxconns, sizeof(*ch->conns));
	snprintf(ch->host_header, sizeof(ch->host_header), strchr(address, ':') ? "[%s]:%d" : "%s:%d",
		 address, port);
	/* A name is resolved with evdns so that the loop never waits on DNS. */
	if (ch->address != NULL && !app_is_ip(address))
		ch->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (ch->address == NULL || ch->conns == NULL) {
		app_channel_free(ch);
		return NULL;
	}
	return ch;
}

/* ---- waiting for the app's port ---- */

static void app_probe_start(struct app_channel *ch);

static void app_probe_retry(evutil_socket_t fd, short what, void *arg)
{
	app_probe_start(arg);
}

static void app_probe_event(struct bufferevent *bev, short what, void *arg)
{
	struct app_channel *ch = arg;
	int sock_err = EVUTIL_SOCKET_ERROR(); /* before anything else can change it */
	struct timeval again = { 0, 100 * 1000 };
	char why[sizeof(ch->tls_failure)];

	/* A TLS dial, as daprd's: the app is ready once the handshake is done, not only the connect. */
	if (!(what & BEV_EVENT_CONNECTED) && ch->tls != NULL &&
	    app_tls_failure(bev, sock_err, why, sizeof(why)) && strcmp(why, ch->tls_failure) != 0) {
		snprintf(ch->tls_failure, sizeof(ch->tls_failure), "%s", why);
		log_error(APP_SCOPE, "the app on %s: %s; still trying", ch->host_header, why);
	}
	bufferevent_free(bev);
	ch->probe = NULL;
	if (what & BEV_EVENT_CONNECTED) {
		log_info(APP_SCOPE, "the app answers on %s", ch->host_header);
		ch->is_ready = true;
		/* is_ready first: a waiter that asks again is answered at once, not added to the list. */
		for (size_t i = 0; i < ch->nwaiters; i++)
			ch->waiters[i].ready(ch->waiters[i].arg);
		ch->nwaiters = 0;
		return;
	}
	/* Every 10 s, so that a forgotten app is visible in the log without flooding it. */
	if (++ch->probes % 100 == 1)
		log_info(APP_SCOPE, "waiting for the app to listen on %s (--app-port)", ch->host_header);
	event_add(ch->probe_timer, &again);
}

static void app_probe_start(struct app_channel *ch)
{
	ch->probe = ch->tls != NULL ? app_tls_bufferevent(ch->tls, ch->base, 0)
				    : bufferevent_socket_new(ch->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (ch->probe == NULL) {
		log_error(APP_SCOPE, "out of memory while waiting for the app");
		return;
	}
	bufferevent_setcb(ch->probe, NULL, NULL, app_probe_event, ch);
	/* On failure the event callback has already run (and rescheduled the probe). */
	bufferevent_socket_connect_hostname(ch->probe, ch->dns, AF_UNSPEC, ch->address, ch->port);
}

void app_channel_wait_ready(struct app_channel *ch, void (*ready)(void *arg), void *arg)
{
	struct app_waiter *grown;

	if (ch->is_ready) {
		ready(arg);
		return;
	}
	grown = realloc(ch->waiters, (ch->nwaiters + 1) * sizeof(*grown));
	if (grown == NULL) {
		log_error(APP_SCOPE, "out of memory while waiting for the app");
		return;
	}
	ch->waiters = grown;
	ch->waiters[ch->nwaiters].ready = ready;
	ch->waiters[ch->nwaiters++].arg = arg;
	/* One probe serves every waiter. */
	if (ch->probe != NULL || (ch->probe_timer != NULL && evtimer_pending(ch->probe_timer, NULL)))
		return;
	if (ch->probe_timer == NULL)
		ch->probe_timer = evtimer_new(ch->base, app_probe_retry, ch);
	if (ch->probe_timer != NULL)
		app_probe_start(ch);
}

/* ---- calls ---- */

static void app_call_free(struct app_call *call)
{
	evhttp_clear_headers(&call->headers);
	free(call->path);
	free(call->content_type);
	free(call->body);
	free(call);
}

/* Neutral wording: the same channel carries calls to another sidecar (peer_channels.c). */
static const char *app_error_text(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT: return "no answer in time";
	case EVREQ_HTTP_EOF: return "the connection closed before an answer came (or was refused)";
	case EVREQ_HTTP_INVALID_HEADER: return "the answer had an invalid HTTP header";
	case EVREQ_HTTP_BUFFER_ERROR: return "reading from or writing to the connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL: return "the call was cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG: return "the answer is too large";
	}
	return "the call failed";
}

static void app_pump(struct app_channel *ch);

static void app_call_error(enum evhttp_request_error e, void *arg)
{
	struct app_call *call = arg;

	call->failed = true;
	call->error = e;
}

/* Why evhttp failed a call whose answer had begun, as a fault and a clause naming the limit. */
static enum app_fault app_classify(struct app_call *call)
{
	struct app_channel *ch = call->ch;

	switch (call->error) {
	case EVREQ_HTTP_DATA_TOO_LONG:
		/* evhttp says too long for a chunked body past the limit and for broken chunk framing alike. */
		snprintf(
			call->why, sizeof(call->why),
			"the answer's body is larger than %lld bytes (the limit --max-body-size sets), or its chunked encoding is broken",
			(long long)ch->max_body);
		return APP_FAULT_TOO_LARGE;
	case EVREQ_HTTP_INVALID_HEADER:
		/* evhttp reports headers past the limit as invalid: the bytes read tell which it was. */
		if (ch->max_headers >= 0 && call->conn->received > (size_t)ch->max_headers) {
			snprintf(
				call->why, sizeof(call->why),
				"the answer's status line and headers are larger than %lld bytes (the limit --read-buffer-size sets)",
				(long long)ch->max_headers);
			return APP_FAULT_TOO_LARGE;
		}
		snprintf(call->why, sizeof(call->why), "%s",
			 "the answer's status line or headers are not valid HTTP/1.1");
		return APP_FAULT_INVALID;
	default:
		snprintf(call->why, sizeof(call->why), "%s", app_error_text(call->error));
		return APP_FAULT_UNREACHABLE;
	}
}

/*
 * Checks an answer's status line and headers before evhttp reads its body; a -1 makes evhttp fail
 * the call and close the connection, so that nothing more of the answer is read.
 */
static int app_call_headers(struct evhttp_request *req, void *arg)
{
	struct app_call *call = arg;
	struct app_channel *ch = call->ch;
	int code = evhttp_request_get_response_code(req);
	const struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *length = evhttp_find_header(in, "Content-Length");
	char *end;
	long long n;

	/* app_check_status_line found the status itself malformed. */
	if (call->fault != APP_FAULT_NONE)
		return -1;
	/* evhttp reads a 100 Continue itself and waits for the answer after it. */
	if (code == 100)
		return 0;
	/*
	 * evhttp parses the status with atoi and takes any number but 0: 1, -5, 600, a 1xx as the
	 * final answer, 999999999999 wrapped to a negative int. None of them can be passed on.
	 */
	if (code < 200 || code > 599) {
		char shown[32] = "out of range";

		if (code > -1000 && code < 10000)
			snprintf(shown, sizeof(shown), "%d", code);
		snprintf(
			call->why, sizeof(call->why),
			"the answer's HTTP status is invalid (%s); a final answer's status is a number from 200 to 599",
			shown);
		call->fault = APP_FAULT_INVALID;
		return -1;
	}
	if (length != NULL && ch->max_body >= 0) {
		errno = 0;
		n = strtoll(length, &end, 10);
		/* An unparseable length is evhttp's to refuse; a large one is refused before reading it. */
		if (errno == 0 && end != length && *end == '\0' && n > ch->max_body &&
		    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD && code != 204 && code != 304) {
			snprintf(
				call->why, sizeof(call->why),
				"the answer's body of %lld bytes is larger than %lld bytes (the limit --max-body-size sets)",
				n, (long long)ch->max_body);
			call->fault = APP_FAULT_TOO_LARGE;
			return -1;
		}
	}
	/*
	 * A 204 has no body (RFC 9110 §15.3.5), so evhttp reads none: one announced anyway would be
	 * read as the next call's answer. (A 304's or a HEAD answer's length describes a GET's body;
	 * bytes actually sent after them are caught in app_call_done.)
	 */
	if (code == 204 && ((length != NULL && strcmp(length, "0") != 0) ||
			    evhttp_find_header(in, "Transfer-Encoding") != NULL))
		call->unclean = true;
	return 0;
}

static void app_conn_counted(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);

/* Closes a connection for good; the slot makes a new one when next used. */
static void app_conn_drop(struct app_conn *conn)
{
	evbuffer_remove_cb(bufferevent_get_input(evhttp_connection_get_bufferevent(conn->evcon)),
			   app_conn_counted, conn);
	/* Safe inside evhttp's own callback: the request was taken off the connection before it ran. */
	evhttp_connection_free(conn->evcon);
	conn->evcon = NULL;
	conn->tuned_fd = -1;
}

/* dapr_http_client_*: the call's path without its query, and status 0 (no bytes) when there was no answer. */
static void app_call_observe(const struct app_call *call, int status, struct evhttp_request *answer)
{
	const char *method = http_method_name(call->method, "?");
	char path[512];

	if (!metrics_enabled())
		return;
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(call->path, "?"), call->path);
	dm_http_client(method, path, status, metrics_now_ms() - call->started_ms);
	dm_http_client_bytes(method, path, call->len,
			     answer != NULL ? evbuffer_get_length(evhttp_request_get_input_buffer(answer)) : 0);
}

static void app_call_done(struct evhttp_request *req, void *arg)
{
	struct app_call *call = arg;
	struct app_channel *ch = call->ch;
	struct app_conn *conn = call->conn;
	struct app_response r = { 0 };

	if (req != NULL && !call->failed && evhttp_request_get_response_code(req) != 0) {
		r.status = evhttp_request_get_response_code(req);
		r.req = req;
		/* Bytes already past the answer's end belong to no call. */
		if (evbuffer_get_length(
			    bufferevent_get_input(evhttp_connection_get_bufferevent(conn->evcon))) > 0)
			call->unclean = true;
		/*
		 * After a HEAD or a 304 evhttp reads no body, so one the app sends anyway and that
		 * arrives later would be taken as the next call's answer: such a connection is not
		 * reused. Both are rare enough that the new connection costs nothing that matters.
		 */
		if (call->method == EVHTTP_REQ_HEAD || r.status == 304)
			call->no_reuse = true;
	} else if (ch->tls_id != NULL && conn->evcon != NULL &&
		   mtls_failure(evhttp_connection_get_bufferevent(conn->evcon), call->why,
				sizeof(call->why))) {
		r.fault = APP_FAULT_UNREACHABLE;
		r.error = call->why;
	} else if (call->fault != APP_FAULT_NONE) {
		/* app_call_headers refused it (evhttp then reports an EOF). */
		r.fault = call->fault;
		r.error = call->why;
	} else if (call->failed) {
		r.fault = app_classify(call);
		r.error = call->why;
	} else {
		/*
		 * evhttp reports a failed connect (refused, unreachable, DNS) with neither status nor
		 * error callback, and its reset has overwritten errno by now.
		 */
		r.fault = APP_FAULT_UNREACHABLE;
		r.error = "could not connect (connection refused, or the host is unreachable)";
	}
	/*
	 * TLS's reason beats evhttp's. (evhttp reconnects a closed connection on the same
	 * bufferevent, whose SSL object libevent clears for a new handshake.)
	 */
	if (ch->tls != NULL && r.fault != APP_FAULT_NONE &&
	    app_tls_failure(evhttp_connection_get_bufferevent(conn->evcon), -1, call->why, sizeof(call->why)))
		r.error = call->why;
	/*
	 * Before the callback, which may send again and would get this connection: req was taken off
	 * it already, so it stays valid for the callback.
	 */
	if (ch->tls_id != NULL && r.status == 0 && conn->evcon != NULL) {
		/* A TLS connection is not reconnected: its SSL object served one connection. */
		app_conn_drop(conn);
	} else if (call->unclean) {
		log_warn(
			APP_SCOPE,
			"%s answered %s %s with more bytes than its framing announced (a 204 or HEAD answer with a body?); closed that connection",
			ch->host_header, http_method_name(call->method, "?"), call->path);
		app_conn_drop(conn);
	} else if (call->no_reuse) {
		app_conn_drop(conn);
	}
	conn->call = NULL;
	ch->busy--;
	app_call_observe(call, r.status, r.req);
	call->cb(call->arg, &r);
	app_call_free(call);
	app_pump(ch);
}

/*
 * Nagle's algorithm would hold small requests back ~40 ms; evhttp makes its sockets itself,
 * so the option goes on each new socket once evhttp opened it.
 */
static void app_conn_tune(struct app_conn *conn)
{
	evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn->evcon));
	int one = 1;

	if (fd >= 0 && fd != conn->tuned_fd) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conn->tuned_fd = fd;
	}
}

/*
 * Checks that the status is three digits, as HTTP/1.1 has it: evhttp's atoi takes "200abc" and
 * "+200" for 200 and wraps 4294967496 to 200. Runs as bytes arrive, before evhttp parses them; the
 * answer starts at the buffer's start (leftovers of an earlier one close the connection).
 */
static void app_check_status_line(struct app_call *call, struct evbuffer *buf)
{
	struct evbuffer_ptr eol = evbuffer_search_eol(buf, NULL, NULL, EVBUFFER_EOL_CRLF);
	size_t n = evbuffer_get_length(buf);
	char line[64];
	const char *code;
	size_t digits;

	if (eol.pos < 0 && n < sizeof(line) - 1)
		return; /* not the whole line yet */
	if (eol.pos >= 0 && (size_t)eol.pos < n)
		n = (size_t)eol.pos;
	if (n > sizeof(line) - 1)
		n = sizeof(line) - 1;
	evbuffer_copyout(buf, line, n);
	line[n] = '\0';
	call->status_read = true;
	code = strchr(line, ' ');
	/* No status at all is evhttp's to refuse. */
	if (code == NULL)
		return;
	code++;
	digits = strspn(code, "0123456789");
	if (digits == 3 && (code[3] == '\0' || code[3] == ' ' || code[3] == '\r'))
		return;
	n = strcspn(code, " \r");
	/* Shown as printable ASCII: the message goes into a JSON string. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)code[i] < 0x20 || (unsigned char)code[i] > 0x7e || code[i] == '"' ||
		    code[i] == '\\')
			line[code - line + (ptrdiff_t)i] = '?';
	snprintf(
		call->why, sizeof(call->why),
		"the answer's HTTP status \"%.*s%s\" is invalid; a status is three digits, 200 to 599 for a final answer",
		(int)(n > 20 ? 20 : n), code, n > 20 ? "..." : "");
	call->fault = APP_FAULT_INVALID;
}

/* Counts the bytes read for the current answer: evhttp does not say when headers were too long. */
static void app_conn_counted(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct app_conn *conn = arg;

	conn->received += info->n_added;
	if (info->n_added > 0 && conn->call != NULL && !conn->call->status_read)
		app_check_status_line(conn->call, buf);
}

static void app_conn_limit(const struct app_channel *ch, struct app_conn *conn)
{
	evhttp_connection_set_max_body_size(conn->evcon, ch->max_body);
	evhttp_connection_set_max_headers_size(conn->evcon, ch->max_headers);
}

static void app_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct app_conn *conn = arg;

	(void)evcon;
	conn->closed = true;
}

static bool app_conn_open(struct app_channel *ch, struct app_conn *conn)
{
	char key[320];

	conn->closed = false;
	if (ch->tls_id != NULL) {
		struct bufferevent *bev;

		snprintf(key, sizeof(key), "%s", ch->host_header);
		bev = mtls_client_bufferevent(ch->base, ch->tls_id, ch->tls_ns, key, 0);
		if (bev == NULL)
			return false;
		conn->evcon = evhttp_connection_base_bufferevent_new(ch->base, ch->dns, bev, ch->address,
								     (unsigned short)ch->port);
		if (conn->evcon == NULL) {
			bufferevent_free(bev);
			return false;
		}
		evhttp_connection_set_closecb(conn->evcon, app_conn_closed, conn);
	} else if (ch->tls != NULL) {
		struct bufferevent *bev = app_tls_bufferevent(ch->tls, ch->base, 0);

		conn->evcon = bev != NULL ? evhttp_connection_base_bufferevent_new(ch->base, ch->dns, bev,
										   ch->address,
										   (unsigned short)ch->port)
					  : NULL;
		if (conn->evcon == NULL && bev != NULL)
			bufferevent_free(bev);
	} else {
		conn->evcon =
			evhttp_connection_base_new(ch->base, ch->dns, ch->address, (unsigned short)ch->port);
	}
	if (conn->evcon == NULL)
		return false;
	conn->tuned_fd = -1;
	evhttp_connection_set_timeout(conn->evcon, ch->timeout_s);
	app_conn_limit(ch, conn);
	/* The bufferevent, and so its input buffer, lives as long as the connection object. */
	if (evbuffer_add_cb(bufferevent_get_input(evhttp_connection_get_bufferevent(conn->evcon)),
			    app_conn_counted, conn) == NULL) {
		evhttp_connection_free(conn->evcon);
		conn->evcon = NULL;
		return false;
	}
	return true;
}

static struct app_conn *app_idle_conn(struct app_channel *ch)
{
	for (size_t i = 0; i < ch->nconns; i++) {
		if (ch->conns[i].call != NULL)
			continue;
		/* libevent would reconnect a closed connection with its used SSL object: make a new one. */
		if (ch->conns[i].evcon != NULL && ch->conns[i].closed)
			app_conn_drop(&ch->conns[i]);
		if (ch->conns[i].evcon == NULL && !app_conn_open(ch, &ch->conns[i]))
			return NULL;
		return &ch->conns[i];
	}
	if (ch->nconns == ch->maxconns || !app_conn_open(ch, &ch->conns[ch->nconns]))
		return NULL;
	return &ch->conns[ch->nconns++];
}

void app_channel_set_limits(struct app_channel *ch, int64_t max_body, int64_t max_headers)
{
	ch->max_body = max_body;
	ch->max_headers = max_headers;
	for (size_t i = 0; i < ch->nconns; i++)
		if (ch->conns[i].evcon != NULL)
			app_conn_limit(ch, &ch->conns[i]);
}

void app_channel_set_tls(struct app_channel *ch, struct app_tls *tls)
{
	ch->tls = tls;
}

int app_channel_set_peer_tls(struct app_channel *ch, const char *peer_id, const char *peer_ns)
{
	char *id = strdup(peer_id), *ns = strdup(peer_ns != NULL ? peer_ns : "");

	if (id == NULL || ns == NULL) {
		free(id);
		free(ns);
		return -1;
	}
	free(ch->tls_id);
	free(ch->tls_ns);
	ch->tls_id = id;
	ch->tls_ns = ns;
	return 0;
}

int app_channel_set_token(struct app_channel *ch, const char *token)
{
	char *copy = NULL;

	if (token != NULL && *token != '\0' && (copy = strdup(token)) == NULL)
		return -1;
	free(ch->token);
	ch->token = copy;
	return 0;
}

static bool app_start(struct app_channel *ch, struct app_call *call, struct app_conn *conn)
{
	struct evhttp_request *req = evhttp_request_new(app_call_done, call);
	struct evkeyvalq *out;
	struct evkeyval *h;
	char length[32];

	if (req == NULL)
		return false;
	evhttp_request_set_error_cb(req, app_call_error);
	evhttp_request_set_header_cb(req, app_call_headers);
	out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Host", ch->host_header);
	TAILQ_FOREACH(h, &call->headers, next)
	{
		/* The app trusts this header as the sidecar's word: only the token itself may carry it. */
		if (ch->token != NULL && evutil_ascii_strcasecmp(h->key, "dapr-api-token") == 0)
			continue;
		evhttp_add_header(out, h->key, h->value);
	}
	if (ch->token != NULL)
		evhttp_add_header(out, "dapr-api-token", ch->token);
	if (call->content_type != NULL)
		evhttp_add_header(out, "Content-Type", call->content_type);
	if (call->method == EVHTTP_REQ_POST || call->method == EVHTTP_REQ_PUT || call->len > 0) {
		snprintf(length, sizeof(length), "%zu", call->len);
		evhttp_add_header(out, "Content-Length", length);
		evbuffer_add(evhttp_request_get_output_buffer(req), call->body, call->len);
	}
	call->conn = conn;
	conn->call = call;
	conn->received = 0;
	if (evhttp_make_request(conn->evcon, req, call->method, call->path) != 0) {
		/* evhttp freed req. */
		conn->call = NULL;
		return false;
	}
	app_conn_tune(conn);
	return true;
}

static void app_pump(struct app_channel *ch)
{
	struct app_conn *conn;

	while (ch->wait_head != NULL && (conn = app_idle_conn(ch)) != NULL) {
		struct app_call *call = ch->wait_head;
		struct app_response r = { .error = "outrigd could not start the call (out of memory?)" };

		ch->wait_head = call->next;
		if (ch->wait_head == NULL)
			ch->wait_tail = NULL;
		/* A caller that left while its call waited: the app is not made to do work nobody reads. */
		if (call->wanted != NULL && !call->wanted(call->wanted_arg)) {
			r.error = "the caller went away before the call was sent";
			ch->busy--;
			call->cb(call->arg, &r);
			app_call_free(call);
			continue;
		}
		if (!app_start(ch, call, conn)) {
			ch->busy--;
			call->cb(call->arg, &r);
			app_call_free(call);
		}
	}
}

int app_channel_send(struct app_channel *ch, enum evhttp_cmd_type method, const char *path,
		     const struct evkeyvalq *headers, const char *content_type, const void *body, size_t len,
		     app_response_cb cb, void *arg)
{
	return app_channel_send_wanted(ch, method, path, headers, content_type, body, len, cb, arg, NULL,
				       NULL, NULL);
}

int app_channel_send_wanted(struct app_channel *ch, enum evhttp_cmd_type method, const char *path,
			    const struct evkeyvalq *headers, const char *content_type, const void *body,
			    size_t len, app_response_cb cb, void *arg, bool (*wanted)(void *arg),
			    void *wanted_arg, void (*abandon)(void *arg))
{
	struct app_call *call = calloc(1, sizeof(*call));
	const struct evkeyval *h;

	if (call == NULL)
		return -1;
	TAILQ_INIT(&call->headers);
	call->ch = ch;
	call->method = method;
	call->path = strdup(path);
	call->content_type = content_type != NULL ? strdup(content_type) : NULL;
	call->body = malloc(len > 0 ? len : 1);
	call->len = len;
	call->cb = cb;
	call->arg = arg;
	call->started_ms = metrics_start_ms();
	call->wanted = wanted;
	call->wanted_arg = wanted_arg;
	call->abandon = abandon;
	if (call->path == NULL || call->body == NULL ||
	    (content_type != NULL && call->content_type == NULL)) {
		app_call_free(call);
		return -1;
	}
	if (len > 0)
		memcpy(call->body, body, len);
	if (headers != NULL)
		TAILQ_FOREACH(h, headers, next)
	evhttp_add_header(&call->headers, h->key, h->value);
	if (ch->wait_tail != NULL)
		ch->wait_tail->next = call;
	else
		ch->wait_head = call;
	ch->wait_tail = call;
	ch->busy++;
	app_pump(ch);
	return 0;
}

const char *app_channel_address(const struct app_channel *ch)
{
	return ch->host_header;
}

unsigned app_channel_busy(const struct app_channel *ch)
{
	return ch->busy;
}

void app_channel_free(struct app_channel *ch)
{
	if (ch == NULL)
		return;
	for (size_t i = 0; i < ch->nconns; i++) {
		struct app_call *call = ch->conns[i].call;

		/* Frees its pending request without calling back (libevent 2.1). */
		if (ch->conns[i].evcon != NULL)
			evhttp_connection_free(ch->conns[i].evcon);
		if (call != NULL) {
			if (call->abandon != NULL)
				call->abandon(call->arg);
			app_call_free(call);
		}
	}
	while (ch->wait_head != NULL) {
		struct app_call *next = ch->wait_head->next;

		if (ch->wait_head->abandon != NULL)
			ch->wait_head->abandon(ch->wait_head->arg);
		app_call_free(ch->wait_head);
		ch->wait_head = next;
	}
	if (ch->probe != NULL)
		bufferevent_free(ch->probe);
	if (ch->probe_timer != NULL)
		event_free(ch->probe_timer);
	if (ch->dns != NULL)
		evdns_base_free(ch->dns, 0);
	free(ch->waiters);
	free(ch->token);
	free(ch->tls_id);
	free(ch->tls_ns);
	free(ch->conns);
	free(ch->address);
	free(ch);
}
