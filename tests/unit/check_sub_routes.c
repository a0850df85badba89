/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: every subscription route gets the leading "/" daprd adds (issue 11, item 24). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/diag.h"
#include "blocks/pubsub/subscriptions.h"

static size_t parse_yaml(const char *text, struct sub_list *out, struct diag *d)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	size_t n;

	ck_assert(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	ck_assert(yaml_parser_load(&parser, &doc));
	n = subscriptions_parse_yaml(&doc, yaml_document_get_root_node(&doc), "subs.yaml", "app", out, d);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return n;
}

/* The quickstart's Express app declares "route": "orders"; v2 rules and defaults too. */
START_TEST(test_programmatic_routes)
{
	static const char json[] = "[{\"pubsubname\":\"p\",\"topic\":\"orders\",\"route\":\"orders\"},"
				   "{\"pubsubname\":\"p\",\"topic\":\"t2\",\"routes\":{\"rules\":[{\"match\":"
				   "\"event.type == 'x'\",\"path\":\"x/y\"}],\"default\":\"/already\"}},"
				   "{\"pubsubname\":\"p\",\"topic\":\"t3\",\"routes\":{\"default\":\"d\"}}]";
	struct sub_list l = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(subscriptions_parse_app(json, strlen(json), &l, &d), 0);
	ck_assert_uint_eq(l.count, 3);
	ck_assert_str_eq(l.items[0].rules[0].path, "/orders");
	ck_assert_str_eq(l.items[1].rules[0].path, "/x/y");
	ck_assert_str_eq(l.items[1].rules[1].path, "/already");
	ck_assert_str_eq(l.items[2].rules[0].path, "/d");
	subscriptions_free(&l);
	diag_clear(&d);
}
END_TEST

START_TEST(test_declarative_routes)
{
	struct sub_list l = { 0 };
	struct diag d = { 0 };

	parse_yaml("apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: a\n"
		   "spec:\n  pubsubname: p\n  topic: orders\n  routes:\n    rules:\n"
		   "    - match: event.type == \"w\"\n      path: widgets\n    default: orders\n",
		   &l, &d);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_str_eq(l.items[0].rules[0].path, "/widgets");
	ck_assert_str_eq(l.items[0].rules[1].path, "/orders");
	subscriptions_free(&l);
	diag_clear(&d);
	parse_yaml("apiVersion: dapr.io/v1alpha1\nkind: Subscription\nmetadata:\n  name: b\n"
		   "spec:\n  pubsubname: p\n  topic: t\n  route: checkout\n",
		   &l, &d);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_str_eq(l.items[0].rules[0].path, "/checkout");
	subscriptions_free(&l);
	diag_clear(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sub_routes");
	TCase *tc = tcase_create("routes");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_programmatic_routes);
	tcase_add_test(tc, test_declarative_routes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
