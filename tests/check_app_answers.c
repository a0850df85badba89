/* SPDX-License-Identifier: Apache-2.0 */
/* What an app, or another sidecar, may answer outrigd: bounded size, valid statuses, clean framing; and forwarded headers of any length. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "channels/app_channel.h"
#include "daemon.h"
#include "echo_app.h"
#include "exchange.h"
#include "hostile_app.h"
#include "http_client.h"

#define SELF "answers"
#define MiB (1024 * 1024)

/* Every test runs in its own forked process with its own daemons and apps. */
static struct daemon dmn, dmn_b;
static struct hostile_app *hostile;
static struct echo_app *echo;
static struct exchange x;
static char id_a[32], id_b[32];

static void setup(void)
{
	memset(&dmn, 0, sizeof(dmn));
	memset(&dmn_b, 0, sizeof(dmn_b));
	hostile = NULL;
	echo = NULL;
	/* Unique per process, so that runs side by side cannot reach each other. */
	snprintf(id_a, sizeof(id_a), "ansa%d", (int)getpid());
	snprintf(id_b, sizeof(id_b), "ansb%d", (int)getpid());
}

static void teardown(void)
{
	xfree(&x);
	if (dmn.dir[0] != '\0')
		daemon_cleanup(&dmn);
	if (dmn_b.dir[0] != '\0')
		daemon_cleanup(&dmn_b);
	hostile_app_destroy(hostile);
	echo_app_destroy(echo);
}

/* Starts d as app id in front of an app on port (0: none), with extra arguments (NULL-terminated). */
static void start(struct daemon *d, const char *id, int port, const char *data, const char *const *more)
{
	const char *args[24];
	char portbuf[16];
	int n = 0;

	if (d->dir[0] == '\0')
		ck_assert_int_eq(daemon_init(d, id), 0);
	if (port > 0) {
		snprintf(portbuf, sizeof(portbuf), "%d", port);
		args[n++] = "--app-port";
		args[n++] = portbuf;
	}
	if (data != NULL) {
		/* A shared data folder: the sidecars find each other through its name-resolution database. */
		args[n++] = "--data-dir";
		args[n++] = data;
	}
	for (int i = 0; more != NULL && more[i] != NULL && n < 22; i++)
		args[n++] = more[i];
	args[n] = NULL;
	ck_assert_msg(daemon_start(d, args) == 0, "outrigd %s did not start (log above)", id);
}

/* One outrigd (SELF) in front of the hostile app. */
static void start_hostile(const char *const *more)
{
	hostile = hostile_app_start();
	ck_assert_ptr_nonnull(hostile);
	start(&dmn, SELF, hostile_app_port(hostile), NULL, more);
}

static int invoke(int port, const char *id, const char *method, const char *path)
{
	return xreq(&x, port, method, xfmt("/v1.0/invoke/%s/method%s", id, path), NULL, NULL);
}

/* The error message contains want. */
#define ck_message_has(x, want)                                                                              \
	do {                                                                                                 \
		json_t *j_ = xjson(x);                                                                       \
		const char *m_ = jstr(json_object_get(j_, "message"));                                       \
		ck_assert_msg(strstr(m_, (want)) != NULL, "%s\n  -> message '%s' lacks '%s'", (x)->req, m_,  \
			      (want));                                                                       \
		json_decref(j_);                                                                             \
	} while (0)

/* The daemon's peak RSS (VmHWM) must have grown by less than limit bytes since before_kib. */
static void ck_peak_below(const struct daemon *d, long before_kib, long limit, const char *what)
{
	long after = daemon_proc_kib(d->pid, "VmHWM");

	ck_assert_msg(before_kib > 0 && after > 0, "cannot read /proc/%d/status", (int)d->pid);
	/* In the log, for the record: the figure a change would move. */
	fprintf(stderr, "%s: outrigd's peak RSS grew by %ld KiB (%ld -> %ld KiB)\n", what, after - before_kib,
		before_kib, after);
	ck_assert_msg((after - before_kib) * 1024 < limit,
		      "%s: outrigd's peak RSS grew by %ld KiB (from %ld to %ld KiB); the limit is %ld KiB",
		      what, after - before_kib, before_kib, after, limit / 1024);
}

/* The hostile app's last stream was cut short: outrigd closed the connection instead of reading on. */
static void ck_cut(const char *what)
{
	size_t sent;
	bool cut;

	/* The app learns of the close when its next write fails, a moment after the answer. */
	for (int i = 0; i < 100; i++) {
		hostile_app_last(hostile, &sent, &cut);
		if (cut)
			break;
		xsleep_ms(50);
	}
	ck_assert_msg(cut, "%s: the app sent %zu bytes and outrigd never closed the connection", what, sent);
}

/* outrigd still serves: the next call gets its own answer. */
static void ck_still_serving(int port, const char *id)
{
	invoke(port, id, "GET", "/ok");
	ck_status(&x, 200);
	ck_body(&x, "ok");
	ck_assert_str_eq(xheader(&x, "X-Hostile"), "ok");
}

/* ---- item 2: answer size, app -> sidecar ---- */

START_TEST(huge_bodies_from_the_app_are_refused)
{
	/* 256 MiB each; outrigd may read --max-body-size (4 MiB) of it, never the whole. */
	static const char *const kinds[] = { "length", "bigchunk", "chunked", "close" };
	const size_t huge = 256 * (size_t)MiB;
	long before;

	start_hostile(NULL);
	before = daemon_proc_kib(dmn.pid, "VmHWM");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		invoke(dmn.port, SELF, "GET", xfmt("/%s/%zu", kinds[i], huge));
		ck_error(&x, 500, "ERR_DIRECT_INVOKE");
		ck_message_has(&x, "--max-body-size");
		ck_message_has(&x, "4194304 bytes");
		ck_message_has(&x, xfmt("failed to invoke, id: %s", SELF));
		ck_cut(kinds[i]);
		ck_still_serving(dmn.port, SELF);
	}
	ck_peak_below(&dmn, before, 32 * MiB, "four 256 MiB answers");
}
END_TEST

START_TEST(huge_headers_from_the_app_are_refused)
{
	long before;

	start_hostile(NULL);
	before = daemon_proc_kib(dmn.pid, "VmHWM");
	/* 64 MiB of header lines. */
	invoke(dmn.port, SELF, "GET", xfmt("/headers/%d", 64 * MiB));
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "--read-buffer-size");
	ck_message_has(&x, "4096 bytes");
	ck_cut("headers");
	ck_still_serving(dmn.port, SELF);
	ck_peak_below(&dmn, before, 16 * MiB, "64 MiB of headers");
	/* daprd's default, 4 KiB, lets 2 KiB of headers through; 8 KiB are refused. */
	invoke(dmn.port, SELF, "GET", "/headers/2048");
	ck_status(&x, 200);
	ck_body(&x, "ok");
	invoke(dmn.port, SELF, "GET", "/headers/8192");
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
}
END_TEST

START_TEST(the_flags_raise_the_limits)
{
	const char *more[] = { "--max-body-size", "8Mi", "--dapr-http-read-buffer-size", "64", NULL };

	start_hostile(more);
	invoke(dmn.port, SELF, "GET", "/length/6000000");
	ck_status(&x, 200);
	ck_assert_uint_eq(x.r.body_len, 6000000);
	invoke(dmn.port, SELF, "GET", "/headers/32768");
	ck_status(&x, 200);
	invoke(dmn.port, SELF, "GET", "/length/9000000");
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "8388608 bytes");
	invoke(dmn.port, SELF, "GET", "/headers/131072");
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "65536 bytes");
	daemon_cleanup(&dmn);
	/* The quantity form, and a bad value refused rather than ignored. */
	{
		const char *quantity[] = { "--read-buffer-size", "16Ki", NULL };

		start(&dmn, SELF, hostile_app_port(hostile), NULL, quantity);
		invoke(dmn.port, SELF, "GET", "/headers/12288");
		ck_status(&x, 200);
		daemon_cleanup(&dmn);
	}
	{
		const char *bad[] = { "--app-id", SELF, "--read-buffer-size", "lots", NULL };

		ck_assert_int_eq(daemon_init(&dmn, SELF), 0);
		ck_assert_int_ne(daemon_start(&dmn, bad), 0);
	}
}
END_TEST

/* Waits until outrigd has read the app's subscriptions: an event published before is nobody's. */
static void wait_subscribed(const char *topic)
{
	long deadline = xnow_ms() + 10000;

	do {
		xreq(&x, dmn.port, "GET", "/v1.0/metadata", NULL, NULL);
		if (x.r.status == 200 && strstr(XBODY(&x), xfmt("\"%s\"", topic)) != NULL)
			return;
		xsleep_ms(50);
	} while (xnow_ms() < deadline);
	ck_assert_msg(0, "outrigd did not subscribe to %s: %s", topic, XBODY(&x));
}

/* A pub/sub or binding delivery answered with 256 MiB fails and is retried; outrigd stays small. */
static void ck_delivery_refused(const char *what, long before)
{
	long deadline = xnow_ms() + 20000;
	char *log = NULL;

	/* Two attempts at least: the first failed, so the delivery was not settled. */
	while (xnow_ms() < deadline) {
		free(log);
		log = xslurp(dmn.log);
		if (hostile_app_count(hostile) >= 2 && log != NULL && strstr(log, "--max-body-size") != NULL)
			break;
		xsleep_ms(100);
	}
	ck_assert_msg(log != NULL && strstr(log, "--max-body-size") != NULL,
		      "%s: no failed delivery naming --max-body-size in the log", what);
	ck_assert_msg(hostile_app_count(hostile) >= 2, "%s: the app got %zu requests, expected a retry", what,
		      hostile_app_count(hostile));
	free(log);
	ck_cut(what);
	ck_peak_below(&dmn, before, 32 * MiB, what);
}

START_TEST(huge_answers_to_deliveries_fail_them)
{
	const char *debug[] = { "--log-level", "debug", NULL };
	long before;

	hostile = hostile_app_start();
	ck_assert_ptr_nonnull(hostile);
	ck_assert_int_eq(daemon_init(&dmn, SELF), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	start(&dmn, SELF, hostile_app_port(hostile), NULL, debug);
	wait_subscribed("huge");
	before = daemon_proc_kib(dmn.pid, "VmHWM");
	xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/huge", "Content-Type: text/plain\r\n", "event");
	ck_status(&x, 204);
	ck_delivery_refused("pub/sub", before);
	daemon_cleanup(&dmn);
	hostile_app_destroy(hostile);
	hostile = hostile_app_start();
	ck_assert_ptr_nonnull(hostile);
	ck_assert_int_eq(daemon_init(&dmn, SELF), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "tick", "bindings.cron", "schedule", "@every 1s", "route",
					      "/length/268435456", NULL),
			 0);
	start(&dmn, SELF, hostile_app_port(hostile), NULL, debug);
	/* Before the first tick, a second after start. */
	ck_delivery_refused("input binding", daemon_proc_kib(dmn.pid, "VmHWM"));
}
END_TEST

/* ---- item 2: answer size, peer sidecar -> sidecar ---- */

START_TEST(huge_answers_from_a_peer_sidecar_are_refused)
{
	/* B lets its app answer far more than A takes: A must bound what B sends it. */
	const char *generous[] = { "--max-body-size", "128Mi", "--read-buffer-size", "1Mi", NULL };
	const size_t big = 96 * (size_t)MiB;
	long deadline, before;

	hostile = hostile_app_start();
	ck_assert_ptr_nonnull(hostile);
	ck_assert_int_eq(daemon_init(&dmn, id_a), 0);
	start(&dmn, id_a, 0, dmn.data, NULL);
	start(&dmn_b, id_b, hostile_app_port(hostile), dmn.data, generous);
	/* Name resolution may lag a start by a moment. */
	deadline = xnow_ms() + 5000;
	do {
		invoke(dmn.port, id_b, "GET", "/ok");
	} while (x.r.status != 200 && xnow_ms() < deadline && (xsleep_ms(100), true));
	ck_status(&x, 200);
	before = daemon_proc_kib(dmn.pid, "VmHWM");
	invoke(dmn.port, id_b, "GET", xfmt("/length/%zu", big));
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, xfmt("the sidecar of %s", id_b));
	ck_message_has(&x, "--max-body-size");
	ck_still_serving(dmn.port, id_b);
	/* 512 KiB of headers: within B's limit, past A's. */
	invoke(dmn.port, id_b, "GET", "/headers/524288");
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "--read-buffer-size");
	ck_still_serving(dmn.port, id_b);
	ck_peak_below(&dmn, before, 24 * MiB, "a 96 MiB answer from a peer");
	/* An invalid status is refused by B; A passes B's error on. */
	invoke(dmn.port, id_b, "GET", "/status/600");
	ck_error(&x, 502, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "invalid");
	ck_still_serving(dmn.port, id_b);
}
END_TEST

/* ---- item 6: an answer that leaves bytes behind closes its connection ---- */

START_TEST(a_body_after_a_204_never_reaches_the_next_caller)
{
	start_hostile(NULL);
	for (int i = 0; i < 3; i++) {
		invoke(dmn.port, SELF, "POST", "/204-body");
		ck_status(&x, 204);
		/* The pooled connection is the same one: its leftover bytes must not be this answer. */
		ck_still_serving(dmn.port, SELF);
		ck_assert_str_eq(xheader(&x, "X-Stale"), "(none)");
	}
	for (int i = 0; i < 3; i++) {
		invoke(dmn.port, SELF, "HEAD", "/head-body");
		ck_status(&x, 200);
		ck_still_serving(dmn.port, SELF);
		ck_assert_str_eq(xheader(&x, "X-Stale"), "(none)");
	}
	/* A body after a HEAD answer that comes later, once the next call is on the connection. */
	for (int i = 0; i < 2; i++) {
		invoke(dmn.port, SELF, "HEAD", "/head-late");
		ck_status(&x, 200);
		ck_still_serving(dmn.port, SELF);
		ck_assert_str_eq(xheader(&x, "X-Stale"), "(none)");
	}
}
END_TEST

/* ---- the app channel itself: a connection closed for an unclean answer is never handed out ---- */

struct chan_calls {
	struct app_channel *ch;
	int status[4];
	char body[4][16];
	int answered;
};

static void chan_answered(struct chan_calls *c, int i, const struct app_response *r)
{
	struct evbuffer *in = r->req != NULL ? evhttp_request_get_input_buffer(r->req) : NULL;
	size_t n = in != NULL ? evbuffer_get_length(in) : 0;

	c->status[i] = r->status;
	if (n < sizeof(c->body[i]))
		evbuffer_copyout(in, c->body[i], n);
	c->answered++;
}

static void chan_cb_b(void *arg, const struct app_response *r)
{
	chan_answered(arg, 1, r);
}

static void chan_cb_c(void *arg, const struct app_response *r)
{
	chan_answered(arg, 2, r);
}

/* The first answer's callback sends again: the queued call must not go on the connection being closed. */
static void chan_cb_a(void *arg, const struct app_response *r)
{
	struct chan_calls *c = arg;

	chan_answered(c, 0, r);
	ck_assert_int_eq(app_channel_send(c->ch, EVHTTP_REQ_GET, "/ok", NULL, NULL, NULL, 0, chan_cb_c, c),
			 0);
}

START_TEST(a_call_sent_from_a_callback_never_gets_a_closed_connection)
{
	struct event_base *base = event_base_new();
	struct chan_calls c = { 0 };
	struct timeval limit = { 10, 0 };

	hostile = hostile_app_start();
	ck_assert_ptr_nonnull(hostile);
	ck_assert_ptr_nonnull(base);
	/* One connection: B waits for it while A's answer is read. */
	c.ch = app_channel_new(base, "127.0.0.1", hostile_app_port(hostile), 1, 10);
	ck_assert_ptr_nonnull(c.ch);
	app_channel_set_limits(c.ch, 4 * MiB, 4096);
	ck_assert_int_eq(
		app_channel_send(c.ch, EVHTTP_REQ_POST, "/204-body", NULL, NULL, NULL, 0, chan_cb_a, &c), 0);
	ck_assert_int_eq(app_channel_send(c.ch, EVHTTP_REQ_GET, "/ok", NULL, NULL, NULL, 0, chan_cb_b, &c),
			 0);
	event_base_loopexit(base, &limit);
	while (c.answered < 3 && event_base_loop(base, EVLOOP_ONCE) == 0 && !event_base_got_exit(base))
		;
	ck_assert_msg(c.answered == 3, "%d of 3 calls answered", c.answered);
	ck_assert_int_eq(c.status[0], 204);
	ck_assert_int_eq(c.status[1], 200);
	ck_assert_str_eq(c.body[1], "ok");
	ck_assert_int_eq(c.status[2], 200);
	ck_assert_str_eq(c.body[2], "ok");
	app_channel_free(c.ch);
	event_base_free(base);
}
END_TEST

/* ---- item 13: invalid statuses from the app ---- */

START_TEST(invalid_statuses_are_a_bad_gateway)
{
	/* evhttp's atoi would take the last three for 200. */
	static const char *const statuses[] = { "999999999999", "1",	      "-5",	"600", "abc",
						"103",		"4294967496", "200abc", "+200" };

	start_hostile(NULL);
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		invoke(dmn.port, SELF, "GET", xfmt("/status/%s", statuses[i]));
		ck_error(&x, 502, "ERR_DIRECT_INVOKE");
		ck_message_has(&x, xfmt("failed to invoke, id: %s", SELF));
		ck_message_has(&x, "answered");
		ck_still_serving(dmn.port, SELF);
	}
	/* The edges of the valid range pass through. */
	invoke(dmn.port, SELF, "GET", "/status/599");
	ck_status(&x, 599);
	ck_body(&x, "no");
	invoke(dmn.port, SELF, "GET", "/status/200");
	ck_status(&x, 200);
}
END_TEST

/* ---- item 12: X-Forwarded-For and Forwarded of any length ---- */

START_TEST(long_forwarded_headers_keep_this_hops_entry)
{
	/* 4 KB of headers in all: more than daprd's default header limit, should the listener apply it. */
	const char *roomy[] = { "--read-buffer-size", "16Ki", NULL };
	char xff[2100], fwd[2100];
	const struct echo_request *r;
	size_t n = 0;

	/* 2 KB of earlier proxies' entries in each. */
	for (int i = 0; n < 2000; i++)
		n += (size_t)snprintf(xff + n, sizeof(xff) - n, "%s10.0.%d.%d", i > 0 ? ", " : "", i / 250,
				      i % 250);
	n = 0;
	for (int i = 0; n < 2000; i++)
		n += (size_t)snprintf(fwd + n, sizeof(fwd) - n, "%sfor=10.0.%d.%d", i > 0 ? ", " : "",
				      i / 250, i % 250);
	echo = echo_app_start("fwd");
	ck_assert_ptr_nonnull(echo);
	start(&dmn, SELF, echo_app_port(echo), NULL, roomy);
	xreq(&x, dmn.port, "GET", xfmt("/v1.0/invoke/%s/method/f", SELF),
	     xfmt("X-Forwarded-For: %s\r\nForwarded: %s\r\n", xff, fwd), NULL);
	ck_status(&x, 200);
	r = echo_app_last(echo);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(echo_header(r, "x-forwarded-for"));
	ck_assert_str_eq(echo_header(r, "x-forwarded-for"), xfmt("%s, 127.0.0.1", xff));
	ck_assert_ptr_nonnull(echo_header(r, "forwarded"));
	ck_assert_str_eq(echo_header(r, "forwarded"),
			 xfmt("%s, for=127.0.0.1;by=127.0.0.1;host=127.0.0.1:%d", fwd, dmn.port));
}
END_TEST

static Suite *answers_suite(void)
{
	Suite *s = suite_create("app_answers");
	TCase *tc = tcase_create("answers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, huge_bodies_from_the_app_are_refused);
	tcase_add_test(tc, huge_headers_from_the_app_are_refused);
	tcase_add_test(tc, the_flags_raise_the_limits);
	tcase_add_test(tc, huge_answers_to_deliveries_fail_them);
	tcase_add_test(tc, huge_answers_from_a_peer_sidecar_are_refused);
	tcase_add_test(tc, a_body_after_a_204_never_reaches_the_next_caller);
	tcase_add_test(tc, a_call_sent_from_a_callback_never_gets_a_closed_connection);
	tcase_add_test(tc, invalid_statuses_are_a_bad_gateway);
	tcase_add_test(tc, long_forwarded_headers_keep_this_hops_entry);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(answers_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
