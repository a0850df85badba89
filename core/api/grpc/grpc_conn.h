/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP/2 connection of the gRPC API: nghttp2's server session on a libevent bufferevent. */
#ifndef OUTRIG_CORE_GRPC_CONN_H
#define OUTRIG_CORE_GRPC_CONN_H

#include <stdbool.h>

#include <event2/util.h>
#include <nghttp2/nghttp2.h>
#include <stdint.h>

struct bufferevent;
struct grpc_call;
struct grpc_conn;
struct grpc_server;

/* Streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
#define GRPC_MAX_STREAMS 100
/* All metadata of one call, names and values: more is answered RESOURCE_EXHAUSTED. */
#define GRPC_MAX_METADATA_BYTES (64 * 1024)

/*
 * Serves the gRPC API on fd, an accepted socket (which the connection then owns), as one more
 * connection of gs. Returns 0, or -1 after closing fd.
 */
int grpc_conn_accept(struct grpc_server *gs, evutil_socket_t fd);

/*
 * Serves bev (which the connection then owns) as one more connection of gs: the internal port hands
 * over a connection that opened with HTTP/2's preface this way, on a bufferevent pair. 0, or -1
 * after freeing bev.
 */
int grpc_conn_attach(struct grpc_server *gs, struct bufferevent *bev);

/* conn's bufferevent (for http_guard_transport), or NULL. */
struct bufferevent *grpc_conn_bufferevent(const struct grpc_conn *conn);

/* conn's socket, or -1. */
int grpc_conn_socket(const struct grpc_conn *conn);

/* Sends what nghttp2 has queued; closes the connection when neither side has more to say. */
void grpc_conn_flush(struct grpc_conn *conn);

/* Submits call's answer: its response message and OK trailers, or its status alone. 0 or -1. */
int grpc_conn_submit(struct grpc_conn *conn, struct grpc_call *call, const char *details_bin);

/*
 * For gRPC proxying (grpc_proxy.c): submits the answer's HEADERS (body NULL: they end the stream),
 * lets a deferred body go on, and gives the client's stream n bytes of window back. The caller
 * flushes (grpc_conn_flush) from the loop.
 */
int grpc_conn_respond(struct grpc_conn *conn, int32_t stream_id, const nghttp2_nv *nv, size_t n,
		      const nghttp2_data_provider *body);
void grpc_conn_resume(struct grpc_conn *conn, int32_t stream_id);
void grpc_conn_consume(struct grpc_conn *conn, int32_t stream_id, size_t n);

/* Tells nghttp2 to stop the stream (RST_STREAM) with error_code, e.g. once it is answered. */
void grpc_conn_reset_stream(struct grpc_conn *conn, int32_t stream_id, uint32_t error_code);

/* The list a connection keeps its calls in, and the server it belongs to (for grpc_call.c). */
struct grpc_call **grpc_conn_calls(struct grpc_conn *conn);
struct grpc_server *grpc_conn_server(struct grpc_conn *conn);
struct grpc_conn *grpc_conn_next(struct grpc_conn *conn);

/*
 * The count of conn's calls a handler still has, streams closed or not (grpc_call.c keeps it):
 * these hold memory as open streams do, so they count against the connection's GRPC_MAX_STREAMS.
 */
size_t *grpc_conn_held(struct grpc_conn *conn);

/*
 * Request bytes were freed (grpc_call.c): streams held back by the buffer budget get their window
 * from the loop (gs->grant), never from inside an nghttp2 callback. Thread: the loop.
 */
void grpc_conn_bytes_freed(struct grpc_server *gs, size_t n);

/* gs->grant's callback: gives held-back streams their window while the budget allows. */
void grpc_conn_grant(evutil_socket_t fd, short what, void *arg);

/*
 * Whether conn is closing (its streams are over, e.g. after GOAWAY) with bytes of its last answers
 * still to write, or written but not yet acknowledged by the client (its lingering close, Linux).
 * nghttp2 ends a stream once its last frame is queued, not once it is sent, so a graceful stop
 * waits for these too (grpc_server_finishing).
 */
bool grpc_conn_finishing(const struct grpc_conn *conn);

/* Sends GOAWAY: streams already open finish, then the connection closes. */
void grpc_conn_goaway(struct grpc_conn *conn);

/* Closes the connection now: its calls still in a handler's hands stay until completed. */
void grpc_conn_free(struct grpc_conn *conn);

#endif /* OUTRIG_CORE_GRPC_CONN_H */
