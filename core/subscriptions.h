/* SPDX-License-Identifier: Apache-2.0 */
/* Subscriptions: the app's GET /dapr/subscribe answer and `kind: Subscription` files, as one model. */
#ifndef OUTRIG_CORE_SUBSCRIPTIONS_H
#define OUTRIG_CORE_SUBSCRIPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <yaml.h>

#include <outrig/metadata.h>

#include "diag.h"

/* Dapr's PubsubSubscriptionType: how the subscription was made. */
enum sub_type {
	SUB_DECLARATIVE = 1,
	SUB_PROGRAMMATIC = 2,
};

struct sub_rule {
	char *match;	   /* the CEL text as written; "" for the default route */
	struct rule *expr; /* parsed match; NULL for the default route, which matches everything */
	char *path;	   /* the app's route, e.g. "/orders" */
};

struct subscription {
	enum sub_type type;
	char *name;   /* metadata.name of a declarative one; NULL for programmatic */
	char *origin; /* for messages: "file.yaml:12" or "the app's GET /dapr/subscribe, element 2" */
	char *pubsub; /* the pub/sub component's name */
	char *topic;
	/* In order; the default route (from routes.default or v1 route), if any, comes last. */
	struct sub_rule *rules;
	size_t nrules;
	char *dead_letter_topic;    /* NULL when none */
	struct outrig_kv *metadata; /* keys and values owned by the subscription */
	size_t nmetadata;
	bool raw_payload; /* metadata rawPayload is "true" */
};

struct sub_list {
	struct subscription *items;
	size_t count;
};

/*
 * Parses the app's answer to GET /dapr/subscribe (a JSON array; both the v1 `route` and the
 * v2 `routes` shapes, in any mix) and appends its subscriptions to out. An element that is
 * wrong (no pubsubname or topic, a rule outside the supported CEL, no route at all) is left
 * out with an error in d naming the element, its topic and the expression; the others are
 * kept. Returns the number of errors added.
 * Ownership: out owns what is appended. Thread: any.
 */
size_t subscriptions_parse_app(const char *json, size_t len, struct sub_list *out, struct diag *d);

/*
 * Reads one `kind: Subscription` document (apiVersion dapr.io/v1alpha1 or v2alpha1) rooted at
 * root, from file. When its top-level `scopes` list is non-empty and does not name app_id the
 * document is skipped (0 errors). Problems go into d as "file:line:column: field: what is wrong;
 * what to do" and leave the subscription out. Returns the number of errors added.
 * Ownership: out owns what is appended. Thread: any.
 */
size_t subscriptions_parse_yaml(yaml_document_t *doc, yaml_node_t *root, const char *file, const char *app_id,
				struct sub_list *out, struct diag *d);

/*
 * The app path event should be delivered to: the first rule that matches, else NULL (the
 * event matches no route: Dapr drops it, or dead-letters it when a dead-letter topic is set).
 * Ownership: points into s. Thread: any.
 */
const char *subscription_route(const struct subscription *s, const json_t *event);

/* Moves every subscription of from to the end of to; from is left empty. Returns 0 or -1 (ENOMEM). */
int subscriptions_append(struct sub_list *to, struct sub_list *from);

/* Frees what l holds; l can be reused. */
void subscriptions_free(struct sub_list *l);

#endif /* OUTRIG_CORE_SUBSCRIPTIONS_H */
