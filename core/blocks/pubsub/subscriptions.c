/* SPDX-License-Identifier: Apache-2.0 */
/* Subscriptions: the model, routing, and the app's GET /dapr/subscribe answer (API.md §2.4). */
#include "config.h"

#include "blocks/pubsub/subscriptions.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blocks/pubsub/rules.h"

#define SUB_APP_ANSWER "the app's GET /dapr/subscribe answer"

/* ---- the model ---- */

/* daprd reads rawPayload with utils.IsTruthy, which takes more than "true". */
static bool sub_truthy(const char *v)
{
	static const char *const yes[] = { "y", "yes", "true", "t", "on", "1" };

	while (isspace((unsigned char)*v))
		v++;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		size_t n = strlen(yes[i]);
		const char *rest = v + n;

		if (strncasecmp(v, yes[i], n) != 0)
			continue;
		while (isspace((unsigned char)*rest))
			rest++;
		if (*rest == '\0')
			return true;
	}
	return false;
}

int subscription_add_rule(struct subscription *s, const char *match, const char *path, char *err,
			  size_t errlen)
{
	struct sub_rule r = { 0 };
	struct sub_rule *grown;
	const char *p = match != NULL ? match : "";
	size_t n;

	/* Blank means "every event" in daprd, which trims before compiling. */
	while (isspace((unsigned char)*p))
		p++;
	n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	r.match = strndup(p, n);
	/*
	 * daprd calls the app at "/" + a route written without its slash ("orders", as Express apps
	 * declare it); sent as is, "POST orders HTTP/1.1" is no request an app can route. Every
	 * route, programmatic or declarative, rule or default, comes through here.
	 */
	r.path = malloc(strlen(path) + 2);
	if (r.path != NULL) {
		r.path[0] = '/';
		strcpy(r.path + (path[0] != '/'), path);
	}
	if (r.match == NULL || r.path == NULL)
		goto oom;
	if (n > 0) {
		r.expr = rule_parse(r.match, err, errlen);
		if (r.expr == NULL) {
			free(r.match);
			free(r.path);
			return -1;
		}
	}
	grown = realloc(s->rules, (s->nrules + 1) * sizeof(*grown));
	if (grown == NULL)
		goto oom;
	s->rules = grown;
	s->rules[s->nrules++] = r;
	return 0;
oom:
	rule_free(r.expr);
	free(r.match);
	free(r.path);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int subscription_set_metadata(struct subscription *s, const char *key, const char *value)
{
	struct outrig_kv *grown;
	char *k, *v;

	for (size_t i = 0; i < s->nmetadata; i++) {
		if (strcmp(s->metadata[i].key, key) != 0)
			continue;
		v = strdup(value);
		if (v == NULL)
			return -1;
		free((char *)s->metadata[i].value);
		s->metadata[i].value = v;
		goto done;
	}
	k = strdup(key);
	v = strdup(value);
	grown = k != NULL && v != NULL ? realloc(s->metadata, (s->nmetadata + 1) * sizeof(*grown)) : NULL;
	if (grown == NULL) {
		free(k);
		free(v);
		return -1;
	}
	s->metadata = grown;
	s->metadata[s->nmetadata].key = k;
	s->metadata[s->nmetadata].value = v;
	s->nmetadata++;
done:
	if (strcasecmp(key, "rawPayload") == 0)
		s->raw_payload = sub_truthy(value);
	return 0;
}

void subscription_clear(struct subscription *s)
{
	for (size_t i = 0; i < s->nrules; i++) {
		free(s->rules[i].match);
		rule_free(s->rules[i].expr);
		free(s->rules[i].path);
	}
	free(s->rules);
	for (size_t i = 0; i < s->nmetadata; i++) {
		free((char *)s->metadata[i].key);
		free((char *)s->metadata[i].value);
	}
	free(s->metadata);
	free(s->name);
	free(s->origin);
	free(s->pubsub);
	free(s->topic);
	free(s->dead_letter_topic);
	memset(s, 0, sizeof(*s));
}

int subscriptions_push(struct sub_list *l, struct subscription *s)
{
	struct subscription *grown = realloc(l->items, (l->count + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	l->items = grown;
	l->items[l->count++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

const char *subscription_route(const struct subscription *s, const json_t *event)
{
	for (size_t i = 0; i < s->nrules; i++) {
		if (s->rules[i].expr == NULL || rule_match(s->rules[i].expr, event))
			return s->rules[i].path;
	}
	return NULL;
}

int subscriptions_append(struct sub_list *to, struct sub_list *from)
{
	struct subscription *grown;

	if (from->count == 0)
		return 0;
	grown = realloc(to->items, (to->count + from->count) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	to->items = grown;
	memcpy(to->items + to->count, from->items, from->count * sizeof(*grown));
	to->count += from->count;
	free(from->items);
	from->items = NULL;
	from->count = 0;
	return 0;
}

void subscriptions_free(struct sub_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		subscription_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* ---- GET /dapr/subscribe ---- */

/* One element of the answer being read, and where its findings go. */
struct sub_app_elem {
	size_t index;
	const json_t *json;
	struct diag *d;
};

/* "element 2 (pubsub "p", topic "t")", as far as the element says. */
static void sub_app_name(const struct sub_app_elem *e, char *buf, size_t size)
{
	const char *pubsub = json_string_value(json_object_get(e->json, "pubsubname"));
	const char *topic = json_string_value(json_object_get(e->json, "topic"));

	if (pubsub != NULL && topic != NULL)
		snprintf(buf, size, "element %zu (pubsub \"%s\", topic \"%s\")", e->index, pubsub, topic);
	else if (topic != NULL)
		snprintf(buf, size, "element %zu (topic \"%s\")", e->index, topic);
	else
		snprintf(buf, size, "element %zu", e->index);
}

static void sub_app_report(const struct sub_app_elem *e, bool error, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void sub_app_report(const struct sub_app_elem *e, bool error, const char *field, const char *fmt, ...)
{
	char name[512], *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	sub_app_name(e, name, sizeof(name));
	if (error)
		diag_error(e->d, "%s, %s: %s: %s", SUB_APP_ANSWER, name, field,
			   msg != NULL ? msg : "out of memory");
	else
		diag_warn(e->d, "%s, %s: %s: %s", SUB_APP_ANSWER, name, field,
			  msg != NULL ? msg : "out of memory");
	free(msg);
}

static const char *sub_json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "text";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* A text member: *out is NULL when absent or null; false (after reporting) when not text. */
static bool sub_app_text(const struct sub_app_elem *e, const json_t *obj, const char *key, const char *field,
			 const char **out)
{
	const json_t *j = json_object_get(obj, key);

	*out = NULL;
	if (j == NULL || json_is_null(j))
		return true;
	if (!json_is_string(j)) {
		sub_app_report(e, true, field, "expected text, found %s; write a JSON string",
			       sub_json_kind(j));
		return false;
	}
	*out = json_string_value(j);
	return true;
}

static bool sub_app_required(const struct sub_app_elem *e, const char *key, const char *todo, char **out)
{
	const char *v;

	if (!sub_app_text(e, e->json, key, key, &v))
		return false;
	if (v == NULL || *v == '\0') {
		sub_app_report(e, true, key, "missing; %s", todo);
		return false;
	}
	*out = strdup(v);
	if (*out == NULL) {
		sub_app_report(e, true, key, "out of memory");
		return false;
	}
	return true;
}

static bool sub_app_rules(const struct sub_app_elem *e, const json_t *routes, struct subscription *s)
{
	const json_t *rules = json_object_get(routes, "rules");
	const json_t *rule;
	size_t i;

	if (rules == NULL || json_is_null(rules))
		return true;
	if (!json_is_array(rules)) {
		sub_app_report(e, true, "routes.rules", "expected an array of {match, path}, found %s",
			       sub_json_kind(rules));
		return false;
	}
	json_array_foreach(rules, i, rule)
	{
		char field[64], err[1024];
		const char *match, *path;

		snprintf(field, sizeof(field), "routes.rules[%zu]", i);
		if (!json_is_object(rule)) {
			sub_app_report(e, true, field, "expected an object with match and path, found %s",
				       sub_json_kind(rule));
			return false;
		}
		snprintf(field, sizeof(field), "routes.rules[%zu].match", i);
		if (!sub_app_text(e, rule, "match", field, &match))
			return false;
		snprintf(field, sizeof(field), "routes.rules[%zu].path", i);
		if (!sub_app_text(e, rule, "path", field, &path))
			return false;
		if (path == NULL || *path == '\0') {
			sub_app_report(e, true, field,
				       "missing; give each rule the app route it delivers to");
			return false;
		}
		if (subscription_add_rule(s, match, path, err, sizeof(err)) != 0) {
			snprintf(field, sizeof(field), "routes.rules[%zu].match", i);
			sub_app_report(e, true, field, "%s", err);
			return false;
		}
	}
	return true;
}

/* routes.rules, then the default route: routes.default, else route (daprd's order). */
static bool sub_app_routes(const struct sub_app_elem *e, struct subscription *s)
{
	const json_t *routes = json_object_get(e->json, "routes");
	const char *def = NULL, *route;
	char err[256];

	if (routes != NULL && !json_is_null(routes)) {
		if (!json_is_object(routes)) {
			sub_app_report(e, true, "routes",
				       "expected an object with rules and default, found %s",
				       sub_json_kind(routes));
			return false;
		}
		if (!sub_app_rules(e, routes, s) ||
		    !sub_app_text(e, routes, "default", "routes.default", &def))
			return false;
	}
	if (!sub_app_text(e, e->json, "route", "route", &route))
		return false;
	if (def == NULL || *def == '\0')
		def = route;
	if (def != NULL && *def != '\0' && subscription_add_rule(s, "", def, err, sizeof(err)) != 0) {
		sub_app_report(e, true, "routes.default", "%s", err);
		return false;
	}
	return true;
}

static bool sub_app_metadata(const struct sub_app_elem *e, struct subscription *s)
{
	const json_t *md = json_object_get(e->json, "metadata");
	const char *key;
	json_t *v;

	if (md == NULL || json_is_null(md))
		return true;
	if (!json_is_object(md)) {
		sub_app_report(e, true, "metadata", "expected an object of texts, found %s",
			       sub_json_kind(md));
		return false;
	}
	json_object_foreach((json_t *)md, key, v)
	{
		if (!json_is_string(v)) {
			sub_app_report(e, true, "metadata",
				       "\"%s\" is %s; write every value as a JSON string", key,
				       sub_json_kind(v));
			return false;
		}
		if (subscription_set_metadata(s, key, json_string_value(v)) != 0) {
			sub_app_report(e, true, "metadata", "out of memory");
			return false;
		}
	}
	return true;
}

/* bulkSubscribe is not implemented: say so unless it is explicitly off. */
static void sub_app_bulk(const struct sub_app_elem *e)
{
	const json_t *bulk = json_object_get(e->json, "bulkSubscribe");

	if (bulk == NULL || json_is_null(bulk) || json_is_false(json_object_get(bulk, "enabled")))
		return;
	sub_app_report(e, false, "bulkSubscribe",
		       "bulk subscriptions are not supported yet; events are delivered one at a time");
}

/* Reads one element into s; false when it is to be left out (reported). */
static bool sub_app_element(const struct sub_app_elem *e, struct subscription *s)
{
	const char *dlt;

	if (!json_is_object(e->json)) {
		sub_app_report(e, true, "element",
			       "expected an object with pubsubname, topic and route, found %s",
			       sub_json_kind(e->json));
		return false;
	}
	s->type = SUB_PROGRAMMATIC;
	if (asprintf(&s->origin, "%s, element %zu", SUB_APP_ANSWER, e->index) < 0) {
		s->origin = NULL;
		sub_app_report(e, true, "element", "out of memory");
		return false;
	}
	if (!sub_app_required(e, "pubsubname", "name the pub/sub component to subscribe to", &s->pubsub) ||
	    !sub_app_required(e, "topic", "name the topic to subscribe to", &s->topic) ||
	    !sub_app_routes(e, s) || !sub_app_metadata(e, s) ||
	    !sub_app_text(e, e->json, "deadLetterTopic", "deadLetterTopic", &dlt))
		return false;
	if (dlt != NULL && *dlt != '\0') {
		s->dead_letter_topic = strdup(dlt);
		if (s->dead_letter_topic == NULL) {
			sub_app_report(e, true, "deadLetterTopic", "out of memory");
			return false;
		}
	}
	if (s->nrules == 0) {
		sub_app_report(e, false, "route",
			       "no route; the subscription is ignored, as daprd does; add \"route\" or "
			       "\"routes\": {\"default\": ...}");
		return false;
	}
	sub_app_bulk(e);
	return true;
}

size_t subscriptions_parse_app(const char *json, size_t len, struct sub_list *out, struct diag *d)
{
	size_t errors = d->errors;
	json_error_t jerr;
	json_t *root;
	size_t i;

	root = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		diag_error(
			d,
			"%s is not JSON: %s (line %d, column %d); answer with a JSON array of subscriptions",
			SUB_APP_ANSWER, jerr.text, jerr.line, jerr.column);
		return d->errors - errors;
	}
	/* Go decodes null into an empty list. */
	if (json_is_null(root)) {
		json_decref(root);
		return 0;
	}
	if (!json_is_array(root)) {
		diag_error(d, "%s is %s, not an array; answer with a JSON array of subscriptions",
			   SUB_APP_ANSWER, sub_json_kind(root));
		json_decref(root);
		return d->errors - errors;
	}
	for (i = 0; i < json_array_size(root); i++) {
		struct sub_app_elem e = { i, json_array_get(root, i), d };
		struct subscription s = { 0 };

		if (sub_app_element(&e, &s) && subscriptions_push(out, &s) != 0)
			sub_app_report(&e, true, "element", "out of memory");
		subscription_clear(&s);
	}
	json_decref(root);
	return d->errors - errors;
}
