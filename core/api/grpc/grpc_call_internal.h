/* SPDX-License-Identifier: Apache-2.0 */
/* What a gRPC call is made of, shared by the connection that carries it and the call's functions. */
#ifndef OUTRIG_CORE_GRPC_CALL_INTERNAL_H
#define OUTRIG_CORE_GRPC_CALL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/grpc/grpc_call.h"
#include "base/kv.h"

struct event;
struct grpc_conn;
struct grpc_proxy;
struct grpc_server;

struct grpc_md {
	char *name; /* lowercase, as HTTP/2 requires */
	char *value;
};

/*
 * A call lives from the stream's HEADERS until both its stream is gone (closed, reset, or its
 * connection dropped) and, once dispatched, its handler completed it.
 */
struct grpc_call {
	struct grpc_server *gs;
	struct grpc_conn *conn; /* NULL once the connection is gone */
	int32_t stream_id;
	char *path;
	char *content_type;
	char *authority; /* :authority, or NULL */
	struct grpc_md *md;
	size_t n_md, md_bytes;
	uint8_t *body; /* the request, 5-byte prefix included, up to the size limit */
	size_t body_len, body_cap;
	size_t unconsumed;	/* bytes received but not yet given back as stream window (budget spent) */
	bool request_complete;	/* END_STREAM came from the client */
	bool too_big;		/* answered RESOURCE_EXHAUSTED; the rest of the body is dropped */
	int64_t timeout_ms;	/* from grpc-timeout; 0 = none */
	int64_t deadline_at;	/* CLOCK_MONOTONIC ms when grpc-timeout runs out; 0 = none */
	struct event *deadline; /* fires DEADLINE_EXCEEDED; NULL when no timeout */
	struct event *request_timer; /* the request's body must be complete before it fires */
	grpc_unary_fn fn;	     /* the method's handler, once the headers admitted the call */
	bool dispatched;	     /* the handler was called */
	bool held; /* counted in the server's and held_by's held calls until the handler completes */
	struct grpc_conn
		*held_by;  /* the connection whose stream slots the held call counts against, or NULL */
	bool handler_done; /* the handler completed the call */
	bool answered;	   /* a response was submitted, or none can be */
	bool gone;	   /* the stream is closed */
	uint8_t *out;	   /* the response: prefix and message */
	size_t out_len, out_off;
	char *trailer_message; /* percent-encoded grpc-message of an error, or NULL */
	int status;	       /* grpc-status of the answer */
	double started_ms;     /* metrics_now_ms() when the stream began: metrics and the API log */
	bool observed;	       /* its metrics and API log line were recorded */
	/* grpc_call_add_reply_metadata's: sent with the response headers, and with the trailers. */
	struct kv_list reply_headers, reply_trailers;
	struct grpc_proxy *proxy; /* a proxied call's splice (grpc_proxy.c): its bytes are passed through */
	struct span *span;	  /* the call's span when traced and sampled (grpc_trace.c) */
	bool traced;		  /* grpc_trace_begin ran */
	struct grpc_call *next, *prev;
};

/* A new call for stream_id on conn, linked into its list. NULL when out of memory. */
struct grpc_call *grpc_call_new(struct grpc_conn *conn, int32_t stream_id);

/* The request's headers are in: answers now a call that cannot be served, else starts its grpc-timeout clock. */
void grpc_call_headers_done(struct grpc_call *call);

/* The request is complete (END_STREAM): checks its gRPC framing, then calls the handler. */
void grpc_call_request_done(struct grpc_call *call);

/* The stream closed: frees the call, unless its handler still has it. */
void grpc_call_stream_gone(struct grpc_call *call);

/* Answers with a status (trailers only), unless already answered. Does not complete the handler's side. */
void grpc_call_answer_status(struct grpc_call *call, int code, const char *details_bin, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Frees the call and unlinks it; only for the server's final clean-up and the two paths above. */
void grpc_call_free(struct grpc_call *call);

/* The handler registered for path, or NULL. */
grpc_unary_fn grpc_methods_find(const char *path);

/* True when path names a method of a service outrig knows (the Dapr API, health), served or not. */
bool grpc_methods_known(const char *path);

#endif /* OUTRIG_CORE_GRPC_CALL_INTERNAL_H */
