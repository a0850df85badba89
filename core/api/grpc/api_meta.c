/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's GetMetadata, SetMetadata and Shutdown over gRPC, rendered from blocks/metadata. */
#include "config.h"

#include "api/grpc/api_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_unpack.h"
#include "api/grpc/grpc_errors.h"
#include "blocks/metadata/metadata.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"

/*
 * Everything a GetMetadataResponse points to, allocated at once per list and freed together; the
 * strings stay the document's.
 */
struct grpc_meta_parts {
	Dapr__Proto__Runtime__V1__RegisteredComponents *comps, **comp_ptrs;
	Dapr__Proto__Runtime__V1__GetMetadataResponse__ExtendedMetadataEntry *ext, **ext_ptrs;
	Dapr__Proto__Runtime__V1__PubsubSubscription *subs, **sub_ptrs;
	Dapr__Proto__Runtime__V1__PubsubSubscriptionRules *rules;
	Dapr__Proto__Runtime__V1__PubsubSubscriptionRule **rule_items, ***rule_ptrs;
	Dapr__Proto__Runtime__V1__PubsubSubscription__MetadataEntry **sub_md, ***sub_md_ptrs;
	size_t nsubs;
	char reloads[2][24]; /* outrig.reload.applied and .refused as text */
};

/* outrig's own entries after the app's in extended_metadata (HTTP has them under an "outrig" key). */
#define GRPC_META_OUTRIG_ENTRIES 4

static void grpc_meta_parts_free(struct grpc_meta_parts *p)
{
	for (size_t i = 0; i < p->nsubs; i++) {
		if (p->rule_items != NULL)
			free(p->rule_items[i]);
		if (p->rule_ptrs != NULL)
			free(p->rule_ptrs[i]);
		if (p->sub_md != NULL)
			free(p->sub_md[i]);
		if (p->sub_md_ptrs != NULL)
			free(p->sub_md_ptrs[i]);
	}
	free(p->rule_items);
	free(p->rule_ptrs);
	free(p->sub_md);
	free(p->sub_md_ptrs);
	free(p->rules);
	free(p->subs);
	free(p->sub_ptrs);
	free(p->ext);
	free(p->ext_ptrs);
	free(p->comps);
	free(p->comp_ptrs);
}

static const char *grpc_meta_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "";
}

/* One subscription of the pub/sub block's description (metadata.h says its shape). */
static int grpc_meta_subscription(struct grpc_meta_parts *p, size_t i, json_t *sub)
{
	Dapr__Proto__Runtime__V1__PubsubSubscription *s = &p->subs[i];
	json_t *rules = json_object_get(sub, "rules"), *md = json_object_get(sub, "metadata"), *rule, *value;
	size_t nrules = json_array_size(rules), nmd = json_object_size(md), k;
	const char *key;

	dapr__proto__runtime__v1__pubsub_subscription__init(s);
	s->pubsub_name = (char *)grpc_meta_str(sub, "pubsubname");
	s->topic = (char *)grpc_meta_str(sub, "topic");
	s->dead_letter_topic = (char *)grpc_meta_str(sub, "deadLetterTopic");
	s->type = strcmp(grpc_meta_str(sub, "type"), "DECLARATIVE") == 0
			  ? DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__DECLARATIVE
			  : DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__PROGRAMMATIC;
	dapr__proto__runtime__v1__pubsub_subscription_rules__init(&p->rules[i]);
	s->rules = &p->rules[i];
	if (nrules > 0) {
		if ((p->rule_items[i] = calloc(nrules, sizeof(*p->rule_items[i]))) == NULL ||
		    (p->rule_ptrs[i] = calloc(nrules, sizeof(*p->rule_ptrs[i]))) == NULL)
			return -1;
		json_array_foreach(rules, k, rule)
		{
			dapr__proto__runtime__v1__pubsub_subscription_rule__init(&p->rule_items[i][k]);
			p->rule_items[i][k].match = (char *)grpc_meta_str(rule, "match");
			p->rule_items[i][k].path = (char *)grpc_meta_str(rule, "path");
			p->rule_ptrs[i][k] = &p->rule_items[i][k];
		}
		p->rules[i].n_rules = nrules;
		p->rules[i].rules = p->rule_ptrs[i];
	}
	if (nmd > 0) {
		if ((p->sub_md[i] = calloc(nmd, sizeof(*p->sub_md[i]))) == NULL ||
		    (p->sub_md_ptrs[i] = calloc(nmd, sizeof(*p->sub_md_ptrs[i]))) == NULL)
			return -1;
		k = 0;
		json_object_foreach(md, key, value)
		{
			dapr__proto__runtime__v1__pubsub_subscription__metadata_entry__init(&p->sub_md[i][k]);
			p->sub_md[i][k].key = (char *)key;
			p->sub_md[i][k].value =
				(char *)(json_is_string(value) ? json_string_value(value) : "");
			p->sub_md_ptrs[i][k] = &p->sub_md[i][k];
			k++;
		}
		s->n_metadata = k;
		s->metadata = p->sub_md_ptrs[i];
	}
	p->sub_ptrs[i] = s;
	return 0;
}

static void grpc_meta_ext(struct grpc_meta_parts *p, size_t *i, const char *key, const char *value)
{
	dapr__proto__runtime__v1__get_metadata_response__extended_metadata_entry__init(&p->ext[*i]);
	p->ext[*i].key = (char *)key;
	p->ext[*i].value = (char *)value;
	p->ext_ptrs[*i] = &p->ext[*i];
	(*i)++;
}

/* Fills resp from doc. Returns 0, or -1 when out of memory. */
static int grpc_meta_render(const struct metadata_doc *doc,
			    Dapr__Proto__Runtime__V1__GetMetadataResponse *resp, struct grpc_meta_parts *p)
{
	size_t next = json_object_size(doc->extended), i = 0;
	const char *key;
	json_t *value, *sub;

	p->nsubs = json_array_size(doc->subscriptions);
	p->comps = calloc(doc->ncomponents + 1, sizeof(*p->comps));
	p->comp_ptrs = calloc(doc->ncomponents + 1, sizeof(*p->comp_ptrs));
	p->ext = calloc(next + GRPC_META_OUTRIG_ENTRIES, sizeof(*p->ext));
	p->ext_ptrs = calloc(next + GRPC_META_OUTRIG_ENTRIES, sizeof(*p->ext_ptrs));
	p->subs = calloc(p->nsubs + 1, sizeof(*p->subs));
	p->sub_ptrs = calloc(p->nsubs + 1, sizeof(*p->sub_ptrs));
	p->rules = calloc(p->nsubs + 1, sizeof(*p->rules));
	p->rule_items = calloc(p->nsubs + 1, sizeof(*p->rule_items));
	p->rule_ptrs = calloc(p->nsubs + 1, sizeof(*p->rule_ptrs));
	p->sub_md = calloc(p->nsubs + 1, sizeof(*p->sub_md));
	p->sub_md_ptrs = calloc(p->nsubs + 1, sizeof(*p->sub_md_ptrs));
	if (p->comps == NULL || p->comp_ptrs == NULL || p->ext == NULL || p->ext_ptrs == NULL ||
	    p->subs == NULL || p->sub_ptrs == NULL || p->rules == NULL || p->rule_items == NULL ||
	    p->rule_ptrs == NULL || p->sub_md == NULL || p->sub_md_ptrs == NULL)
		return -1;
	resp->id = (char *)doc->id;
	resp->runtime_version = (char *)doc->runtime_version;
	for (size_t k = 0; k < doc->ncomponents; k++) {
		const struct metadata_component *mc = &doc->components[k];

		dapr__proto__runtime__v1__registered_components__init(&p->comps[k]);
		p->comps[k].name = (char *)mc->name;
		p->comps[k].type = (char *)mc->type;
		p->comps[k].version = (char *)mc->version;
		p->comps[k].n_capabilities = mc->ncapabilities;
		p->comps[k].capabilities = (char **)mc->capabilities;
		p->comp_ptrs[k] = &p->comps[k];
	}
	resp->n_registered_components = doc->ncomponents;
	resp->registered_components = p->comp_ptrs;
	json_object_foreach(doc->extended, key, value)
	{
		if (!json_is_string(value))
			continue;
		dapr__proto__runtime__v1__get_metadata_response__extended_metadata_entry__init(&p->ext[i]);
		p->ext[i].key = (char *)key;
		p->ext[i].value = (char *)json_string_value(value);
		p->ext_ptrs[i] = &p->ext[i];
		i++;
	}
	snprintf(p->reloads[0], sizeof(p->reloads[0]), "%u", doc->reloads);
	snprintf(p->reloads[1], sizeof(p->reloads[1]), "%u", doc->reloads_refused);
	grpc_meta_ext(p, &i, "outrig.reload.applied", p->reloads[0]);
	grpc_meta_ext(p, &i, "outrig.reload.refused", p->reloads[1]);
	if (doc->reload_error != NULL)
		grpc_meta_ext(p, &i, "outrig.reload.lastError", doc->reload_error);
	if (doc->reload_last_at != NULL)
		grpc_meta_ext(p, &i, "outrig.reload.lastAt", doc->reload_last_at);
	resp->n_extended_metadata = i;
	resp->extended_metadata = p->ext_ptrs;
	json_array_foreach(doc->subscriptions, i, sub) if (grpc_meta_subscription(p, i, sub) != 0) return -1;
	resp->n_subscriptions = p->nsubs;
	resp->subscriptions = p->sub_ptrs;
	return 0;
}

static void grpc_get_metadata(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__GetMetadataResponse resp =
		DAPR__PROTO__RUNTIME__V1__GET_METADATA_RESPONSE__INIT;
	Dapr__Proto__Runtime__V1__ActorRuntime actors = DAPR__PROTO__RUNTIME__V1__ACTOR_RUNTIME__INIT;
	Dapr__Proto__Runtime__V1__AppConnectionProperties app =
		DAPR__PROTO__RUNTIME__V1__APP_CONNECTION_PROPERTIES__INIT;
	Dapr__Proto__Runtime__V1__AppConnectionHealthProperties health =
		DAPR__PROTO__RUNTIME__V1__APP_CONNECTION_HEALTH_PROPERTIES__INIT;
	Dapr__Proto__Runtime__V1__GetMetadataRequest *req =
		grpc_call_unpack(call, &dapr__proto__runtime__v1__get_metadata_request__descriptor, msg, len);
	struct grpc_meta_parts parts = { 0 };
	struct metadata_doc doc;

	if (req == NULL)
		return;
	dapr__proto__runtime__v1__get_metadata_request__free_unpacked(req, NULL);
	if (metadata_describe(grpc_call_server(call), &doc) != 0) {
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
		return;
	}
	if (grpc_meta_render(&doc, &resp, &parts) != 0) {
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
		goto out;
	}
	/* No actors in outrig: the runtime is DISABLED, as the HTTP document says. */
	actors.runtime_status = DAPR__PROTO__RUNTIME__V1__ACTOR_RUNTIME__ACTOR_RUNTIME_STATUS__DISABLED;
	resp.actor_runtime = &actors;
	if (doc.has_app) {
		app.port = doc.app.port;
		app.protocol = (char *)doc.app.protocol;
		app.channel_address = (char *)doc.app.channel_address;
		if (doc.app.has_health) {
			health.health_check_path = (char *)doc.app.health.path;
			health.health_probe_interval = doc.app.health.interval;
			health.health_probe_timeout = doc.app.health.timeout;
			health.health_threshold = doc.app.health.threshold;
			app.health = &health;
		}
		resp.app_connection_properties = &app;
	}
	grpc_call_reply(call, &resp.base);
out:
	grpc_meta_parts_free(&parts);
	metadata_doc_free(&doc);
}

static void grpc_set_metadata(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__SetMetadataRequest *req =
		grpc_call_unpack(call, &dapr__proto__runtime__v1__set_metadata_request__descriptor, msg, len);
	struct block_error err;

	if (req == NULL)
		return;
	if (metadata_set(grpc_call_server(call), req->key, req->value, strlen(req->value), &err) != 0)
		grpc_call_fail_block(call, &err);
	else
		grpc_call_reply(call, NULL);
	dapr__proto__runtime__v1__set_metadata_request__free_unpacked(req, NULL);
}

static void grpc_shutdown(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__ShutdownRequest *req =
		grpc_call_unpack(call, &dapr__proto__runtime__v1__shutdown_request__descriptor, msg, len);
	struct server *srv = grpc_call_server(call);

	if (req == NULL)
		return;
	dapr__proto__runtime__v1__shutdown_request__free_unpacked(req, NULL);
	/* Answered first, as daprd does; the graceful stop then lets the answer leave. */
	grpc_call_reply(call, NULL);
	metadata_shutdown(srv, false);
}

void api_meta_grpc_register(void)
{
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/GetMetadata", grpc_get_metadata);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/SetMetadata", grpc_set_metadata);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/Shutdown", grpc_shutdown);
}
