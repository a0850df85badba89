/* SPDX-License-Identifier: Apache-2.0 */
/* Subscriptions a gRPC app lists (ListTopicSubscriptions), into the one subscription model. */
#include "config.h"

#include "blocks/pubsub/grpc_subscriptions.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRPC_SUBS_ANSWER "the app's ListTopicSubscriptions answer"

/*
 * Adds a rule keeping path as it is: subscription_add_rule gives a path its leading "/" as an HTTP
 * app needs, but daprd hands a gRPC app back exactly the path it listed ("" when none).
 */
static int grpc_subs_rule(struct subscription *s, const char *match, const char *path, char *err,
			  size_t errlen)
{
	char *exact;

	if (subscription_add_rule(s, match, path, err, errlen) != 0)
		return -1;
	if ((exact = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(s->rules[s->nrules - 1].path);
	s->rules[s->nrules - 1].path = exact;
	return 0;
}

/* Reads element i into s; false when it is left out (reported in d). */
static bool grpc_subs_element(const struct app_grpc_subscription *g, size_t i, struct subscription *s,
			      struct diag *d)
{
	const char *pubsub = g->pubsub_name != NULL ? g->pubsub_name : "";
	const char *topic = g->topic != NULL ? g->topic : "";
	char err[300];

	s->type = SUB_PROGRAMMATIC;
	if (*pubsub == '\0' || *topic == '\0') {
		diag_error(
			d,
			"%s, element %zu (pubsub \"%s\", topic \"%s\"): %s: empty; name the %s to subscribe to",
			GRPC_SUBS_ANSWER, i, pubsub, topic, *pubsub == '\0' ? "pubsub_name" : "topic",
			*pubsub == '\0' ? "pub/sub component" : "topic");
		return false;
	}
	if (asprintf(&s->origin, "%s, element %zu", GRPC_SUBS_ANSWER, i) < 0) {
		s->origin = NULL;
		goto oom;
	}
	if ((s->pubsub = strdup(pubsub)) == NULL || (s->topic = strdup(topic)) == NULL)
		goto oom;
	for (size_t k = 0; k < g->n_rules; k++)
		if (grpc_subs_rule(s, g->rules[k].match, g->rules[k].path, err, sizeof(err)) != 0) {
			diag_error(
				d,
				"%s, element %zu (pubsub \"%s\", topic \"%s\"): routes.rules[%zu].match: %s",
				GRPC_SUBS_ANSWER, i, pubsub, topic, k, err);
			return false;
		}
	/* The default route last, matching every event; daprd's gRPC default when none is given is "". */
	if ((g->default_path != NULL && *g->default_path != '\0') || s->nrules == 0)
		if (grpc_subs_rule(s, "", g->default_path != NULL ? g->default_path : "", err, sizeof(err)) !=
		    0)
			goto oom;
	for (size_t k = 0; g->metadata != NULL && k < g->metadata->count; k++)
		if (subscription_set_metadata(s, g->metadata->items[k].key, g->metadata->items[k].value) != 0)
			goto oom;
	if (g->dead_letter_topic != NULL && *g->dead_letter_topic != '\0' &&
	    (s->dead_letter_topic = strdup(g->dead_letter_topic)) == NULL)
		goto oom;
	if (g->has_bulk && g->bulk_enabled)
		diag_warn(
			d,
			"%s, element %zu (pubsub \"%s\", topic \"%s\"): bulk_subscribe: bulk subscriptions are "
			"not supported yet; events are delivered one at a time",
			GRPC_SUBS_ANSWER, i, pubsub, topic);
	return true;
oom:
	diag_error(d, "%s, element %zu: out of memory", GRPC_SUBS_ANSWER, i);
	return false;
}

size_t subscriptions_from_grpc(const struct app_grpc_subscriptions_result *r, struct sub_list *out,
			       struct diag *d)
{
	size_t errors = d->errors;

	for (size_t i = 0; i < r->count; i++) {
		struct subscription s = { 0 };

		if (grpc_subs_element(&r->subscriptions[i], i, &s, d) && subscriptions_push(out, &s) != 0)
			diag_error(d, "%s, element %zu: out of memory", GRPC_SUBS_ANSWER, i);
		subscription_clear(&s);
	}
	return d->errors - errors;
}
