/* SPDX-License-Identifier: Apache-2.0 */
/* pubsub.mqtt3: MQTT 3.1.1 through paho's MQTTAsync, with received messages spooled in SQLite until settled. */
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "mqtt_client.h"
#include "mqtt_options.h"
#include "mqtt_receive.h"

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

struct mq_instance {
	const struct outrig_host *host;
	struct outrig_handle *self;
	struct mq_options opts;
	struct mq_receiver *receiver;
	struct mq_client *client;
};

static void mq_free(struct mq_instance *m)
{
	/* The client first: no message may arrive into a receiver being freed. */
	mq_client_stop(m->client);
	mq_receiver_free(m->receiver);
	mq_options_free(&m->opts);
	free(m);
}

static int mq_create(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	struct mq_instance *m = calloc(1, sizeof(*m));
	int rc;

	if (m == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	m->host = host;
	m->self = self;
	rc = mq_options_parse(cfg, host, &m->opts, err);
	if (rc != OUTRIG_OK) {
		free(m);
		return rc;
	}
	if (m->opts.generated_id)
		host->log(self, OUTRIG_LOG_WARN,
			  "no consumerID and no app id: using the generated MQTT client id \"%s\", so the "
			  "broker keeps no session across restarts; set consumerID (or --app-id) to keep one",
			  m->opts.client_id);
	/* The receiver exists before the connection: a stored session delivers right after CONNACK. */
	rc = mq_receiver_new(host, self, m->opts.spool_path, &m->receiver, err);
	if (rc == OUTRIG_OK)
		rc = mq_client_start(&m->opts, host, self, outrig_config_init_timeout_ms(cfg),
				     mq_receiver_arrived, m->receiver, &m->client, err);
	if (rc != OUTRIG_OK) {
		mq_free(m);
		return rc;
	}
	host->log(
		self, OUTRIG_LOG_INFO,
		"connected to the MQTT broker at %s as client id \"%s\" (QoS %d, cleanSession %s), spool %s",
		m->opts.where, m->opts.client_id, m->opts.qos, m->opts.clean_session ? "true" : "false",
		m->opts.spool_path);
	*instance = m;
	return OUTRIG_OK;
}

static void mq_destroy(void *instance)
{
	if (instance != NULL)
		mq_free(instance);
}

static int mq_publish(void *instance, const struct outrig_pubsub_publish *req, struct outrig_error *err)
{
	struct mq_instance *m = instance;
	const char *retain_text = outrig_metadata_get(&req->metadata, "retain");
	bool retain = m->opts.retain;

	if (retain_text != NULL && *retain_text != '\0' && !mq_parse_bool(retain_text, &retain))
		return outrig_err(err, OUTRIG_EINVAL, "metadata retain is \"%s\"; use true or false",
				  retain_text);
	return mq_client_publish(m->client, req->topic, req->data, req->data_len, retain, err);
}

static int mq_subscribe(void *instance, const struct outrig_pubsub_subscribe *req, struct outrig_error *err)
{
	struct mq_instance *m = instance;
	struct mq_sub *sub;
	int rc;

	if (req->sink == NULL)
		return outrig_err(err, OUTRIG_EINVAL,
				  "subscription to \"%s\" has no destination (a core bug)",
				  req->topic != NULL ? req->topic : "");
	/* Registered before the SUBSCRIBE goes out, so what the broker sends meanwhile is spooled for it. */
	sub = req->topic != NULL ? mq_receiver_add(m->receiver, req->topic, req->sink) : NULL;
	if (sub == NULL && req->topic != NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	rc = mq_client_subscribe(m->client, req->topic, err);
	if (rc != OUTRIG_OK) {
		if (sub != NULL)
			mq_receiver_drop(m->receiver, sub);
		return rc;
	}
	return mq_receiver_start(m->receiver, sub, err);
}

static const struct outrig_pubsub_ops mq_ops = {
	.struct_size = sizeof(struct outrig_pubsub_ops),
	.capabilities = OUTRIG_PUBSUB_WILDCARDS,
	.publish = mq_publish,
	.subscribe = mq_subscribe,
};

static const char *const mq_versions[] = { "v1", NULL };

static const struct outrig_plugin mq_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "pubsub.mqtt3",
	.versions = mq_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "MQTT 3.1.1 broker (paho-mqtt-c), at least once: received messages are spooled in "
		       "SQLite until the app settled them",
	.fields = mq_fields,
	/* Not serial: publishes wait for their acknowledgements side by side on one connection. */
	.flags = 0,
	.create = mq_create,
	.destroy = mq_destroy,
	.pubsub = &mq_ops,
};

OUTRIG_PLUGIN(mq_plugin)
