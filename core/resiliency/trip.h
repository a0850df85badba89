/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `trip` expression of a Resiliency circuit breaker: the subset of CEL that Dapr's trips
 * use (comparisons of the breaker's counts with whole numbers, &&, ||, !, parentheses),
 * compiled once into a small postfix program held by value, so policies copy freely.
 */
#ifndef OUTRIG_CORE_TRIP_H
#define OUTRIG_CORE_TRIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRIP_MAX_OPS 64

/* The counts of a breaker, as Dapr (sony/gobreaker) keeps them. */
struct breaker_counts {
	uint64_t requests;
	uint64_t total_successes;
	uint64_t total_failures;
	uint64_t consecutive_successes;
	uint64_t consecutive_failures;
};

struct trip_op {
	uint8_t code; /* enum trip_code in trip.c */
	int64_t value;
};

struct trip {
	uint8_t nops;
	struct trip_op ops[TRIP_MAX_OPS];
};

/*
 * Compiles text into t. On a mistake returns false with a sentence in err naming the column
 * and what was expected. Thread: any.
 */
bool trip_compile(const char *text, struct trip *t, char *err, size_t errlen);

/* Whether t holds for c. A compiled trip always evaluates. Thread: any. */
bool trip_eval(const struct trip *t, const struct breaker_counts *c);

#endif /* OUTRIG_CORE_TRIP_H */
