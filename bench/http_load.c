/* SPDX-License-Identifier: Apache-2.0 */
/* Keep-alive HTTP/1.1 connections for the bench load generators, and the parser of their replies. */
#include "http_load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_POST_FORMAT                                                                                     \
	"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"                          \
	"Content-Length: %zu\r\n\r\n%s"

/* Where the reply parser is: status line, headers, a Content-Length body, or the parts of a chunked one. */
enum { S_STATUS, S_HEADERS, S_BODY, S_CHUNK_SIZE, S_CHUNK_DATA, S_TRAILER };

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

void http_load_init(struct http_load *h, const char *name, int port)
{
	h->name = name;
	signal(SIGPIPE, SIG_IGN);
	h->addr.sin_family = AF_INET;
	h->addr.sin_port = htons((uint16_t)port);
	h->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int open_conn(struct http_conn *c)
{
	struct http_load *h = c->load;
	evutil_socket_t fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A blocking connect on loopback does not wait, and leaves every connection open before the clock. */
	if (connect(fd, (struct sockaddr *)&h->addr, sizeof(h->addr)) != 0) {
		close(fd);
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		close(fd);
		return -1;
	}
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

int http_load_connect(struct http_load *h, struct http_conn *cs, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		cs[i].load = h;
		if (open_conn(&cs[i]) != 0) {
			fprintf(stderr, "%s: cannot connect to 127.0.0.1:%d: %s\n", h->name,
				ntohs(h->addr.sin_port), strerror(errno));
			return -1;
		}
	}
	return 0;
}

void http_load_close_all(struct http_conn *cs, long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (cs[i].bev)
			bufferevent_free(cs[i].bev);
}

int http_post_format(char *buf, size_t cap, const char *path, const char *body, size_t body_len)
{
	int n = snprintf(buf, cap, HTTP_POST_FORMAT, path, body_len, body);

	return n < 0 || (size_t)n >= cap ? -1 : n;
}

char *http_post_new(const char *path, const char *body, size_t body_len, size_t *len)
{
	size_t cap = strlen(path) + body_len + 256;
	char *text = malloc(cap);
	int n;

	if (!text)
		return NULL;
	n = http_post_format(text, cap, path, body, body_len);
	if (n < 0) {
		free(text);
		return NULL;
	}
	*len = (size_t)n;
	return text;
}

void http_conn_send(struct http_conn *c, const void *request, size_t len, int64_t start)
{
	c->busy = 1;
	c->start = start;
	c->state = S_STATUS;
	c->status = c->chunked = c->has_length = c->close_after = 0;
	c->body_left = 0;
	bufferevent_write(c->bev, request, len);
}

void http_conn_close(struct http_conn *c, const char *why)
{
	if (c->load->shown++ < 3)
		fprintf(stderr, "%s: connection dropped: %s\n", c->load->name, why);
	bufferevent_free(c->bev);
	c->bev = NULL;
}

int http_conn_reopen(struct http_conn *c)
{
	struct http_load *h = c->load;

	h->reconnects++;
	if (open_conn(c) == 0)
		return 0;
	fprintf(stderr, "%s: cannot reconnect: %s\n", h->name, strerror(errno));
	h->failed = 1;
	event_base_loopbreak(h->base);
	return -1;
}

/* fail: drops c from inside the parser; line is the one being read, if any. */
static void fail(struct http_conn *c, char *line, const char *why)
{
	free(line);
	c->load->drop(c, why);
}

/* body_done: the body (body_left bytes) is in; shows it when the reply is not 2xx, and hands the reply on. */
static void body_done(struct http_conn *c, struct evbuffer *in)
{
	struct http_load *h = c->load;

	if (c->status / 100 != 2 && h->shown++ < 3) {
		char text[256];
		size_t k = (size_t)c->body_left < sizeof(text) - 1 ? (size_t)c->body_left : sizeof(text) - 1;

		evbuffer_copyout(in, text, k);
		text[k] = '\0';
		fprintf(stderr, "%s: HTTP %d: %s\n", h->name, c->status, text);
	}
	evbuffer_drain(in, (size_t)c->body_left);
	c->busy = 0;
	h->reply(c);
}

/* header: one header line (n bytes; 0 ends the headers). Returns -1 once c is dropped. */
static int header(struct http_conn *c, char *line, size_t n)
{
	if (n > 0) {
		if (strncasecmp(line, "Content-Length:", 15) == 0) {
			c->body_left = atol(line + 15);
			c->has_length = 1;
		} else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line + 18, "chunked")) {
			c->chunked = 1;
		} else if (strncasecmp(line, "Connection:", 11) == 0 && strstr(line + 11, "close")) {
			c->close_after = 1;
		}
		return 0;
	}
	if (c->status == 204 || c->status == 304) {
		c->body_left = 0;
		c->state = S_BODY;
	} else if (c->chunked) {
		c->state = S_CHUNK_SIZE;
	} else if (c->has_length) {
		c->state = S_BODY;
	} else {
		fail(c, line, "a reply with neither Content-Length nor chunked encoding");
		return -1;
	}
	return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line, *end;
	size_t n;

	/* Every way out of a reply may free bev (a drop), so the loop goes on only while it is c's. */
	while (c->bev == bev) {
		/* Idle once the requests ran out: nothing more may come, and nothing is counted. */
		if (!c->busy) {
			if (evbuffer_get_length(in) > 0)
				c->load->drop(c, "a reply to no request");
			return;
		}
		if (c->state == S_BODY) {
			if (evbuffer_get_length(in) < (size_t)c->body_left)
				return;
			body_done(c, in);
			continue;
		}
		if (c->state == S_CHUNK_DATA) {
			if (evbuffer_get_length(in) < (size_t)c->body_left + 2)
				return;
			evbuffer_drain(in, (size_t)c->body_left + 2);
			c->state = S_CHUNK_SIZE;
			continue;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
		if (!line)
			return;
		switch (c->state) {
		case S_STATUS:
			if (sscanf(line, "HTTP/1.%*d %d", &c->status) != 1) {
				fail(c, line, "not an HTTP status line");
				return;
			}
			c->state = S_HEADERS;
			break;
		case S_HEADERS:
			if (header(c, line, n) != 0)
				return;
			break;
		case S_CHUNK_SIZE:
			c->body_left = strtol(line, &end, 16);
			if (end == line || c->body_left < 0) {
				fail(c, line, "a bad chunk size");
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
	struct http_conn *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		c->load->drop(c, what & BEV_EVENT_EOF ? "closed by the server"
						      : strerror(EVUTIL_SOCKET_ERROR()));
}
