/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Faults around pub/sub delivery with pubsub.mqtt3 and a real mosquitto: the broker down for a
 * while, outrigd killed while the app holds a delivery, the app down while messages arrive.
 * Nothing acknowledged to a publisher (204) may be lost in any of them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "pubsub_helpers.h"
#include "server.h"
#include "test_app.h"

#define APP_ID "faults"
#define PUBSUB "pubsub"
#define SUBSCRIBE(topic) "[{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"" topic "\",\"route\":\"/" topic "\"}]"

/* After the fault ends, what may still be pending is redelivered with the default backoff
 * (500 ms ×1.5): a few retries' worth, on a loaded machine. */
#define RECOVERY_MS 30000

static struct test_server srv;
static struct daemon dmn;
static struct test_app *app;
static char *consumer;
static bool skipped;

/* Like the conformance suite: pubsub.mqtt3 is pubsub_mqtt3.so in $OUTRIG_PLUGIN_PATH. */
static bool mqtt3_built(void)
{
	const char *dir = getenv("OUTRIG_PLUGIN_PATH");
	char *path = NULL;
	bool found;

	ck_assert_msg(dir != NULL, "OUTRIG_PLUGIN_PATH is not set; run through make check");
	ck_assert_int_ge(asprintf(&path, "%s/pubsub_mqtt3.so", dir), 0);
	found = access(path, R_OK) == 0;
	free(path);
	return found;
}

static void skip(const char *why)
{
	/* CI builds every plugin and installs every server: there a skip would hide a broken setup. */
	ck_assert_msg(getenv("OUTRIG_REQUIRE_SERVERS") == NULL, "%s and OUTRIG_REQUIRE_SERVERS is set", why);
	fprintf(stderr, "pubsub faults: SKIPPED, %s\n", why);
	skipped = true;
}

static void setup(void)
{
	int rc;

	memset(&srv, 0, sizeof(srv));
	skipped = false;
	ck_assert_int_eq(daemon_init(&dmn, APP_ID), 0);
	if (!mqtt3_built()) {
		skip("pubsub.mqtt3 was not built (no paho-mqtt3as)");
		return;
	}
	rc = server_mosquitto_start(&srv);
	if (rc == SERVER_UNAVAILABLE) {
		skip("mosquitto is not installed");
		return;
	}
	ck_assert_msg(rc == 0, "mosquitto did not start; its log is %s", srv.log);
	app = test_app_start();
	ck_assert_msg(app != NULL, "the test app did not start");
	/* One broker per test, but the id also keeps a restarted daemon on its persistent session. */
	consumer = ps_unique("faults");
	ck_assert_int_eq(ps_write_mqtt3(&dmn, PUBSUB, server_mosquitto_url(&srv), consumer), 0);
}

static void teardown(void)
{
	daemon_stop(&dmn);
	test_app_destroy(app);
	app = NULL;
	server_destroy(&srv);
	daemon_cleanup(&dmn);
	free(consumer);
	consumer = NULL;
}

/* Starts (or restarts: same resources, same --data-dir) outrigd and waits for its subscription. */
static void start_daemon(const char *topic)
{
	char port[16];
	const char *const topics[] = { topic, NULL };
	const char *args[] = { "--app-port", port, "--data-dir", dmn.data, NULL };
	json_t *subs;

	snprintf(port, sizeof(port), "%d", test_app_port(app));
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
	subs = ps_wait_subscribed(dmn.port, PUBSUB, topics, PS_SOON_MS);
	if (subs == NULL)
		daemon_dump_log(&dmn);
	ck_assert_msg(subs != NULL, "outrigd never subscribed to %s (metadata and log above)", topic);
	json_decref(subs);
}

/* Whether every message i < n with want[i] set reached the app on path (its data is {"i":i}). */
struct expected {
	const char *path;
	const bool *want;
	int n;
};

/* The first wanted message that has not reached the app on path, or -1 when all have. */
static int first_missing(struct test_app *a, const struct expected *e)
{
	bool *got = calloc((size_t)e->n, sizeof(bool));
	const struct delivery *d;
	int missing = -1;

	ck_assert_ptr_nonnull(got);
	for (size_t k = 0; (d = test_app_delivery(a, k)) != NULL; k++) {
		json_t *i = json_object_get(json_object_get(d->event, "data"), "i");

		if (strcmp(d->path, e->path) == 0 && json_is_integer(i) && json_integer_value(i) >= 0 &&
		    json_integer_value(i) < e->n)
			got[json_integer_value(i)] = true;
	}
	for (int i = 0; i < e->n && missing < 0; i++)
		if (e->want[i] && !got[i])
			missing = i;
	free(got);
	return missing;
}

static bool all_delivered(struct test_app *a, void *arg)
{
	return first_missing(a, arg) < 0;
}

/* Fails naming the first message acknowledged to its publisher that never arrived. */
static void expect_all_delivered(const char *path, const bool *want, int n)
{
	struct expected e = { path, want, n };
	int missing;

	test_app_wait(app, all_delivered, &e, RECOVERY_MS);
	missing = first_missing(app, &e);
	ck_assert_msg(missing < 0,
		      "message %d was accepted (204) but never delivered; %zu requests arrived on %s",
		      missing, test_app_count_path(app, path), path);
}

/* The publisher thread of broker_outage: one message every PUBLISH_EVERY_MS until told to stop. */
#define PUBLISH_EVERY_MS 20
#define MAX_PUBLISHES 4000

struct publisher {
	int port;
	atomic_bool stop;
	atomic_int n;		     /* publishes done */
	int status[MAX_PUBLISHES];   /* HTTP status of publish i */
	long started[MAX_PUBLISHES]; /* xnow_ms() before it */
	long took[MAX_PUBLISHES];    /* ms it took */
};

static void *publish_loop(void *arg)
{
	struct publisher *p = arg;

	for (int i = 0; i < MAX_PUBLISHES && !atomic_load(&p->stop); i++) {
		char body[32];
		int len = snprintf(body, sizeof(body), "{\"i\":%d}", i);

		p->started[i] = xnow_ms();
		p->status[i] = ps_publish(p->port, PUBSUB, "outage", "application/json", NULL, body,
					  (size_t)len, NULL);
		p->took[i] = xnow_ms() - p->started[i];
		atomic_store(&p->n, i + 1);
		xsleep_ms(PUBLISH_EVERY_MS);
	}
	return NULL;
}

/* How many publishes after since_ms got 204. */
static int accepted_since(struct publisher *p, long since_ms)
{
	int n = atomic_load(&p->n), ok = 0;

	for (int i = 0; i < n; i++)
		ok += p->started[i] >= since_ms && p->status[i] == 204;
	return ok;
}

#define OUTAGE_MS 10000
/* A publish while the broker is down must fail rather than hang: the client's timeout at most. */
#define FAIL_FAST_MS 5000
#define AFTER_RETURN 20

START_TEST(broker_outage)
{
	struct publisher *p;
	pthread_t thread;
	bool want[MAX_PUBLISHES] = { 0 };
	long halted_at, back_at, deadline;
	int n, before = 0;

	if (skipped)
		return;
	test_app_set_subscribe(app, SUBSCRIBE("outage"));
	start_daemon("outage");
	p = calloc(1, sizeof(*p));
	ck_assert_ptr_nonnull(p);
	p->port = dmn.port;
	ck_assert_int_eq(pthread_create(&thread, NULL, publish_loop, p), 0);
	/* Traffic before the fault: it must flow normally. */
	ck_assert_msg(test_app_wait_count(app, "/outage", 20, PS_SOON_MS),
		      "only %zu deliveries before the outage", test_app_count_path(app, "/outage"));
	halted_at = xnow_ms();
	ck_assert_int_eq(server_halt(&srv), 0);
	xsleep_ms(OUTAGE_MS); /* the fault itself: publisher and subscriber carry on meanwhile */
	ck_assert_int_eq(server_restart(&srv), 0);
	back_at = xnow_ms();
	/* No outrigd restart: the plugin reconnects by itself, and publishing works again. */
	deadline = back_at + RECOVERY_MS;
	while (accepted_since(p, back_at) < AFTER_RETURN && xnow_ms() < deadline)
		xsleep_ms(50);
	atomic_store(&p->stop, true);
	pthread_join(thread, NULL);
	ck_assert_msg(accepted_since(p, back_at) >= AFTER_RETURN,
		      "only %d publishes accepted in the %d s after mosquitto came back",
		      accepted_since(p, back_at), RECOVERY_MS / 1000);
	ck_assert_msg(daemon_wait_exit(&dmn, 0) == -1, "outrigd exited during the outage");
	n = atomic_load(&p->n);
	for (int i = 0; i < n; i++) {
		ck_assert_msg(p->status[i] == 204 || p->status[i] == 500,
			      "publish %d answered %d; expected 204, or 500 while the broker was down", i,
			      p->status[i]);
		ck_assert_msg(p->took[i] < FAIL_FAST_MS, "publish %d took %ld ms", i, p->took[i]);
		want[i] = p->status[i] == 204;
		before += want[i] && p->started[i] < halted_at;
	}
	ck_assert_msg(before > 0, "no publish was accepted before the outage");
	expect_all_delivered("/outage", want, n);
	free(p);
}
END_TEST

/* Holds the first delivery of each message far longer than the test waits; acks later ones. */
#define HOLD_MS 60000

static struct app_reply hold_first(const struct delivery *d, void *arg)
{
	(void)arg;
	return d->attempt == 1 ? (struct app_reply){ APP_SLOW, HOLD_MS }
			       : (struct app_reply){ APP_SUCCESS, 0 };
}

START_TEST(sidecar_killed_mid_delivery)
{
	const struct delivery *first, *again;

	if (skipped)
		return;
	test_app_set_subscribe(app, SUBSCRIBE("held"));
	test_app_set_policy(app, hold_first, NULL);
	start_daemon("held");
	ck_assert_int_eq(ps_publish(dmn.port, PUBSUB, "held", "application/json", NULL, "{\"i\":0}", 7, NULL),
			 204);
	ck_assert_msg(test_app_wait_count(app, "/held", 1, PS_SOON_MS), "the message never reached the app");
	/* The app holds it unacknowledged while outrigd dies, as in a crash. */
	daemon_kill(&dmn);
	start_daemon("held");
	ck_assert_msg(test_app_wait_count(app, "/held", 2, RECOVERY_MS),
		      "the message the app never acknowledged was not delivered again after the restart");
	first = test_app_delivery(app, 0);
	again = test_app_delivery(app, 1);
	ck_assert_str_eq(again->id, first->id);
	ck_assert_str_eq(again->body, first->body);
	ck_assert_int_eq(again->reply.answer, APP_SUCCESS);
}
END_TEST

/* The first delivery of each message waits STOP_HOLD_MS, then the app settles it (SUCCESS). */
#define STOP_HOLD_MS 1500

static struct app_reply slow_first(const struct delivery *d, void *arg)
{
	(void)arg;
	return d->attempt == 1 ? (struct app_reply){ APP_SLOW, STOP_HOLD_MS }
			       : (struct app_reply){ APP_SUCCESS, 0 };
}

/* Publishes a CloudEvent to the broker itself (not through outrigd) with mosquitto_pub, QoS 1. */
static void broker_publish(const char *topic, const char *id, int i)
{
	char port[16], event[512];
	const char *argv[] = { "mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-t", topic, "-m", event, NULL };
	pid_t pid;
	int status = -1;

	snprintf(port, sizeof(port), "%d", srv.port);
	snprintf(event, sizeof(event),
		 "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"test\",\"type\":\"com.dapr.event.sent\","
		 "\"datacontenttype\":\"application/json\",\"topic\":\"%s\",\"pubsubname\":\"" PUBSUB "\","
		 "\"data\":{\"i\":%d}}",
		 id, topic, i);
	pid = server_spawn(argv, srv.log);
	ck_assert_msg(pid > 0, "cannot run mosquitto_pub");
	ck_assert_msg(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "mosquitto_pub failed; see %s", srv.log);
}

/*
 * SIGTERM while the app handles a delivery: the app finishes it and it is acknowledged (not
 * delivered again after a restart); a message the broker brings during the stop is not taken (the
 * app does not see it) and comes after the restart.
 */
START_TEST(sidecar_stopped_mid_delivery)
{
	int code;

	if (skipped)
		return;
	test_app_set_subscribe(app, SUBSCRIBE("stopping"));
	test_app_set_policy(app, slow_first, NULL);
	start_daemon("stopping");
	ck_assert_int_eq(ps_publish(dmn.port, PUBSUB, "stopping", "application/json", NULL, "{\"i\":0}", 7, NULL),
			 204);
	ck_assert_msg(test_app_wait_count(app, "/stopping", 1, PS_SOON_MS), "the message never reached the app");
	ck_assert_int_eq(kill(dmn.pid, SIGTERM), 0);
	/* While outrigd stops (the app still holds message 0), the broker brings message 1. */
	broker_publish("stopping", "during-stop", 1);
	code = daemon_wait_exit(&dmn, 8000);
	ck_assert_msg(code == 0, "outrigd exited with %d after SIGTERM", code);
	ck_assert_uint_eq(test_app_count_path(app, "/stopping"), 1);
	ck_assert_int_eq(test_app_delivery(app, 0)->reply.answer, APP_SLOW);
	ck_assert_msg(test_app_acked_ids(app, "/stopping") == 1, "the app did not settle message 0");

	start_daemon("stopping");
	ck_assert_msg(test_app_wait_count(app, "/stopping", 2, RECOVERY_MS),
		      "the message brought during the stop was not delivered after the restart");
	ck_assert_str_eq(test_app_delivery(app, 1)->id, "during-stop");
	/* Message 0 was settled before the stop ended: it must not come again. */
	xsleep_ms(2 * STOP_HOLD_MS);
	ck_assert_msg(test_app_count_path(app, "/stopping") == 2,
		      "%zu deliveries after the restart; message 0, settled during the stop, came again",
		      test_app_count_path(app, "/stopping"));
}
END_TEST

#define WHILE_DOWN 20
/* Long enough for outrigd to try each message and fail at least twice with the default backoff. */
#define APP_DOWN_MS 2000

START_TEST(app_down_then_back)
{
	bool want[WHILE_DOWN];

	if (skipped)
		return;
	test_app_set_subscribe(app, SUBSCRIBE("appdown"));
	start_daemon("appdown");
	test_app_stop(app);
	for (int i = 0; i < WHILE_DOWN; i++) {
		char body[32];
		int len = snprintf(body, sizeof(body), "{\"i\":%d}", i);

		ck_assert_int_eq(ps_publish(dmn.port, PUBSUB, "appdown", "application/json", NULL, body,
					    (size_t)len, NULL),
				 204);
		want[i] = true;
	}
	xsleep_ms(APP_DOWN_MS); /* the fault itself: deliveries fail while the app is away */
	ck_assert_int_eq(test_app_count(app), 0);
	ck_assert_int_eq(test_app_restart(app), 0);
	expect_all_delivered("/appdown", want, WHILE_DOWN);
	ck_assert_msg(test_app_acked_ids(app, "/appdown") >= WHILE_DOWN, "%zu of %d acknowledged",
		      test_app_acked_ids(app, "/appdown"), WHILE_DOWN);
}
END_TEST

/* broker_outage: 10 s of outage, recovery, and a backlog of ~500 messages on a slow machine. */
#define FAULT_TIMEOUT_S 120

int main(void)
{
	Suite *s = suite_create("pubsub faults");
	TCase *tc = tcase_create("mqtt3");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, FAULT_TIMEOUT_S);
	tcase_add_test(tc, broker_outage);
	tcase_add_test(tc, sidecar_killed_mid_delivery);
	tcase_add_test(tc, app_down_then_back);
	tcase_add_test(tc, sidecar_stopped_mid_delivery);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
