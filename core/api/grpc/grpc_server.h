/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC API's listeners on --dapr-grpc-port and the connections and calls they carry. */
#ifndef OUTRIG_CORE_GRPC_SERVER_H
#define OUTRIG_CORE_GRPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct evconnlistener;
struct event;
struct grpc_call;
struct grpc_conn;
struct grpc_proxy;
struct server;

#define GRPC_MAX_LISTENERS 8

/*
 * Calls dispatched to a handler that has not completed them, over all connections: a client that
 * resets (or times out) calls to a handler that never answers cannot pile them up without end.
 */
#define GRPC_MAX_HELD_CALLS 4096
/* A request not complete this long after its headers is answered and reset: bodies are not held forever. */
#define GRPC_REQUEST_TIMEOUT_MS 60000
/* A connection with no stream this long is closed, as the HTTP API closes idle keep-alives. */
#define GRPC_IDLE_TIMEOUT_MS 120000
/*
 * Request bytes buffered over all connections (bodies not yet given to a handler) past which a
 * stream gets no more flow-control window until others free theirs; at least 4 x --max-body-size,
 * so that one request of the largest size allowed always fits.
 */
#define GRPC_MAX_BUFFERED_BYTES ((size_t)256 << 20)
/*
 * Proxied calls in progress on one server (the API's, or the internal port's), apart from the held
 * calls above so that long streams cannot crowd out Dapr API calls; each holds at most a stream
 * window each way (64 KiB of request, H2_UPSTREAM_STREAM_WINDOW of answer), so 1024 of them up to
 * some 200 MiB.
 */
#define GRPC_MAX_PROXIED_CALLS 1024

struct grpc_server {
	struct server *srv;
	/* The internal port's (core/api/internal): every call goes to this sidecar's app (grpc_proxy.c). */
	bool internal;
	struct grpc_proxy *proxies; /* calls being proxied */
	size_t n_proxies;
	struct evconnlistener *listeners[GRPC_MAX_LISTENERS];
	size_t n_listeners;
	struct event *resume; /* re-enables the listeners after running out of descriptors */
	struct grpc_conn *conns;
	struct grpc_call *orphans; /* calls whose connection is gone but whose handler still has them */
	size_t held;		   /* dispatched calls not yet completed by their handler */
	size_t max_held;	   /* GRPC_MAX_HELD_CALLS (tests lower it) */
	/* GRPC_REQUEST_TIMEOUT_MS and GRPC_IDLE_TIMEOUT_MS, set by grpc_server_listen (tests shorten them). */
	int request_timeout_ms, idle_timeout_ms;
	size_t buffered;      /* bytes of request bodies held for calls not yet dispatched */
	size_t buffer_budget; /* GRPC_MAX_BUFFERED_BYTES or 4 x --max-body-size (tests lower it) */
	size_t starved;	      /* streams holding back window because the budget was spent */
	struct event *grant;  /* gives starved streams their window once bytes are freed */
};

/*
 * Binds the gRPC API on every --dapr-listen-addresses address at --dapr-grpc-port and registers
 * the built-in methods (grpc.health.v1). Returns 0, or -1 after logging which address failed.
 * Thread: the loop's, before it runs.
 */
int grpc_server_listen(struct server *srv);

/*
 * The gRPC server behind the internal port (srv->grpc_internal), with no listener of its own: the
 * internal listener hands it the connections that speak HTTP/2 (grpc_conn_attach). It only proxies
 * calls to this sidecar's app. Returns 0 or -1. Thread: the loop's, before it runs.
 */
int grpc_server_internal_new(struct server *srv);

/*
 * A graceful stop begins: stops accepting, and tells every client GOAWAY (calls already started
 * finish). Thread: the loop.
 */
void grpc_server_drain(struct server *srv);

/*
 * Connections of the gRPC API and the internal port that are closing with answer bytes not yet
 * written (grpc_conn_finishing): work in flight for the graceful stop. Thread: the loop.
 */
unsigned grpc_server_finishing(const struct server *srv);

/* Stops accepting and closes every connection. Thread: the loop. */
void grpc_server_close(struct server *srv);

/* Frees what is left (calls never completed); after the loop and the workers stopped. */
void grpc_server_free(struct server *srv);

#endif /* OUTRIG_CORE_GRPC_SERVER_H */
