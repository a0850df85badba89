/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A circuit breaker as Dapr's (sony/gobreaker) behaves: closed, open for `timeout` once the
 * trip expression holds, then half-open letting `maxRequests` calls through; counts reset each
 * `interval` while closed and at every change of state. Transport- and clock-free: the caller
 * passes the time. Thread: one (the loop).
 */
#ifndef OUTRIG_CORE_BREAKER_H
#define OUTRIG_CORE_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "resources/resiliency.h"
#include "resiliency/trip.h"

enum breaker_state {
	BREAKER_CLOSED,
	BREAKER_HALF_OPEN,
	BREAKER_OPEN,
};

/* Why breaker_allow refused. */
enum breaker_refusal {
	BREAKER_ALLOWED = 0,
	BREAKER_IS_OPEN,  /* "circuit breaker is open" */
	BREAKER_TOO_MANY, /* half-open with maxRequests calls out: "too many requests" */
};

struct breaker {
	struct breaker_policy policy;
	enum breaker_state state;
	struct breaker_counts counts;
	uint64_t generation;
	int64_t expiry_ms; /* 0: none */
	uint64_t opened;   /* times it tripped, for metrics */
};

void breaker_init(struct breaker *b, const struct breaker_policy *p, int64_t now_ms);

/* The state at now_ms (moving from open to half-open, or to a new count period). */
enum breaker_state breaker_state(struct breaker *b, int64_t now_ms);

/*
 * Before a call: BREAKER_ALLOWED (and *generation to give back to breaker_done), or why not.
 */
enum breaker_refusal breaker_allow(struct breaker *b, int64_t now_ms, uint64_t *generation);

/* After an allowed call: its outcome. A call of an earlier generation counts for nothing. */
void breaker_done(struct breaker *b, int64_t now_ms, uint64_t generation, bool success);

/* Dapr's (gobreaker's) message for a refusal. */
const char *breaker_refusal_text(enum breaker_refusal r);

#endif /* OUTRIG_CORE_BREAKER_H */
