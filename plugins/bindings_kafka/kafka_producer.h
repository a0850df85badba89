/* SPDX-License-Identifier: Apache-2.0 */
/* The producer of a Kafka component: one librdkafka producer, each send waiting for its acknowledgement. */
#ifndef OUTRIG_KAFKA_PRODUCER_H
#define OUTRIG_KAFKA_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include <outrig/plugin.h>

#include "kafka_options.h"

struct kf_producer;

/*
 * Starts a producer (acks=all) and checks within init_timeout_ms that the brokers answer.
 * Returns 0, or OUTRIG_EUNAVAIL / OUTRIG_EINVAL / OUTRIG_ENOMEM with err set.
 * Ownership: *out is the caller's, freed with kf_producer_free(); o must outlive it.
 * Thread: create().
 */
int kf_producer_new(const struct kf_options *o, const struct outrig_host *host, struct outrig_handle *self,
		    int64_t init_timeout_ms, struct kf_producer **out, struct outrig_error *err);

/*
 * Sends one message and returns once every in-sync replica has it (0), or with OUTRIG_ETIMEDOUT when
 * writeTimeout passed first, OUTRIG_EUNAVAIL / OUTRIG_EINVAL on the broker's refusal. partition < 0
 * lets the key pick it; key NULL: none. Every metadata entry goes along as a header.
 * Ownership: all arguments are the caller's. Thread: any; sends run side by side.
 */
int kf_producer_send(struct kf_producer *p, const char *topic, int32_t partition, const char *key,
		     const void *data, size_t len, const struct outrig_metadata *headers,
		     struct outrig_error *err);

/* Flushes what is in flight (bounded by writeTimeout) and frees p. Thread: destroy(). */
void kf_producer_free(struct kf_producer *p);

/* librdkafka's log lines and errors, into the host's log. Thread: librdkafka's. */
void kf_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
void kf_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque);

/* What kf_log_cb and kf_error_cb need: set as the handle's opaque before rd_kafka_new. */
struct kf_logger {
	const struct outrig_host *host;
	struct outrig_handle *self;
	const char *what; /* "producer" or "consumer" */
};

#endif /* OUTRIG_KAFKA_PRODUCER_H */
