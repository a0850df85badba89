/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC API's listeners on --dapr-grpc-port and the connections and calls they carry. */
#ifndef OUTRIG_CORE_GRPC_SERVER_H
#define OUTRIG_CORE_GRPC_SERVER_H

#include <stddef.h>

struct evconnlistener;
struct event;
struct grpc_call;
struct grpc_conn;
struct server;

#define GRPC_MAX_LISTENERS 8

struct grpc_server {
	struct server *srv;
	struct evconnlistener *listeners[GRPC_MAX_LISTENERS];
	size_t n_listeners;
	struct event *resume; /* re-enables the listeners after running out of descriptors */
	struct grpc_conn *conns;
	struct grpc_call *orphans; /* calls whose connection is gone but whose handler still has them */
};

/*
 * Binds the gRPC API on every --dapr-listen-addresses address at --dapr-grpc-port and registers
 * the built-in methods (grpc.health.v1). Returns 0, or -1 after logging which address failed.
 * Thread: the loop's, before it runs.
 */
int grpc_server_listen(struct server *srv);

/*
 * A graceful stop begins: stops accepting, and tells every client GOAWAY (calls already started
 * finish). Thread: the loop.
 */
void grpc_server_drain(struct server *srv);

/* Stops accepting and closes every connection. Thread: the loop. */
void grpc_server_close(struct server *srv);

/* Frees what is left (calls never completed); after the loop and the workers stopped. */
void grpc_server_free(struct server *srv);

#endif /* OUTRIG_CORE_GRPC_SERVER_H */
