/* SPDX-License-Identifier: Apache-2.0 */
/* Publishing through a pub/sub plugin off the event loop, for the publish API and the dead-letter path. */
#include "config.h"

#include "blocks/pubsub/pubsub_publish.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "components/component.h"
#include "components/component_call.h"
#include "base/kv.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "runtime.h"
#include "base/workers.h"

/* One publish in flight; owns copies of everything, so its caller may be gone meanwhile. */
struct pubsub_publish {
	struct work work; /* first: the worker hands back this pointer */
	struct component *comp;
	char *topic;
	void *data;
	size_t len;
	char *content_type;
	struct kv_list metadata;
	pubsub_publish_cb cb;
	void *arg;
	int rc;
	struct outrig_error err;
	double started_ms; /* metrics_now_ms() at submission */
};

static void pubsub_publish_free(struct pubsub_publish *p)
{
	kv_free(&p->metadata);
	free(p->topic);
	free(p->data);
	free(p->content_type);
	free(p);
}

/* Set while this thread is inside a plugin's publish(): see pubsub_publish_in_call(). */
static _Thread_local bool publish_in_call;

bool pubsub_publish_in_call(void)
{
	return publish_in_call;
}

static void pubsub_publish_run(struct work *w)
{
	struct pubsub_publish *p = (struct pubsub_publish *)w;
	struct outrig_pubsub_publish req = {
		.topic = p->topic,
		.data = p->data,
		.data_len = p->len,
		.content_type = p->content_type,
		.metadata = kv_view(&p->metadata),
	};

	publish_in_call = true;
	p->rc = p->comp->plugin->desc.pubsub->publish(p->comp->instance, &req, &p->err);
	publish_in_call = false;
	/* A plugin that fails without a word still gets a cause into the error message. */
	if (p->rc != 0 && p->err.message[0] == '\0')
		outrig_err(&p->err, p->rc, "the %s plugin failed with %s and gave no reason", p->comp->type,
			   outrig_status_name(p->rc));
}

static void pubsub_publish_done(struct work *w)
{
	struct pubsub_publish *p = (struct pubsub_publish *)w;

	dm_component(DM_PUBSUB_EGRESS, p->comp->name, p->topic, p->rc == 0, metrics_now_ms() - p->started_ms);
	p->cb(p->arg, p->rc, p->err.message);
	pubsub_publish_free(p);
}

/* ---- under the component's Resiliency policy (component_call_run) ---- */

static int pubsub_publish_status(struct work *w)
{
	return ((struct pubsub_publish *)w)->rc;
}

static void pubsub_publish_reset(struct work *w)
{
	struct pubsub_publish *p = (struct pubsub_publish *)w;

	p->rc = 0;
	memset(&p->err, 0, sizeof(p->err));
}

/* A worker may still hold p: only cb and arg, which run() never writes, are read. */
static void pubsub_publish_answer(struct work *w, int status, const char *message)
{
	struct pubsub_publish *p = (struct pubsub_publish *)w;

	p->cb(p->arg, status, message);
}

static void pubsub_publish_discard(struct work *w)
{
	pubsub_publish_free((struct pubsub_publish *)w);
}

static const struct component_call_ops pubsub_publish_ops = {
	.status = pubsub_publish_status,
	.reset = pubsub_publish_reset,
	.answer = pubsub_publish_answer,
	.discard = pubsub_publish_discard,
};

/*
 * A component whose create() failed is kept so that requests name the cause; it has no
 * instance to call. Answered from a worker all the same, so cb never runs inside submit.
 */
static void pubsub_publish_unavailable(struct work *w)
{
	struct pubsub_publish *p = (struct pubsub_publish *)w;

	p->rc = outrig_err(&p->err, OUTRIG_EUNAVAIL, "%s", p->comp->failure);
}

int pubsub_publish_submit(struct server *srv, struct component *c, const char *topic, const void *data,
			  size_t len, const char *content_type, const struct outrig_metadata *md,
			  pubsub_publish_cb cb, void *arg)
{
	struct pubsub_publish *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	p->comp = c;
	p->cb = cb;
	p->arg = arg;
	p->len = len;
	p->topic = strdup(topic);
	p->content_type = strdup(content_type != NULL ? content_type : "");
	p->data = malloc(len > 0 ? len : 1);
	if (p->topic == NULL || p->content_type == NULL || p->data == NULL) {
		pubsub_publish_free(p);
		return -1;
	}
	if (len > 0)
		memcpy(p->data, data, len);
	/* The keys are unique already: a plain copy, where kv_set's lookups made it quadratic. */
	if (md != NULL && md->count > 0 &&
	    (p->metadata.items = calloc(md->count, sizeof(*p->metadata.items))) == NULL) {
		pubsub_publish_free(p);
		return -1;
	}
	for (size_t i = 0; md != NULL && i < md->count; i++) {
		struct outrig_kv *kv = &p->metadata.items[i];

		kv->key = strdup(md->items[i].key);
		kv->value = strdup(md->items[i].value);
		if (kv->key == NULL || kv->value == NULL) {
			free((char *)kv->key);
			free((char *)kv->value);
			pubsub_publish_free(p);
			return -1;
		}
		p->metadata.count++;
	}
	p->work.run =
		c->instance == NULL && c->failure != NULL ? pubsub_publish_unavailable : pubsub_publish_run;
	p->work.done = pubsub_publish_done;
	p->started_ms = metrics_start_ms();
	component_call_run(srv, c, &p->work, &pubsub_publish_ops);
	return 0;
}
