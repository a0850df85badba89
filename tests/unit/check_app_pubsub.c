/* SPDX-License-Identifier: Apache-2.0 */
/*
 * channels/app_pubsub.h over HTTP, against the real test app: what the app answers a delivery
 * becomes SUCCESS, RETRY or DROP (API.md §2.6), the event goes out with the headers daprd sends,
 * and GET /dapr/subscribe's answers become LISTED, NONE, REFUSED or UNREACHABLE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "channels/app_channel.h"
#include "channels/app_pubsub.h"
#include "test_app.h"

static struct event_base *base;
static struct app_channel *ch;
static struct app_pubsub *ap;
static struct test_app *app;

static void setup(void)
{
	ck_assert_ptr_nonnull(app = test_app_start());
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(ch = app_channel_new(base, "127.0.0.1", test_app_port(app), -1, 5));
	ck_assert_ptr_nonnull(ap = app_pubsub_new_http(ch));
}

static void teardown(void)
{
	app_pubsub_free(ap);
	app_channel_free(ch);
	event_base_free(base);
	test_app_destroy(app);
}

/* ---- deliveries ---- */

struct outcome {
	bool done;
	enum app_event_status status;
	char why[300];
};

static void on_event(void *arg, enum app_event_status status, const char *why)
{
	struct outcome *o = arg;

	o->done = true;
	o->status = status;
	snprintf(o->why, sizeof(o->why), "%s", why != NULL ? why : "");
	event_base_loopbreak(base);
}

static struct app_reply answer_by_path(const struct delivery *d, void *arg)
{
	static const struct {
		const char *path;
		enum app_answer answer;
	} table[] = {
		{ "/success", APP_SUCCESS }, { "/retry", APP_RETRY }, { "/drop", APP_DROP },
		{ "/missing", APP_404 },     { "/broken", APP_500 },  { "/empty", APP_EMPTY_200 },
	};
	struct app_reply r = { APP_SUCCESS, 0 };

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(d->path, table[i].path) == 0)
			r.answer = table[i].answer;
	return r;
}

/* Delivers a small event to route and runs the loop until the channel tells how it went. */
static struct outcome deliver(const char *route)
{
	static const char ce[] = "{\"id\":\"e1\",\"specversion\":\"1.0\",\"data\":\"x\"}";
	static const struct outrig_kv kv[] = { { "kafka-key", "k1" }, { "Bad\nName", "dropped" } };
	const struct outrig_metadata md = { 2, kv };
	const struct app_event ev = {
		.route = route,
		.pubsub = "pubsub",
		.topic = "orders",
		.cloudevent = ce,
		.len = strlen(ce),
		.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		.tracestate = "",
		.metadata = &md,
	};
	struct outcome o = { 0 };
	struct app_event_call call;

	ck_assert_int_eq(app_pubsub_deliver(ap, &ev, &call, on_event, &o), 0);
	event_base_dispatch(base);
	ck_assert_msg(o.done, "the channel never told how the delivery to %s ended", route);
	return o;
}

START_TEST(answers_become_statuses)
{
	struct outcome o;

	test_app_set_policy(app, answer_by_path, NULL);
	o = deliver("/success");
	ck_assert_int_eq(o.status, APP_EVENT_SUCCESS);
	o = deliver("/empty");
	ck_assert_int_eq(o.status, APP_EVENT_SUCCESS);
	o = deliver("/retry");
	ck_assert_int_eq(o.status, APP_EVENT_RETRY);
	ck_assert_str_eq(o.why, "the app answered RETRY");
	o = deliver("/drop");
	ck_assert_int_eq(o.status, APP_EVENT_DROP);
	ck_assert_str_eq(o.why, "the app answered DROP");
	/* The route does not exist: retrying cannot help. */
	o = deliver("/missing");
	ck_assert_int_eq(o.status, APP_EVENT_DROP);
	ck_assert_str_eq(o.why, "the app answered 404 for /missing");
	o = deliver("/broken");
	ck_assert_int_eq(o.status, APP_EVENT_RETRY);
	ck_assert_str_eq(o.why, "the app answered HTTP 500");
}
END_TEST

START_TEST(event_goes_out_as_daprd_sends_it)
{
	const struct delivery *d;

	deliver("/success");
	ck_assert_ptr_nonnull(d = test_app_delivery(app, 0));
	ck_assert_str_eq(d->method, "POST");
	ck_assert_str_eq(d->path, "/success");
	ck_assert_str_eq(d->id, "e1");
	ck_assert_str_eq(json_string_value(json_object_get(d->headers, "content-type")),
			 "application/cloudevents+json");
	ck_assert_str_eq(json_string_value(json_object_get(d->headers, "pubsubname")), "pubsub");
	ck_assert_str_eq(json_string_value(json_object_get(d->headers, "kafka-key")), "k1");
	ck_assert_str_eq(json_string_value(json_object_get(d->headers, "traceparent")),
			 "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	/* An empty tracestate is not sent, and a name HTTP cannot carry is left out. */
	ck_assert_ptr_null(json_object_get(d->headers, "tracestate"));
	ck_assert_ptr_null(json_object_get(d->headers, "bad\nname"));
}
END_TEST

START_TEST(no_answer_is_retry)
{
	struct outcome o;

	/* Once answered, the app's loop surely runs: test_app_stop cannot come before it starts. */
	o = deliver("/success");
	ck_assert_int_eq(o.status, APP_EVENT_SUCCESS);
	test_app_stop(app);
	o = deliver("/success");
	ck_assert_int_eq(o.status, APP_EVENT_RETRY);
	ck_assert_msg(o.why[0] != '\0', "a failed delivery gives no reason");
}
END_TEST

/* ---- GET /dapr/subscribe ---- */

struct listing {
	bool done;
	enum app_subscriptions_outcome outcome;
	char doc[512];
	char call[64];
	char detail[300];
};

static void on_listing(void *arg, const struct app_subscriptions *r)
{
	struct listing *l = arg;

	l->done = true;
	l->outcome = r->outcome;
	snprintf(l->doc, sizeof(l->doc), "%.*s", (int)r->len, r->doc != NULL ? r->doc : "");
	snprintf(l->call, sizeof(l->call), "%s", r->call);
	snprintf(l->detail, sizeof(l->detail), "%s", r->detail != NULL ? r->detail : "");
	event_base_loopbreak(base);
}

static struct listing list_subscriptions(void)
{
	struct listing l = { 0 };
	struct app_subscriptions_call call;

	ck_assert_int_eq(app_pubsub_list_subscriptions(ap, "myapp", &call, on_listing, &l), 0);
	event_base_dispatch(base);
	ck_assert_msg(l.done, "the channel never told what the app said");
	ck_assert_str_eq(l.call, "GET /dapr/subscribe");
	return l;
}

START_TEST(subscriptions_listed_or_not)
{
	static const char doc[] = "[{\"pubsubname\":\"p\",\"topic\":\"t\",\"route\":\"/t\"}]";
	struct listing l;
	char app_id[64];

	/* The test app answers 404 until it is given subscriptions. */
	l = list_subscriptions();
	ck_assert_int_eq(l.outcome, APP_SUBSCRIPTIONS_NONE);
	ck_assert_str_eq(l.detail, "404");
	test_app_set_subscribe(app, doc);
	l = list_subscriptions();
	ck_assert_int_eq(l.outcome, APP_SUBSCRIPTIONS_LISTED);
	ck_assert_str_eq(l.doc, doc);
	ck_assert_uint_eq(test_app_subscribe_calls(app, app_id, sizeof(app_id)), 2);
	ck_assert_str_eq(app_id, "myapp");
	test_app_stop(app);
	l = list_subscriptions();
	ck_assert_int_eq(l.outcome, APP_SUBSCRIPTIONS_UNREACHABLE);
	ck_assert_msg(l.detail[0] != '\0', "no reason for the failed call");
}
END_TEST

static Suite *app_pubsub_suite(void)
{
	Suite *s = suite_create("app_pubsub");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, answers_become_statuses);
	tcase_add_test(tc, event_goes_out_as_daprd_sends_it);
	tcase_add_test(tc, no_answer_is_retry);
	tcase_add_test(tc, subscriptions_listed_or_not);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(app_pubsub_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
