/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.kafka and pubsub.kafka through librdkafka: one file, two component types, at least once. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "kafka_consumer.h"
#include "kafka_options.h"
#include "kafka_producer.h"

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

struct kf_instance {
	const struct outrig_host *host;
	struct outrig_handle *self;
	struct kf_options opts;
	struct kf_producer *producer;
	struct kf_consumer *consumer; /* made by the first start_input() or subscribe() */
	pthread_mutex_t mu;	      /* guards consumer's creation */
};

static void kf_free(struct kf_instance *k)
{
	/* The consumer first: it commits what the core settled before the group forgets this member. */
	kf_consumer_free(k->consumer);
	kf_producer_free(k->producer);
	kf_options_free(&k->opts);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

static int kf_create(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	struct kf_instance *k = calloc(1, sizeof(*k));
	int rc;

	if (k == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	k->host = host;
	k->self = self;
	pthread_mutex_init(&k->mu, NULL);
	rc = kf_options_parse(cfg, &k->opts, err);
	if (rc != OUTRIG_OK) {
		pthread_mutex_destroy(&k->mu);
		free(k);
		return rc;
	}
	kf_options_warn(&k->opts, host, self);
	/* The producer also proves the brokers answer, so a wrong address fails at start-up. */
	rc = kf_producer_new(&k->opts, host, self, outrig_config_init_timeout_ms(cfg), &k->producer, err);
	if (rc != OUTRIG_OK) {
		kf_free(k);
		return rc;
	}
	host->log(self, OUTRIG_LOG_INFO, "connected to Kafka at %s as %s%s%s", k->opts.brokers, cfg->type,
		  k->opts.group != NULL ? ", consumer group " : "",
		  k->opts.group != NULL ? k->opts.group : "");
	*instance = k;
	return OUTRIG_OK;
}

/* What create() refuses before connecting, for outrigd --check: the same parser. */
static int kf_check(const struct outrig_host *host, struct outrig_handle *self,
		    const struct outrig_config *cfg, struct outrig_error *err)
{
	struct kf_options o;
	int rc = kf_options_parse(cfg, &o, err);

	if (rc == OUTRIG_OK) {
		kf_options_warn(&o, host, self);
		kf_options_free(&o);
	}
	return rc;
}

static void kf_destroy(void *instance)
{
	if (instance != NULL)
		kf_free(instance);
}

/* Dapr's message key: partitionKey, or __key. */
static const char *kf_key(const struct outrig_metadata *md)
{
	const char *key = outrig_metadata_get(md, "partitionKey");

	return key != NULL ? key : outrig_metadata_get(md, "__key");
}

/* An explicit partition: partitionNumber (Dapr's), or partition. -1 when absent; -2 when not a number. */
static int32_t kf_partition(const struct outrig_metadata *md, const char **text)
{
	const char *v = outrig_metadata_get(md, "partitionNumber");
	char *end;
	long n;

	if (v == NULL)
		v = outrig_metadata_get(md, "partition");
	*text = v;
	if (v == NULL || *v == '\0')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > INT32_MAX)
		return -2;
	return (int32_t)n;
}

static int kf_send(struct kf_instance *k, const char *topic, const void *data, size_t len,
		   const struct outrig_metadata *md, struct outrig_error *err)
{
	const char *ptext;
	int32_t partition = kf_partition(md, &ptext);

	if (partition == -2)
		return outrig_err(err, OUTRIG_EINVAL,
				  "metadata partitionNumber is \"%s\"; give a partition number", ptext);
	return kf_producer_send(k->producer, topic, partition, kf_key(md), data, len, md, err);
}

static int kf_invoke(void *instance, const struct outrig_binding_request *req,
		     struct outrig_binding_response *resp, struct outrig_error *err)
{
	struct kf_instance *k = instance;

	(void)resp;
	if (req->operation == NULL || strcmp(req->operation, "create") != 0)
		return outrig_err(err, OUTRIG_ENOTSUP, "binding %s supports the operation create, not %s",
				  k->opts.component, req->operation != NULL ? req->operation : "(none)");
	if (k->opts.publish_topic == NULL)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"binding %s has no publishTopic; set it in the component to use it as an output",
			k->opts.component);
	return kf_send(k, k->opts.publish_topic, req->data, req->data_len, &req->metadata, err);
}

/* The consumer, made on first use: an output-only component never joins a group. */
static int kf_consumer(struct kf_instance *k, struct kf_consumer **out, struct outrig_error *err)
{
	int rc = OUTRIG_OK;

	pthread_mutex_lock(&k->mu);
	if (k->consumer == NULL)
		rc = kf_consumer_new(&k->opts, k->host, k->self, &k->consumer, err);
	*out = k->consumer;
	pthread_mutex_unlock(&k->mu);
	return rc;
}

static int kf_start_input(void *instance, struct outrig_binding_sink *sink, struct outrig_error *err)
{
	struct kf_instance *k = instance;
	struct kf_consumer *c;
	char *topics, *save = NULL;
	int rc, n = 0;

	if (k->opts.topics == NULL)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"binding %s has no topics; set topics (comma-separated) to use it as an input",
			k->opts.component);
	rc = kf_consumer(k, &c, err);
	if (rc != OUTRIG_OK)
		return rc;
	topics = strdup(k->opts.topics);
	if (topics == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	for (char *t = strtok_r(topics, ",", &save); t != NULL && rc == OUTRIG_OK;
	     t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ' || *t == '\t')
			t++;
		for (char *e = t + strlen(t); e > t && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		if (*t == '\0')
			continue;
		rc = kf_consumer_add(c, t, sink, err);
		n++;
	}
	free(topics);
	if (rc == OUTRIG_OK && n == 0)
		return outrig_err(err, OUTRIG_EINVAL, "binding %s: topics \"%s\" names no topic",
				  k->opts.component, k->opts.topics);
	return rc;
}

static int kf_publish(void *instance, const struct outrig_pubsub_publish *req, struct outrig_error *err)
{
	struct kf_instance *k = instance;

	return kf_send(k, req->topic, req->data, req->data_len, &req->metadata, err);
}

static int kf_subscribe(void *instance, const struct outrig_pubsub_subscribe *req, struct outrig_error *err)
{
	struct kf_instance *k = instance;
	struct kf_consumer *c;
	int rc;

	if (req->sink == NULL || req->topic == NULL || *req->topic == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "subscription of %s has no topic or destination (a core bug)",
				  k->opts.component);
	rc = kf_consumer(k, &c, err);
	return rc == OUTRIG_OK ? kf_consumer_add(c, req->topic, req->sink, err) : rc;
}

static const char *const kf_operations[] = { "create", NULL };

static const struct outrig_binding_ops kf_binding_ops = {
	.struct_size = sizeof(struct outrig_binding_ops),
	.operations = kf_operations,
	.invoke = kf_invoke,
	.start_input = kf_start_input,
};

static const struct outrig_pubsub_ops kf_pubsub_ops = {
	.struct_size = sizeof(struct outrig_pubsub_ops),
	.capabilities = 0,
	.publish = kf_publish,
	.subscribe = kf_subscribe,
};

static const char *const kf_versions[] = { "v1", NULL };
static const char *const kf_also[] = { "pubsub.kafka", NULL };

static const struct outrig_plugin kf_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "bindings.kafka",
	.versions = kf_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "Apache Kafka (librdkafka): output create and input through a consumer group, also "
		       "pubsub.kafka; offsets committed only once the app settled the message",
	.fields = kf_fields,
	/* Not serial: sends wait for their acknowledgements side by side on one producer. */
	.flags = 0,
	.create = kf_create,
	.destroy = kf_destroy,
	.bindings = &kf_binding_ops,
	.pubsub = &kf_pubsub_ops,
	.also_types = kf_also,
	.check = kf_check,
};

OUTRIG_PLUGIN(kf_plugin)
