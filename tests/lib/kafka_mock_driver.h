/* SPDX-License-Identifier: Apache-2.0 */
/* Runs tests/kafka_mock (librdkafka's mock cluster) for a test and sends it commands. */
#ifndef OUTRIG_TESTS_KAFKA_MOCK_DRIVER_H
#define OUTRIG_TESTS_KAFKA_MOCK_DRIVER_H

#include <stdio.h>
#include <sys/types.h>

struct kafka_mock {
	pid_t pid;
	FILE *to;	      /* its stdin */
	FILE *from;	      /* its stdout */
	char bootstrap[1024]; /* "127.0.0.1:p1,127.0.0.1:p2,..." */
};

/*
 * Starts the helper with brokers mock brokers: $OUTRIG_BUILDDIR/tests/kafka_mock, else
 * ./tests/kafka_mock. It dies with the calling thread. Returns 0 or -1 (the reason on stderr).
 * Ownership: m is the caller's; stop it with kafka_mock_stop(). Thread: the test's.
 */
int kafka_mock_start(struct kafka_mock *m, int brokers);

/*
 * Sends one command ("down all", "up 2", "create orders 4") and waits for its answer.
 * Returns 0 on "ok", -1 otherwise (the answer on stderr).
 */
int kafka_mock_cmd(struct kafka_mock *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * How many records of topic (its partitions 0..partitions-1, read from the start) hold needle
 * (no spaces), read by the helper's own consumer. Returns the count, or -1 (the reason on stderr).
 */
long kafka_mock_count(struct kafka_mock *m, const char *topic, int partitions, const char *needle);

/* Says quit and waits for the helper to end (killing it after 5 s). */
void kafka_mock_stop(struct kafka_mock *m);

#endif /* OUTRIG_TESTS_KAFKA_MOCK_DRIVER_H */
