/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guard in front of evhttp. evhttp 2.1 parses HTTP leniently: it takes the first of two
 * different Content-Lengths, "+5" as 5, a header named "Transfer-Encoding " as some other header,
 * chunk data without its CRLF, a NUL inside a header value as the value's end, and it never
 * limits how long a head may take. Where two parsers disagree about where a request ends,
 * requests can be smuggled, so the guard parses every head and body framing itself, strictly,
 * and hands evhttp only what both read the same way:
 * - a head (request line and headers) that passed every check, unchanged;
 * - a Content-Length body as it streams in;
 * - a chunked body decoded here (extensions, trailers dropped) and handed on whole with a
 *   Content-Length, so evhttp never parses chunks at all.
 * A refused request is replaced by a stand-in request ("GET /.outrig-guard/N") that the
 * listener's handler answers with Dapr's JSON error: evhttp serves requests one at a time, so
 * the answer comes after the answers to earlier pipelined requests, and the stand-in carries
 * Connection: close. Nothing after a refusal is read.
 */
#include "config.h"

#include "api/http/http_guard.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "api/http/http_errors.h"
#include "security/mtls.h"

#define GUARD_PREFIX "/.outrig-guard/"
#define GUARD_CHUNK_LINE_MAX 4096

enum guard_reason {
	GUARD_NUL,
	GUARD_REQUEST_LINE,
	GUARD_RESERVED,
	GUARD_FOLDED,
	GUARD_HEADER_NAME,
	GUARD_HEADER_VALUE,
	GUARD_CL_SYNTAX,
	GUARD_CL_CONFLICT,
	GUARD_TE_UNSUPPORTED,
	GUARD_TE_AND_CL,
	GUARD_BODYLESS,
	GUARD_CHUNK_SIZE,
	GUARD_CHUNK_OVERFLOW,
	GUARD_CHUNK_CRLF,
	GUARD_TRAILER,
	GUARD_HEAD_TOO_LARGE,
	GUARD_BODY_TOO_LARGE,
	GUARD_HEAD_TIMEOUT,
	GUARD_REASONS,
};

static const struct {
	int status;
	const char *text;
} guard_reasons[GUARD_REASONS] = {
	[GUARD_NUL] = { 400, "the request line or a header contains a NUL byte" },
	[GUARD_REQUEST_LINE] = { 400,
				 "the request line is not \"METHOD target HTTP/x.y\" with single spaces" },
	[GUARD_RESERVED] = { 400, "paths under " GUARD_PREFIX " are reserved by outrig" },
	[GUARD_FOLDED] = { 400, "a header line starts with whitespace (obsolete line folding)" },
	[GUARD_HEADER_NAME] = { 400, "a header name is empty or has a character other than a token's "
				     "(a space before the colon?)" },
	[GUARD_HEADER_VALUE] = { 400, "a header value contains a control character" },
	[GUARD_CL_SYNTAX] = { 400, "Content-Length is not a plain decimal number" },
	[GUARD_CL_CONFLICT] = { 400, "the request has two different Content-Lengths" },
	[GUARD_TE_UNSUPPORTED] = { 400, "the only Transfer-Encoding outrig accepts is one \"chunked\"" },
	[GUARD_TE_AND_CL] = { 400, "the request has both Transfer-Encoding and Content-Length" },
	[GUARD_BODYLESS] = { 400, "this method takes no body, but the request announces one" },
	[GUARD_CHUNK_SIZE] = { 400, "a chunk size line is not hexadecimal digits with optional extensions" },
	[GUARD_CHUNK_OVERFLOW] = { 400, "a chunk size is too large for a 63-bit number" },
	[GUARD_CHUNK_CRLF] = { 400, "chunk data is not followed by CRLF" },
	[GUARD_TRAILER] = { 400, "a trailer line of the chunked body is malformed" },
	[GUARD_HEAD_TOO_LARGE] = { 431, "the request line and headers exceed %zu bytes" },
	[GUARD_BODY_TOO_LARGE] = { 413, "the request body exceeds %" PRId64
					" bytes; raise the limit with --max-body-size (or "
					"--dapr-http-max-request-size)" },
	[GUARD_HEAD_TIMEOUT] = { 408, "the request line and headers did not arrive within %d ms" },
};

enum guard_state {
	GUARD_HEAD,	  /* awaiting a request head */
	GUARD_BODY,	  /* passing `left` bytes of a Content-Length body */
	GUARD_CHUNK,	  /* awaiting a chunk size line */
	GUARD_CHUNK_DATA, /* reading `left` bytes of chunk data */
	GUARD_CHUNK_END,  /* awaiting the CRLF after chunk data */
	GUARD_TRAILERS,	  /* awaiting trailer lines and the empty line */
	GUARD_DEAD,	  /* refused: everything else is dropped */
};

struct guard_conn {
	struct http_guard *g;
	struct bufferevent *bev; /* the filter evhttp reads from */
	struct event *timer;	 /* the head's deadline */
	struct event *writer;	 /* writes evhttp's output to the socket */
	struct evbuffer *head;	 /* a chunked request's head, rewritten */
	struct evbuffer *body;	 /* and its decoded body */
	enum guard_state state;
	uint64_t left;
	size_t trailers; /* trailer bytes so far */
	bool begun;	 /* the connection's first bytes were looked at (for HTTP/2's preface) */
	/* An HTTP/2 connection (g->h2_accept): the guard's end of the pair, and its writer to the socket. */
	struct bufferevent *h2;
	struct event *h2_writer;
	bool h2_closing; /* the HTTP/2 side hung up: the connection closes once its last bytes are written */
	/* TLS (g->tls): output goes through the TLS bufferevent under the filter instead of the socket. */
	struct bufferevent *tls;
	bool tls_waiting; /* evhttp's answer is in tls's output: evhttp is told once that is written */
};

/* Output waiting in the TLS bufferevent, at most, before the HTTP/2 side's output waits in its own buffer. */
#define GUARD_TLS_OUT_HIGH (256 * 1024)

/* The result of one step: bytes were consumed, or nothing can be done until more arrive. */
enum guard_step { GUARD_PROGRESS, GUARD_WAIT };

/* RFC 9110 tchar. */
static bool guard_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void guard_disarm(struct guard_conn *c)
{
	event_del(c->timer);
}

static void guard_arm(struct guard_conn *c)
{
	struct timeval tv = { c->g->header_timeout_ms / 1000, (c->g->header_timeout_ms % 1000) * 1000 };

	/* 0 (or less) is no limit, as Go's ReadHeaderTimeout: not a deadline that has passed. */
	if (c->g->header_timeout_ms <= 0)
		return;
	if (!event_pending(c->timer, EV_TIMEOUT, NULL))
		event_add(c->timer, &tv);
}

/* Replaces everything not yet handed on with the stand-in for reason r. */
static enum guard_step guard_refuse(struct guard_conn *c, struct evbuffer *src, struct evbuffer *dst,
				    enum guard_reason r)
{
	evbuffer_drain(src, evbuffer_get_length(src));
	evbuffer_add_printf(dst, "GET " GUARD_PREFIX "%d HTTP/1.1\r\nConnection: close\r\n\r\n", (int)r);
	c->state = GUARD_DEAD;
	guard_disarm(c);
	return GUARD_PROGRESS;
}

/* Length of the head at p (through its empty line), 0 when it is not complete in n bytes. */
static size_t guard_head_length(const char *p, size_t n)
{
	size_t pos = 0;

	for (;;) {
		const char *nl = memchr(p + pos, '\n', n - pos);
		size_t line;

		if (nl == NULL)
			return 0;
		line = (size_t)(nl - (p + pos));
		if (line > 0 && p[pos + line - 1] == '\r')
			line--;
		if (line == 0 && pos > 0)
			return (size_t)(nl - p) + 1;
		pos = (size_t)(nl - p) + 1;
	}
}

/* Line [p, p+len) without its line end. */
static size_t guard_line_end(const char *p, size_t avail, size_t *next)
{
	const char *nl = memchr(p, '\n', avail);
	size_t len = (size_t)(nl - p);

	*next = len + 1;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return len;
}

/* The methods evhttp reads a body for; others it takes as bodiless, whatever the headers say. */
static bool guard_method_has_body(const char *m, size_t len)
{
	static const char *const with_body[] = {
		"POST", "PUT", "PATCH", "GET", "DELETE", "OPTIONS", "CONNECT"
	};

	for (size_t i = 0; i < sizeof(with_body) / sizeof(with_body[0]); i++)
		if (strlen(with_body[i]) == len && memcmp(m, with_body[i], len) == 0)
			return true;
	return false;
}

/* "METHOD SP target SP HTTP/d.d": sets the method's length. */
static bool guard_request_line(const char *p, size_t len, size_t *method_len, enum guard_reason *why)
{
	size_t i = 0, t;

	while (i < len && guard_tchar((unsigned char)p[i]))
		i++;
	*method_len = i;
	if (i == 0 || i >= len || p[i] != ' ')
		return false;
	t = ++i;
	while (i < len && (unsigned char)p[i] > ' ' && p[i] != 0x7f)
		i++;
	if (i == t || i >= len || p[i] != ' ')
		return false;
	if (i - t >= strlen(GUARD_PREFIX) && memcmp(p + t, GUARD_PREFIX, strlen(GUARD_PREFIX)) == 0) {
		*why = GUARD_RESERVED;
		return false;
	}
	i++;
	return len - i == 8 && memcmp(p + i, "HTTP/", 5) == 0 && p[i + 5] >= '0' && p[i + 5] <= '9' &&
	       p[i + 6] == '.' && p[i + 7] >= '0' && p[i + 7] <= '9';
}

/* A "name: value" line: its name and value (value without surrounding SP/HT). */
static bool guard_field(const char *p, size_t len, size_t *name_len, const char **value, size_t *value_len,
			enum guard_reason *why)
{
	const char *colon = memchr(p, ':', len);
	const char *v, *end = p + len;

	if (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
		*why = GUARD_FOLDED;
		return false;
	}
	*why = GUARD_HEADER_NAME;
	if (colon == NULL || colon == p)
		return false;
	for (const char *q = p; q < colon; q++)
		if (!guard_tchar((unsigned char)*q))
			return false;
	*why = GUARD_HEADER_VALUE;
	for (const char *q = colon + 1; q < end; q++)
		if (((unsigned char)*q < ' ' && *q != '\t') || *q == 0x7f)
			return false;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*name_len = (size_t)(colon - p);
	*value = v;
	*value_len = (size_t)(end - v);
	return true;
}

static bool guard_name_is(const char *p, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(p, name, len) == 0;
}

struct guard_head_info {
	bool has_cl, chunked, expect_continue;
	uint64_t cl;
	size_t method_len;
};

/* Checks every line of the head [p, p+n); fills info, or says why it is refused. */
static bool guard_check_head(const char *p, size_t n, struct guard_head_info *info, enum guard_reason *why)
{
	size_t next, len, pos, name_len, value_len;
	const char *value;

	memset(info, 0, sizeof(*info));
	if (memchr(p, '\0', n) != NULL) {
		*why = GUARD_NUL;
		return false;
	}
	*why = GUARD_REQUEST_LINE;
	len = guard_line_end(p, n, &next);
	if (!guard_request_line(p, len, &info->method_len, why))
		return false;
	for (pos = next; (len = guard_line_end(p + pos, n - pos, &next)) > 0; pos += next) {
		if (!guard_field(p + pos, len, &name_len, &value, &value_len, why))
			return false;
		if (guard_name_is(p + pos, name_len, "Content-Length")) {
			uint64_t v = 0;

			*why = GUARD_CL_SYNTAX;
			if (value_len == 0 || memchr(value, '\t', value_len) != NULL)
				return false;
			for (size_t i = 0; i < value_len; i++) {
				if (value[i] < '0' || value[i] > '9')
					return false;
				/* Beyond 2^60 is beyond any body limit: keep it there rather than wrap. */
				v = v > (UINT64_C(1) << 60) ? v : v * 10 + (uint64_t)(value[i] - '0');
			}
			*why = GUARD_CL_CONFLICT;
			if (info->has_cl && info->cl != v)
				return false;
			info->has_cl = true;
			info->cl = v;
		} else if (guard_name_is(p + pos, name_len, "Transfer-Encoding")) {
			*why = GUARD_TE_UNSUPPORTED;
			/* evhttp trims no tab: "\tchunked" would not be chunked to it. */
			if (info->chunked || !guard_name_is(value, value_len, "chunked") ||
			    memchr(p + pos, '\t', len) != NULL)
				return false;
			info->chunked = true;
		} else if (guard_name_is(p + pos, name_len, "Expect") &&
			   guard_name_is(value, value_len, "100-continue")) {
			info->expect_continue = true;
		}
	}
	*why = GUARD_TE_AND_CL;
	if (info->chunked && info->has_cl)
		return false;
	*why = GUARD_BODYLESS;
	if ((info->chunked || info->cl > 0) && !guard_method_has_body(p, info->method_len))
		return false;
	return true;
}

/*
 * A chunked request: keeps its head without Transfer-Encoding (and without Expect, answered
 * here: evhttp will not see the head before the whole body is in).
 */
static void guard_keep_chunked_head(struct guard_conn *c, const char *p, size_t n, bool expect)
{
	size_t next, len, pos, name_len, value_len;
	const char *value;
	enum guard_reason why;

	len = guard_line_end(p, n, &next);
	evbuffer_add(c->head, p, next);
	for (pos = next; (len = guard_line_end(p + pos, n - pos, &next)) > 0; pos += next) {
		guard_field(p + pos, len, &name_len, &value, &value_len, &why);
		if (guard_name_is(p + pos, name_len, "Transfer-Encoding") ||
		    (expect && guard_name_is(p + pos, name_len, "Expect")))
			continue;
		evbuffer_add(c->head, p + pos, next);
	}
	/*
	 * 25 bytes into an idle socket's buffer: send() takes them or the client is gone. Only
	 * while no earlier answer is being written, or they would land inside it; a client that
	 * gets no 100 sends its body after its own short wait.
	 */
	if (expect && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		if (c->tls != NULL)
			bufferevent_write(c->tls, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		else
			send(bufferevent_getfd(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25,
			     MSG_NOSIGNAL | MSG_DONTWAIT);
	}
}

static enum guard_step guard_step_head(struct guard_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	size_t have = evbuffer_get_length(src);
	size_t n = have < c->g->max_head ? have : c->g->max_head;
	const char *p = (const char *)evbuffer_pullup(src, (ev_ssize_t)n);
	struct guard_head_info info;
	enum guard_reason why;
	size_t skip = 0, head;

	/* RFC 9112 §2.2: empty lines before a request line are ignored, but they are timed too. */
	while (skip < n && (p[skip] == '\r' || p[skip] == '\n'))
		skip++;
	if (skip > 0) {
		guard_arm(c);
		evbuffer_drain(src, skip);
		return GUARD_PROGRESS;
	}
	head = guard_head_length(p, n);
	if (head == 0) {
		if (have >= c->g->max_head)
			return guard_refuse(c, src, dst, GUARD_HEAD_TOO_LARGE);
		guard_arm(c);
		return GUARD_WAIT;
	}
	guard_disarm(c);
	if (!guard_check_head(p, head, &info, &why))
		return guard_refuse(c, src, dst, why);
	if (info.has_cl && info.cl > (uint64_t)c->g->max_body)
		return guard_refuse(c, src, dst, GUARD_BODY_TOO_LARGE);
	if (info.chunked) {
		guard_keep_chunked_head(c, p, head, info.expect_continue);
		evbuffer_drain(src, head);
		c->state = GUARD_CHUNK;
		c->trailers = 0;
		return GUARD_PROGRESS;
	}
	evbuffer_remove_buffer(src, dst, head);
	c->left = info.cl;
	c->state = info.cl > 0 ? GUARD_BODY : GUARD_HEAD;
	return GUARD_PROGRESS;
}

/* A complete line at the front of src, at most max bytes; NULL when it has not all arrived. */
static const char *guard_peek_line(struct evbuffer *src, size_t max, size_t *len, size_t *next,
				   bool *too_long)
{
	size_t have = evbuffer_get_length(src), n = have < max ? have : max;
	const char *p = (const char *)evbuffer_pullup(src, (ev_ssize_t)n);

	*too_long = false;
	if (memchr(p, '\n', n) == NULL) {
		*too_long = have >= max;
		return NULL;
	}
	*len = guard_line_end(p, n, next);
	return p;
}

/* "hex[ ;ext...]": the size, or a refusal. */
static enum guard_step guard_step_chunk_size(struct guard_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	size_t len, next, i = 0;
	bool too_long;
	const char *p = guard_peek_line(src, GUARD_CHUNK_LINE_MAX, &len, &next, &too_long);
	uint64_t size = 0;

	if (p == NULL)
		return too_long ? guard_refuse(c, src, dst, GUARD_CHUNK_SIZE) : GUARD_WAIT;
	for (; i < len && strchr("0123456789abcdefABCDEF", p[i]) != NULL && p[i] != '\0'; i++) {
		unsigned d = (unsigned)(p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);

		if (size > (UINT64_C(0x7fffffffffffffff) - d) / 16)
			return guard_refuse(c, src, dst, GUARD_CHUNK_OVERFLOW);
		size = size * 16 + d;
	}
	if (i == 0)
		return guard_refuse(c, src, dst, GUARD_CHUNK_SIZE);
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < len && p[i] != ';')
		return guard_refuse(c, src, dst, GUARD_CHUNK_SIZE);
	/* Extensions (RFC 9112 §7.1.1) mean nothing to outrig: any visible text is dropped. */
	for (; i < len; i++)
		if (((unsigned char)p[i] < ' ' && p[i] != '\t') || p[i] == 0x7f)
			return guard_refuse(c, src, dst, GUARD_CHUNK_SIZE);
	if (size > (uint64_t)c->g->max_body - evbuffer_get_length(c->body))
		return guard_refuse(c, src, dst, GUARD_BODY_TOO_LARGE);
	evbuffer_drain(src, next);
	c->left = size;
	c->state = size > 0 ? GUARD_CHUNK_DATA : GUARD_TRAILERS;
	return GUARD_PROGRESS;
}

static enum guard_step guard_step_chunk_end(struct guard_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	size_t have = evbuffer_get_length(src);
	const char *p = (const char *)evbuffer_pullup(src, have < 2 ? (ev_ssize_t)have : 2);

	if (p[0] != '\r' || (have >= 2 && p[1] != '\n'))
		return guard_refuse(c, src, dst, GUARD_CHUNK_CRLF);
	if (have < 2)
		return GUARD_WAIT;
	evbuffer_drain(src, 2);
	c->state = GUARD_CHUNK;
	return GUARD_PROGRESS;
}

/* Trailer fields are checked, then dropped; the empty line hands the whole request on. */
static enum guard_step guard_step_trailers(struct guard_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	size_t len, next, name_len, value_len;
	size_t room = c->g->max_head > c->trailers ? c->g->max_head - c->trailers : 0;
	bool too_long;
	const char *value, *p = guard_peek_line(src, room, &len, &next, &too_long);
	enum guard_reason why;

	if (p == NULL)
		return too_long ? guard_refuse(c, src, dst, GUARD_HEAD_TOO_LARGE) : GUARD_WAIT;
	if (len > 0) {
		if (memchr(p, '\0', len) != NULL || !guard_field(p, len, &name_len, &value, &value_len, &why))
			return guard_refuse(c, src, dst, GUARD_TRAILER);
		c->trailers += next;
		evbuffer_drain(src, next);
		return GUARD_PROGRESS;
	}
	evbuffer_drain(src, next);
	evbuffer_add_printf(c->head, "Content-Length: %zu\r\n\r\n", evbuffer_get_length(c->body));
	evbuffer_add_buffer(dst, c->head);
	evbuffer_add_buffer(dst, c->body);
	c->state = GUARD_HEAD;
	return GUARD_PROGRESS;
}

static enum guard_step guard_step(struct guard_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	size_t have = evbuffer_get_length(src), n;

	switch (c->state) {
	case GUARD_HEAD: return guard_step_head(c, src, dst);
	case GUARD_BODY:
	case GUARD_CHUNK_DATA:
		n = (uint64_t)have < c->left ? have : (size_t)c->left;
		evbuffer_remove_buffer(src, c->state == GUARD_BODY ? dst : c->body, n);
		c->left -= n;
		if (c->left == 0)
			c->state = c->state == GUARD_BODY ? GUARD_HEAD : GUARD_CHUNK_END;
		return GUARD_PROGRESS;
	case GUARD_CHUNK: return guard_step_chunk_size(c, src, dst);
	case GUARD_CHUNK_END: return guard_step_chunk_end(c, src, dst);
	case GUARD_TRAILERS: return guard_step_trailers(c, src, dst);
	case GUARD_DEAD:
	default: evbuffer_drain(src, have); return GUARD_PROGRESS;
	}
}

/* ---- HTTP/2 on the same port (g->h2_accept) ---- */

#define GUARD_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define GUARD_H2_PREFACE_LEN 24
/* The HTTP/2 side's output waiting for the socket, at most: past it, its sender waits. */
#define GUARD_H2_OUT_HIGH (1024 * 1024)

/* How long the last bytes of a closing HTTP/2 connection may wait for a client that reads nothing. */
#define GUARD_H2_LINGER_S 5

/*
 * Writes the HTTP/2 side's output to the socket, as far as the kernel takes it now. Once that side
 * hung up and all is written (or the linger passed), evhttp closes the connection (and frees c).
 */
static void guard_h2_write(evutil_socket_t fd, short what, void *arg)
{
	struct guard_conn *c = arg;
	struct evbuffer *out = bufferevent_get_input(c->h2);
	struct timeval linger = { GUARD_H2_LINGER_S, 0 };

	if (c->tls != NULL) {
		/* Through TLS, as far as its buffer allows; guard_tls_drained calls again as it empties. */
		struct evbuffer *tout = bufferevent_get_output(c->tls);

		if (evbuffer_get_length(tout) < GUARD_TLS_OUT_HIGH)
			evbuffer_remove_buffer(out, tout, GUARD_TLS_OUT_HIGH - evbuffer_get_length(tout));
		if (evbuffer_get_length(out) == 0 && evbuffer_get_length(tout) == 0 && c->h2_closing)
			bufferevent_trigger_event(c->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
		return;
	}
	if ((what & EV_TIMEOUT) != 0 ||
	    (evbuffer_write(out, fd) < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		evbuffer_drain(out, evbuffer_get_length(out)); /* gone, or not reading: the rest is dropped */
	if (evbuffer_get_length(out) > 0)
		event_add(c->h2_writer, c->h2_closing ? &linger : NULL);
	else if (c->h2_closing)
		bufferevent_trigger_event(c->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
}

static void guard_h2_read(struct bufferevent *bev, void *arg)
{
	struct guard_conn *c = arg;

	(void)bev;
	if (!event_pending(c->h2_writer, EV_WRITE, NULL))
		guard_h2_write(bufferevent_getfd(bufferevent_get_underlying(c->bev)), EV_WRITE, c);
}

/* The HTTP/2 side hung up: what it said last is written first (guard_h2_write closes after). */
static void guard_h2_event(struct bufferevent *bev, short what, void *arg)
{
	struct guard_conn *c = arg;

	(void)bev;
	(void)what;
	c->h2_closing = true;
	if (!event_pending(c->h2_writer, EV_WRITE, NULL))
		guard_h2_write(bufferevent_getfd(bufferevent_get_underlying(c->bev)), EV_WRITE, c);
}

/*
 * The connection opened with HTTP/2's preface: evhttp never sees a byte of it (it waits for a
 * request head that never comes, with its timeouts off); the bytes go through a bufferevent pair
 * to g->h2_accept's side, and its answers straight to the socket.
 */
static enum bufferevent_filter_result guard_h2_open(struct guard_conn *c, struct evbuffer *src)
{
	struct bufferevent *pair[2];
	evutil_socket_t fd = bufferevent_getfd(bufferevent_get_underlying(c->bev));

	guard_disarm(c);
	if (bufferevent_pair_new(bufferevent_get_base(c->bev), BEV_OPT_DEFER_CALLBACKS, pair) != 0) {
		evbuffer_drain(src, evbuffer_get_length(src));
		c->state = GUARD_DEAD;
		bufferevent_trigger_event(c->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, 0);
		return BEV_NEED_MORE;
	}
	c->h2 = pair[0];
	c->h2_writer = event_new(bufferevent_get_base(c->bev), fd, EV_WRITE, guard_h2_write, c);
	bufferevent_setcb(c->h2, guard_h2_read, NULL, guard_h2_event, c);
	bufferevent_setwatermark(c->h2, EV_READ, 0, GUARD_H2_OUT_HIGH);
	bufferevent_enable(c->h2, EV_READ | EV_WRITE);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	if (c->h2_writer == NULL || c->g->h2_accept(c->g->h2_arg, pair[1]) != 0) {
		evbuffer_drain(src, evbuffer_get_length(src));
		c->state = GUARD_DEAD;
		bufferevent_trigger_event(c->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, 0);
		return BEV_NEED_MORE;
	}
	bufferevent_write_buffer(c->h2, src);
	return BEV_NEED_MORE;
}

/* GUARD_PROGRESS: src starts with the preface; GUARD_WAIT: it may, once more arrives; else not HTTP/2. */
static int guard_h2_preface(struct evbuffer *src)
{
	size_t n = evbuffer_get_length(src);
	const unsigned char *p;

	if (n > GUARD_H2_PREFACE_LEN)
		n = GUARD_H2_PREFACE_LEN;
	p = evbuffer_pullup(src, (ev_ssize_t)n);
	if (p == NULL || memcmp(p, GUARD_H2_PREFACE, n) != 0)
		return -1;
	return n == GUARD_H2_PREFACE_LEN ? GUARD_PROGRESS : GUARD_WAIT;
}

/*
 * The filter: one step per call. BEV_OK tells libevent something was consumed (it calls again
 * while bytes remain); BEV_NEED_MORE that nothing can be done until more arrive.
 */
static enum bufferevent_filter_result guard_filter_in(struct evbuffer *src, struct evbuffer *dst,
						      ev_ssize_t limit, enum bufferevent_flush_mode mode,
						      void *arg)
{
	struct guard_conn *c = arg;

	(void)limit;
	(void)mode;
	if (evbuffer_get_length(src) == 0)
		return BEV_NEED_MORE;
	if (c->h2 != NULL) {
		bufferevent_write_buffer(c->h2, src);
		return BEV_NEED_MORE;
	}
	if (!c->begun && c->g->h2_accept != NULL) {
		int preface = guard_h2_preface(src);

		if (preface == GUARD_WAIT)
			return BEV_NEED_MORE;
		if (preface == GUARD_PROGRESS)
			return guard_h2_open(c, src);
	}
	c->begun = true;
	return guard_step(c, src, dst) == GUARD_PROGRESS ? BEV_OK : BEV_NEED_MORE;
}

/*
 * Output. evhttp closes a connection once its bufferevent's output is empty; through a filter,
 * that is when the bytes reach the underlying bufferevent, not the socket, and the end of a
 * "Connection: close" answer would be lost. So evhttp's output goes straight to the socket,
 * one write per loop turn (evhttp adds a response line by line), and evhttp is told it is
 * written only when the kernel has it all.
 */
static void guard_write(evutil_socket_t fd, short what, void *arg)
{
	struct guard_conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	(void)what;
	if (c->tls != NULL) {
		/* Into TLS's output; evhttp is told it is written once TLS has written it all (guard_tls_drained). */
		evbuffer_add_buffer(bufferevent_get_output(c->tls), out);
		if (evbuffer_get_length(bufferevent_get_output(c->tls)) > 0) {
			c->tls_waiting = true;
			bufferevent_enable(c->bev, EV_WRITE);
			return;
		}
		bufferevent_trigger(c->bev, EV_WRITE, 0);
		return;
	}
	if (evbuffer_write(out, fd) < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		evbuffer_drain(out, evbuffer_get_length(out)); /* gone: the read side will see it */
	if (evbuffer_get_length(out) > 0) {
		/*
		 * Output bypasses the filter, so its write timeout would count from the answer's
		 * start; enabling again restarts it, so only a client that reads nothing is cut off.
		 */
		bufferevent_enable(c->bev, EV_WRITE);
		event_add(c->writer, NULL);
		return;
	}
	/* evhttp's write callback; it may free the connection, and c with it. */
	bufferevent_trigger(c->bev, EV_WRITE, 0);
}

/* Nothing moves to the underlying bufferevent: evhttp's output stays pending until written. */
static enum bufferevent_filter_result guard_filter_out(struct evbuffer *src, struct evbuffer *dst,
						       ev_ssize_t limit, enum bufferevent_flush_mode mode,
						       void *arg)
{
	(void)src;
	(void)dst;
	(void)limit;
	(void)mode;
	(void)arg;
	return BEV_NEED_MORE;
}

/*
 * evhttp adds a response to its output before it enables writing, so the filter's own output
 * hook may never run for it; this callback on the buffer runs for every addition.
 */
static void guard_output_added(struct evbuffer *out_, const struct evbuffer_cb_info *info, void *arg)
{
	struct guard_conn *c = arg;
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	(void)out_;
	if (info->n_added == 0 || fd < 0)
		return;
	if (c->writer == NULL)
		c->writer = event_new(bufferevent_get_base(c->bev), fd, EV_WRITE, guard_write, c);
	/* Out of memory for the event: evhttp's write timeout closes the connection. */
	if (c->writer != NULL && !event_pending(c->writer, EV_WRITE, NULL))
		event_active(c->writer, EV_WRITE, 0);
}

/* TLS wrote some of its output: what waited on that goes on. */
static void guard_tls_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct guard_conn *c = arg;

	if (info->n_deleted == 0)
		return;
	if (c->h2 != NULL) {
		if (evbuffer_get_length(buf) < GUARD_TLS_OUT_HIGH / 2 || evbuffer_get_length(buf) == 0)
			event_active(c->h2_writer, EV_WRITE, 0);
		return;
	}
	if (c->tls_waiting && evbuffer_get_length(buf) == 0 && c->writer != NULL) {
		c->tls_waiting = false;
		event_active(c->writer, EV_WRITE, 0);
	}
}

/* The head's deadline passed: a partial head gets a 408 in place of its request; the connection closes. */
static void guard_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct guard_conn *c = arg;
	struct bufferevent *under = bufferevent_get_underlying(c->bev);

	(void)fd;
	(void)what;
	if (c->state != GUARD_HEAD)
		return;
	/* evhttp is busy with an earlier request: the next head is not awaited yet. */
	if (!(bufferevent_get_enabled(c->bev) & EV_READ)) {
		guard_arm(c);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_input(under)) == 0) {
		/*
		 * Nothing of a request came (an idle connection, or blank lines only): close as Go's
		 * server does, without an answer a client reusing the connection could mistake for
		 * its next request's. evhttp frees the connection, and c with it.
		 */
		bufferevent_trigger_event(c->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
		return;
	}
	guard_refuse(c, bufferevent_get_input(under), bufferevent_get_input(c->bev), GUARD_HEAD_TIMEOUT);
	/* Read is enabled, so evhttp is reading a request: it takes the stand-in now. */
	bufferevent_trigger(c->bev, EV_READ, 0);
}

static void guard_conn_free(void *arg)
{
	struct guard_conn *c = arg;

	if (c->tls != NULL)
		evbuffer_remove_cb(bufferevent_get_output(c->tls), guard_tls_drained, c);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->writer != NULL)
		event_free(c->writer);
	if (c->h2_writer != NULL)
		event_free(c->h2_writer);
	/*
	 * The HTTP/2 side learns the connection is gone (EOF on its end, a deferred callback), then
	 * this end is freed. Once the loop has stopped nothing would run that callback, and the
	 * reference it holds would leak both ends: the servers are freed in order then instead.
	 */
	if (c->h2 != NULL) {
		if (!event_base_got_exit(bufferevent_get_base(c->h2)) && !event_base_got_break(bufferevent_get_base(c->h2)))
			bufferevent_flush(c->h2, EV_WRITE, BEV_FINISHED);
		bufferevent_free(c->h2);
	}
	if (c->head != NULL)
		evbuffer_free(c->head);
	if (c->body != NULL)
		evbuffer_free(c->body);
	free(c);
}

/* evhttp's bevcb: a socket bufferevent (evhttp gives it the fd) under the guard's filter. */
static struct bufferevent *guard_new_connection(struct event_base *base, void *arg)
{
	struct guard_conn *c = calloc(1, sizeof(*c));
	struct bufferevent *under = NULL;

	if (c == NULL)
		return NULL;
	c->g = arg;
	c->timer = evtimer_new(base, guard_timeout, c);
	c->head = evbuffer_new();
	c->body = evbuffer_new();
	if (c->timer != NULL && c->head != NULL && c->body != NULL)
		under = c->g->tls ? mtls_server_bufferevent(base, BEV_OPT_CLOSE_ON_FREE)
				  : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (under != NULL && c->g->tls) {
		c->tls = under;
		if (evbuffer_add_cb(bufferevent_get_output(under), guard_tls_drained, c) == NULL) {
			bufferevent_free(under);
			under = NULL;
		}
	}
	if (under != NULL)
		c->bev = bufferevent_filter_new(under, guard_filter_in, guard_filter_out,
						BEV_OPT_CLOSE_ON_FREE, guard_conn_free, c);
	if (c->bev == NULL) {
		if (under != NULL)
			bufferevent_free(under);
		guard_conn_free(c);
		return NULL;
	}
	/*
	 * While evhttp writes an answer it keeps reading, with no callback: without a high
	 * watermark a client that pipelines requests and reads no answers would have them all
	 * buffered. One whole request (head and body) still fits.
	 */
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->g->read_high_water);
	bufferevent_setwatermark(under, EV_READ, 0, c->g->read_high_water);
	if (evbuffer_add_cb(bufferevent_get_output(c->bev), guard_output_added, c) == NULL) {
		bufferevent_free(c->bev); /* frees c too */
		return NULL;
	}
	/* daprd's ReadHeaderTimeout counts from the connection's start for the first request. */
	guard_arm(c);
	return c->bev;
}

int http_guard_attach(struct http_guard *g, struct evhttp *http)
{
	if (g->max_head == 0)
		g->max_head = 64 * 1024;
	/* A limit too large to add to is no limit for the watermark (and for evhttp, -1 is none). */
	g->read_high_water = g->max_body >= 0 && (uint64_t)g->max_body < SIZE_MAX / 4
				     ? (size_t)g->max_body + 2 * g->max_head + 4096
				     : 0;
	/* Headroom over the guard's limit: the guard refuses first, with Dapr's JSON. */
	evhttp_set_max_body_size(http, g->max_body >= 0 && g->max_body < INT64_MAX - 1024
					       ? (ev_ssize_t)(g->max_body + 1024)
					       : -1);
	evhttp_set_max_headers_size(http, (ev_ssize_t)(g->max_head + 1024));
	evhttp_set_bevcb(http, guard_new_connection, g);
	return 0;
}

struct bufferevent *http_guard_transport(struct bufferevent *bev)
{
	struct bufferevent *partner = bufferevent_pair_get_partner(bev);
	bufferevent_data_cb readcb = NULL;
	void *arg = NULL;

	if (partner == NULL)
		return bufferevent_get_underlying(bev);
	bufferevent_getcb(partner, &readcb, NULL, NULL, &arg);
	return readcb == guard_h2_read ? bufferevent_get_underlying(((struct guard_conn *)arg)->bev) : NULL;
}

bool http_guard_answer(const struct http_guard *g, struct evhttp_request *req)
{
	const char *uri = evhttp_request_get_uri(req);
	enum api_error e;
	int r;

	if (uri == NULL || strncmp(uri, GUARD_PREFIX, strlen(GUARD_PREFIX)) != 0)
		return false;
	r = atoi(uri + strlen(GUARD_PREFIX));
	if (r < 0 || r >= GUARD_REASONS)
		r = GUARD_REQUEST_LINE;
	e = r == GUARD_BODY_TOO_LARGE ? API_ERR_BODY_TOO_LARGE : API_ERR_MALFORMED_REQUEST;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (r == GUARD_BODY_TOO_LARGE)
		api_error_reply(req, e, guard_reasons[r].status, NULL, guard_reasons[r].text, g->max_body);
	else if (r == GUARD_HEAD_TOO_LARGE)
		api_error_reply(req, e, guard_reasons[r].status, NULL, guard_reasons[r].text, g->max_head);
	else if (r == GUARD_HEAD_TIMEOUT)
		api_error_reply(req, e, guard_reasons[r].status, NULL, guard_reasons[r].text,
				g->header_timeout_ms);
	else
		api_error_reply(req, e, guard_reasons[r].status, NULL, "%s", guard_reasons[r].text);
#pragma GCC diagnostic pop
	return true;
}
