/* SPDX-License-Identifier: Apache-2.0 */
/* One event of a publish made ready for the broker: its metadata merged and checked, its CloudEvent made. */
#include "config.h"

#include "blocks/pubsub/pubsub_entry.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <outrig/plugin.h>

#include "blocks/pubsub/cloudevent.h"
#include "components/component.h"

/* Appends key=value to md, whose items have room for it. Returns 0 or -1 (out of memory). */
static int entry_md_append(struct kv_list *md, const char *key, const char *value)
{
	struct outrig_kv *kv = &md->items[md->count];

	kv->key = strdup(key);
	kv->value = strdup(value);
	if (kv->key == NULL || kv->value == NULL) {
		free((char *)kv->key);
		free((char *)kv->value);
		return -1;
	}
	md->count++;
	return 0;
}

/* The keys of a list are unique already: a plain copy, where kv_set's lookups made it quadratic. */
int pubsub_kv_copy(struct kv_list *dst, const struct kv_list *src)
{
	if (src == NULL || src->count == 0)
		return 0;
	dst->items = calloc(src->count, sizeof(*dst->items));
	if (dst->items == NULL)
		return -1;
	for (size_t i = 0; i < src->count; i++) {
		if (entry_md_append(dst, src->items[i].key, src->items[i].value) != 0) {
			kv_free(dst);
			return -1;
		}
	}
	return 0;
}

int pubsub_prepared_init(struct pubsub_prepared *p, const struct pubsub_entry *e)
{
	const char *ct = e->content_type != NULL && e->content_type[0] != '\0' ? e->content_type
										: PUBSUB_DEFAULT_CONTENT_TYPE;

	p->len = e->len;
	/* One spare byte: a raw payload is published from it as it is. */
	p->data = malloc(e->len + 1);
	p->content_type = strdup(ct);
	if (e->entry_id != NULL)
		p->entry_id = strdup(e->entry_id);
	if (p->data == NULL || p->content_type == NULL || (e->entry_id != NULL && p->entry_id == NULL))
		return -1;
	if (e->len > 0)
		memcpy(p->data, e->data, e->len);
	p->data[e->len] = '\0';
	return pubsub_kv_copy(&p->own, e->metadata);
}

/*
 * The entry's metadata over the request's, as daprd merges them: the entry's keys first, then
 * the request's it does not override. Whether it overrides one is a hash lookup, so an entry
 * with many keys costs linear time on the loop.
 */
static int entry_merge_metadata(struct pubsub_prepared *p, const struct kv_list *request_md)
{
	json_t *index = NULL;
	size_t nreq = request_md != NULL ? request_md->count : 0;

	if (p->own.count == 0)
		return pubsub_kv_copy(&p->metadata, request_md);
	if (nreq == 0) {
		p->metadata = p->own;
		memset(&p->own, 0, sizeof(p->own));
		return 0;
	}
	p->metadata.items = calloc(p->own.count + nreq, sizeof(*p->metadata.items));
	if (p->metadata.items == NULL)
		return -1;
	/* The entry's own are moved, not copied. */
	memcpy(p->metadata.items, p->own.items, p->own.count * sizeof(*p->own.items));
	p->metadata.count = p->own.count;
	free(p->own.items);
	memset(&p->own, 0, sizeof(p->own));
	if ((index = json_object()) == NULL)
		return -1;
	for (size_t k = 0; k < p->metadata.count; k++)
		if (json_object_set_new_nocheck(index, p->metadata.items[k].key, json_true()) != 0)
			goto oom;
	for (size_t k = 0; k < nreq; k++) {
		if (json_object_get(index, request_md->items[k].key) == NULL &&
		    entry_md_append(&p->metadata, request_md->items[k].key, request_md->items[k].value) != 0)
			goto oom;
	}
	json_decref(index);
	return 0;
oom:
	json_decref(index);
	return -1;
}

bool pubsub_parse_bool(const char *text, bool *value)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False", NULL };

	for (int i = 0; yes[i] != NULL; i++) {
		if (strcmp(text, yes[i]) == 0)
			return *value = true;
		if (strcmp(text, no[i]) == 0) {
			*value = false;
			return true;
		}
	}
	return false;
}

/* Reads rawPayload and checks ttlInSeconds of md. */
static int entry_check_metadata(const struct kv_list *md, bool *raw, struct block_error *err)
{
	struct outrig_metadata view = kv_view(md);
	const char *text = outrig_metadata_get(&view, "rawPayload");
	char why[256];
	int64_t ttl;

	*raw = false;
	if (text != NULL && text[0] != '\0' && !pubsub_parse_bool(text, raw)) {
		snprintf(why, sizeof(why),
			 "rawPayload value must be a valid boolean: actual is '%s'; use true or false", text);
	} else if (cloudevent_ttl(&view, &ttl, why, sizeof(why)) < 0) {
		;
	} else {
		return 0;
	}
	return block_fail(err, API_ERR_PUBSUB_REQUEST_METADATA, NULL, "failed deserializing metadata: %s", why);
}

static int64_t entry_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The CloudEvent of p's data. */
static int entry_cloudevent(struct pubsub_prepared *p, const struct pubsub_prepare_ctx *ctx,
			    struct block_error *err)
{
	struct outrig_metadata view = kv_view(&p->metadata);
	const struct component *c = ctx->comp;
	struct cloudevent_input in = {
		.pubsub = c->name,
		.topic = ctx->topic,
		.app_id = ctx->app_id,
		.content_type = p->content_type,
		.data = p->data,
		.data_len = p->len,
		.metadata = &view,
		.traceparent = ctx->traceparent,
		.tracestate = ctx->tracestate,
		.now_unix_ms = entry_now_ms(),
		.broker_ttl = c->plugin->desc.pubsub != NULL &&
			      (c->plugin->desc.pubsub->capabilities & OUTRIG_PUBSUB_MESSAGE_TTL) != 0,
	};
	char why[512];
	bool bad_request;

	p->payload = cloudevent_build_text(&in, &p->payload_len, &bad_request, why, sizeof(why));
	if (p->payload != NULL)
		return 0;
	if (bad_request)
		return block_fail(err, API_ERR_PUBSUB_REQUEST_METADATA, NULL, "failed deserializing metadata: %s",
				  why);
	return block_fail(err, API_ERR_PUBSUB_CLOUD_EVENTS_SER, NULL,
			  "cannot create a CloudEvent for topic %s in pubsub %s: %s", ctx->topic, c->name, why);
}

int pubsub_prepared_make(struct pubsub_prepared *p, const struct pubsub_prepare_ctx *ctx,
			 struct block_error *err)
{
	bool raw;

	if (entry_merge_metadata(p, ctx->request_md) != 0)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	if (entry_check_metadata(&p->metadata, &raw, err) != 0)
		return -1;
	if (raw) {
		/* Published as it is: the data becomes the payload. */
		p->payload = p->data;
		p->payload_len = p->len;
		p->data = NULL;
		p->payload_type = p->content_type;
		p->content_type = NULL;
		return 0;
	}
	if (entry_cloudevent(p, ctx, err) != 0)
		return -1;
	free(p->data);
	p->data = NULL;
	p->payload_type = strdup("application/cloudevents+json");
	if (p->payload_type == NULL)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	return 0;
}

void pubsub_prepared_clear(struct pubsub_prepared *p)
{
	free(p->entry_id);
	free(p->data);
	free(p->content_type);
	kv_free(&p->own);
	free(p->payload);
	free(p->payload_type);
	kv_free(&p->metadata);
	free(p->error);
	memset(p, 0, sizeof(*p));
}
