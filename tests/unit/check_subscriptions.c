/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/subscriptions.c and subscriptions_yaml.c: GET /dapr/subscribe answers and Subscription YAML. */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "blocks/pubsub/subscriptions.h"

/* Checks that d holds exactly the expected lines, in order. */
static void assert_lines(const struct diag *d, size_t n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n && i < d->count; i++)
		ck_assert_str_eq(d->lines[i], va_arg(ap, const char *));
	va_end(ap);
	for (size_t i = n; i < d->count; i++)
		ck_abort_msg("unexpected extra line: %s", d->lines[i]);
	ck_assert_uint_eq(d->count, n);
}

static size_t parse_app(const char *json, struct sub_list *out, struct diag *d)
{
	return subscriptions_parse_app(json, strlen(json), out, d);
}

static const char *route_of(const struct subscription *s, const char *event_json)
{
	json_error_t e;
	json_t *event = json_loads(event_json, 0, &e);
	const char *path;

	ck_assert_msg(event != NULL, "bad test event: %s", e.text);
	path = subscription_route(s, event);
	json_decref(event);
	return path;
}

static const char *meta(const struct subscription *s, const char *key)
{
	for (size_t i = 0; i < s->nmetadata; i++) {
		if (strcmp(s->metadata[i].key, key) == 0)
			return s->metadata[i].value;
	}
	return NULL;
}

/* ---- GET /dapr/subscribe ---- */

START_TEST(test_app_both_shapes)
{
	struct sub_list l = { 0 };
	struct diag d = { 0 };
	const struct subscription *s;

	ck_assert_uint_eq(
		parse_app(
			"[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"route\":\"/orders\"},"
			" {\"pubsubname\":\"pubsub\",\"topic\":\"widgets\","
			"  \"routes\":{\"rules\":[{\"match\":\"event.type == \\\"widget\\\"\",\"path\":\"/w\"},"
			"                         {\"match\":\"event.data.n > 2\",\"path\":\"/big\"}],"
			"            \"default\":\"/other\"},"
			"  \"route\":\"/ignored\","
			"  \"deadLetterTopic\":\"poison\","
			"  \"metadata\":{\"rawPayload\":\"true\",\"priority\":\"high\"}},"
			" {\"pubsubname\":\"mq\",\"topic\":\"a/b\","
			"  \"routes\":{\"rules\":[{\"match\":\"event.type == \\\"x\\\"\",\"path\":\"/x\"}]},"
			"  \"route\":\"/fallback\",\"metadata\":{\"rawPayload\":\"False\"}},"
			" {\"pubsubname\":\"mq\",\"topic\":\"only-rules\","
			"  \"routes\":{\"rules\":[{\"match\":\"\",\"path\":\"/all\"}]}}]",
			&l, &d),
		0);
	assert_lines(&d, 0);
	ck_assert_uint_eq(l.count, 4);

	s = &l.items[0];
	ck_assert_int_eq(s->type, SUB_PROGRAMMATIC);
	ck_assert_ptr_null(s->name);
	ck_assert_str_eq(s->origin, "the app's GET /dapr/subscribe answer, element 0");
	ck_assert_str_eq(s->pubsub, "pubsub");
	ck_assert_str_eq(s->topic, "orders");
	ck_assert_uint_eq(s->nrules, 1);
	ck_assert_str_eq(s->rules[0].match, "");
	ck_assert_ptr_null(s->rules[0].expr);
	ck_assert_str_eq(s->rules[0].path, "/orders");
	ck_assert_ptr_null(s->dead_letter_topic);
	ck_assert_uint_eq(s->nmetadata, 0);
	ck_assert(!s->raw_payload);
	ck_assert_str_eq(route_of(s, "{\"type\":\"anything\"}"), "/orders");

	/* routes.default wins over route; rules come first, in order. */
	s = &l.items[1];
	ck_assert_uint_eq(s->nrules, 3);
	ck_assert_str_eq(s->rules[0].match, "event.type == \"widget\"");
	ck_assert_ptr_nonnull(s->rules[0].expr);
	ck_assert_str_eq(s->rules[2].path, "/other");
	ck_assert_str_eq(s->dead_letter_topic, "poison");
	ck_assert(s->raw_payload);
	ck_assert_str_eq(meta(s, "priority"), "high");
	ck_assert_str_eq(route_of(s, "{\"type\":\"widget\",\"data\":{\"n\":5}}"), "/w");
	ck_assert_str_eq(route_of(s, "{\"type\":\"gadget\",\"data\":{\"n\":5}}"), "/big");
	ck_assert_str_eq(route_of(s, "{\"type\":\"gadget\",\"data\":{\"n\":1}}"), "/other");
	ck_assert_str_eq(route_of(s, "{\"type\":\"gadget\"}"), "/other");

	/* Without routes.default, route is the default, as in daprd. */
	s = &l.items[2];
	ck_assert_uint_eq(s->nrules, 2);
	ck_assert_str_eq(s->topic, "a/b");
	ck_assert_str_eq(s->rules[1].path, "/fallback");
	ck_assert(!s->raw_payload);
	ck_assert_str_eq(route_of(s, "{\"type\":\"x\"}"), "/x");
	ck_assert_str_eq(route_of(s, "{\"type\":\"y\"}"), "/fallback");

	/* An empty match is a match-all rule; no default needed then. */
	s = &l.items[3];
	ck_assert_uint_eq(s->nrules, 1);
	ck_assert_ptr_null(s->rules[0].expr);
	ck_assert_str_eq(route_of(s, "{}"), "/all");

	subscriptions_free(&l);
	ck_assert_uint_eq(l.count, 0);
	ck_assert_ptr_null(l.items);
	diag_clear(&d);
}
END_TEST

START_TEST(test_app_no_default_drops)
{
	struct sub_list l = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(parse_app("[{\"pubsubname\":\"p\",\"topic\":\"t\",\"routes\":{\"rules\":"
				    "[{\"match\":\"event.type == \\\"a\\\"\",\"path\":\"/a\"}]}}]",
				    &l, &d),
			  0);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_str_eq(route_of(&l.items[0], "{\"type\":\"a\"}"), "/a");
	/* Nothing matches: no route, so the delivery engine drops or dead-letters it. */
	ck_assert_ptr_null(route_of(&l.items[0], "{\"type\":\"b\"}"));
	subscriptions_free(&l);
	diag_clear(&d);
}
END_TEST

START_TEST(test_app_bad_elements)
{
	struct sub_list l = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(
		parse_app(
			"[{\"pubsubname\":\"p\",\"topic\":\"good\",\"route\":\"/good\","
			"  \"bulkSubscribe\":{\"enabled\":true,\"maxMessagesCount\":100}},"
			" {\"pubsubname\":\"p\",\"topic\":\"noroute\"},"
			" {\"pubsubname\":\"p\",\"topic\":\"cel\",\"routes\":{\"rules\":["
			"   {\"match\":\"event.type == \\\"a\\\"\",\"path\":\"/a\"},"
			"   {\"match\":\"event.type.startsWith(\\\"a\\\")\",\"path\":\"/b\"}],\"default\":\"/c\"}},"
			" {\"pubsubname\":\"p\",\"route\":\"/x\"},"
			" {\"topic\":\"t\",\"route\":\"/x\"},"
			" \"just text\","
			" {\"pubsubname\":\"p\",\"topic\":\"md\",\"route\":\"/x\",\"metadata\":{\"maxRetries\":3}},"
			" {\"pubsubname\":\"p\",\"topic\":\"nopath\",\"routes\":{\"rules\":[{\"match\":\"true\"}]}},"
			" {\"pubsubname\":7,\"topic\":\"t\",\"route\":\"/x\"},"
			" {\"pubsubname\":\"p\",\"topic\":\"off\",\"route\":\"/off\",\"bulkSubscribe\":{\"enabled\":false}}]",
			&l, &d),
		7);
	assert_lines(
		&d, 9,
		"warning: the app's GET /dapr/subscribe answer, element 0 (pubsub \"p\", topic \"good\"): bulkSubscribe: "
		"bulk subscriptions are not supported yet; events are delivered one at a time",
		"warning: the app's GET /dapr/subscribe answer, element 1 (pubsub \"p\", topic \"noroute\"): route: no "
		"route; the subscription is ignored, as daprd does; add \"route\" or \"routes\": {\"default\": ...}",
		"the app's GET /dapr/subscribe answer, element 2 (pubsub \"p\", topic \"cel\"): routes.rules[1].match: "
		"unsupported CEL: function call \"startsWith\" at column 12 in 'event.type.startsWith(\"a\")'; outrig "
		"supports ==, !=, &&, ||, ! and parentheses over event fields",
		"the app's GET /dapr/subscribe answer, element 3: topic: missing; name the topic to subscribe to",
		"the app's GET /dapr/subscribe answer, element 4 (topic \"t\"): pubsubname: missing; name the pub/sub "
		"component to subscribe to",
		"the app's GET /dapr/subscribe answer, element 5: element: expected an object with pubsubname, topic and "
		"route, found text",
		"the app's GET /dapr/subscribe answer, element 6 (pubsub \"p\", topic \"md\"): metadata: \"maxRetries\" "
		"is a number; write every value as a JSON string",
		"the app's GET /dapr/subscribe answer, element 7 (pubsub \"p\", topic \"nopath\"): routes.rules[0].path: "
		"missing; give each rule the app route it delivers to",
		"the app's GET /dapr/subscribe answer, element 8 (topic \"t\"): pubsubname: expected text, found a "
		"number; write a JSON string");
	ck_assert_uint_eq(d.errors, 7);
	ck_assert_uint_eq(d.warnings, 2);
	/* The good ones stay. */
	ck_assert_uint_eq(l.count, 2);
	ck_assert_str_eq(l.items[0].topic, "good");
	ck_assert_str_eq(l.items[0].origin, "the app's GET /dapr/subscribe answer, element 0");
	ck_assert_str_eq(l.items[1].topic, "off");
	ck_assert_str_eq(l.items[1].origin, "the app's GET /dapr/subscribe answer, element 9");
	subscriptions_free(&l);
	diag_clear(&d);
}
END_TEST

START_TEST(test_app_not_a_list)
{
	struct sub_list l = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(parse_app("[{\"pubsubname\":", &l, &d), 1);
	ck_assert_uint_eq(parse_app("{\"pubsubname\":\"p\"}", &l, &d), 1);
	ck_assert_uint_eq(parse_app("null", &l, &d), 0);
	ck_assert_uint_eq(parse_app("[]", &l, &d), 0);
	/* jansson's own wording of the syntax error varies between versions. */
	ck_assert_uint_eq(d.count, 2);
	ck_assert_msg(strncmp(d.lines[0], "the app's GET /dapr/subscribe answer is not JSON: ", 50) == 0,
		      "%s", d.lines[0]);
	ck_assert_msg(strstr(d.lines[0], "(line 1, column 15); answer with a JSON array of subscriptions") !=
			      NULL,
		      "%s", d.lines[0]);
	ck_assert_str_eq(d.lines[1],
			 "the app's GET /dapr/subscribe answer is an object, not an array; answer with "
			 "a JSON array of subscriptions");
	ck_assert_uint_eq(l.count, 0);
	diag_clear(&d);
}
END_TEST

START_TEST(test_append_and_metadata)
{
	struct sub_list a = { 0 }, b = { 0 };
	struct diag d = { 0 };
	struct subscription s = { 0 };
	char err[256];

	ck_assert_uint_eq(parse_app("[{\"pubsubname\":\"p\",\"topic\":\"1\",\"route\":\"/1\"}]", &a, &d), 0);
	ck_assert_uint_eq(parse_app("[{\"pubsubname\":\"p\",\"topic\":\"2\",\"route\":\"/2\"},"
				    " {\"pubsubname\":\"p\",\"topic\":\"3\",\"route\":\"/3\"}]",
				    &b, &d),
			  0);
	ck_assert_int_eq(subscriptions_append(&a, &b), 0);
	ck_assert_uint_eq(a.count, 3);
	ck_assert_uint_eq(b.count, 0);
	ck_assert_ptr_null(b.items);
	ck_assert_str_eq(a.items[2].topic, "3");
	ck_assert_int_eq(subscriptions_append(&a, &b), 0);
	ck_assert_uint_eq(a.count, 3);
	subscriptions_free(&a);
	subscriptions_free(&b);

	/* rawPayload is read as daprd's IsTruthy does, and follows the last value set. */
	ck_assert_int_eq(subscription_set_metadata(&s, "rawPayload", " Yes "), 0);
	ck_assert(s.raw_payload);
	ck_assert_int_eq(subscription_set_metadata(&s, "rawPayload", "0"), 0);
	ck_assert(!s.raw_payload);
	ck_assert_uint_eq(s.nmetadata, 1);
	ck_assert_int_eq(subscription_set_metadata(&s, "rawPayload", "1"), 0);
	ck_assert(s.raw_payload);
	/* Blank matches are trimmed to "", the match-all rule. */
	ck_assert_int_eq(subscription_add_rule(&s, "  \n", "/all", err, sizeof(err)), 0);
	ck_assert_str_eq(s.rules[0].match, "");
	ck_assert_ptr_null(s.rules[0].expr);
	ck_assert_int_eq(subscription_add_rule(&s, " event.id == 'x' ", "/x", err, sizeof(err)), 0);
	ck_assert_str_eq(s.rules[1].match, "event.id == 'x'");
	ck_assert_int_eq(subscription_add_rule(&s, "nope", "/x", err, sizeof(err)), -1);
	ck_assert_uint_eq(s.nrules, 2);
	subscription_clear(&s);
	ck_assert_uint_eq(s.nrules, 0);
	diag_clear(&d);
}
END_TEST

/* ---- kind: Subscription ---- */

/* Parses the first document of text as file and hands it to subscriptions_parse_yaml. */
static size_t parse_yaml(const char *text, const char *app_id, struct sub_list *out, struct diag *d)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	size_t n;

	ck_assert(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	ck_assert(yaml_parser_load(&parser, &doc));
	n = subscriptions_parse_yaml(&doc, yaml_document_get_root_node(&doc), "subs.yaml", app_id, out, d);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return n;
}

START_TEST(test_yaml_v2)
{
	struct sub_list l = { 0 };
	struct diag d = { 0 };
	const struct subscription *s;

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "metadata:\n"
				     "  name: order-sub\n"
				     "spec:\n"
				     "  pubsubname: pubsub\n"
				     "  topic: orders\n"
				     "  routes:\n"
				     "    rules:\n"
				     "    - match: event.type == \"widget\"\n"
				     "      path: /widgets\n"
				     "    - match: >-\n"
				     "        event.data.total > 100 &&\n"
				     "        event.data.currency == 'EUR'\n"
				     "      path: /big\n"
				     "    default: /orders\n"
				     "  metadata:\n"
				     "    rawPayload: \"true\"\n"
				     "    other: 5\n"
				     "  deadLetterTopic: poison\n"
				     "scopes: [app1, app2]\n",
				     "app2", &l, &d),
			  0);
	assert_lines(&d, 0);
	ck_assert_uint_eq(l.count, 1);
	s = &l.items[0];
	ck_assert_int_eq(s->type, SUB_DECLARATIVE);
	ck_assert_str_eq(s->name, "order-sub");
	ck_assert_str_eq(s->origin, "subs.yaml:1");
	ck_assert_str_eq(s->pubsub, "pubsub");
	ck_assert_str_eq(s->topic, "orders");
	ck_assert_uint_eq(s->nrules, 3);
	ck_assert_str_eq(s->rules[1].match, "event.data.total > 100 && event.data.currency == 'EUR'");
	ck_assert_str_eq(s->rules[2].path, "/orders");
	ck_assert(s->raw_payload);
	ck_assert_str_eq(meta(s, "other"), "5");
	ck_assert_str_eq(s->dead_letter_topic, "poison");
	ck_assert_str_eq(route_of(s, "{\"type\":\"widget\"}"), "/widgets");
	ck_assert_str_eq(route_of(s, "{\"type\":\"o\",\"data\":{\"total\":150,\"currency\":\"EUR\"}}"),
			 "/big");
	ck_assert_str_eq(route_of(s, "{\"type\":\"o\",\"data\":{\"total\":150,\"currency\":\"USD\"}}"),
			 "/orders");
	subscriptions_free(&l);
	diag_clear(&d);
}
END_TEST

START_TEST(test_yaml_v1_and_scopes)
{
	static const char v1[] = "apiVersion: dapr.io/v1alpha1\n"
				 "kind: Subscription\n"
				 "metadata: {name: old}\n"
				 "spec:\n"
				 "  topic: orders\n"
				 "  route: /orders\n"
				 "  pubsubname: pubsub\n"
				 "  bulkSubscribe: {enabled: true}\n"
				 "scopes:\n"
				 "- app1\n";
	struct sub_list l = { 0 };
	struct diag d = { 0 };

	/* Another app's: skipped silently, as scoped components are. */
	ck_assert_uint_eq(parse_yaml(v1, "app3", &l, &d), 0);
	ck_assert_uint_eq(parse_yaml(v1, NULL, &l, &d), 0);
	assert_lines(&d, 0);
	ck_assert_uint_eq(l.count, 0);

	ck_assert_uint_eq(parse_yaml(v1, "app1", &l, &d), 0);
	assert_lines(
		&d, 1,
		"warning: subs.yaml:8:18: spec.bulkSubscribe: bulk subscriptions are not supported yet; events "
		"are delivered one at a time");
	ck_assert_uint_eq(l.count, 1);
	ck_assert_str_eq(l.items[0].name, "old");
	ck_assert_uint_eq(l.items[0].nrules, 1);
	ck_assert_str_eq(l.items[0].rules[0].path, "/orders");
	ck_assert_str_eq(route_of(&l.items[0], "{}"), "/orders");
	subscriptions_free(&l);
	diag_clear(&d);
}
END_TEST

START_TEST(test_yaml_errors)
{
	struct sub_list l = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "metadata:\n"
				     "  name: order-sub\n"
				     "spec:\n"
				     "  pubsubname: pubsub\n"
				     "  topic: orders\n"
				     "  routes:\n"
				     "    rules:\n"
				     "    - match: event.type == \"a\"\n"
				     "      path: /a\n"
				     "    - match: event.type.startsWith(\"a\")\n"
				     "      path: /b\n"
				     "    default: /orders\n",
				     "app", &l, &d),
			  1);
	assert_lines(
		&d, 1,
		"subs.yaml:12:14: spec.routes.rules[1].match: unsupported CEL: function call \"startsWith\" at "
		"column 12 in 'event.type.startsWith(\"a\")'; outrig supports ==, !=, &&, ||, ! and parentheses "
		"over event fields");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  pubsubname: pubsub\n"
				     "  routes: {rules: [{match: 'event.id == \"1\"'}]}\n",
				     "app", &l, &d),
			  1);
	assert_lines(&d, 1, "subs.yaml:4:3: spec.topic: missing; name the topic to subscribe to");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  topic: t\n"
				     "  pubsubname: \"\"\n",
				     "app", &l, &d),
			  1);
	assert_lines(
		&d, 1,
		"subs.yaml:5:15: spec.pubsubname: missing; name the pub/sub component to subscribe to (the key "
		"is all lower case)");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  topic: t\n"
				     "  pubsubname: p\n"
				     "  routes: {}\n",
				     "app", &l, &d),
			  1);
	assert_lines(
		&d, 1,
		"subs.yaml:4:3: spec.routes: no route, so no event could be delivered; add \"routes:\" with "
		"\"default: PATH\" under it");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  topic: t\n"
				     "  pubsubname: p\n"
				     "  route: /t\n",
				     "app", &l, &d),
			  1);
	assert_lines(
		&d, 1,
		"subs.yaml:6:10: spec.route: is dapr.io/v1alpha1's; under dapr.io/v2alpha1 write \"routes:\" "
		"with \"default: PATH\" under it");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v1alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  topic: t\n"
				     "  pubsubname: p\n"
				     "  routes: {default: /t}\n",
				     "app", &l, &d),
			  1);
	assert_lines(
		&d, 1,
		"subs.yaml:6:11: spec.routes: needs apiVersion dapr.io/v2alpha1; change apiVersion, or write "
		"\"route: PATH\" instead");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v1alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  topic: t\n"
				     "  pubsubname: p\n",
				     "app", &l, &d),
			  1);
	assert_lines(
		&d, 1,
		"subs.yaml:4:3: spec.route: no route, so no event could be delivered; add \"route: PATH\"");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  topic: t\n"
				     "  pubsubname: p\n"
				     "  routes: {default: /t}\n"
				     "  metadata:\n"
				     "  - name: rawPayload\n"
				     "    value: \"true\"\n",
				     "app", &l, &d),
			  1);
	assert_lines(
		&d, 1,
		"subs.yaml:8:3: spec.metadata: expected a mapping of names to values, found a list; write e.g. "
		"\"metadata:\" with \"rawPayload: \\\"true\\\"\" under it");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v3\n"
				     "kind: Subscription\n",
				     "app", &l, &d),
			  1);
	assert_lines(
		&d, 1,
		"subs.yaml:1:13: apiVersion: kind Subscription is dapr.io/v2alpha1 or dapr.io/v1alpha1, found "
		"\"dapr.io/v3\"; write apiVersion: dapr.io/v2alpha1");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  topic: [t]\n"
				     "  pubsubname: p\n",
				     "app", &l, &d),
			  1);
	assert_lines(&d, 1, "subs.yaml:4:10: spec.topic: expected text, found a list; write a single value");
	diag_clear(&d);

	ck_assert_uint_eq(parse_yaml("apiVersion: dapr.io/v2alpha1\n"
				     "kind: Subscription\n"
				     "spec:\n"
				     "  topic: t\n"
				     "  pubsubname: p\n"
				     "  routes:\n"
				     "    rules:\n"
				     "    - match: event.type == 'x'\n"
				     "    default: /t\n"
				     "scopes: app1\n",
				     "app", &l, &d),
			  2);
	assert_lines(
		&d, 2,
		"subs.yaml:10:9: scopes: expected a list of app IDs, found text; write scopes: [app1, app2], or "
		"leave it out for every app",
		"subs.yaml:8:7: spec.routes.rules[0].path: missing; give each rule the app route it delivers to");
	ck_assert_uint_eq(l.count, 0);
	diag_clear(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("subscriptions");
	TCase *app = tcase_create("app");
	TCase *yaml = tcase_create("yaml");
	SRunner *sr;
	int failed;

	tcase_add_test(app, test_app_both_shapes);
	tcase_add_test(app, test_app_no_default_drops);
	tcase_add_test(app, test_app_bad_elements);
	tcase_add_test(app, test_app_not_a_list);
	tcase_add_test(app, test_append_and_metadata);
	tcase_add_test(yaml, test_yaml_v2);
	tcase_add_test(yaml, test_yaml_v1_and_scopes);
	tcase_add_test(yaml, test_yaml_errors);
	suite_add_tcase(s, app);
	suite_add_tcase(s, yaml);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
