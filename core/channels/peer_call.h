/* SPDX-License-Identifier: Apache-2.0 */
/* The caller's half of outrig's internal protocol: one invocation sent to another sidecar (core/api/internal/internal_protocol.md). */
#ifndef OUTRIG_CORE_CHANNELS_PEER_CALL_H
#define OUTRIG_CORE_CHANNELS_PEER_CALL_H

#include "channels/app_call.h"

struct peer_channels;

/*
 * How long a call to another sidecar may take: a little longer than that sidecar gives its app
 * (main.c's 300 s), so that its own timeout answer arrives first. A sidecar that dies fails the
 * call at once (its connection closes).
 */
#define PEER_CALL_TIMEOUT_S 310

/* The internal protocol's path prefix. */
#define PEER_CALL_PREFIX "/outrig/v1/invoke"

/* Who answered a call that got an answer (the outrig-status marker). */
enum peer_answer {
	PEER_ANSWER_APP,	/* the callee's app: pass it on as it is */
	PEER_ANSWER_SIDECAR,	/* the callee's sidecar could not deliver: Dapr's error JSON */
	PEER_ANSWER_NOT_OUTRIG, /* no marker: whatever answered does not speak this protocol */
};

struct peer_call_request {
	struct app_call_request call;	   /* verb, "/method?query" (cleaned), headers to pass, body */
	const char *callee_id, *callee_ns; /* ns "" or NULL: none named */
	const char *caller_id, *caller_ns; /* ns "" or NULL: none */
};

/* Told how a call ended; who is meaningful when a->outcome is APP_CALL_ANSWERED. Thread: the loop. */
typedef void (*peer_call_cb)(void *arg, struct app_call_answer *a, enum peer_answer who);

/* What peer_call_send can fail with before anything is sent (cb is then never called). */
#define PEER_CALL_NO_CHANNEL (-1) /* out of memory, or every channel busy */
#define PEER_CALL_NO_MEMORY (-2)

/*
 * Sends rq to the sidecar at host:port (an IP address or a name, IPv6 without brackets) through
 * pc, the internal protocol's request around it, then calls cb exactly once on the loop, unless pc
 * is freed first. Returns 0 or one of the PEER_CALL_NO_* codes. Ownership: rq is copied.
 * Thread: the event loop.
 */
int peer_call_send(struct peer_channels *pc, const char *host, int port, const struct peer_call_request *rq,
		   peer_call_cb cb, void *arg);

#endif /* OUTRIG_CORE_CHANNELS_PEER_CALL_H */
