/* SPDX-License-Identifier: Apache-2.0 */
/* core/blocks/pubsub/grpc_subscriptions.c alone: a gRPC app's ListTopicSubscriptions answer as subscriptions. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "blocks/pubsub/grpc_subscriptions.h"

START_TEST(test_routes_and_fields)
{
	static const struct app_grpc_topic_rule rules[] = { { "event.type == \"a\"", "/a" }, { "  ", "b" } };
	struct kv_list md = { 0 };
	struct app_grpc_subscription subs[] = {
		{ .pubsub_name = "ps",
		  .topic = "full",
		  .metadata = &md,
		  .has_routes = true,
		  .rules = rules,
		  .n_rules = 2,
		  .default_path = "/other",
		  .dead_letter_topic = "dlq" },
		{ .pubsub_name = "ps", .topic = "plain", .default_path = "", .dead_letter_topic = "" },
		{ .pubsub_name = "ps",
		  .topic = "rules-only",
		  .has_routes = true,
		  .rules = rules,
		  .n_rules = 1,
		  .default_path = "",
		  .dead_letter_topic = "" },
	};
	struct app_grpc_subscriptions_result r = { .subscriptions = subs, .count = 3, .message = "" };
	struct sub_list out = { 0 };
	struct diag d = { 0 };
	json_t *a = json_pack("{ss}", "type", "a"), *b = json_pack("{ss}", "type", "b");
	const struct subscription *s;

	ck_assert_int_eq(kv_set(&md, "rawPayload", "true"), 0);
	ck_assert_uint_eq(subscriptions_from_grpc(&r, &out, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(out.count, 3);
	s = &out.items[0];
	ck_assert_int_eq(s->type, SUB_PROGRAMMATIC);
	ck_assert_str_eq(s->pubsub, "ps");
	ck_assert_str_eq(s->topic, "full");
	ck_assert_str_eq(s->origin, "the app's ListTopicSubscriptions answer, element 0");
	ck_assert_uint_eq(s->nrules, 3);
	/* Paths stay as the app listed them ("b" gets no "/"): they go back to it as TopicEventRequest.path. */
	ck_assert_str_eq(s->rules[0].path, "/a");
	ck_assert_str_eq(s->rules[1].path, "b");
	ck_assert_str_eq(s->rules[2].path, "/other");
	ck_assert_str_eq(s->dead_letter_topic, "dlq");
	ck_assert(s->raw_payload);
	ck_assert_str_eq(subscription_route(s, a), "/a");
	/* A blank match is the default route, so the second rule takes every other event. */
	ck_assert_str_eq(subscription_route(s, b), "b");
	/* No routes: daprd's gRPC default route "". */
	s = &out.items[1];
	ck_assert_uint_eq(s->nrules, 1);
	ck_assert_str_eq(s->rules[0].path, "");
	ck_assert_str_eq(subscription_route(s, b), "");
	ck_assert_ptr_null(s->dead_letter_topic);
	ck_assert(!s->raw_payload);
	/* Rules and no default: an event no rule matches has no route. */
	s = &out.items[2];
	ck_assert_uint_eq(s->nrules, 1);
	ck_assert_ptr_null(subscription_route(s, b));
	json_decref(a);
	json_decref(b);
	subscriptions_free(&out);
	diag_clear(&d);
	kv_free(&md);
}
END_TEST

START_TEST(test_left_out)
{
	static const struct app_grpc_topic_rule bad[] = { { "event.type ==", "/x" } };
	struct app_grpc_subscription subs[] = {
		{ .pubsub_name = "", .topic = "t", .default_path = "", .dead_letter_topic = "" },
		{ .pubsub_name = "ps",
		  .topic = "cel",
		  .has_routes = true,
		  .rules = bad,
		  .n_rules = 1,
		  .default_path = "",
		  .dead_letter_topic = "" },
		{ .pubsub_name = "ps",
		  .topic = "bulk",
		  .default_path = "/b",
		  .dead_letter_topic = "",
		  .has_bulk = true,
		  .bulk_enabled = true },
	};
	struct app_grpc_subscriptions_result r = { .subscriptions = subs, .count = 3, .message = "" };
	struct sub_list out = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(subscriptions_from_grpc(&r, &out, &d), 2);
	ck_assert_uint_eq(d.warnings, 1);
	ck_assert_uint_eq(out.count, 1);
	ck_assert_str_eq(out.items[0].topic, "bulk");
	ck_assert_msg(strstr(d.lines[0], "element 0") != NULL && strstr(d.lines[0], "pubsub_name") != NULL,
		      "%s", d.lines[0]);
	ck_assert_msg(strstr(d.lines[1], "element 1") != NULL &&
			      strstr(d.lines[1], "routes.rules[0].match") != NULL,
		      "%s", d.lines[1]);
	ck_assert_msg(strstr(d.lines[2], "bulk_subscribe") != NULL, "%s", d.lines[2]);
	subscriptions_free(&out);
	diag_clear(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grpc_subscriptions");
	TCase *tc = tcase_create("list");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_routes_and_fields);
	tcase_add_test(tc, test_left_out);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
