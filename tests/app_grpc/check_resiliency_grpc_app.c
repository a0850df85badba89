/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inbound Resiliency towards a gRPC app, end to end: the real outrigd --app-protocol grpc delivers
 * pub/sub events (OnTopicEvent) and input-binding events (OnBindingEvent) to
 * tests/app_grpc/resil_app.mjs, which hangs or fails with chosen gRPC status codes. A component's
 * inbound timeout cuts each attempt; matching.gRPCStatusCodes decides retry against dead letter or
 * drop. (check_resiliency_e2e covers the same with an HTTP app.) Skips (77) without node or the
 * modules of `npm ci --prefix tests/interop`, unless OUTRIG_REQUIRE_INTEROP=1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "interop.h"
#include "server.h"

/* What a loaded CI machine may add to a bound. */
#define SLACK_MS 1500

static struct daemon dmn;
static struct exchange x;
static pid_t node_pid;
static int node_port;
static char node_log[DAEMON_PATH_MAX];

static void setup(void)
{
	char path[600], port[16];
	const char *argv[] = { "node", path, port, NULL };

	ck_assert_int_eq(daemon_init(&dmn, "resilgrpc"), 0);
	node_port = daemon_free_port();
	snprintf(node_log, sizeof(node_log), "%s/app.log", dmn.dir);
	snprintf(path, sizeof(path), "%s/tests/app_grpc/resil_app.mjs", interop_srcdir());
	snprintf(port, sizeof(port), "%d", node_port);
	node_pid = server_spawn(argv, node_log);
	ck_assert_int_gt(node_pid, 0);
	ck_assert_msg(server_wait_port(node_pid, node_port, 20000) == 0,
		      "resil_app.mjs did not listen on port %d", node_port);
}

static void teardown(void)
{
	xfree(&x);
	daemon_stop(&dmn);
	if (node_pid > 0)
		server_stop(node_pid);
	node_pid = 0;
	daemon_cleanup(&dmn);
}

/* Starts outrigd for the gRPC app with the Resiliency document given (its spec). */
static void start_with(const char *spec)
{
	char *doc =
		xfmt("apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: r\nspec:\n%s", spec);
	char port[16];
	const char *args[] = { "--app-port", port, "--app-protocol", "grpc", NULL };

	snprintf(port, sizeof(port), "%d", node_port);
	ck_assert_int_eq(daemon_write_resource(&dmn, "resiliency.yaml", doc), 0);
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start");
}

/* The times (the app's clock, ms) at which the app got events of kind ("topic", "binding") for name. */
static size_t arrivals(const char *kind, const char *name, long *at, size_t max)
{
	char *text = xslurp(node_log);
	size_t n = 0;

	for (char *line = text != NULL ? strtok(text, "\n") : NULL; line != NULL && n < max;
	     line = strtok(NULL, "\n")) {
		json_t *j = line[0] == '{' ? json_loads(line, 0, NULL) : NULL;

		if (j != NULL && strcmp(jstr(json_object_get(j, "kind")), kind) == 0 &&
		    strcmp(jstr(json_object_get(j, "name")), name) == 0)
			at[n++] = (long)json_integer_value(json_object_get(j, "at"));
		json_decref(j);
	}
	free(text);
	return n;
}

static size_t count(const char *kind, const char *name)
{
	long at[64];

	return arrivals(kind, name, at, 64);
}

/* Until n events of kind for name came, or limit_ms passed. */
static void wait_count(const char *kind, const char *name, size_t n, long limit_ms)
{
	for (long until = xnow_ms() + limit_ms; count(kind, name) < n && xnow_ms() < until;)
		xsleep_ms(20);
}

/* The sidecar subscribed once an event of topic fine reaches the app. */
static void wait_subscribed(void)
{
	for (long until = xnow_ms() + 10000; count("topic", "fine") == 0 && xnow_ms() < until;) {
		ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/fine", NULL, "{}"), 204);
		wait_count("topic", "fine", 1, 300);
	}
	ck_assert_msg(count("topic", "fine") > 0, "the sidecar never delivered to the gRPC app");
}

/* The value of one series (its name and labels as rendered) in the sidecar's /metrics, or -1. */
static long metric_value(const char *series)
{
	struct exchange m = { 0 };
	const char *at;
	long v = -1;

	if (xreq(&m, dmn.metrics_port, "GET", "/metrics", NULL, NULL) == 200 &&
	    (at = strstr(XBODY(&m), series)) != NULL)
		v = strtol(at + strlen(series), NULL, 10);
	xfree(&m);
	return v;
}

#define TIMEOUTS(component)                                                                                        \
	"dapr_resiliency_activations_total{app_id=\"resilgrpc\",namespace=\"\",flow_direction=\"inbound\",target=" \
	"\"component_" component "\",policy=\"timeout\",status=\"\"} "

/* Each attempt at an app that hangs (3 s) is cut at 300 ms: 1 + 2 retries 100 ms apart, then dropped. */
static const char *const timeout_policies = "  policies:\n"
					    "    timeouts:\n"
					    "      short: 300ms\n"
					    "    retries:\n"
					    "      two: {duration: 100ms, maxRetries: 2}\n"
					    "  targets:\n"
					    "    components:\n"
					    "      %s:\n"
					    "        inbound: {retry: two, timeout: short}\n";

/* The attempts of kind at hang: 3, about 400 ms apart (300 ms cut + 100 ms wait). */
static void check_cut_attempts(const char *kind)
{
	long at[64];
	size_t n;

	wait_count(kind, "hang", 3, 8000);
	n = arrivals(kind, "hang", at, 64);
	ck_assert_msg(n >= 3, "%zu attempts of %s hang; each cut at 300 ms, want 3", n, kind);
	for (size_t i = 1; i < 3; i++)
		ck_assert_msg(at[i] - at[i - 1] >= 350 && at[i] - at[i - 1] < 400 + SLACK_MS,
			      "attempt %zu of %s hang came %ld ms after the one before; want 300 ms + 100 ms",
			      i + 1, kind, at[i] - at[i - 1]);
}

START_TEST(timeout_pubsub)
{
	char spec[512];
	long t0;

	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	snprintf(spec, sizeof(spec), timeout_policies, "pubsub");
	start_with(spec);
	wait_subscribed();
	t0 = xnow_ms();
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/hang", NULL, "{\"n\":1}"), 204);
	check_cut_attempts("topic");
	/* Its retries spent, the message is dropped; the app's late answers (3 s) change nothing. */
	xsleep_ms(t0 + 3800 - xnow_ms());
	ck_assert_int_eq(count("topic", "hang"), 3);
	ck_assert_int_eq(metric_value(TIMEOUTS("pubsub")), 3);
	/* And the subscription still delivers. */
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/unavail", NULL, "{}"), 204);
	wait_count("topic", "unavail", 1, 3000);
	ck_assert_int_ge(count("topic", "unavail"), 1);
}
END_TEST

START_TEST(timeout_binding)
{
	char spec[512];
	long at[64];
	size_t n;

	/* The next tick (3 s later) comes after the three attempts. */
	ck_assert_int_eq(daemon_add_component(&dmn, "hang", "bindings.cron", "schedule", "@every 3s", NULL),
			 0);
	snprintf(spec, sizeof(spec), timeout_policies, "hang");
	start_with(spec);
	check_cut_attempts("binding");
	/* Then the event is dropped: no 4th attempt before the next tick. */
	arrivals("binding", "hang", at, 64);
	xsleep_ms(1200);
	n = arrivals("binding", "hang", at, 64);
	ck_assert_msg(n == 3 || at[3] - at[2] > 1200,
		      "a 4th attempt %ld ms after the third; want the next tick", n > 3 ? at[3] - at[2] : 0L);
	ck_assert_int_ge(metric_value(TIMEOUTS("hang")), 3);
}
END_TEST

/*
 * A policy that retries UNAVAILABLE only: the app's UNAVAILABLE is retried (1 + 2 retries), its
 * INTERNAL is not: the event goes to its dead-letter topic at once.
 */
START_TEST(matching_pubsub)
{
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	start_with(
		"  policies:\n"
		"    retries:\n"
		"      unavailable: {duration: 100ms, maxRetries: 2, matching: {gRPCStatusCodes: \"14\"}}\n"
		"  targets:\n"
		"    components:\n"
		"      pubsub:\n"
		"        inbound: {retry: unavailable}\n");
	wait_subscribed();
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/unavail", NULL, "{\"n\":1}"), 204);
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/internal", NULL, "{\"n\":2}"), 204);
	wait_count("topic", "unavail", 3, 5000);
	wait_count("topic", "dead", 1, 5000);
	xsleep_ms(600);
	ck_assert_msg(count("topic", "unavail") == 3,
		      "%zu deliveries of an event the app fails UNAVAILABLE; want 1 + 2 retries",
		      count("topic", "unavail"));
	ck_assert_msg(count("topic", "internal") == 1,
		      "%zu deliveries of an event the app fails INTERNAL; want 1, not retried",
		      count("topic", "internal"));
	ck_assert_msg(count("topic", "dead") == 1, "%zu deliveries to the dead-letter topic; want 1",
		      count("topic", "dead"));
}
END_TEST

START_TEST(matching_binding)
{
	long at[64];
	size_t n;

	ck_assert_int_eq(
		daemon_add_component(&dmn, "unavail", "bindings.cron", "schedule", "@every 4s", NULL), 0);
	ck_assert_int_eq(
		daemon_add_component(&dmn, "internal", "bindings.cron", "schedule", "@every 4s", NULL), 0);
	start_with(
		"  policies:\n"
		"    retries:\n"
		"      unavailable: {duration: 100ms, maxRetries: 2, matching: {gRPCStatusCodes: \"14\"}}\n"
		"  targets:\n"
		"    components:\n"
		"      unavail:\n"
		"        inbound: {retry: unavailable}\n"
		"      internal:\n"
		"        inbound: {retry: unavailable}\n");
	wait_count("binding", "unavail", 3, 9000);
	wait_count("binding", "internal", 1, 3000);
	xsleep_ms(600);
	n = arrivals("binding", "unavail", at, 64);
	ck_assert_msg(
		n >= 3 && at[2] - at[0] < 1000 + SLACK_MS,
		"%zu deliveries of an event the app fails UNAVAILABLE; want 1 + 2 retries, 100 ms apart", n);
	n = arrivals("binding", "internal", at, 64);
	ck_assert_msg(
		n == 1 || (n >= 2 && at[1] - at[0] > 3000),
		"%zu deliveries of an event the app fails INTERNAL, the 2nd %ld ms after; want 1, not retried",
		n, n >= 2 ? at[1] - at[0] : 0L);
}
END_TEST

static Suite *resiliency_grpc_app_suite(void)
{
	Suite *s = suite_create("resiliency_grpc_app");
	TCase *tc = tcase_create("inbound");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, timeout_pubsub);
	tcase_add_test(tc, timeout_binding);
	tcase_add_test(tc, matching_pubsub);
	tcase_add_test(tc, matching_binding);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	static const char *const modules[] = { "@dapr/dapr", "@grpc/grpc-js", "@bufbuild/protobuf", NULL };

	return interop_run(resiliency_grpc_app_suite(), modules);
}
