/* SPDX-License-Identifier: Apache-2.0 */
/* What the gRPC client's two files share: grpc_client.c (calls, connections) and grpc_client_answer.c (reading answers). */
#ifndef OUTRIG_CORE_GRPC_CLIENT_INTERNAL_H
#define OUTRIG_CORE_GRPC_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <nghttp2/nghttp2.h>

#include "base/kv.h"
#include "channels/grpc_client.h"

#define GC_SCOPE "grpc-client"

struct bufferevent;
struct evdns_base;
struct event;

enum gc_state {
	GC_WAITING, /* in c->waiting: no stream yet */
	GC_ACTIVE,  /* in c->active: its stream is open */
	GC_DONE,    /* in c->done: finished, its callback not yet run */
};

struct gc_conn;

struct gc_call {
	struct grpc_client *c;
	enum gc_state state;
	/*
	 * Two owners: the client until the callback ran, and nghttp2 while the call's stream is
	 * open, since nghttp2 may still read the request body or report the stream's close after
	 * the call finished (a deadline, an answer too large).
	 */
	unsigned refs;
	char *path;
	struct kv_list metadata;
	char *refusal; /* why the call fails before it starts (invalid metadata, a message over 4 GiB); NULL: it may start */
	int refusal_status;
	uint8_t *req; /* the request message with its 5-byte prefix */
	size_t req_len, req_sent;
	int64_t deadline_ms; /* CLOCK_MONOTONIC; 0: none */
	int timeout_ms;	     /* as asked, for messages */
	struct event *timer;
	grpc_client_cb cb;
	void *arg;
	double started_ms; /* metrics_now_ms() when asked for: dapr_grpc_io_client_roundtrip_latency */
	/* its stream */
	struct gc_conn *conn; /* NULL until started */
	int32_t stream_id;
	/* the answer */
	int http_status;
	bool got_headers;  /* a HEADERS block ended: what follows is trailers */
	bool in_trailers;  /* the block being read is the trailers */
	size_t block_size; /* of the block being read, as HTTP/2's header list size counts it */
	struct kv_list headers, trailers;
	bool retried;  /* refused once already (REFUSED_STREAM): the next refusal is final */
	uint8_t *resp; /* the answer's bytes so far, prefix included */
	size_t resp_len, resp_cap;
	/* the end */
	int status;
	char *message;
	TAILQ_ENTRY(gc_call) link;	 /* in the list of its state */
	LIST_ENTRY(gc_call) stream_link; /* in its connection's open streams */
};

TAILQ_HEAD(gc_calls, gc_call);

struct gc_conn {
	struct grpc_client *c;
	struct bufferevent *bev;
	nghttp2_session *session; /* NULL until connected */
	bool connected;
	bool settled;  /* the server's first SETTINGS came: its limits are known, calls may start */
	bool draining; /* takes no new streams (GOAWAY came, or stream ids ran out): closed once idle */
	unsigned open; /* streams open in nghttp2, finished calls' included */
	/* A PING sent after a deadline passed on it; without its ACK in time the connection is dead. */
	struct event *ping_timer;
	bool ping_out;
	LIST_HEAD(, gc_call) streams;
	LIST_ENTRY(gc_conn) link;
};

struct gc_waiter {
	void (*ready)(void *arg);
	void *arg;
};

struct grpc_client {
	struct event_base *base;
	struct evdns_base *dns; /* only for a host that is a name, not an IP */
	char *host;
	int port;
	char authority[300];
	int max_concurrency; /* -1: the server's limit only */
	int timeout_s;
	int64_t max_message, max_headers; /* -1: unbounded */
	struct gc_calls waiting, active, done;
	unsigned nactive;
	unsigned busy;
	LIST_HEAD(, gc_conn) conns;
	struct gc_conn *current; /* where new calls go; NULL until one is needed, or after it drained */
	/* Runs callbacks and starts waiting calls from a clean stack, never inside nghttp2 or the caller. */
	struct event *deferred;
	bool *alive; /* while callbacks run: cleared when one of them frees the client */
	/* wait_ready */
	struct bufferevent *probe;
	struct event *probe_timer;
	struct gc_waiter *waiters;
	size_t nwaiters;
	bool is_ready;
	unsigned probes;
	struct app_tls *tls;   /* grpcs: every connection (and the probe) speaks TLS; NULL: h2c */
	char tls_failure[300]; /* the probe's last TLS failure, logged when it changes */
};

/* Drops one of the call's two references (see refs); the last frees it. */
void gc_call_unref(struct gc_call *call);

/* Ends a call with status and message (copied); its callback runs from the deferred event. */
void gc_finish(struct gc_call *call, int status, const char *message);
void gc_finishf(struct gc_call *call, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Ends a call whose stream is open and resets the stream, so that nothing more of it is read. */
void gc_abort(struct gc_call *call, int status, const char *message);

/* Puts a call the server refused (REFUSED_STREAM) back at the head of the queue, once. */
void gc_requeue(struct gc_call *call);

/* Adds name: value to l, joining a repeated name's values with ",". 0 or -1 (out of memory). */
int gc_kv_add(struct kv_list *l, const char *name, const char *value);

/* nghttp2's callbacks that read answers, for one new session (the caller deletes them). NULL: out of memory. */
nghttp2_session_callbacks *gc_answer_callbacks(void);

#endif /* OUTRIG_CORE_GRPC_CLIENT_INTERNAL_H */
