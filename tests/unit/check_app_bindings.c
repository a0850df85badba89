/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/channels/app_bindings.c: the input bindings' questions and deliveries over
 * a real app channel to a real stand-in app (tests/lib/test_app.c), answers mapped as API.md §4.2 says.
 */
#include "config.h"

#include <check.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "channels/app_bindings.h"
#include "channels/app_channel.h"
#include "test_app.h"

struct outcome {
	bool called;
	enum app_binding_want want;
	bool acknowledged;
	char detail[800];
	struct event_base *base;
	struct app_bindings_call call; /* the record the channel keeps while the call is out */
};

static struct event_base *base;
static struct test_app *app;
static struct app_channel *ch;
static struct app_bindings *ab;
static struct app_reply next_reply;

static struct app_reply reply_policy(const struct delivery *d, void *arg)
{
	return next_reply;
}

static void setup(void)
{
	base = event_base_new();
	app = test_app_start();
	ck_assert_ptr_nonnull(app);
	ch = app_channel_new(base, "127.0.0.1", test_app_port(app), 4, 5);
	ck_assert_ptr_nonnull(ch);
	ab = app_bindings_new_http(ch);
	ck_assert_ptr_nonnull(ab);
	next_reply = (struct app_reply){ .answer = APP_SUCCESS };
	test_app_set_policy(app, reply_policy, NULL);
}

static void teardown(void)
{
	app_bindings_free(ab);
	app_channel_free(ch);
	test_app_destroy(app);
	event_base_free(base);
}

static void asked(void *arg, enum app_binding_want want, const char *detail)
{
	struct outcome *o = arg;

	o->called = true;
	o->want = want;
	snprintf(o->detail, sizeof(o->detail), "%s", detail != NULL ? detail : "(null)");
	event_base_loopbreak(o->base);
}

static void delivered(void *arg, bool acknowledged, const char *why)
{
	struct outcome *o = arg;

	o->called = true;
	o->acknowledged = acknowledged;
	snprintf(o->detail, sizeof(o->detail), "%s", why != NULL ? why : "(null)");
	event_base_loopbreak(o->base);
}

/* Runs the loop until the callback came, at most 5 s. */
static void wait_outcome(struct outcome *o)
{
	struct timeval limit = { 5, 0 };

	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	ck_assert_msg(o->called, "the channel never called back");
}

static struct outcome ask(enum app_answer answer)
{
	struct outcome o = { .base = base };

	next_reply.answer = answer;
	ck_assert_int_eq(app_bindings_ask(ab, "/orders", &o.call, asked, &o), 0);
	wait_outcome(&o);
	return o;
}

START_TEST(ask_maps_the_answer)
{
	struct outcome o = ask(APP_SUCCESS);
	const struct delivery *d;

	ck_assert_int_eq(o.want, APP_BINDING_WANTED);
	ck_assert_str_eq(o.detail, "(null)");
	d = test_app_delivery(app, 0);
	ck_assert_str_eq(d->method, "OPTIONS");
	ck_assert_str_eq(d->path, "/orders");

	o = ask(APP_404);
	ck_assert_int_eq(o.want, APP_BINDING_DECLINED);
	ck_assert_msg(strstr(o.detail, "the app answered OPTIONS /orders with HTTP 404") != NULL, "%s",
		      o.detail);
	ck_assert_msg(strstr(o.detail, "serve POST /orders") != NULL, "%s", o.detail);

	o = ask(APP_500);
	ck_assert_int_eq(o.want, APP_BINDING_DECLINED);
	ck_assert_msg(strstr(o.detail, "HTTP 500") != NULL, "%s", o.detail);
}
END_TEST

START_TEST(ask_without_app)
{
	struct outcome o;

	test_app_stop(app);
	o = ask(APP_SUCCESS);
	ck_assert_int_eq(o.want, APP_BINDING_NO_ANSWER);
	ck_assert_msg(strncmp(o.detail, "OPTIONS /orders failed: ", 24) == 0, "%s", o.detail);
}
END_TEST

START_TEST(deliver_headers_and_body)
{
	static const struct outrig_kv items[] = {
		{ "content-type", "text/plain" }, { "x-kafka-key", "k1" },	 { "Host", "evil" },
		{ "Upgrade", "websocket" },	  { "Keep-Alive", "timeout=1" }, { "", "empty name" },
		{ "bad", "line\nbreak" },
	};
	struct outrig_metadata md = { .count = sizeof(items) / sizeof(items[0]), .items = items };
	struct outcome o = { .base = base };
	const struct delivery *d;
	const char *host;

	ck_assert_int_eq(app_bindings_deliver(ab, "/orders", &md, "hello", 5, &o.call, delivered, &o), 0);
	wait_outcome(&o);
	ck_assert(o.acknowledged);
	d = test_app_delivery(app, 0);
	ck_assert_str_eq(d->method, "POST");
	ck_assert_str_eq(d->path, "/orders");
	ck_assert_uint_eq(d->body_len, 5);
	ck_assert_str_eq(d->body, "hello");
	ck_assert_str_eq(json_string_value(json_object_get(d->headers, "content-type")), "text/plain");
	ck_assert_str_eq(json_string_value(json_object_get(d->headers, "x-kafka-key")), "k1");
	host = json_string_value(json_object_get(d->headers, "host"));
	ck_assert_msg(host != NULL && strcmp(host, "evil") != 0, "host %s", host ? host : "(none)");
	/* Names that describe the HTTP message itself are not the event's to set. */
	ck_assert_ptr_null(json_object_get(d->headers, "upgrade"));
	ck_assert_ptr_null(json_object_get(d->headers, "keep-alive"));
	ck_assert_ptr_null(json_object_get(d->headers, "bad"));
}
END_TEST

START_TEST(deliver_default_content_type_and_failures)
{
	struct outrig_metadata none = { 0 };
	struct outcome o = { .base = base };
	const struct delivery *d;

	next_reply.answer = APP_500;
	ck_assert_int_eq(app_bindings_deliver(ab, "/orders", &none, "{}", 2, &o.call, delivered, &o), 0);
	wait_outcome(&o);
	ck_assert(!o.acknowledged);
	ck_assert_str_eq(o.detail, "the app answered HTTP 500");
	d = test_app_delivery(app, 0);
	ck_assert_str_eq(json_string_value(json_object_get(d->headers, "content-type")), "application/json");

	/* 404 is no acknowledgement either: only a 2xx is. */
	o = (struct outcome){ .base = base };
	next_reply.answer = APP_404;
	ck_assert_int_eq(app_bindings_deliver(ab, "/orders", NULL, NULL, 0, &o.call, delivered, &o), 0);
	wait_outcome(&o);
	ck_assert(!o.acknowledged);

	o = (struct outcome){ .base = base };
	test_app_stop(app);
	ck_assert_int_eq(app_bindings_deliver(ab, "/orders", NULL, "x", 1, &o.call, delivered, &o), 0);
	wait_outcome(&o);
	ck_assert(!o.acknowledged);
	ck_assert_str_ne(o.detail, "(null)");
}
END_TEST

static void ready(void *arg)
{
	struct outcome *o = arg;

	o->called = true;
	event_base_loopbreak(o->base);
}

START_TEST(when_ready)
{
	struct outcome o = { .base = base };

	app_bindings_when_ready(ab, ready, &o);
	wait_outcome(&o);
}
END_TEST

START_TEST(names_for_logs)
{
	char buf[64];

	ck_assert_str_eq(app_bindings_ask_name(ab, "/in", buf, sizeof(buf)), "OPTIONS /in");
	ck_assert_str_eq(app_bindings_deliver_name(ab, "/in", buf, sizeof(buf)), "POST /in");
}
END_TEST

static Suite *app_bindings_suite(void)
{
	Suite *s = suite_create("app_bindings");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ask_maps_the_answer);
	tcase_add_test(tc, ask_without_app);
	tcase_add_test(tc, deliver_headers_and_body);
	tcase_add_test(tc, deliver_default_content_type_and_failures);
	tcase_add_test(tc, when_ready);
	tcase_add_test(tc, names_for_logs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(app_bindings_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
