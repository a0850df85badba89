/* SPDX-License-Identifier: Apache-2.0 */
/* A small blocking HTTP/1.1 client over loopback TCP, for tests that talk to outrigd. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct buf {
	char *data;
	size_t len, cap;
};

/* Reads what is available into b; returns bytes read, 0 at EOF, negative errno on failure. */
static ssize_t fill(int fd, struct buf *b)
{
	ssize_t n;

	if (b->cap - b->len < 65536) {
		char *p = realloc(b->data, b->cap + 65536 + 1);

		if (p == NULL)
			return -ENOMEM;
		b->data = p;
		b->cap += 65536;
	}
	do
		n = recv(fd, b->data + b->len, b->cap - b->len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	b->len += (size_t)n;
	b->data[b->len] = '\0';
	return n;
}

/* Makes at least want bytes available; -EPROTO when the peer closes first. */
static int need(int fd, struct buf *b, size_t want)
{
	while (b->len < want) {
		ssize_t n = fill(fd, b);

		if (n <= 0)
			return n < 0 ? (int)n : -EPROTO;
	}
	return 0;
}

/*
 * Sends everything, but stops early once the server has answered: a server that rejects a
 * body (413) replies before reading it, and pushing on would only earn us a reset.
 */
static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 0) > 0)
			return 0;
		n = send(fd, p, len > 65536 ? 65536 : len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (errno == EPIPE || errno == ECONNRESET) ? 0 : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int connect_loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 30 }; /* a hung daemon fails the test, not the run */
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* Splits the header block in place into name/value pairs. */
static int parse_head(struct http_response *out)
{
	char *line = strstr(out->raw, "\r\n");
	char *next;

	if (sscanf(out->raw, "HTTP/1.%*d %d", &out->status) != 1)
		return -EPROTO;
	for (; line != NULL && line[2] != '\0'; line = next) {
		char *colon;

		line += 2;
		next = strstr(line, "\r\n");
		if (next != NULL)
			*next = '\0';
		colon = strchr(line, ':');
		if (colon == NULL || out->nheaders == HTTP_MAX_HEADERS)
			return -EPROTO;
		*colon++ = '\0';
		colon += strspn(colon, " \t");
		out->name[out->nheaders] = line;
		out->value[out->nheaders++] = colon;
		if (next == NULL)
			break;
	}
	return 0;
}

/* Decodes a chunked body starting at off in b into out->body. */
static int read_chunked(int fd, struct buf *b, size_t off, struct http_response *out)
{
	for (;;) {
		char *eol;
		size_t size;
		char *p;
		int rc;

		while ((eol = memmem(b->data + off, b->len - off, "\r\n", 2)) == NULL)
			if ((rc = need(fd, b, b->len + 1)) < 0)
				return rc;
		size = strtoul(b->data + off, NULL, 16);
		off = (size_t)(eol - b->data) + 2;
		if (size == 0)
			return 0; /* trailers carry nothing the tests look at */
		if ((rc = need(fd, b, off + size + 2)) < 0)
			return rc;
		p = realloc(out->body, out->body_len + size + 1);
		if (p == NULL)
			return -ENOMEM;
		out->body = p;
		memcpy(out->body + out->body_len, b->data + off, size);
		out->body_len += size;
		off += size + 2;
	}
}

static int read_response(int fd, const char *method, struct http_response *out)
{
	struct buf b = { 0 };
	const char *te, *cl;
	char *end;
	size_t head;
	int rc = 0;

	while ((end = b.data ? strstr(b.data, "\r\n\r\n") : NULL) == NULL)
		if ((rc = need(fd, &b, b.len + 1)) < 0)
			goto out;
	head = (size_t)(end - b.data) + 4;
	out->raw = strndup(b.data, head - 2);
	if (out->raw == NULL || (rc = parse_head(out)) < 0) {
		rc = out->raw ? rc : -ENOMEM;
		goto out;
	}
	te = http_header(out, "Transfer-Encoding");
	cl = http_header(out, "Content-Length");
	if (out->status == 204 || out->status == 304 || out->status / 100 == 1 ||
	    strcmp(method, "HEAD") == 0) {
		rc = 0;
	} else if (te != NULL && strcasestr(te, "chunked") != NULL) {
		rc = read_chunked(fd, &b, head, out);
	} else if (cl != NULL) {
		out->body_len = strtoul(cl, NULL, 10);
		rc = need(fd, &b, head + out->body_len);
	} else {
		while ((rc = (int)fill(fd, &b)) > 0)
			;
		out->body_len = b.len - head;
	}
	if (rc == 0 && out->body == NULL) {
		out->body = malloc(out->body_len + 1);
		if (out->body == NULL)
			rc = -ENOMEM;
		else
			memcpy(out->body, b.data + head, out->body_len);
	}
	if (rc == 0)
		out->body[out->body_len] = '\0';
out:
	free(b.data);
	return rc;
}

int http_request(int port, const char *method, const char *path, const char *headers, const void *body,
		 size_t len, struct http_response *out)
{
	char *head = NULL;
	int fd, rc, n;

	memset(out, 0, sizeof(*out));
	fd = connect_loopback(port);
	if (fd < 0)
		return fd;
	if (body != NULL)
		n = asprintf(&head,
			     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
			     "Content-Length: %zu\r\n%s\r\n",
			     method, path, port, len, headers ? headers : "");
	else
		n = asprintf(&head,
			     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
			     "%s\r\n",
			     method, path, port, headers ? headers : "");
	rc = n < 0 ? -ENOMEM : send_all(fd, head, (size_t)n);
	if (rc == 0 && body != NULL)
		rc = send_all(fd, body, len);
	if (rc == 0)
		rc = read_response(fd, method, out);
	free(head);
	close(fd);
	if (rc < 0)
		http_response_free(out);
	return rc;
}

const char *http_header(const struct http_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->name[i], name) == 0)
			return resp->value[i];
	return NULL;
}

void http_response_free(struct http_response *resp)
{
	free(resp->raw);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

char *http_escape(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1);
	char *p = out;

	if (out == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~')
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = '\0';
	return out;
}
