/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance cases on delivery itself: the CloudEvent's fields, volume, order, size, concurrency. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pubsub_conf.h"

/* A programmatic subscription of PUBSUB to one topic, delivered to "/<topic>". */
#define SUB(topic) "{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"" topic "\",\"route\":\"/" topic "\"}"

#define TRACE_ID "0af7651916cd43dd8448eb211c80319c"
#define TRACEPARENT "00-" TRACE_ID "-b7ad6b7169203331-01"

START_TEST(receive_json)
{
	static const char *const topics[] = { "json", NULL };
	const struct case_setup s = { .subscribe = "[" SUB("json") "]", .topics = topics };
	const char *body = "{\"n\":12345678901234,\"s\":\"caf\\u00e9\",\"a\":[true,null,0.5],\"o\":{}}";
	json_t *subs, *want = json_loads(body, 0, NULL);
	const struct delivery *d;
	const char *tp;

	REQUIRE_ROW();
	subs = bring_up(&s);
	ck_assert_str_eq(jstr(json_object_get(ps_subscription(subs, PUBSUB, "json"), "type")),
			 "PROGRAMMATIC");
	publish_bytes("json", "application/json", "traceparent: " TRACEPARENT "\r\n", body, strlen(body),
		      NULL);
	d = first_on("/json");
	expect_envelope(d, "json", "application/json");
	/* JSON data is embedded as JSON, not as a string holding it. */
	ck_assert_msg(json_equal(ce(d, "data"), want), "data is not the published JSON: %.400s", d->body);
	ck_assert_msg(ce(d, "data_base64") == NULL, "JSON data also came as data_base64: %.400s", d->body);
	/* The publisher's trace goes on: same trace id, in the event and in the delivery's headers. */
	tp = jstr(ce(d, "traceparent"));
	ck_assert_msg(strncmp(tp + 3, TRACE_ID, 32) == 0, "traceparent %s is not in trace %s", tp, TRACE_ID);
	tp = jstr(json_object_get(d->headers, "traceparent"));
	ck_assert_msg(strncmp(tp, "00-" TRACE_ID, 35) == 0,
		      "delivery header traceparent '%s' is not in trace %s", tp, TRACE_ID);
	expect_no_more("/json", 1, 300);
	json_decref(want);
	json_decref(subs);
}
END_TEST

START_TEST(receive_text)
{
	static const char *const topics[] = { "text", NULL };
	const struct case_setup s = { .subscribe = "[" SUB("text") "]", .topics = topics };
	json_t *subs;
	const struct delivery *d;

	REQUIRE_ROW();
	subs = bring_up(&s);
	publish("text", "text/plain", "hello, world", NULL);
	/* No Content-Type at all is text/plain too. */
	publish("text", NULL, "{\"looks\":\"like json\"}", NULL);
	expect_requests("/text", 2);
	d = with_field("/text", "data", "hello, world");
	expect_envelope(d, "text", "text/plain");
	/* Not application/json: the body stays a string even when it parses as JSON. */
	d = with_field("/text", "data", "{\"looks\":\"like json\"}");
	expect_envelope(d, "text", "text/plain");
	json_decref(subs);
}
END_TEST

START_TEST(receive_binary)
{
	static const char *const topics[] = { "binary", NULL };
	const struct case_setup s = { .subscribe = "[" SUB("binary") "]", .topics = topics };
	json_t *subs;
	unsigned char bytes[256], *got;
	const struct delivery *d;
	size_t len = 0;

	REQUIRE_ROW();
	subs = bring_up(&s);
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(255 - i);
	publish_bytes("binary", "application/octet-stream", NULL, bytes, sizeof(bytes), NULL);
	d = first_on("/binary");
	expect_envelope(d, "binary", "application/octet-stream");
	ck_assert_msg(ce(d, "data") == NULL, "binary payload came as data, not data_base64: %.300s", d->body);
	got = ps_base64_decode(jstr(ce(d, "data_base64")), &len);
	ck_assert_msg(got != NULL && len == sizeof(bytes) && memcmp(got, bytes, len) == 0,
		      "data_base64 does not decode to the 256 bytes published: %.500s", d->body);
	free(got);
	json_decref(subs);
}
END_TEST

#define MANY 500

START_TEST(many_messages)
{
	static const char *const topics[] = { "many", NULL };
	const struct case_setup s = { .subscribe = "[" SUB("many") "]", .topics = topics };
	json_t *subs;
	int seen[MANY] = { 0 };
	bool all;

	REQUIRE_ROW();
	subs = bring_up(&s);
	for (int i = 0; i < MANY; i++)
		publish("many", "application/json", xfmt("{\"i\":%d}", i), NULL);
	all = test_app_wait_ids(ut.app, "/many", MANY, 3 * PS_SOON_MS);
	ck_assert_msg(all, "%zu of %d messages arrived", test_app_distinct_ids(ut.app, "/many"), MANY);
	/* The app acknowledged every one at once: a second copy of any would be a duplicate. */
	expect_no_more("/many", MANY, 500);
	for (size_t k = 0; k < MANY; k++) {
		const struct delivery *d = nth(k);
		json_int_t i = json_integer_value(json_object_get(ce(d, "data"), "i"));

		ck_assert_msg(i >= 0 && i < MANY, "unexpected message %.200s", d->body);
		ck_assert_msg(++seen[i] == 1, "message %d delivered twice", (int)i);
	}
	json_decref(subs);
}
END_TEST

#define ORDERED 100

START_TEST(order_per_topic)
{
	static const char *const topics[] = { "ordered", NULL };
	const struct case_setup s = { .subscribe = "[" SUB("ordered") "]",
				      .topics = topics,
				      .max_concurrency = 1 };
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	for (int i = 0; i < ORDERED; i++)
		publish("ordered", "application/json", xfmt("{\"i\":%d}", i), NULL);
	ck_assert_msg(test_app_wait_count(ut.app, "/ordered", ORDERED, 3 * PS_SOON_MS), "%zu of %d arrived",
		      test_app_count_path(ut.app, "/ordered"), ORDERED);
	for (int k = 0; k < ORDERED; k++) {
		const struct delivery *d = nth((size_t)k);

		ck_assert_msg(json_integer_value(json_object_get(ce(d, "data"), "i")) == k,
			      "delivery #%d is %.200s; expected i=%d: one at a time, in publish order", k + 1,
			      d->body, k);
	}
	ck_assert_int_eq(test_app_max_in_flight(ut.app), 1);
	json_decref(subs);
}
END_TEST

#define MEGABYTE (1024 * 1024)

START_TEST(large_payloads)
{
	static const char *const topics[] = { "large", NULL };
	const struct case_setup s = { .subscribe = "[" SUB("large") "]", .topics = topics };
	json_t *subs;
	char *text = malloc(MEGABYTE + 1);
	unsigned char *bytes = malloc(MEGABYTE), *got;
	const struct delivery *d;
	size_t len = 0;

	REQUIRE_ROW();
	subs = bring_up(&s);
	ck_assert(text != NULL && bytes != NULL);
	for (size_t i = 0; i < MEGABYTE; i++) {
		text[i] = (char)('a' + (i * 7 + i / 4096) % 26);
		bytes[i] = (unsigned char)((i * 2654435761u) >> 13);
	}
	text[MEGABYTE] = '\0';
	publish("large", "text/plain", text, NULL);
	publish_bytes("large", "application/octet-stream", NULL, bytes, MEGABYTE, NULL);
	expect_requests("/large", 2);
	d = with_field("/large", "datacontenttype", "text/plain");
	expect_envelope(d, "large", "text/plain");
	ck_assert_msg(json_string_length(ce(d, "data")) == MEGABYTE && strcmp(jstr(ce(d, "data")), text) == 0,
		      "the 1 MB text came back as %zu different bytes", json_string_length(ce(d, "data")));
	d = with_field("/large", "datacontenttype", "application/octet-stream");
	expect_envelope(d, "large", "application/octet-stream");
	got = ps_base64_decode(jstr(ce(d, "data_base64")), &len);
	ck_assert_msg(got != NULL && len == MEGABYTE && memcmp(got, bytes, len) == 0,
		      "the 1 MB binary came back as %zu different bytes", len);
	free(got);
	free(bytes);
	free(text);
	json_decref(subs);
}
END_TEST

static struct app_reply slow_success(const struct delivery *d, void *arg)
{
	(void)d;
	(void)arg;
	return (struct app_reply){ APP_SLOW, 150 };
}

#define LIMIT 3
#define BURST 15

START_TEST(max_concurrency)
{
	static const char *const topics[] = { "bounded", NULL };
	const struct case_setup s = {
		.subscribe = "[" SUB("bounded") "]",
		.topics = topics,
		.max_concurrency = LIMIT,
		.policy = slow_success,
	};
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	for (int i = 0; i < BURST; i++)
		publish("bounded", "application/json", xfmt("{\"i\":%d}", i), NULL);
	ck_assert_msg(test_app_wait_acked(ut.app, "/bounded", BURST, 3 * PS_SOON_MS),
		      "%zu of %d acknowledged", test_app_acked_ids(ut.app, "/bounded"), BURST);
	ck_assert_msg(test_app_max_in_flight(ut.app) <= LIMIT,
		      "the app held %d deliveries at once with --app-max-concurrency %d",
		      test_app_max_in_flight(ut.app), LIMIT);
	json_decref(subs);
}
END_TEST

void add_delivery_cases(TCase *tc)
{
	tcase_add_test(tc, receive_json);
	tcase_add_test(tc, receive_text);
	tcase_add_test(tc, receive_binary);
	tcase_add_test(tc, many_messages);
	tcase_add_test(tc, order_per_topic);
	tcase_add_test(tc, large_payloads);
	tcase_add_test(tc, max_concurrency);
}
