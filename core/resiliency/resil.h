/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Resiliency runtime: the policies read at start-up, resolved per target (a component in
 * one direction, an app id), each target's circuit breaker, and what each policy did (counters
 * a metrics module can read). Transport-free: component_call.c and the app call paths use it.
 * Thread: the loop.
 */
#ifndef OUTRIG_CORE_RESIL_H
#define OUTRIG_CORE_RESIL_H

#include <stdbool.h>
#include <stdint.h>

#include "resiliency/breaker.h"
#include "resources/resiliency.h"

struct event_base;

/* What the policies of one target did since start-up. */
struct resil_counters {
	uint64_t attempts;	  /* attempts made, first tries included */
	uint64_t retries;	  /* attempts after a failure */
	uint64_t timeouts;	  /* attempts cut at their deadline */
	uint64_t breaker_refused; /* calls answered at once by an open breaker */
	uint64_t failures;	  /* attempts that failed (and counted for the breaker) */
};

/* The policies of one target and its state. */
struct resil_target {
	enum resil_target_kind kind;
	char *name;
	bool inbound;
	const struct retry_policy *retry; /* NULL: no retries */
	struct retry_policy retry_copy;
	int64_t timeout_ms; /* 0: none */
	bool has_breaker;
	struct breaker breaker;
	unsigned inflight; /* calls holding this target (it is not evicted meanwhile) */
	int64_t last_used_ms;
	struct resil_counters counters;
	struct resil_target *next;
};

/* What happened to a call under a target's policies, for resil_count. */
enum resil_event {
	RESIL_ATTEMPT,	       /* an attempt starts (the first try or a retry) */
	RESIL_RETRY,	       /* ... and it is a retry */
	RESIL_TIMEOUT,	       /* an attempt was cut at its deadline */
	RESIL_FAILURE,	       /* an attempt failed */
	RESIL_BREAKER_REFUSED, /* the breaker answered instead of the target */
};

/* Counts e in t's counters and in the metrics (dapr_resiliency_*). Thread: the loop. */
void resil_count(struct resil_target *t, enum resil_event e);

struct resil;

/* A runtime for set's policies (copied: set may be freed after). NULL when out of memory. */
struct resil *resil_new(struct event_base *base, const struct resiliency_set *set);

void resil_free(struct resil *r);

/*
 * The target for a call (kind, name, the component's type or NULL, direction), made on first
 * use; NULL when no policy applies. App targets named by no `apps` entry (Default policies
 * only) are kept up to circuitBreakerCacheSize (100), the least recently used unused one going.
 * Ownership: r's; valid while r lives and target->inflight is held, else until the next call.
 */
struct resil_target *resil_target(struct resil *r, enum resil_target_kind kind, const char *name,
				  const char *type, bool inbound);

/* The loop's clock in milliseconds. */
int64_t resil_now_ms(const struct resil *r);

struct event_base *resil_base(const struct resil *r);

/*
 * Whether a retry after attempt number attempt (1 = the first try) is allowed, and its wait.
 */
bool resil_retry_next(const struct resil_target *t, unsigned attempt, int64_t *wait_ms);

/* An inbound delivery's pass through its component's inbound circuit breaker. */
struct resil_pass {
	struct resil_target *t; /* NULL: no policy applies */
	uint64_t generation;
	int64_t timeout_ms; /* > 0: the attempt is cut at this deadline (resil_inbound_timeout) */
};

/*
 * Before a delivery from component (of type) to the app: whether the component's inbound
 * breaker lets it through; when not, why ("circuit breaker is open"). Deliveries keep their own
 * retry scheduling (pubsub_delivery.c, binding_delivery.c): a refused one waits its backoff.
 */
bool resil_inbound_allow(struct resil *r, const char *component, const char *type, struct resil_pass *pass,
			 const char **why);

/* After an allowed delivery: how it went (success: the app took it, or dropped it itself). */
void resil_inbound_done(struct resil *r, struct resil_pass *pass, bool success);

/*
 * After an allowed delivery cut at pass->timeout_ms: counted as a timeout and a failure (the
 * breaker's too). The caller drops the app's late answer. Thread: the loop.
 */
void resil_inbound_timeout(struct resil *r, struct resil_pass *pass);

/* The retry policy with the reserved name (DaprBuiltIn...), or NULL. */
const struct resiliency_default *resil_named(const struct resil *r, const char *name);

/* Calls fn(target, arg) for each target made so far (for metrics). */
void resil_each(const struct resil *r, void (*fn)(const struct resil_target *t, void *arg), void *arg);

#endif /* OUTRIG_CORE_RESIL_H */
