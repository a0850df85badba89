/* SPDX-License-Identifier: Apache-2.0 */
/* pubsub.test: a broker for the core's tests that fails publishes on purpose, by topic or by metadata. */
#include <stdio.h>
#include <string.h>

#include <outrig/plugin.h>

/*
 * publish() to topic "missing" fails with OUTRIG_ENOTFOUND (the broker has no such topic), to
 * "broken" with OUTRIG_EUNAVAIL, and any message whose metadata has fail=yes with OUTRIG_EUNAVAIL;
 * every other message is accepted and forgotten. subscribe() accepts and never delivers.
 */

static int pt_create(const struct outrig_host *host, struct outrig_handle *self, const struct outrig_config *cfg,
		     void **instance, struct outrig_error *err)
{
	static int token;

	*instance = &token;
	return 0;
}

static void pt_destroy(void *instance)
{
}

static int pt_publish(void *instance, const struct outrig_pubsub_publish *req, struct outrig_error *err)
{
	const char *fail = outrig_metadata_get(&req->metadata, "fail");

	if (strcmp(req->topic, "missing") == 0)
		return outrig_err(err, OUTRIG_ENOTFOUND, "the test broker has no topic %s", req->topic);
	if (strcmp(req->topic, "broken") == 0 || (fail != NULL && strcmp(fail, "yes") == 0))
		return outrig_err(err, OUTRIG_EUNAVAIL, "the test broker fails on purpose");
	return 0;
}

static int pt_subscribe(void *instance, const struct outrig_pubsub_subscribe *req, struct outrig_error *err)
{
	return 0;
}

static const struct outrig_pubsub_ops pt_ops = {
	.struct_size = sizeof(struct outrig_pubsub_ops),
	.publish = pt_publish,
	.subscribe = pt_subscribe,
};

static const char *const pt_versions[] = { "v1", NULL };

static const struct outrig_plugin pt_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "pubsub.test",
	.versions = pt_versions,
	.plugin_version = "0.1.0",
	.description = "test broker: fails publishes on purpose (topics missing and broken, metadata fail=yes)",
	.create = pt_create,
	.destroy = pt_destroy,
	.pubsub = &pt_ops,
};

OUTRIG_PLUGIN(pt_plugin)
