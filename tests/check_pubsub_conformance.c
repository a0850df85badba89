/* SPDX-License-Identifier: Apache-2.0 */
/* One set of pub/sub cases, publish to delivery through outrigd and a test app, against every pub/sub plugin. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "pubsub_conf.h"

/* One spec.metadata entry, to write table rows on one line. */
#define MD(name, value) "  - name: " name "\n    value: \"" value "\"\n"

/*
 * Adding a plugin is one row. What a column means is in struct pubsub_row (pubsub_conf.h); why a
 * row differs from the others is said next to it.
 */
static const struct pubsub_row plugins[] = {
	{
		.name = "in_memory",
		.type = "pubsub.in-memory",
		/* Needs nothing: the broker is a queue inside outrigd. */
		.metadata = "",
	},
	{
		.name = "mqtt3",
		.type = "pubsub.mqtt3",
		/* cleanSession false with QoS 1: the broker keeps what outrigd has not acknowledged. */
		.metadata = MD("url", "${URL}") MD("consumerID", "${CONSUMER}") MD("qos", "1")
			MD("cleanSession", "false"),
		.start = server_mosquitto_start,
		.url = server_mosquitto_url,
	},
};

struct under_test ut;

/*
 * Whether configure built the row's plugin: like the loader, "pubsub.in-memory" is
 * pubsub_in_memory.so in $OUTRIG_PLUGIN_PATH. A build without paho-mqtt has no mqtt3 row to run.
 */
static bool plugin_built(const char *type)
{
	const char *dir = getenv("OUTRIG_PLUGIN_PATH");
	char *name = strdup(type), *path = NULL;
	bool found;

	ck_assert_msg(dir != NULL, "OUTRIG_PLUGIN_PATH is not set; run through make check");
	ck_assert_ptr_nonnull(name);
	for (char *p = name; *p != '\0'; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	ck_assert_int_ge(asprintf(&path, "%s/%s.so", dir, name), 0);
	found = access(path, R_OK) == 0;
	if (!found)
		fprintf(stderr,
			"pubsub conformance %s: SKIPPED, %s was not built (see configure's plugin list)\n",
			ut.row->name, path);
	free(path);
	free(name);
	return found;
}

/* Unchecked: the row's server, shared by its cases, in the main thread that it dies with. */
static void row_up(void)
{
	int rc;

	memset(&ut.server, 0, sizeof(ut.server));
	ut.skipped = !plugin_built(ut.row->type);
	/* CI builds every plugin and installs every server: there a skip would hide a broken setup. */
	ck_assert_msg(!ut.skipped || getenv("OUTRIG_REQUIRE_SERVERS") == NULL,
		      "%s was not built and OUTRIG_REQUIRE_SERVERS is set", ut.row->type);
	if (ut.skipped || ut.row->start == NULL)
		return;
	rc = ut.row->start(&ut.server);
	if (rc == SERVER_UNAVAILABLE) {
		ck_assert_msg(getenv("OUTRIG_REQUIRE_SERVERS") == NULL,
			      "%s: its server is not installed and OUTRIG_REQUIRE_SERVERS is set",
			      ut.row->name);
		fprintf(stderr, "pubsub conformance %s: SKIPPED, its server is not installed here\n",
			ut.row->name);
		ut.skipped = true;
		return;
	}
	ck_assert_msg(rc == 0, "%s: the %s server did not start (%d); its log is %s", ut.row->name,
		      ut.server.kind, rc, ut.server.log);
}

static void row_down(void)
{
	if (ut.row->start != NULL && !ut.skipped)
		server_destroy(&ut.server);
}

/* Checked: a fresh app and scratch daemon per case; the case itself starts the daemon (bring_up). */
static void case_up(void)
{
	ck_assert_int_eq(daemon_init(&ut.dmn, APP_ID), 0);
	if (ut.skipped)
		return;
	ut.app = test_app_start();
	ck_assert_msg(ut.app != NULL, "the test app did not start");
}

static void case_down(void)
{
	/* The daemon before the app, so it does not log a delivery failure for every closed socket. */
	daemon_stop(&ut.dmn);
	test_app_destroy(ut.app);
	ut.app = NULL;
	daemon_cleanup(&ut.dmn);
}

/* The slowest case (500 messages, or the default backoff's 2.4 s) takes a few seconds; a loaded
 * CI machine may take many times that. */
#define CASE_TIMEOUT_S 60

static Suite *conformance_suite(const struct pubsub_row *p)
{
	Suite *s = suite_create(p->type);
	TCase *tc = tcase_create(p->name);

	tcase_add_unchecked_fixture(tc, row_up, row_down);
	tcase_add_checked_fixture(tc, case_up, case_down);
	tcase_set_timeout(tc, CASE_TIMEOUT_S);
	add_delivery_cases(tc);
	add_answer_cases(tc);
	add_subscription_cases(tc);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = 0;

	for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		SRunner *sr;

		ut.row = &plugins[i];
		sr = srunner_create(conformance_suite(ut.row));
		srunner_run_all(sr, CK_ENV);
		failed += srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
