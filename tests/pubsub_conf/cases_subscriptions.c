/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance cases on subscriptions: routing rules, declarative and programmatic forms, raw payloads. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pubsub_conf.h"

/* Rules in order: a widget goes to /widgets even though its data also says gadget. */
#define SHAPES_SUB                                                                                           \
	"[{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"shapes\",\"routes\":{\"rules\":["                       \
	"{\"match\":\"event.type == \\\"widget\\\"\",\"path\":\"/widgets\"},"                                \
	"{\"match\":\"event.data.kind == \\\"gadget\\\" && !(event.source == \\\"nobody\\\")\","             \
	"\"path\":\"/gadgets\"}],"                                                                           \
	"\"default\":\"/other\"}}]"

START_TEST(routing_rules)
{
	static const char *const topics[] = { "shapes", NULL };
	const struct case_setup s = { .subscribe = SHAPES_SUB, .topics = topics };
	json_t *subs, *rules;
	const struct delivery *d;

	REQUIRE_ROW();
	subs = bring_up(&s);
	rules = json_object_get(ps_subscription(subs, PUBSUB, "shapes"), "rules");
	ck_assert_msg(json_array_size(rules) >= 2, "metadata lists no rules for shapes");
	ck_assert_str_eq(jstr(json_object_get(json_array_get(rules, 0), "path")), "/widgets");
	ck_assert_str_eq(jstr(json_object_get(json_array_get(rules, 0), "match")),
			 "event.type == \"widget\"");
	publish("shapes", "application/json", "{\"kind\":\"gadget\",\"n\":1}",
		"?metadata.cloudevent.type=widget");
	publish("shapes", "application/json", "{\"kind\":\"gadget\",\"n\":2}", NULL);
	publish("shapes", "application/json", "{\"kind\":\"sprocket\",\"n\":3}", NULL);
	expect_requests("/widgets", 1);
	expect_requests("/gadgets", 1);
	expect_requests("/other", 1);
	d = first_on("/widgets");
	ck_assert_str_eq(jstr(ce(d, "type")), "widget");
	ck_assert_int_eq(json_integer_value(json_object_get(ce(d, "data"), "n")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(ce(first_on("/gadgets"), "data"), "n")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(ce(first_on("/other"), "data"), "n")), 3);
	/* Each event went to one route only. */
	ck_assert_int_eq(test_app_count(ut.app), 3);
	json_decref(subs);
}
END_TEST

START_TEST(declarative_subscriptions)
{
	static const char *const files[] = { "subscription-v2alpha1.yaml", "subscription-v1alpha1.yaml",
					     "subscription-other-app.yaml", NULL };
	static const char *const topics[] = { "decl-v2", "decl-v1", NULL };
	/* No /dapr/subscribe: the files alone subscribe the app. */
	const struct case_setup s = { .fixtures = files, .topics = topics };
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	ck_assert_str_eq(jstr(json_object_get(ps_subscription(subs, PUBSUB, "decl-v2"), "type")),
			 "DECLARATIVE");
	ck_assert_str_eq(jstr(json_object_get(ps_subscription(subs, PUBSUB, "decl-v1"), "type")),
			 "DECLARATIVE");
	ck_assert_msg(ps_subscription(subs, PUBSUB, "decl-hidden") == NULL,
		      "a subscription scoped to another app is listed");
	publish("decl-v2", "text/plain", "v2 default", NULL);
	publish("decl-v2", "text/plain", "v2 rule", "?metadata.cloudevent.type=special");
	publish("decl-v1", "text/plain", "v1 route", NULL);
	publish("decl-hidden", "text/plain", "nobody listens", NULL);
	ck_assert_str_eq(jstr(ce(first_on("/decl-v2"), "data")), "v2 default");
	ck_assert_str_eq(jstr(ce(first_on("/decl-v2-special"), "data")), "v2 rule");
	ck_assert_str_eq(jstr(ce(first_on("/decl-v1"), "data")), "v1 route");
	expect_no_more("/decl-hidden", 0, 300);
	json_decref(subs);
}
END_TEST

/* One element in v1 form (route), one in v2 form (routes.default), in one answer. */
#define BOTH_FORMS                                                                                           \
	"[{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"prog-v1\",\"route\":\"/prog-v1\"},"                     \
	"{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"prog-v2\",\"routes\":{\"default\":\"/prog-v2\"}}]"

START_TEST(programmatic_subscriptions)
{
	static const char *const topics[] = { "prog-v1", "prog-v2", NULL };
	const struct case_setup s = { .subscribe = BOTH_FORMS, .topics = topics };
	char asked_by[128] = "";
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	ck_assert_msg(test_app_subscribe_calls(ut.app, asked_by, sizeof(asked_by)) >= 1,
		      "outrigd never asked GET /dapr/subscribe");
	ck_assert_str_eq(asked_by, APP_ID);
	ck_assert_str_eq(jstr(json_object_get(ps_subscription(subs, PUBSUB, "prog-v1"), "type")),
			 "PROGRAMMATIC");
	ck_assert_str_eq(jstr(json_object_get(ps_subscription(subs, PUBSUB, "prog-v2"), "type")),
			 "PROGRAMMATIC");
	publish("prog-v1", "text/plain", "one", NULL);
	publish("prog-v2", "text/plain", "two", NULL);
	ck_assert_str_eq(jstr(ce(first_on("/prog-v1"), "data")), "one");
	ck_assert_str_eq(jstr(ce(first_on("/prog-v2"), "data")), "two");
	json_decref(subs);
}
END_TEST

#define RAW_SUB                                                                                              \
	"[{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"raw\",\"route\":\"/raw\","                              \
	"\"metadata\":{\"rawPayload\":\"true\"}}]"

START_TEST(raw_payload)
{
	static const char *const topics[] = { "raw", NULL };
	const struct case_setup s = { .subscribe = RAW_SUB, .topics = topics };
	/* Not a CloudEvent, not JSON, not even text: the bytes must arrive untouched. */
	static const unsigned char bytes[] = { 0x00, 0xff, 0x7b, 0x22, 0x0a, 0x80, 0x01, 'r', 'a', 'w' };
	const struct delivery *d;
	unsigned char *got;
	size_t len = 0;
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	ck_assert_str_eq(
		jstr(json_object_get(json_object_get(ps_subscription(subs, PUBSUB, "raw"), "metadata"),
				     "rawPayload")),
		"true");
	publish_bytes("raw", "application/octet-stream", NULL, bytes, sizeof(bytes),
		      "?metadata.rawPayload=true");
	d = first_on("/raw");
	/* outrigd wraps what the broker carried in a CloudEvent of its own (API.md §2.6). */
	ck_assert_str_eq(jstr(ce(d, "datacontenttype")), "application/octet-stream");
	ck_assert_str_eq(jstr(ce(d, "topic")), "raw");
	ck_assert_str_eq(jstr(ce(d, "pubsubname")), PUBSUB);
	ck_assert_msg(json_string_length(ce(d, "id")) > 0, "no id: %.300s", d->body);
	got = ps_base64_decode(jstr(ce(d, "data_base64")), &len);
	ck_assert_msg(got != NULL && len == sizeof(bytes) && memcmp(got, bytes, len) == 0,
		      "data_base64 is not the raw bytes published: %.300s", d->body);
	free(got);
	json_decref(subs);
}
END_TEST

#define USER_EVENT                                                                                           \
	"{\"specversion\":\"1.0\",\"id\":\"user-id-1\",\"source\":\"user-source\",\"type\":\"user.type\","   \
	"\"subject\":\"the-subject\",\"datacontenttype\":\"application/json\",\"data\":{\"a\":1},"           \
	"\"topic\":\"wrong-topic\",\"pubsubname\":\"wrong-pubsub\",\"extension\":\"kept\"}"

START_TEST(cloudevent_augmented_not_wrapped)
{
	static const char *const topics[] = { "ce", NULL };
	const struct case_setup s = {
		.subscribe = "[{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"ce\",\"route\":\"/ce\"}]",
		.topics = topics,
	};
	json_t *subs, *want = json_pack("{s:i}", "a", 1);
	const struct delivery *d;

	REQUIRE_ROW();
	subs = bring_up(&s);
	publish("ce", "application/cloudevents+json", USER_EVENT, NULL);
	d = first_on("/ce");
	/* The user's fields stay. */
	ck_assert_str_eq(jstr(ce(d, "id")), "user-id-1");
	ck_assert_str_eq(jstr(ce(d, "source")), "user-source");
	ck_assert_str_eq(jstr(ce(d, "type")), "user.type");
	ck_assert_str_eq(jstr(ce(d, "subject")), "the-subject");
	ck_assert_str_eq(jstr(ce(d, "extension")), "kept");
	ck_assert_str_eq(jstr(ce(d, "datacontenttype")), "application/json");
	ck_assert_msg(json_equal(ce(d, "data"), want),
		      "data is not the user's, so the event was wrapped: %.400s", d->body);
	/* topic and pubsubname are always outrigd's; time and trace fields are added. */
	ck_assert_str_eq(jstr(ce(d, "topic")), "ce");
	ck_assert_str_eq(jstr(ce(d, "pubsubname")), PUBSUB);
	ck_assert_msg(json_string_length(ce(d, "time")) > 0, "no time added: %.400s", d->body);
	ck_assert_msg(json_string_length(ce(d, "traceparent")) > 0, "no traceparent added: %.400s", d->body);
	ck_assert_str_eq(jstr(ce(d, "traceid")), jstr(ce(d, "traceparent")));
	json_decref(want);
	json_decref(subs);
}
END_TEST

void add_subscription_cases(TCase *tc)
{
	tcase_add_test(tc, routing_rules);
	tcase_add_test(tc, declarative_subscriptions);
	tcase_add_test(tc, programmatic_subscriptions);
	tcase_add_test(tc, raw_payload);
	tcase_add_test(tc, cloudevent_augmented_not_wrapped);
}
