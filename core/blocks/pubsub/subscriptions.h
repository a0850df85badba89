/* SPDX-License-Identifier: Apache-2.0 */
/* Subscriptions: the app's GET /dapr/subscribe answer and `kind: Subscription` files, as one model. */
#ifndef OUTRIG_CORE_SUBSCRIPTIONS_H
#define OUTRIG_CORE_SUBSCRIPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <yaml.h>

#include <outrig/metadata.h>

#include "base/diag.h"

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
	char *name; /* metadata.name of a declarative one; NULL for programmatic */
	char *origin; /* "file.yaml:12", or "the app's GET /dapr/subscribe answer, element 2" (0-based) */
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
 * v2 `routes` shapes, in any mix) and appends its subscriptions to out. As in daprd, the rules
 * of routes.rules come first, in order, and the default route is routes.default, else route.
 * An element that is wrong (no pubsubname or topic, a rule outside the supported CEL, a
 * metadata value that is not text) is left out with an error in d naming the element index,
 * its pubsub and topic, the field and the expression; one with no route at all is left out
 * with a warning, as daprd discards it. bulkSubscribe is accepted and ignored with a warning.
 * The others are kept. Returns the number of errors added.
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
 * The app path event should be delivered to: the path of the first rule that matches (a
 * rule with an empty match, like the default route, matches every event), else NULL (the
 * event matches no route: Dapr drops it, or dead-letters it when a dead-letter topic is set).
 * event is the CloudEvent as delivered (a JSON object, data decoded when it is JSON); see
 * rules.h for what a rule does with fields the event lacks.
 * Ownership: points into s. Thread: any (s is read-only once parsed).
 */
const char *subscription_route(const struct subscription *s, const json_t *event);

/* Moves every subscription of from to the end of to; from is left empty. Returns 0 or -1 (ENOMEM). */
int subscriptions_append(struct sub_list *to, struct sub_list *from);

/* Frees what l holds; l can be reused. */
void subscriptions_free(struct sub_list *l);

/* ---- shared by subscriptions.c and subscriptions_yaml.c ---- */

/*
 * Appends a rule to s: match as written (blank: matches every event) and the app path, with
 * the leading "/" daprd adds when the route has none.
 * Returns 0, or -1 with rule_parse's message (or "out of memory") in err.
 */
int subscription_add_rule(struct subscription *s, const char *match, const char *path, char *err,
			  size_t errlen);

/* Sets metadata key to value (raw_payload follows rawPayload). Returns 0 or -1 (ENOMEM). */
int subscription_set_metadata(struct subscription *s, const char *key, const char *value);

/* Frees what s holds and zeroes it. */
void subscription_clear(struct subscription *s);

/* Moves *s to the end of l (s is zeroed). Returns 0 or -1 (ENOMEM, s untouched). */
int subscriptions_push(struct sub_list *l, struct subscription *s);

#endif /* OUTRIG_CORE_SUBSCRIPTIONS_H */
