/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opt-in app health checks (API.md §3.4) against the real outrigd: the settings in GET
 * /v1.0/metadata, and pub/sub deliveries that pause while the app is unhealthy (failing,
 * slow or gone) and resume once it is healthy again.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "channels/app_health.h"
#include "daemon.h"
#include "exchange.h"
#include "http_client.h"
#include "test_app.h"

#define APP_ID "healthapp"
#define JSON_CT "Content-Type: application/json\r\n"

/* How the app answers its health probes. */
enum health_mode { HEALTH_OK, HEALTH_500, HEALTH_SLOW };

static struct daemon dmn;
static struct exchange x;
static struct test_app *app;
static atomic_int mode;

static struct app_reply policy(const struct delivery *d, void *arg)
{
	struct app_reply r = { APP_SUCCESS, 0 };

	if (strcmp(d->path, "/healthz") != 0)
		return r;
	switch (atomic_load(&mode)) {
	case HEALTH_500: r.answer = APP_500; break;
	/* Well past the 200 ms probe timeout the daemon runs with. */
	case HEALTH_SLOW:
		r.answer = APP_SLOW;
		r.delay_ms = 1500;
		break;
	default: break;
	}
	return r;
}

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP_ID), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_subscription(&dmn, "orders", "pubsub", "orders", "/orders"), 0);
	atomic_store(&mode, HEALTH_OK);
	app = test_app_start();
	ck_assert_msg(app != NULL, "the test app did not start");
	test_app_set_policy(app, policy, NULL);
}

static void teardown(void)
{
	daemon_stop(&dmn);
	test_app_destroy(app);
	app = NULL;
	xfree(&x);
	daemon_cleanup(&dmn);
}

static void start_daemon(bool health)
{
	char port[16], internal[16];
	/* A free internal port of its own: tests running at once share the app id's derived one. */
	const char *plain[] = { "--app-port", port, "--dapr-internal-grpc-port", internal, NULL };
	const char *checked[] = {
		"--app-port",
		port,
		"--dapr-internal-grpc-port",
		internal,
		"--enable-app-health-check",
		"--app-health-probe-interval",
		"1",
		"--app-health-probe-timeout",
		"200",
		"--app-health-threshold",
		"2",
		NULL,
	};

	snprintf(port, sizeof(port), "%d", test_app_port(app));
	snprintf(internal, sizeof(internal), "%d", daemon_free_port());
	ck_assert_msg(daemon_start(&dmn, health ? checked : plain) == 0, "outrigd did not start (log above)");
}

/* How many lines of the daemon's log hold text. */
static int log_count(const char *text)
{
	char *log = xslurp(dmn.log);
	int n = 0;

	for (const char *p = log; p != NULL && (p = strstr(p, text)) != NULL; p += strlen(text))
		n++;
	free(log);
	return n;
}

/* Waits up to timeout_ms for the log to hold text n times. */
static bool log_wait(const char *text, int n, long timeout_ms)
{
	long until = xnow_ms() + timeout_ms;

	while (log_count(text) < n) {
		if (xnow_ms() > until)
			return false;
		xsleep_ms(50);
	}
	return true;
}

static void publish(int i)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"i\":%d}", i);
	xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/orders", JSON_CT, body);
	ck_status(&x, 204);
}

/* Publishes until the subscription is live and the app got one message (in-memory drops earlier ones). */
static void wait_first_delivery(void)
{
	long until = xnow_ms() + 15000;

	while (test_app_count_path(app, "/orders") == 0) {
		if (xnow_ms() > until) {
			daemon_dump_log(&dmn);
			ck_abort_msg("no delivery reached the app in 15 s (log above)");
		}
		publish(0);
		test_app_wait_count(app, "/orders", 1, 300);
	}
}

START_TEST(test_metadata_shows_health_settings)
{
	json_t *body, *health;

	start_daemon(true);
	xreq(&x, dmn.port, "GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	body = xjson(&x);
	health = json_object_get(json_object_get(body, "appConnectionProperties"), "health");
	ck_assert_msg(json_is_object(health), "no appConnectionProperties.health in %s", XBODY(&x));
	ck_assert_str_eq(jstr(json_object_get(health, "healthCheckPath")), "/healthz");
	ck_assert_str_eq(jstr(json_object_get(health, "healthProbeInterval")), "1s");
	ck_assert_str_eq(jstr(json_object_get(health, "healthProbeTimeout")), "200ms");
	ck_assert_int_eq(json_integer_value(json_object_get(health, "healthThreshold")), 2);
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(body, "appConnectionProperties"), "port")),
		test_app_port(app));
	json_decref(body);
}
END_TEST

START_TEST(test_metadata_without_health_checks)
{
	json_t *body;

	start_daemon(false);
	xreq(&x, dmn.port, "GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	body = xjson(&x);
	ck_assert_ptr_nonnull(json_object_get(body, "appConnectionProperties"));
	ck_assert_ptr_null(json_object_get(json_object_get(body, "appConnectionProperties"), "health"));
	json_decref(body);
	/* No probes either. */
	xsleep_ms(1500);
	ck_assert_uint_eq(test_app_count_path(app, "/healthz"), 0);
}
END_TEST

/* The app goes unhealthy as mode says; messages published meanwhile wait, then all arrive. */
static void pause_and_resume(enum health_mode sick, bool crash)
{
	size_t before;

	start_daemon(true);
	ck_assert_msg(log_wait("app is healthy", 1, 10000), "the app never became healthy");
	wait_first_delivery();
	before = test_app_count_path(app, "/orders");

	if (crash)
		test_app_stop(app);
	else
		atomic_store(&mode, sick);
	if (!log_wait("app is unhealthy", 1, 10000)) {
		daemon_dump_log(&dmn);
		ck_abort_msg("outrigd never found the app unhealthy (log above)");
	}
	if (crash) {
		atomic_store(&mode, sick);
		ck_assert_int_eq(test_app_restart(app), 0);
	}
	for (int i = 1; i <= 3; i++)
		publish(i);
	/* Long enough for a delivery to go out; none may while the app is unhealthy. */
	xsleep_ms(1500);
	ck_assert_msg(test_app_count_path(app, "/orders") == before,
		      "%zu deliveries reached an unhealthy app",
		      test_app_count_path(app, "/orders") - before);
	ck_assert_int_eq(log_count("app is healthy"), 1);

	atomic_store(&mode, HEALTH_OK);
	ck_assert_msg(log_wait("app is healthy", 2, 10000), "the app never became healthy again");
	if (!test_app_wait_count(app, "/orders", before + 3, 10000)) {
		daemon_dump_log(&dmn);
		ck_abort_msg("only %zu of 3 paused deliveries arrived after the app recovered (log above)",
			     test_app_count_path(app, "/orders") - before);
	}
}

START_TEST(test_failing_probes_pause_deliveries)
{
	pause_and_resume(HEALTH_500, false);
	ck_assert_int_ge(log_count("answered HTTP 500"), 1);
}
END_TEST

START_TEST(test_slow_probes_count_as_failures)
{
	pause_and_resume(HEALTH_SLOW, false);
	ck_assert_int_ge(log_count("no answer within 200 ms"), 1);
}
END_TEST

START_TEST(test_app_down_pauses_deliveries)
{
	/* Stopped, then back at once but still failing its probes until told otherwise. */
	atomic_store(&mode, HEALTH_OK);
	pause_and_resume(HEALTH_500, true);
}
END_TEST

/* The metadata API shows durations as daprd's Go code prints them. */
START_TEST(test_go_duration)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
		{ 0, "0s" },	   { 1, "1ms" },       { 500, "500ms" },      { 1000, "1s" },
		{ 1500, "1.5s" },  { 1250, "1.25s" },  { 1001, "1.001s" },    { 5000, "5s" },
		{ 60000, "1m0s" }, { 90000, "1m30s" }, { 3600000, "1h0m0s" }, { 3723500, "1h2m3.5s" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(app_health_go_duration(cases[i].ms, buf, sizeof(buf)), cases[i].want);
}
END_TEST

static Suite *app_health_suite(void)
{
	Suite *s = suite_create("app_health");
	TCase *tc = tcase_create("app_health"), *unit = tcase_create("unit");

	tcase_add_test(unit, test_go_duration);
	suite_add_tcase(s, unit);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_metadata_shows_health_settings);
	tcase_add_test(tc, test_metadata_without_health_checks);
	tcase_add_test(tc, test_failing_probes_pause_deliveries);
	tcase_add_test(tc, test_slow_probes_count_as_failures);
	tcase_add_test(tc, test_app_down_pauses_deliveries);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(app_health_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
