/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP call through an app channel in plain C terms (verb text, key/value headers, (ptr, len) bodies), for callers that must not know libevent's HTTP types. */
#ifndef OUTRIG_CORE_CHANNELS_APP_CALL_H
#define OUTRIG_CORE_CHANNELS_APP_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/kv.h"

struct app_channel;

/* How a call ended (app_channel.h's enum app_fault, for callers that cannot include it). */
enum app_call_outcome {
	APP_CALL_ANSWERED,    /* status is set */
	APP_CALL_UNREACHABLE, /* no answer: refused, reset, closed, timed out */
	APP_CALL_TOO_LARGE,   /* the answer's body or headers went past the channel's limits */
	APP_CALL_INVALID,     /* the answer is not valid HTTP (a status outside 200..599, a broken header) */
};

struct app_call_request {
	const char *verb;	       /* as app_call_verb_ok accepts */
	const char *path;	       /* "/method?query", sent as it is */
	const struct kv_list *headers; /* sent in order, names may repeat; NULL for none */
	const void *body;
	size_t len;
	/* A gRPC caller's InvokeRequest.data.type_url, for a gRPC app (app_call_grpc.h); NULL for none. */
	const char *data_type_url;
	/* Asked before a call that waited for a free connection is sent: false drops it (NULL: always sent). */
	bool (*wanted)(void *arg);
	void *wanted_arg;
	/*
	 * Called with cb's arg instead of cb when the channel is freed with the call pending (outrigd
	 * stopping with calls in flight), for the caller to free its record; NULL: not told.
	 */
	void (*abandon)(void *arg);
	/* > 0: a gRPC app's call ends DEADLINE_EXCEEDED after this (the caller's time left); 0: the channel's. */
	int timeout_ms;
};

struct app_grpc_invoke_result;

struct app_call_answer {
	enum app_call_outcome outcome;
	const char *error;	 /* why there is no status, a clause naming the limit or fault; else NULL */
	int status;		 /* 200..599 when answered, else 0 */
	const char *reason;	 /* the status line's reason phrase, or NULL */
	struct kv_list *headers; /* the answer's, in order; the callback may change them */
	const void *body;
	size_t len;
	/*
	 * A gRPC app's own answer behind the HTTP one above (app_call_grpc.h), for a gRPC caller that
	 * wants its status, data and type_url as they were; NULL for an HTTP app or another sidecar.
	 */
	const struct app_grpc_invoke_result *grpc;
};

/*
 * Told how a call ended. Ownership: everything in a is the channel's and valid during the call
 * only. Thread: the event loop.
 */
typedef void (*app_call_cb)(void *arg, struct app_call_answer *a);

/* Whether a channel can send verb: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH (upper case). */
bool app_call_verb_ok(const char *verb);

/*
 * app_channel_send with rq: cb is called exactly once on the loop, unless the channel is freed
 * first. Returns 0, or -1 when out of memory or the verb is not one app_call_verb_ok accepts (cb is
 * then never called). Ownership: rq is copied. Thread: the event loop.
 */
int app_call_send(struct app_channel *ch, const struct app_call_request *rq, app_call_cb cb, void *arg);

/* "host:port" of the channel's other end, for messages. Ownership: the channel's. */
const char *app_call_address(const struct app_channel *ch);

#endif /* OUTRIG_CORE_CHANNELS_APP_CALL_H */
