/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The invocation block called directly, with no front end (issue 12): a sidecar context of its own
 * loop, options and app channel in front of a real echo app, and the one completion per call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "blocks/invoke/invoke.h"
#include "channels/app_call.h"
#include "channels/app_channel.h"
#include "echo_app.h"
#include "options.h"
#include "runtime.h"

#define OWN "blk"

static struct event_base *base;
static struct options opts;
static struct server srv;
static struct echo_app *app;

/* What the completion was told; calls counts how often it ran. */
static struct {
	int calls;
	bool errored, answered;
	struct block_error err;
	int status;
	char content_type[64];
	char body[256];
	size_t len;
	char header[128]; /* the value of the header named by want_header, or "" */
} got;
static const char *want_header;

static void setup(void)
{
	memset(&got, 0, sizeof(got));
	memset(&opts, 0, sizeof(opts));
	memset(&srv, 0, sizeof(srv));
	want_header = NULL;
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	app = echo_app_start("blk");
	ck_assert_ptr_nonnull(app);
	opts.app_id = OWN;
	opts.max_body_bytes = 4 << 20;
	opts.read_buffer_bytes = 4 << 10;
	srv.base = base;
	srv.opts = &opts;
	srv.app = app_channel_new(base, "127.0.0.1", echo_app_port(app), -1, 5);
	ck_assert_ptr_nonnull(srv.app);
}

static void teardown(void)
{
	if (srv.app != NULL)
		app_channel_free(srv.app);
	echo_app_destroy(app);
	event_base_free(base);
}

static void done(void *arg, const struct block_error *err, const struct invoke_answer *ans)
{
	(void)arg;
	got.calls++;
	if (err != NULL) {
		got.errored = true;
		got.err = *err;
	}
	if (ans != NULL) {
		got.answered = true;
		got.status = ans->status;
		snprintf(got.content_type, sizeof(got.content_type), "%s",
			 ans->content_type != NULL ? ans->content_type : "");
		got.len = ans->len;
		snprintf(got.body, sizeof(got.body), "%.*s", (int)(ans->len < 255 ? ans->len : 255),
			 (const char *)ans->body);
		for (size_t i = 0; want_header != NULL && i < ans->headers->count; i++)
			if (strcasecmp(ans->headers->items[i].key, want_header) == 0)
				snprintf(got.header, sizeof(got.header), "%s", ans->headers->items[i].value);
	}
	event_base_loopbreak(base);
}

static void time_up(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Runs the loop until the completion ran (or 10 s passed). */
static void wait_done(void)
{
	struct timeval ten = { 10, 0 };
	struct event *timer = evtimer_new(base, time_up, base);

	ck_assert_ptr_nonnull(timer);
	evtimer_add(timer, &ten);
	if (got.calls == 0)
		event_base_dispatch(base);
	event_free(timer);
	ck_assert_msg(got.calls == 1, "the completion ran %d times", got.calls);
}

static bool gone(void *arg)
{
	(void)arg;
	return false;
}

/* kv_add for tests: aborts the test when out of memory. */
static void add(struct kv_list *l, const char *k, const char *v)
{
	ck_assert_int_eq(kv_add(l, k, v), 0);
}

START_TEST(own_app_gets_the_call_shaped)
{
	struct kv_list h = { 0 };
	struct invoke_request rq = { 0 };
	const struct echo_request *r;

	add(&h, "Host", "me:3500");
	add(&h, "Content-Type", "text/plain");
	add(&h, "dapr-caller-app-id", "spoofed");
	add(&h, "dapr-api-token", "secret");
	add(&h, "X-Custom", "1");
	add(&h, "x-echo-reply-header", "X-Back: yes");
	rq.target = OWN;
	rq.method = "a/../b";
	rq.verb = "PUT";
	rq.query = "q=%20";
	rq.content_type = "application/json"; /* wins over the header's */
	rq.headers = &h;
	rq.body = "{\"v\":1}";
	rq.len = 7;
	rq.client = "10.1.2.3";
	want_header = "X-Back";
	invoke_call(&srv, &rq, done, NULL);
	kv_free(&h);
	wait_done();
	ck_assert_msg(!got.errored, "error: %s", got.err.message);
	ck_assert_int_eq(got.status, 200);
	ck_assert_str_eq(got.body, "{\"v\":1}");
	ck_assert_str_eq(got.content_type, "application/json");
	ck_assert_str_eq(got.header, "yes");
	r = echo_app_last(app);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->method, "PUT");
	ck_assert_str_eq(r->path, "/b");
	ck_assert_str_eq(r->query, "q=%20");
	ck_assert_str_eq(echo_header(r, "content-type"), "application/json");
	ck_assert_str_eq(echo_header(r, "dapr-caller-app-id"), OWN);
	ck_assert_str_eq(echo_header(r, "dapr-callee-app-id"), OWN);
	ck_assert_str_eq(echo_header(r, "x-custom"), "1");
	ck_assert_str_eq(echo_header(r, "x-forwarded-for"), "10.1.2.3");
	ck_assert_str_eq(echo_header(r, "x-forwarded-host"), "me:3500");
	ck_assert_ptr_null(echo_header(r, "dapr-api-token"));
	ck_assert_ptr_nonnull(echo_header(r, "traceparent"));
}
END_TEST

START_TEST(app_status_is_an_answer_not_an_error)
{
	struct kv_list h = { 0 };
	struct invoke_request rq = { .target = OWN, .method = "m", .verb = "GET", .headers = &h };

	add(&h, "x-echo-status", "404");
	invoke_call(&srv, &rq, done, NULL);
	kv_free(&h);
	wait_done();
	ck_assert(!got.errored);
	ck_assert_int_eq(got.status, 404);
}
END_TEST

START_TEST(no_target_fails_at_once)
{
	struct invoke_request rq = { .target = "", .method = "m", .verb = "GET" };

	invoke_call(&srv, &rq, done, NULL);
	/* No loop turn needed: the rule is checked before anything is sent. */
	ck_assert_int_eq(got.calls, 1);
	ck_assert(got.errored && !got.answered);
	ck_assert_int_eq(got.err.error, API_ERR_DIRECT_INVOKE_NO_APP_ID);
	ck_assert_int_eq(block_error_http_status(&got.err), 404);
	ck_assert_int_eq(block_error_grpc_code(&got.err), GRPC_NOT_FOUND);
	ck_assert_uint_eq(echo_app_count(app), 0);
}
END_TEST

START_TEST(bad_verbs_never_reach_the_app)
{
	struct invoke_request rq = { .target = OWN, .method = "m", .verb = "NONE" };

	invoke_call(&srv, &rq, done, NULL);
	ck_assert_int_eq(got.calls, 1);
	ck_assert_int_eq(got.err.error, API_ERR_DIRECT_INVOKE);
	ck_assert_msg(strstr(got.err.message, "invalid HTTP verb NONE") != NULL, "%s", got.err.message);
	got.calls = 0;
	rq.verb = NULL;
	invoke_call(&srv, &rq, done, NULL);
	ck_assert_int_eq(got.calls, 1);
	ck_assert_msg(strstr(got.err.message, "missing HTTP extension") != NULL, "%s", got.err.message);
	ck_assert_uint_eq(echo_app_count(app), 0);
}
END_TEST

START_TEST(no_app_port_is_an_error)
{
	struct invoke_request rq = { .target = OWN, .method = "m", .verb = "GET" };

	app_channel_free(srv.app);
	srv.app = NULL;
	invoke_call(&srv, &rq, done, NULL);
	ck_assert_int_eq(got.calls, 1);
	ck_assert_int_eq(got.err.error, API_ERR_DIRECT_INVOKE);
	ck_assert_int_eq(block_error_grpc_code(&got.err), GRPC_INTERNAL);
	ck_assert_msg(strstr(got.err.message, "without --app-port") != NULL, "%s", got.err.message);
}
END_TEST

START_TEST(unresolvable_peer_fails_later_naming_it)
{
	struct invoke_request rq = {
		.target = "other.prod", .method = "m", .verb = "POST", .body = "x", .len = 1
	};

	invoke_call(&srv, &rq, done, NULL);
	/* Name resolution answers on a later loop turn: the request may be gone by then. */
	ck_assert_int_eq(got.calls, 0);
	wait_done();
	ck_assert(got.errored);
	ck_assert_int_eq(got.err.error, API_ERR_DIRECT_INVOKE);
	ck_assert_msg(strstr(got.err.message, "failed to invoke, id: other, err:") != NULL, "%s",
		      got.err.message);
}
END_TEST

START_TEST(a_caller_that_left_is_not_served)
{
	struct invoke_request rq = { .target = "other", .method = "m", .verb = "GET", .wanted = gone };

	invoke_call(&srv, &rq, done, NULL);
	wait_done();
	ck_assert(got.errored);
	ck_assert_msg(strstr(got.err.message, "the caller went away") != NULL, "%s", got.err.message);
}
END_TEST

static bool second_wanted = true;
static int second_calls;
static bool second_errored;

static bool still_wanted(void *arg)
{
	(void)arg;
	return second_wanted;
}

static void second_done(void *arg, const struct block_error *err, const struct invoke_answer *ans)
{
	(void)arg;
	(void)ans;
	second_calls++;
	second_errored = err != NULL;
}

/*
 * A call to the own app that waits for a free connection is dropped, not sent, once its caller
 * left: a gRPC client resetting calls must not make the app do work for nobody.
 */
START_TEST(own_app_call_of_a_caller_that_left_is_dropped_in_the_queue)
{
	struct invoke_request first = { .target = OWN, .method = "m", .verb = "GET" };
	struct invoke_request second = {
		.target = OWN, .method = "m", .verb = "GET", .wanted = still_wanted
	};

	app_channel_free(srv.app);
	/* One connection: the second call waits for the first. */
	srv.app = app_channel_new(base, "127.0.0.1", echo_app_port(app), 1, 5);
	ck_assert_ptr_nonnull(srv.app);
	second_wanted = true;
	second_calls = 0;
	second_errored = false;
	invoke_call(&srv, &first, done, NULL);
	invoke_call(&srv, &second, second_done, NULL);
	ck_assert_int_eq(second_calls, 0);
	second_wanted = false;
	wait_done();
	ck_assert(got.answered);
	/* The second call is told at once when its turn comes. */
	for (int i = 0; i < 200 && second_calls == 0; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(10 * 1000);
	}
	ck_assert_int_eq(second_calls, 1);
	ck_assert_msg(second_errored, "the queued call of a caller that left was sent and answered");
	ck_assert_int_eq(echo_app_count(app), 1);
}
END_TEST

static int abandoned, answered_calls;

static void count_abandoned(void *arg)
{
	(void)arg;
	abandoned++;
}

static void count_answered(void *arg, struct app_call_answer *a)
{
	(void)arg;
	(void)a;
	answered_calls++;
}

/*
 * outrigd stopping with app calls in flight or queued frees the channel first: each caller is told
 * through abandon, so that its records do not leak (LeakSanitizer found them, review of issue 12).
 */
START_TEST(freed_channel_abandons_pending_calls)
{
	struct kv_list h = { 0 };
	struct app_call_request rq = {
		.verb = "GET", .path = "/slow", .headers = &h, .abandon = count_abandoned
	};

	add(&h, "x-echo-delay-ms", "3000");
	app_channel_free(srv.app);
	srv.app = app_channel_new(base, "127.0.0.1", echo_app_port(app), 1, 5);
	ck_assert_ptr_nonnull(srv.app);
	abandoned = answered_calls = 0;
	/* One in flight, one waiting for the channel's only connection. */
	ck_assert_int_eq(app_call_send(srv.app, &rq, count_answered, NULL), 0);
	ck_assert_int_eq(app_call_send(srv.app, &rq, count_answered, NULL), 0);
	for (int i = 0; i < 50 && echo_app_count(app) == 0; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(10 * 1000);
	}
	ck_assert_uint_eq(echo_app_count(app), 1);
	app_channel_free(srv.app);
	srv.app = NULL;
	ck_assert_int_eq(answered_calls, 0);
	ck_assert_int_eq(abandoned, 2);
	kv_free(&h);
}
END_TEST

START_TEST(callee_side_names_the_caller)
{
	struct kv_list h = { 0 };
	struct invoke_request rq = { .method = "x/../y", .verb = "DELETE", .headers = &h };
	const struct echo_request *r;

	add(&h, "dapr-caller-app-id", "forged");
	add(&h, "outrig-caller-app-id", "peer");
	invoke_serve(&srv, &rq, "peer", "prod", done, NULL);
	kv_free(&h);
	wait_done();
	ck_assert(!got.errored);
	r = echo_app_last(app);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->path, "/y");
	ck_assert_str_eq(echo_header(r, "dapr-caller-app-id"), "peer");
	ck_assert_str_eq(echo_header(r, "dapr-caller-namespace"), "prod");
	ck_assert_str_eq(echo_header(r, "dapr-callee-app-id"), OWN);
	ck_assert_ptr_null(echo_header(r, "outrig-caller-app-id"));
	/* The caller's sidecar added those; the callee's adds none. */
	ck_assert_ptr_null(echo_header(r, "x-forwarded-for"));
}
END_TEST

static Suite *invoke_block_suite(void)
{
	Suite *s = suite_create("invoke_block");
	TCase *tc = tcase_create("block");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, own_app_gets_the_call_shaped);
	tcase_add_test(tc, app_status_is_an_answer_not_an_error);
	tcase_add_test(tc, no_target_fails_at_once);
	tcase_add_test(tc, bad_verbs_never_reach_the_app);
	tcase_add_test(tc, no_app_port_is_an_error);
	tcase_add_test(tc, unresolvable_peer_fails_later_naming_it);
	tcase_add_test(tc, a_caller_that_left_is_not_served);
	tcase_add_test(tc, callee_side_names_the_caller);
	tcase_add_test(tc, own_app_call_of_a_caller_that_left_is_dropped_in_the_queue);
	tcase_add_test(tc, freed_channel_abandons_pending_calls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(invoke_block_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
