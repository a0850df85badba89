/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way the core calls a plugin operation: on a worker thread, through the component's
 * lane, finishing on the loop. Every block submits its plugin work here, so that what applies
 * to every call (Resiliency timeouts, retries and circuit breakers; later metrics, spans) has
 * one place to go.
 */
#ifndef OUTRIG_CORE_COMPONENT_CALL_H
#define OUTRIG_CORE_COMPONENT_CALL_H

#include "base/workers.h"

struct component;
struct server;

/*
 * What a block tells component_call_run so that the component's outbound Resiliency policy
 * can apply to its calls. All four run on the loop thread.
 */
struct component_call_ops {
	/* After run(): the outcome, 0 or an OUTRIG_E code (see component_call_failure). */
	int (*status)(struct work *w);
	/* Before another attempt: forget the failed attempt's outcome (keep what it did well). */
	void (*reset)(struct work *w);
	/*
	 * Answer the caller now with status and message (an open breaker, or an attempt past its
	 * deadline). A worker may still run w: touch nothing run() writes. done() is not called
	 * after this; discard() is, once no worker holds w.
	 */
	void (*answer)(struct work *w, int status, const char *message);
	/* Free w without answering (after answer()). */
	void (*discard)(struct work *w);
};

/*
 * Queues w on c's lane: w->run() calls the plugin on a worker thread (it may block), then
 * w->done() runs once on the loop thread. Both must be set. No Resiliency policy applies:
 * for the runtime's own work (subscribing, input bindings), not for a caller's operation.
 * Thread: the loop.
 */
void component_call_submit(struct server *srv, struct component *c, struct work *w);

/*
 * As component_call_submit, under c's outbound Resiliency policy (API.md §11): each attempt
 * has the policy's timeout (the caller is answered at the deadline through ops->answer with
 * OUTRIG_ETIMEDOUT "context deadline exceeded"; the worker's late result is discarded; a timed
 * out attempt is not retried, as the plugin may still be doing it); a failed attempt (see
 * component_call_failure) counts for the breaker and is retried as the retry policy says;
 * an open breaker answers at once with OUTRIG_EUNAVAIL "circuit breaker is open" (or "too
 * many requests" when half-open). done() runs once with the last attempt's outcome.
 * Thread: the loop.
 */
void component_call_run(struct server *srv, struct component *c, struct work *w,
			const struct component_call_ops *ops);

/*
 * Whether a plugin status is a failure a policy counts and retries: the component could not
 * do it (unavailable, timed out, internal, out of memory). Answers the request was wrong for
 * (not found, etag mismatch, bad etag, invalid, not supported) are final, as in Dapr.
 * Thread: any.
 */
bool component_call_failure(int status);

/* Called when the stop begins: calls waiting to retry finish now with their last outcome. */
void component_call_stop(struct server *srv);

/* After the loop: frees calls still waiting to retry, without answering. */
void component_call_free_waiting(void);

#endif /* OUTRIG_CORE_COMPONENT_CALL_H */
