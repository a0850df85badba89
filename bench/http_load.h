/* SPDX-License-Identifier: Apache-2.0 */
/* What the HTTP load generators share: keep-alive connections to 127.0.0.1 and the reply parser. */
#ifndef OUTRIG_BENCH_HTTP_LOAD_H
#define OUTRIG_BENCH_HTTP_LOAD_H

#include <event2/event.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct http_conn;

/* One load run: its loop, its target and what each program does with a reply or a lost connection. */
struct http_load {
	const char *name; /* the program, at the head of every message */
	struct event_base *base;
	struct sockaddr_in addr;
	int shown;	 /* messages printed; only the first 3 are */
	int failed;	 /* a reconnect failed */
	long reconnects; /* connections opened again after a drop */
	/* A whole reply was read (c->status); c is idle again. */
	void (*reply)(struct http_conn *c);
	/* c is no good (closed, or a reply that cannot be read); c->busy says whether a request was lost. */
	void (*drop)(struct http_conn *c, const char *why);
};

struct http_conn {
	struct http_load *load;
	struct bufferevent *bev;
	int busy;
	int64_t start; /* when the request started, on the program's own clock */
	int state, status, chunked, has_length, close_after;
	long body_left;
};

/* http_load_init: target 127.0.0.1:port; a closed connection no longer kills the process (SIGPIPE). */
void http_load_init(struct http_load *h, const char *name, int port);

/* http_load_connect: opens cs[0..n) (blocking connects, done before the clock); -1 with a message if one fails. */
int http_load_connect(struct http_load *h, struct http_conn *cs, long n);

/* http_load_close_all: frees whatever connections of cs[0..n) are still open. */
void http_load_close_all(struct http_conn *cs, long n);

/* http_post_new: the text of one JSON POST of body to path, to write as is every time; malloc'd, NULL
 * when out of memory. */
char *http_post_new(const char *path, const char *body, size_t body_len, size_t *len);

/* http_post_format: the same text into buf; its length, or -1 if buf is too small. */
int http_post_format(char *buf, size_t cap, const char *path, const char *body, size_t body_len);

/* http_conn_send: writes request (len bytes) on c, which must be idle, and marks it busy from start. */
void http_conn_send(struct http_conn *c, const void *request, size_t len, int64_t start);

/* http_conn_close: frees c's connection, saying why (the first few times). */
void http_conn_close(struct http_conn *c, const char *why);

/* http_conn_reopen: opens c again after http_conn_close; on failure says so, marks the run failed, stops
 * the loop and returns -1. */
int http_conn_reopen(struct http_conn *c);

#endif
