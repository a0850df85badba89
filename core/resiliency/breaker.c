/* SPDX-License-Identifier: Apache-2.0 */
/* Circuit breaker state (see breaker.h). */
#include "config.h"

#include "resiliency/breaker.h"

#include <string.h>

static void breaker_generation(struct breaker *b, int64_t now_ms)
{
	b->generation++;
	memset(&b->counts, 0, sizeof(b->counts));
	switch (b->state) {
	case BREAKER_CLOSED:
		b->expiry_ms = b->policy.interval_ms > 0 ? now_ms + b->policy.interval_ms : 0;
		break;
	case BREAKER_OPEN: b->expiry_ms = now_ms + b->policy.timeout_ms; break;
	case BREAKER_HALF_OPEN: b->expiry_ms = 0; break;
	}
}

static void breaker_set(struct breaker *b, enum breaker_state s, int64_t now_ms)
{
	if (b->state == s)
		return;
	b->state = s;
	if (s == BREAKER_OPEN)
		b->opened++;
	breaker_generation(b, now_ms);
}

void breaker_init(struct breaker *b, const struct breaker_policy *p, int64_t now_ms)
{
	memset(b, 0, sizeof(*b));
	b->policy = *p;
	if (b->policy.max_requests == 0)
		b->policy.max_requests = 1;
	b->state = BREAKER_CLOSED;
	breaker_generation(b, now_ms);
}

enum breaker_state breaker_state(struct breaker *b, int64_t now_ms)
{
	if (b->state == BREAKER_CLOSED && b->expiry_ms != 0 && b->expiry_ms < now_ms)
		breaker_generation(b, now_ms);
	else if (b->state == BREAKER_OPEN && b->expiry_ms < now_ms)
		breaker_set(b, BREAKER_HALF_OPEN, now_ms);
	return b->state;
}

enum breaker_refusal breaker_allow(struct breaker *b, int64_t now_ms, uint64_t *generation)
{
	enum breaker_state s = breaker_state(b, now_ms);

	if (s == BREAKER_OPEN)
		return BREAKER_IS_OPEN;
	if (s == BREAKER_HALF_OPEN && b->counts.requests >= b->policy.max_requests)
		return BREAKER_TOO_MANY;
	b->counts.requests++;
	*generation = b->generation;
	return BREAKER_ALLOWED;
}

void breaker_done(struct breaker *b, int64_t now_ms, uint64_t generation, bool success)
{
	enum breaker_state s = breaker_state(b, now_ms);

	if (generation != b->generation)
		return;
	if (success) {
		b->counts.total_successes++;
		b->counts.consecutive_successes++;
		b->counts.consecutive_failures = 0;
		if (s == BREAKER_HALF_OPEN && b->counts.consecutive_successes >= b->policy.max_requests)
			breaker_set(b, BREAKER_CLOSED, now_ms);
		return;
	}
	b->counts.total_failures++;
	b->counts.consecutive_failures++;
	b->counts.consecutive_successes = 0;
	if (s == BREAKER_HALF_OPEN || (s == BREAKER_CLOSED && trip_eval(&b->policy.trip, &b->counts)))
		breaker_set(b, BREAKER_OPEN, now_ms);
}

const char *breaker_refusal_text(enum breaker_refusal r)
{
	return r == BREAKER_TOO_MANY ? "too many requests" : "circuit breaker is open";
}
