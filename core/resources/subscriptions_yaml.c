/* SPDX-License-Identifier: Apache-2.0 */
/* Declarative subscriptions: `kind: Subscription` documents, dapr.io/v2alpha1 and v1alpha1 (API.md §2.5). */
#include "config.h"

#include "blocks/pubsub/subscriptions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "resources/resources_yaml.h"

#define SUB_V2 "dapr.io/v2alpha1"
#define SUB_V1 "dapr.io/v1alpha1"

/* One Subscription document being read, and where its findings go. */
struct sub_yaml {
	yaml_document_t *doc;
	const char *file;
	struct diag *d;
	bool v1;
};

/* A finding at node n of this document, in the wording all resource files share. */
#define sub_yaml_report(y, error, ...) res_yaml_report((y)->d, error, (y)->file, __VA_ARGS__)

/*
 * An optional text field: *out is NULL when absent or null (*node then points at where it
 * belongs, parent). False (after reporting) when it is there but not text.
 */
static bool sub_yaml_text(const struct sub_yaml *y, const yaml_node_t *parent, const char *key,
			  const char *field, const char **out, const yaml_node_t **node)
{
	yaml_node_t *n = res_yaml_get(y->doc, parent, key);

	*out = NULL;
	*node = n != NULL ? n : parent;
	if (res_yaml_is_null(n))
		return true;
	if (n->type != YAML_SCALAR_NODE) {
		sub_yaml_report(y, true, n, field, "expected text, found %s; write a single value",
				res_yaml_kind(n));
		return false;
	}
	*out = res_yaml_text(n);
	return true;
}

static bool sub_yaml_required(const struct sub_yaml *y, const yaml_node_t *spec, const char *key,
			      const char *field, const char *todo, char **out)
{
	const yaml_node_t *n;
	const char *v;

	if (!sub_yaml_text(y, spec, key, field, &v, &n))
		return false;
	if (v == NULL || *v == '\0') {
		sub_yaml_report(y, true, n, field, "missing; %s", todo);
		return false;
	}
	*out = strdup(v);
	return *out != NULL;
}

static bool sub_yaml_rule(const struct sub_yaml *y, const yaml_node_t *rule, size_t i, struct subscription *s)
{
	const yaml_node_t *match_node, *path_node;
	const char *match, *path;
	char field[64], err[1024];

	snprintf(field, sizeof(field), "spec.routes.rules[%zu]", i);
	if (rule->type != YAML_MAPPING_NODE) {
		sub_yaml_report(y, true, rule, field,
				"expected a mapping with match and path, found %s; write \"- match: "
				"'event.type == \\\"x\\\"'\" with \"path: /x\" under it",
				res_yaml_kind(rule));
		return false;
	}
	snprintf(field, sizeof(field), "spec.routes.rules[%zu].match", i);
	if (!sub_yaml_text(y, rule, "match", field, &match, &match_node))
		return false;
	snprintf(field, sizeof(field), "spec.routes.rules[%zu].path", i);
	if (!sub_yaml_text(y, rule, "path", field, &path, &path_node))
		return false;
	if (path == NULL || *path == '\0') {
		sub_yaml_report(y, true, path_node, field,
				"missing; give each rule the app route it delivers to");
		return false;
	}
	if (subscription_add_rule(s, match, path, err, sizeof(err)) != 0) {
		snprintf(field, sizeof(field), "spec.routes.rules[%zu].match", i);
		sub_yaml_report(y, true, match_node, field, "%s", err);
		return false;
	}
	return true;
}

/* v2alpha1: spec.routes {rules, default}; the rules first, the default route last. */
static bool sub_yaml_routes_v2(const struct sub_yaml *y, const yaml_node_t *spec, struct subscription *s)
{
	yaml_node_t *routes = res_yaml_get(y->doc, spec, "routes");
	yaml_node_t *rules, *route = res_yaml_get(y->doc, spec, "route");
	const yaml_node_t *def_node;
	const char *def;
	char err[256];

	if (!res_yaml_is_null(route)) {
		sub_yaml_report(
			y, true, route, "spec.route",
			"is dapr.io/v1alpha1's; under %s write \"routes:\" with \"default: PATH\" under it",
			SUB_V2);
		return false;
	}
	if (res_yaml_is_null(routes))
		return true;
	if (routes->type != YAML_MAPPING_NODE) {
		sub_yaml_report(y, true, routes, "spec.routes",
				"expected a mapping with rules and default, found %s; write \"routes:\" with "
				"\"default: PATH\" under it",
				res_yaml_kind(routes));
		return false;
	}
	rules = res_yaml_get(y->doc, routes, "rules");
	if (!res_yaml_is_null(rules)) {
		if (rules->type != YAML_SEQUENCE_NODE) {
			sub_yaml_report(
				y, true, rules, "spec.routes.rules",
				"expected a list of {match, path}, found %s; write each rule as \"- match: "
				"EXPRESSION\" with \"path: PATH\" under it",
				res_yaml_kind(rules));
			return false;
		}
		for (size_t i = 0;
		     i < (size_t)(rules->data.sequence.items.top - rules->data.sequence.items.start); i++) {
			yaml_node_t *rule =
				yaml_document_get_node(y->doc, rules->data.sequence.items.start[i]);

			if (!sub_yaml_rule(y, rule, i, s))
				return false;
		}
	}
	if (!sub_yaml_text(y, routes, "default", "spec.routes.default", &def, &def_node))
		return false;
	if (def != NULL && *def != '\0' && subscription_add_rule(s, "", def, err, sizeof(err)) != 0) {
		sub_yaml_report(y, true, def_node, "spec.routes.default", "%s", err);
		return false;
	}
	return true;
}

/* v1alpha1: one spec.route, which every event goes to. */
static bool sub_yaml_route_v1(const struct sub_yaml *y, const yaml_node_t *spec, struct subscription *s)
{
	yaml_node_t *routes = res_yaml_get(y->doc, spec, "routes");
	const yaml_node_t *n;
	const char *route;
	char err[256];

	if (!res_yaml_is_null(routes)) {
		sub_yaml_report(y, true, routes, "spec.routes",
				"needs apiVersion %s; change apiVersion, or write \"route: PATH\" instead",
				SUB_V2);
		return false;
	}
	if (!sub_yaml_text(y, spec, "route", "spec.route", &route, &n))
		return false;
	if (route != NULL && *route != '\0' && subscription_add_rule(s, "", route, err, sizeof(err)) != 0) {
		sub_yaml_report(y, true, n, "spec.route", "%s", err);
		return false;
	}
	return true;
}

/* spec.metadata is a map[string]string in Subscription, not a Component's list of entries. */
static bool sub_yaml_metadata(const struct sub_yaml *y, const yaml_node_t *spec, struct subscription *s)
{
	yaml_node_t *md = res_yaml_get(y->doc, spec, "metadata");

	if (res_yaml_is_null(md))
		return true;
	if (md->type != YAML_MAPPING_NODE) {
		sub_yaml_report(
			y, true, md, "spec.metadata",
			"expected a mapping of names to values, found %s; write e.g. \"metadata:\" with "
			"\"rawPayload: \\\"true\\\"\" under it",
			res_yaml_kind(md));
		return false;
	}
	for (yaml_node_pair_t *p = md->data.mapping.pairs.start; p < md->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
		char field[160];

		if (k->type != YAML_SCALAR_NODE) {
			sub_yaml_report(y, true, k, "spec.metadata", "a name is %s; write names as text",
					res_yaml_kind(k));
			return false;
		}
		snprintf(field, sizeof(field), "spec.metadata.%s", res_yaml_text(k));
		if (v->type != YAML_SCALAR_NODE) {
			sub_yaml_report(y, true, v, field, "expected text, found %s; write a single value",
					res_yaml_kind(v));
			return false;
		}
		if (subscription_set_metadata(s, res_yaml_text(k),
					      res_yaml_is_null(v) ? "" : res_yaml_text(v)) != 0) {
			sub_yaml_report(y, true, v, field, "out of memory");
			return false;
		}
	}
	return true;
}

/* bulkSubscribe is not implemented: say so unless it is explicitly off. */
static void sub_yaml_bulk(const struct sub_yaml *y, const yaml_node_t *spec)
{
	yaml_node_t *bulk = res_yaml_get(y->doc, spec, "bulkSubscribe");
	yaml_node_t *enabled = res_yaml_get(y->doc, bulk, "enabled");
	bool on = true;

	if (res_yaml_is_null(bulk) ||
	    (res_yaml_is_scalar(enabled) && res_yaml_bool(res_yaml_text(enabled), &on) && !on))
		return;
	sub_yaml_report(y, false, bulk, "spec.bulkSubscribe",
			"bulk subscriptions are not supported yet; events are delivered one at a time");
}

static bool sub_yaml_spec(const struct sub_yaml *y, const yaml_node_t *root, struct subscription *s)
{
	yaml_node_t *spec = res_yaml_get(y->doc, root, "spec");
	const yaml_node_t *n;
	const char *dlt;

	if (res_yaml_is_null(spec) || spec->type != YAML_MAPPING_NODE) {
		sub_yaml_report(y, true, spec != NULL ? spec : root, "spec",
				"expected a mapping with pubsubname, topic and %s, found %s; add them",
				y->v1 ? "route" : "routes", spec != NULL ? res_yaml_kind(spec) : "nothing");
		return false;
	}
	if (!sub_yaml_required(y, spec, "pubsubname", "spec.pubsubname",
			       "name the pub/sub component to subscribe to (the key is all lower case)",
			       &s->pubsub) ||
	    !sub_yaml_required(y, spec, "topic", "spec.topic", "name the topic to subscribe to", &s->topic))
		return false;
	if (!(y->v1 ? sub_yaml_route_v1(y, spec, s) : sub_yaml_routes_v2(y, spec, s)))
		return false;
	if (s->nrules == 0) {
		sub_yaml_report(y, true, spec, y->v1 ? "spec.route" : "spec.routes",
				"no route, so no event could be delivered; %s",
				y->v1 ? "add \"route: PATH\""
				      : "add \"routes:\" with \"default: PATH\" under it");
		return false;
	}
	if (!sub_yaml_metadata(y, spec, s) ||
	    !sub_yaml_text(y, spec, "deadLetterTopic", "spec.deadLetterTopic", &dlt, &n))
		return false;
	if (dlt != NULL && *dlt != '\0') {
		s->dead_letter_topic = strdup(dlt);
		if (s->dead_letter_topic == NULL)
			return false;
	}
	sub_yaml_bulk(y, spec);
	return true;
}

/* Which of the two schemas; false (after reporting) for any other apiVersion. */
static bool sub_yaml_version(struct sub_yaml *y, const yaml_node_t *root)
{
	yaml_node_t *api = res_yaml_get(y->doc, root, "apiVersion");
	const char *v = res_yaml_is_scalar(api) ? res_yaml_text(api) : "";

	if (strcmp(v, SUB_V2) == 0 || strcmp(v, SUB_V1) == 0) {
		y->v1 = strcmp(v, SUB_V1) == 0;
		return true;
	}
	sub_yaml_report(y, true, api != NULL ? api : root, "apiVersion",
			"kind Subscription is %s or %s, found \"%s\"; write apiVersion: %s", SUB_V2, SUB_V1,
			v, SUB_V2);
	return false;
}

size_t subscriptions_parse_yaml(yaml_document_t *doc, yaml_node_t *root, const char *file, const char *app_id,
				struct sub_list *out, struct diag *d)
{
	struct sub_yaml y = { doc, file, d, false };
	size_t errors = d->errors;
	struct subscription s = { 0 };
	const yaml_node_t *n;
	const char *name;
	yaml_node_t *meta;

	if (!res_yaml_in_scope(y.doc, root, app_id, y.file, y.d)) {
		log_debug("resources", "%s:%zu: subscription is scoped to other apps; skipped", file,
			  root->start_mark.line + 1);
		return d->errors - errors;
	}
	if (!sub_yaml_version(&y, root))
		return d->errors - errors;
	s.type = SUB_DECLARATIVE;
	meta = res_yaml_get(doc, root, "metadata");
	if (res_yaml_is_null(meta) || meta->type != YAML_MAPPING_NODE)
		meta = NULL;
	if (asprintf(&s.origin, "%s:%zu", file, root->start_mark.line + 1) < 0) {
		s.origin = NULL;
		diag_error(d, "%s: out of memory", file);
		return d->errors - errors;
	}
	if (!sub_yaml_text(&y, meta, "name", "metadata.name", &name, &n) ||
	    (name != NULL && (s.name = strdup(name)) == NULL) || !sub_yaml_spec(&y, root, &s)) {
		if (d->errors == errors)
			diag_error(d, "%s: out of memory", file);
		subscription_clear(&s);
		return d->errors - errors;
	}
	if (subscriptions_push(out, &s) != 0) {
		diag_error(d, "%s: out of memory", file);
		subscription_clear(&s);
	}
	return d->errors - errors;
}
