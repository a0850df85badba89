/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reloads that swap what the delivery runtimes hold (a pub/sub component subscriptions use, a
 * started input binding) and that make a slow component off the event loop, against a real outrigd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "server.h"
#include "test_app.h"

#define APP "swapapp"

static struct daemon dmn;
static struct exchange x;

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
}

static int log_count(const char *text)
{
	char *log = xslurp(dmn.log);
	int n = 0;

	for (const char *p = log; p != NULL && (p = strstr(p, text)) != NULL; p += strlen(text))
		n++;
	free(log);
	return n;
}

/* outrig.reload.applied (refused ones count as -1000, so that a refusal fails the waits below). */
static long applied(void)
{
	json_t *doc, *r;
	long n;

	xreq(&x, dmn.port, "GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	doc = xjson(&x);
	r = json_object_get(json_object_get(doc, "outrig"), "reload");
	n = (long)json_integer_value(json_object_get(r, "applied")) -
	    1000 * (long)json_integer_value(json_object_get(r, "refused"));
	json_decref(doc);
	return n;
}

/* SIGHUP, then waits (up to 15 s) for the reload to be applied. */
static void reload(void)
{
	long before = applied(), deadline = xnow_ms() + 15000;

	ck_assert_int_eq(kill(dmn.pid, SIGHUP), 0);
	while (applied() == before && xnow_ms() < deadline)
		xsleep_ms(20);
	ck_assert_msg(applied() == before + 1, "reload not applied within 15 s (log: %s)", dmn.log);
}

static void wait_log(const char *text, int n)
{
	for (int tries = 0; tries < 300 && log_count(text) < n; tries++)
		xsleep_ms(50);
	ck_assert_msg(log_count(text) >= n, "\"%s\" not %d times in the log", text, n);
}

static void use_test_plugins(void)
{
	const char *plugins = getenv("OUTRIG_PLUGIN_PATH"), *test_plugins = getenv("OUTRIG_TEST_PLUGIN_DIR");

	ck_assert_int_eq(daemon_setenv(&dmn, "OUTRIG_PLUGIN_PATH",
				       xfmt("%s:%s", plugins != NULL ? plugins : "plugins/.libs",
					    test_plugins != NULL ? test_plugins : "tests/plugins/.libs")),
			 0);
}

/* ---- pub/sub: a publisher in a loop while the component is made afresh ---- */

#define MAX_MESSAGES 20000

struct publisher {
	int port;
	atomic_bool stop;
	atomic_long started;   /* messages 1..started-1 were sent or are being sent */
	atomic_long completed; /* every message below this one has its answer */
	atomic_int status[MAX_MESSAGES];
};

static void *publisher_run(void *arg)
{
	struct publisher *p = arg;
	struct exchange px = { 0 };
	char body[64];

	for (long n = 1; n < MAX_MESSAGES && !atomic_load(&p->stop); n++) {
		atomic_store(&p->started, n + 1);
		snprintf(body, sizeof(body), "{\"n\":%ld}", n);
		xreq(&px, p->port, "POST", "/v1.0/publish/ps/orders", NULL, body);
		atomic_store(&p->status[n], px.r.status);
		if (px.r.status != 204 && getenv("SWAP_DEBUG") != NULL)
			fprintf(stderr, "publish %ld: %d %.300s\n", n, px.r.status, XBODY(&px));
		atomic_store(&p->completed, n + 1);
		xsleep_ms(5);
	}
	xfree(&px);
	return NULL;
}

/* How many times the app got message n (the CloudEvent's data.n). */
static void received(struct test_app *app, int *times)
{
	for (size_t i = 0;; i++) {
		const struct delivery *d = test_app_delivery(app, i);
		json_t *data, *n;

		if (d == NULL)
			break;
		if (strcmp(d->path, "/orders") != 0 || d->event == NULL)
			continue;
		/* Published without a content type: the data is the text {"n":N}. */
		data = json_loads(jstr(json_object_get(d->event, "data")), 0, NULL);
		n = json_object_get(data, "n");
		if (json_is_integer(n) && json_integer_value(n) > 0 && json_integer_value(n) < MAX_MESSAGES)
			times[json_integer_value(n)]++;
		json_decref(data);
	}
}

/* A window of messages a reload may lose by nature: [from, to). */
struct window {
	long from, to;
};

/*
 * Starts outrigd with ps (type, metadata) and an app subscribed to orders, publishes in a loop,
 * and makes ps afresh by `reloads` reloads. Fills the windows, one per reload: from the last
 * message answered before the SIGHUP to the first sent once the subscription was live again on
 * the new instance. Returns the publisher (stopped) and the app, for the caller to check.
 */
static struct publisher *publish_across_reloads(struct test_app **appp, const char *type, const char *md,
						 int reloads, struct window *windows)
{
	struct test_app *app = test_app_start();
	struct publisher *p = calloc(1, sizeof(*p));
	pthread_t th;
	char port[16];
	const char *const args[] = { "--app-port", port, "--log-level",
				     getenv("SWAP_DEBUG") != NULL ? "debug" : "info", NULL };
	const char *subscribed = "subscribed to topic orders of pubsub ps";

	ck_assert_ptr_nonnull(app);
	ck_assert_ptr_nonnull(p);
	snprintf(port, sizeof(port), "%d", test_app_port(app));
	test_app_set_subscribe(app, "[{\"pubsubname\":\"ps\",\"topic\":\"orders\",\"route\":\"/orders\"}]");
	ck_assert_int_eq(daemon_write_component(&dmn, "ps", type, md), 0);
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start");
	wait_log(subscribed, 1);
	p->port = dmn.port;
	ck_assert_int_eq(pthread_create(&th, NULL, publisher_run, p), 0);
	xsleep_ms(500);
	for (int i = 0; i < reloads; i++) {
		/* A change of the component (an extra metadata entry): made afresh. */
		ck_assert_int_eq(daemon_write_component(&dmn, "ps", type,
							xfmt("%s  - name: outrigReloadTest\n    value: \"%d\"\n",
							     md != NULL ? md : "", i)),
				 0);
		windows[i].from = atomic_load(&p->completed);
		reload();
		wait_log(subscribed, i + 2);
		windows[i].to = atomic_load(&p->started);
		/*
		 * pubsub.mqtt3: the new instance connects with the same client id while the old one is
		 * still connected, so the broker drops one, and each reconnects (after 1 s, then 2, 4,
		 * 5 s) until the old one is destroyed: publishes may fail (500, never a 204) until the
		 * new one is back. Wait for that before the next reload.
		 */
		for (long deadline = xnow_ms() + 15000; xnow_ms() < deadline;) {
			long last = atomic_load(&p->completed) - 1;

			if (last > windows[i].to && atomic_load(&p->status[last]) == 204)
				break;
			xsleep_ms(50);
		}
		xsleep_ms(700);
	}
	atomic_store(&p->stop, true);
	pthread_join(th, NULL);
	*appp = app;
	return p;
}

static bool in_windows(long n, const struct window *w, int count)
{
	for (int i = 0; i < count; i++)
		if (n >= w[i].from && n < w[i].to)
			return true;
	return false;
}

/*
 * pubsub.in-memory has no queue of its own: a publish hands a copy to each subscription's sink
 * inside publish(), and a message with no subscription is dropped. So a recreated in-memory
 * broker loses, by nature, what is published through its new instance before the subscription
 * is made on it again (the window between the swap and subscribe()), with a 204 to the publisher.
 * What it must still guarantee: every message the old instance took (publishes answered 204
 * before the reload, and those it accepted during the swap) reaches the app, once; every publish
 * answered 204 once the subscription is live again reaches the app; a publish the old instance
 * could no longer take (its subscription ended) fails (500) rather than being answered 204.
 */
START_TEST(test_in_memory_changed_under_publishing)
{
	struct test_app *app;
	struct window w[3];
	struct publisher *p = publish_across_reloads(&app, "pubsub.in-memory", NULL, 3, w);
	static int times[MAX_MESSAGES];
	long sent = atomic_load(&p->completed), ok = 0, lost_in_window = 0, failed = 0;

	memset(times, 0, sizeof(times));
	xsleep_ms(1000);
	received(app, times);
	for (long n = 1; n < sent; n++) {
		int st = atomic_load(&p->status[n]);

		ck_assert_msg(times[n] <= 1, "message %ld reached the app %d times", n, times[n]);
		if (st != 204) {
			ck_assert_msg(st == 500, "publish %ld answered %d", n, st);
			failed++;
			continue;
		}
		ok++;
		if (times[n] == 0 && in_windows(n, w, 3)) {
			lost_in_window++;
			continue;
		}
		ck_assert_msg(times[n] == 1, "message %ld was answered 204 outside a swap and never arrived", n);
	}
	fprintf(stderr, "in-memory: %ld published (204), %ld refused (500), %ld lost in the swap windows\n", ok,
		failed, lost_in_window);
	ck_assert_int_gt(ok, 100);
	daemon_stop(&dmn);
	test_app_destroy(app);
	free(p);
}
END_TEST

#ifdef RELOAD_SWAP_MQTT
/*
 * pubsub.mqtt3 with QoS 1: the broker keeps what the old instance has not taken (the same client
 * id's persistent session) and the spool what it took, so every publish acknowledged (204, the
 * broker's PUBACK) reaches the app at least once, across the swaps.
 */
START_TEST(test_mqtt_changed_under_publishing)
{
	struct test_server ms;
	struct test_app *app;
	struct window w[2];
	struct publisher *p;
	static int times[MAX_MESSAGES];
	long sent, ok = 0, missing = 0, first_missing = 0, deadline;
	int rc = server_mosquitto_start(&ms);

	if (rc == SERVER_UNAVAILABLE) {
		fprintf(stderr, "mosquitto is not installed: skipping\n");
		ck_assert_msg(getenv("OUTRIG_REQUIRE_SERVERS") == NULL, "mosquitto required");
		return;
	}
	ck_assert_int_eq(rc, 0);
	p = publish_across_reloads(&app, "pubsub.mqtt3",
				   xfmt("  - name: url\n    value: \"%s\"\n  - name: qos\n    value: \"1\"\n",
					server_mosquitto_url(&ms)),
				   2, w);
	sent = atomic_load(&p->completed);
	deadline = xnow_ms() + 30000;
	do {
		memset(times, 0, sizeof(times));
		xsleep_ms(500);
		received(app, times);
		missing = 0;
		for (long n = 1; n < sent; n++)
			if (atomic_load(&p->status[n]) == 204 && times[n] == 0 && missing++ == 0)
				first_missing = n;
	} while (missing > 0 && xnow_ms() < deadline);
	for (long n = 1; n < sent; n++)
		ok += atomic_load(&p->status[n]) == 204;
	/* Publishing works again on the new instance. */
	ck_assert_int_eq(atomic_load(&p->status[sent - 1]), 204);
	if (getenv("SWAP_DEBUG") != NULL)
		daemon_dump_log(&dmn);
	if (getenv("SWAP_DEBUG") != NULL)
		for (long n = 1; n < sent; n++)
			fprintf(stderr, "%ld:%d ", n, atomic_load(&p->status[n]));
	fprintf(stderr, "mqtt3: %ld published (204) of %ld, %ld missing\n", ok, sent - 1, missing);
	ck_assert_msg(missing == 0, "%ld acknowledged messages never arrived (the first: %ld); log %s", missing,
		      first_missing, dmn.log);
	ck_assert_int_gt(ok, 50);
	daemon_stop(&dmn);
	test_app_destroy(app);
	free(p);
	server_destroy(&ms);
}
END_TEST
#endif

/* ---- a cron input binding changed and removed by reloads ---- */

START_TEST(test_cron_schedule_changed_and_removed)
{
	struct test_app *app = test_app_start();
	char port[16];
	const char *const args[] = { "--app-port", port, NULL };
	size_t old_ticks, new_ticks;

	ck_assert_ptr_nonnull(app);
	snprintf(port, sizeof(port), "%d", test_app_port(app));
	ck_assert_int_eq(daemon_write_component(&dmn, "tick", "bindings.cron",
						"  - name: schedule\n    value: \"@every 300ms\"\n"
						"  - name: direction\n    value: \"input\"\n"
						"  - name: route\n    value: \"/tick-a\"\n"),
			 0);
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start");
	ck_assert(test_app_wait_count(app, "/tick-a", 3, 5000));

	ck_assert_int_eq(daemon_write_component(&dmn, "tick", "bindings.cron",
						"  - name: schedule\n    value: \"@every 1500ms\"\n"
						"  - name: direction\n    value: \"input\"\n"
						"  - name: route\n    value: \"/tick-b\"\n"),
			 0);
	reload();
	/* A tick the old instance handed over just before may still be on its way. */
	xsleep_ms(400);
	old_ticks = test_app_count_path(app, "/tick-a");
	xsleep_ms(4000);
	new_ticks = test_app_count_path(app, "/tick-b");
	ck_assert_msg(test_app_count_path(app, "/tick-a") == old_ticks,
		      "the old schedule still fires after the reload (%zu, then %zu)", old_ticks,
		      test_app_count_path(app, "/tick-a"));
	/* Every 1.5 s for about 4.4 s: 2 or 3 ticks (the old schedule would have made about 14). */
	ck_assert_msg(new_ticks >= 2 && new_ticks <= 3, "%zu ticks on the new schedule in 4.4 s", new_ticks);

	ck_assert_int_eq(unlink(xfmt("%s/tick.yaml", dmn.resources)), 0);
	reload();
	xsleep_ms(400);
	new_ticks = test_app_count_path(app, "/tick-b");
	xsleep_ms(3200);
	ck_assert_msg(test_app_count_path(app, "/tick-b") == new_ticks,
		      "the removed binding still fires (%zu, then %zu)", new_ticks,
		      test_app_count_path(app, "/tick-b"));
	ck_assert_int_ge(log_count("input binding tick stopped"), 2);
	daemon_stop(&dmn);
	test_app_destroy(app);
}
END_TEST

/* ---- create() off the event loop ---- */

struct prober {
	int port;
	atomic_bool stop;
	atomic_long worst_ms, probes, failures;
};

static void *prober_run(void *arg)
{
	struct prober *p = arg;
	struct exchange px = { 0 };

	while (!atomic_load(&p->stop)) {
		long t0 = xnow_ms(), took;
		int a = xreq(&px, p->port, "GET", "/v1.0/healthz", NULL, NULL);
		int b = xreq(&px, p->port, "GET", "/v1.0/state/store/k", NULL, NULL);

		took = xnow_ms() - t0;
		if (took > atomic_load(&p->worst_ms))
			atomic_store(&p->worst_ms, took);
		if (a != 204 || b != 200)
			atomic_fetch_add(&p->failures, 1);
		atomic_fetch_add(&p->probes, 1);
		xsleep_ms(20);
	}
	xfree(&px);
	return NULL;
}

/*
 * A reload that makes a component whose create() takes 2 s: requests are served meanwhile, and
 * SIGHUPs that come during it make one more reload afterwards, not one each nor one at once.
 */
START_TEST(test_slow_create_off_the_loop)
{
	struct prober p = { 0 };
	pthread_t th;
	long t0, took, base;

	use_test_plugins();
	ck_assert_int_eq(daemon_write_component(&dmn, "store", "state.in-memory", NULL), 0);
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start");
	xreq(&x, dmn.port, "POST", "/v1.0/state/store", NULL, "[{\"key\":\"k\",\"value\":\"v\"}]");
	ck_status(&x, 204);
	base = applied();
	p.port = dmn.port;
	ck_assert_int_eq(pthread_create(&th, NULL, prober_run, &p), 0);
	ck_assert_int_eq(daemon_write_component(&dmn, "slow", "bindings.slow",
						"  - name: createDelayMs\n    value: \"2000\"\n"),
			 0);
	t0 = xnow_ms();
	ck_assert_int_eq(kill(dmn.pid, SIGHUP), 0);
	xsleep_ms(300);
	ck_assert_int_eq(kill(dmn.pid, SIGHUP), 0);
	xsleep_ms(100);
	ck_assert_int_eq(kill(dmn.pid, SIGHUP), 0);
	while (applied() == base && xnow_ms() - t0 < 15000)
		xsleep_ms(20);
	took = xnow_ms() - t0;
	ck_assert_int_ge(applied(), base + 1);
	ck_assert_msg(took >= 1800, "the reload took %ld ms: create() did not sleep?", took);
	/* The coalesced one: the slow component is unchanged then, so it is quick. */
	while (applied() == base + 1 && xnow_ms() - t0 < 20000)
		xsleep_ms(20);
	xsleep_ms(1000);
	atomic_store(&p.stop, true);
	pthread_join(th, NULL);
	fprintf(stderr, "slow create: reload took %ld ms; %ld probes, worst %ld ms, %ld failed\n", took,
		atomic_load(&p.probes), atomic_load(&p.worst_ms), atomic_load(&p.failures));
	ck_assert_int_eq(atomic_load(&p.failures), 0);
	ck_assert_int_gt(atomic_load(&p.probes), 20);
	ck_assert_msg(atomic_load(&p.worst_ms) < 500, "a request took %ld ms during the reload",
		      atomic_load(&p.worst_ms));
	ck_assert_int_eq(applied(), base + 2);
	ck_assert_int_eq(log_count("reload: one is in progress; another follows it"), 1);
	xreq(&x, dmn.port, "POST", "/v1.0/bindings/slow", NULL, "{\"operation\":\"create\"}");
	ck_status(&x, 204);
	daemon_stop(&dmn);
}
END_TEST

static Suite *swap_suite(void)
{
	Suite *s = suite_create("reload_swap");
	TCase *tc = tcase_create("swap");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_in_memory_changed_under_publishing);
#ifdef RELOAD_SWAP_MQTT
	tcase_add_test(tc, test_mqtt_changed_under_publishing);
#endif
	tcase_add_test(tc, test_cron_schedule_changed_and_removed);
	tcase_add_test(tc, test_slow_create_off_the_loop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(swap_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
