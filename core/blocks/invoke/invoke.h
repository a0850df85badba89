/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service invocation, the building block (API.md §3): one call to an app by id, to this sidecar's
 * own app or through name resolution to another sidecar, in plain C for every front end.
 */
#ifndef OUTRIG_CORE_BLOCKS_INVOKE_H
#define OUTRIG_CORE_BLOCKS_INVOKE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/kv.h"
#include "blocks/errors.h"

struct server;
struct app_grpc_invoke_result;

/* One invocation as a front end decoded it. Everything is read during invoke_call only. */
struct invoke_request {
	const char *target; /* "app-id" or "app-id.namespace", as the caller named it */
	const char *method; /* the method, raw: still percent-encoded, not yet cleaned */
	const char *verb;   /* GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH; NULL: its own gRPC app only */
	const char *query;  /* the query string without '?', passed byte for byte; NULL: none */
	/*
	 * NULL: the Content-Type among headers travels. Else the call's Content-Type is this one,
	 * or none at all when "" (gRPC's content_type, as daprd sets it).
	 */
	const char *content_type;
	const struct kv_list *headers; /* as the caller sent them: the block picks what travels */
	const void *body;
	size_t len;
	const char *client; /* numeric IP address of the caller, NULL when unknown (Forwarded) */
	const char *self;   /* numeric IP address of this sidecar's end of that connection, or NULL */
	/*
	 * NULL, or asked (with the completion's arg) before a call that had to wait (name resolution)
	 * is sent on: false when nobody waits for the answer any more, and the call is dropped.
	 */
	bool (*wanted)(void *arg);
	/* A gRPC caller's data type_url: a gRPC app of this sidecar gets it as it was; NULL for none. */
	const char *data_type_url;
	/* > 0: the time the caller has left (a gRPC caller's grpc-timeout), a gRPC app's call gets no more; 0: none. */
	int timeout_ms;
};

/* The answer of the app (or of the callee's sidecar, see invoke_done_fn). */
struct invoke_answer {
	int status;		       /* HTTP status, 200..599 */
	const char *reason;	       /* the status line's reason phrase, or NULL */
	const char *content_type;      /* the answer's Content-Type, or NULL */
	const struct kv_list *headers; /* what travels back: no hop-by-hop ones, no outrig-* */
	const void *body;
	size_t len;
	/*
	 * When this sidecar's app speaks gRPC: its own answer (gRPC status, data and type_url), which
	 * a gRPC front end passes on as it is; the fields above are daprd's HTTP form of it. NULL otherwise.
	 */
	const struct app_grpc_invoke_result *grpc;
};

/*
 * How an invocation ended, called exactly once on the loop (possibly before invoke_call returns).
 * - err NULL: ans is the app's answer, whatever its status (a 404 of the app stays the app's).
 * - err set, ans NULL: this sidecar could not deliver the call (ERR_DIRECT_INVOKE and friends).
 * - err set, ans set: the callee's sidecar could not deliver it; ans is its error answer as it
 *   came (Dapr's error JSON), which an HTTP front end passes on as it is, and err the same failure
 *   as a row of the table for other front ends.
 * Ownership: err and ans are the block's, valid during the call only.
 */
typedef void (*invoke_done_fn)(void *arg, const struct block_error *err, const struct invoke_answer *ans);

/*
 * Invokes rq->method of the app rq->target names: target and namespace rules, method path rules,
 * which headers travel (and the Forwarded and traceparent ones added), then this sidecar's own app
 * when the target is its app id (and namespace), else the sidecar name resolution finds, through
 * the internal protocol. done(arg, ...) is called exactly once. Thread: the event loop.
 */
void invoke_call(struct server *srv, const struct invoke_request *rq, invoke_done_fn done, void *arg);

/*
 * invoke_call's one attempt, without the Resiliency policy of the target app
 * (core/blocks/invoke/invoke_policy.c applies it around this). Thread: the event loop.
 */
void invoke_call_once(struct server *srv, const struct invoke_request *rq, invoke_done_fn done, void *arg);

/* Whether err (of invoke_call_once) says no connection to the callee's sidecar could be made. */
bool invoke_error_unreachable(const struct block_error *err);

/*
 * The callee's half: a call another sidecar delivered (core/api/internal/internal_protocol.md) goes
 * to this sidecar's app, with dapr-caller-app-id caller_id, dapr-caller-namespace caller_ns (when
 * not NULL or "") and dapr-callee-app-id. rq->target, client, self and wanted are not used; no
 * Forwarded headers are added (the caller's sidecar did). done is called exactly once.
 * Thread: the event loop.
 */
void invoke_serve(struct server *srv, const struct invoke_request *rq, const char *caller_id,
		  const char *caller_ns, invoke_done_fn done, void *arg);

#endif /* OUTRIG_CORE_BLOCKS_INVOKE_H */
