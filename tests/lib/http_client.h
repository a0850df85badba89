/* SPDX-License-Identifier: Apache-2.0 */
/* A small blocking HTTP/1.1 client over loopback TCP, for tests that talk to outrigd. */
#ifndef OUTRIG_TESTS_HTTP_CLIENT_H
#define OUTRIG_TESTS_HTTP_CLIENT_H

#include <stddef.h>

#define HTTP_MAX_HEADERS 64

struct http_response {
	int status;
	char *body; /* always NUL-terminated, so text bodies can be compared as strings */
	size_t body_len;
	size_t nheaders;
	char *name[HTTP_MAX_HEADERS]; /* point into raw */
	char *value[HTTP_MAX_HEADERS];
	char *raw;
};

/*
 * Sends one request to 127.0.0.1:port on a fresh connection and reads the whole response.
 * headers: extra "Name: value\r\n" lines, or NULL. body may be NULL when len is 0; a
 * Content-Length is sent whenever body is not NULL.
 * Returns 0, or a negative errno when no complete response arrived.
 * Ownership: out is filled with malloc'd buffers; release them with http_response_free().
 * Thread: safe, no shared state.
 */
int http_request(int port, const char *method, const char *path, const char *headers, const void *body,
		 size_t len, struct http_response *out);

/* Case-insensitive lookup; NULL when absent. Ownership: points into resp. */
const char *http_header(const struct http_response *resp, const char *name);

/* Frees the buffers and zeroes resp; safe on a zeroed or already freed response. */
void http_response_free(struct http_response *resp);

/* Percent-encodes everything but RFC 3986 unreserved bytes, so any key fits in one path segment.
 * Ownership: caller frees. */
char *http_escape(const char *s);

#endif /* OUTRIG_TESTS_HTTP_CLIENT_H */
