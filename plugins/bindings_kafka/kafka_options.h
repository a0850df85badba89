/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata of a bindings.kafka / pubsub.kafka component: Dapr's names, checked, as librdkafka settings. */
#ifndef OUTRIG_KAFKA_OPTIONS_H
#define OUTRIG_KAFKA_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include <outrig/plugin.h>

extern const struct outrig_field kf_fields[];

/* What create() keeps of the metadata; every string is the plugin's own copy. */
struct kf_options {
	bool pubsub;	     /* the component is a pubsub.kafka, not a bindings.kafka */
	char *component;     /* metadata.name, for messages */
	char *brokers;	     /* CSV host:port, as given */
	char *topics;	     /* CSV, input binding; NULL: none */
	char *group;	     /* consumerGroup, else consumerID, else the app id; NULL: none */
	char *publish_topic; /* output binding; NULL: none */
	int64_t write_timeout_ms;
	bool oldest; /* initialOffset oldest */
	int64_t heartbeat_ms;
	int64_t session_ms;
	char *strategy;	   /* partition.assignment.strategy */
	char *compression; /* NULL: librdkafka's default */
	/* The authType read from the deprecated authRequired (for a warning), or NULL. Static. */
	const char *auth_from_required;
	/* Security, client id and the other settings both clients share. */
	rd_kafka_conf_t *base;
};

/*
 * Reads and checks cfg and turns it into librdkafka settings (rejected values are reported
 * with the field's name). Returns 0, or OUTRIG_EINVAL / OUTRIG_ENOMEM with err set; o is freed on
 * failure. Ownership: o is the caller's, freed with kf_options_free(). Thread: create().
 */
int kf_options_parse(const struct outrig_config *cfg, struct kf_options *o, struct outrig_error *err);

void kf_options_free(struct kf_options *o);

/* Logs, once per create() or check(), the deprecated settings o was read from. Thread: create(). */
void kf_options_warn(const struct kf_options *o, const struct outrig_host *host, struct outrig_handle *self);

/*
 * Sets one librdkafka property on conf. Returns 0, or OUTRIG_EINVAL with librdkafka's reason in err.
 * Ownership: conf stays the caller's. Thread: any.
 */
int kf_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct outrig_error *err);

/*
 * Adds the consumer's (group timing, assignment strategy, initial offset) or the producer's
 * (compression, writeTimeout) own settings to conf, a copy of o->base. Returns 0 or OUTRIG_EINVAL.
 * Ownership: conf stays the caller's. Thread: any.
 */
int kf_options_consumer(const struct kf_options *o, rd_kafka_conf_t *conf, struct outrig_error *err);
int kf_options_producer(const struct kf_options *o, rd_kafka_conf_t *conf, struct outrig_error *err);

#endif /* OUTRIG_KAFKA_OPTIONS_H */
