/* SPDX-License-Identifier: Apache-2.0 */
/* Output bindings and input delivery to the app (API.md §4.1, §4.2) through the real outrigd and bindings.test. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
#include "http_client.h"
#include "test_app.h"

#define APP "bindapp"
#define JSON_CT "Content-Type: application/json\r\n"

/* Every test runs in its own forked process with its own daemon, app and scratch directory. */
static struct daemon dmn;
static struct exchange x;
static struct test_app *app;

/* How the app answers: OPTIONS on options_404 gets 404; the first fail_first POSTs, or all, get 500. */
static struct {
	const char *options_404;
	atomic_int fail_first;
	atomic_bool fail_all;
	atomic_int slow_ms; /* a POST whose body is "slow" is answered (200) after this long */
} answers;

static struct app_reply answer(const struct delivery *d, void *arg)
{
	struct app_reply r = { APP_SUCCESS, 0 };

	if (strcmp(d->method, "OPTIONS") == 0) {
		if (answers.options_404 != NULL && strcmp(d->path, answers.options_404) == 0)
			r.answer = APP_404;
		return r;
	}
	if (atomic_load(&answers.slow_ms) > 0 && strcmp(d->body, "\"slow\"") == 0)
		return (struct app_reply){ APP_SLOW, atomic_load(&answers.slow_ms) };
	if (atomic_load(&answers.fail_all) || atomic_fetch_sub(&answers.fail_first, 1) > 0)
		r.answer = APP_500;
	return r;
}

static int call(const char *method, const char *path, const char *headers, const char *body)
{
	return xreq(&x, dmn.port, method, path, headers, body);
}

static const char *ack_file(const char *component)
{
	return xfmt("%s/acks-%s.txt", dmn.dir, component);
}

/* A bindings.test component whose acknowledgements go to ack_file(name); extra: more key, value pairs. */
static void add_binding(const char *name, const char *extra_key, const char *extra_value)
{
	ck_assert_int_eq(daemon_add_component(&dmn, name, "bindings.test", "ackFile", ack_file(name),
					      extra_key, extra_value, NULL),
			 0);
}

static void start_daemon(bool with_app)
{
	char port[16];
	const char *plugins = getenv("OUTRIG_TEST_PLUGIN_DIR");
	const char *args[] = { "--plugin-dir", plugins != NULL ? plugins : "tests/plugins/.libs",
			       "--app-port", port, NULL };

	snprintf(port, sizeof(port), "%d", test_app_port(app));
	if (!with_app)
		args[2] = NULL;
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
}

static void setup(void)
{
	memset(&answers, 0, sizeof(answers));
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	app = test_app_start();
	ck_assert_ptr_nonnull(app);
	test_app_set_policy(app, answer, NULL);
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
	test_app_destroy(app);
	app = NULL;
}

/* Whether file holds line as a whole line, waiting up to timeout_ms. */
static bool file_has_line(const char *file, const char *line, long timeout_ms)
{
	long until = xnow_ms() + timeout_ms;

	for (;;) {
		char *text = access(file, F_OK) == 0 ? xslurp(file) : NULL;
		bool found = false;

		for (char *p = text; p != NULL && *p != '\0';) {
			size_t n = strcspn(p, "\n");

			if (n == strlen(line) && strncmp(p, line, n) == 0)
				found = true;
			p += n + (p[n] == '\n');
		}
		free(text);
		if (found || xnow_ms() >= until)
			return found;
		xsleep_ms(10);
	}
}

/* How many lines of file are line. */
static int file_count_line(const char *file, const char *line)
{
	char *text = access(file, F_OK) == 0 ? xslurp(file) : NULL;
	int count = 0;

	for (char *p = text; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (n == strlen(line) && strncmp(p, line, n) == 0)
			count++;
		p += n + (p[n] == '\n');
	}
	free(text);
	return count;
}

/* Has binding name's input side hand one event to the core, named id. */
static void emit(const char *binding, const char *id, const char *data_json)
{
	call("POST", xfmt("/v1.0/bindings/%s", binding), JSON_CT,
	     xfmt("{\"operation\":\"emit\",\"data\":%s,\"metadata\":{\"id\":\"%s\",\"x-trace\":\"t-%s\"}}",
		  data_json, id, id));
	ck_status(&x, 204);
}

/* The i-th request the app got on path (0-based), or fails the test. */
static const struct delivery *nth_on(const char *path, size_t i)
{
	size_t seen = 0;

	for (size_t k = 0; k < test_app_count(app); k++) {
		const struct delivery *d = test_app_delivery(app, k);

		if (strcmp(d->path, path) == 0 && strcmp(d->method, "OPTIONS") != 0 && seen++ == i)
			return d;
	}
	ck_abort_msg("the app got no request %zu on %s", i, path);
	return NULL;
}

static size_t posts_on(const char *path)
{
	size_t n = 0;

	for (size_t k = 0; k < test_app_count(app); k++) {
		const struct delivery *d = test_app_delivery(app, k);

		if (strcmp(d->path, path) == 0 && strcmp(d->method, "POST") == 0)
			n++;
	}
	return n;
}

static bool wait_posts(const char *path, size_t n, long timeout_ms)
{
	long until = xnow_ms() + timeout_ms;

	while (posts_on(path) < n && xnow_ms() < until)
		xsleep_ms(5);
	return posts_on(path) >= n;
}

/* ---- output ---- */

START_TEST(output_round_trip)
{
	add_binding("out", NULL, NULL);
	start_daemon(false);

	/* Any JSON value but a string reaches the binding as its JSON text, numbers as written. */
	call("POST", "/v1.0/bindings/out", JSON_CT,
	     "{\"data\": {\"a\": 1, \"p\": 0.1, \"s\": \"two words\"}, \"metadata\": {\"k\": \"v\"}, \"operation\": \"create\"}");
	ck_status(&x, 200);
	ck_body(&x, "{\"a\":1,\"p\":0.1,\"s\":\"two words\"}");
	ck_assert_str_eq(xheader(&x, "metadata.k"), "v");
	ck_assert_str_eq(xheader(&x, "metadata.operation"), "create");
	ck_assert_msg(xjson_type(&x), "Content-Type %s", xheader(&x, "Content-Type"));

	/* A JSON string arrives as JSON, quotes included, as daprd re-marshals it. */
	call("PUT", "/v1.0/bindings/out", JSON_CT,
	     "{\"data\":\"hi \\\"there\\\"\",\"operation\":\"create\"}");
	ck_status(&x, 200);
	ck_body(&x, "\"hi \\\"there\\\"\"");
	ck_assert_str_eq(xheader(&x, "metadata.length"), "14");

	call("POST", "/v1.0/bindings/out", NULL, "{\"data\":[1, 2, [3]],\"operation\":\"create\"}");
	ck_status(&x, 200);
	ck_body(&x, "[1,2,[3]]");

	/* No data back: 204, with the response metadata still as headers. */
	call("POST", "/v1.0/bindings/out", JSON_CT, "{\"operation\":\"get\",\"metadata\":{\"q\":\"1\"}}");
	ck_status(&x, 204);
	ck_assert_uint_eq(x.r.body_len, 0);
	ck_assert_str_eq(xheader(&x, "metadata.q"), "1");
	ck_assert_str_eq(xheader(&x, "metadata.length"), "0");

	/* Trace context goes into the binding's metadata. */
	call("POST", "/v1.0/bindings/out",
	     JSON_CT "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n",
	     "{\"operation\":\"get\"}");
	ck_status(&x, 204);
	ck_assert_str_eq(xheader(&x, "metadata.traceparent"),
			 "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}
END_TEST

START_TEST(output_errors)
{
	add_binding("out", NULL, NULL);
	add_binding("inonly", "direction", "input");
	start_daemon(false);

	call("POST", "/v1.0/bindings/nosuch", JSON_CT, "{\"operation\":\"create\",\"data\":1}");
	ck_error(&x, 500, "ERR_INVOKE_OUTPUT_BINDING");
	ck_assert_msg(strstr(XBODY(&x), "couldn't find output binding nosuch") != NULL, "%s", XBODY(&x));

	call("POST", "/v1.0/bindings/out", JSON_CT, "{\"operation\":\"delete\",\"data\":1}");
	ck_error(&x, 500, "ERR_INVOKE_OUTPUT_BINDING");
	ck_assert_msg(strstr(XBODY(&x), "does not support operation delete") != NULL &&
			      strstr(XBODY(&x), "create get fail emit") != NULL,
		      "%s", XBODY(&x));

	call("POST", "/v1.0/bindings/out", JSON_CT, "{\"data\":1}");
	ck_error(&x, 500, "ERR_INVOKE_OUTPUT_BINDING");
	ck_assert_msg(strstr(XBODY(&x), "operation field is missing") != NULL, "%s", XBODY(&x));

	/* The plugin's failure: 500 with its reason, and its response metadata even so. */
	call("POST", "/v1.0/bindings/out", JSON_CT, "{\"operation\":\"fail\"}");
	ck_error(&x, 500, "ERR_INVOKE_OUTPUT_BINDING");
	ck_assert_msg(strstr(XBODY(&x), "error invoking output binding out") != NULL &&
			      strstr(XBODY(&x), "fails on purpose") != NULL,
		      "%s", XBODY(&x));
	ck_assert_str_eq(xheader(&x, "metadata.failed"), "yes");

	call("POST", "/v1.0/bindings/out", JSON_CT, "{\"operation\":\"create\",");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	call("POST", "/v1.0/bindings/out", JSON_CT, "[1]");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	call("POST", "/v1.0/bindings/out", JSON_CT,
	     "{\"operation\":\"create\",\"metadata\":{\"k\":{\"x\":1}}}");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");

	/* direction: input only -> not an output binding. */
	call("POST", "/v1.0/bindings/inonly", JSON_CT, "{\"operation\":\"create\"}");
	ck_error(&x, 500, "ERR_INVOKE_OUTPUT_BINDING");

	call("GET", "/v1.0/bindings/out", NULL, NULL);
	ck_assert_int_eq(x.r.status, 405);
}
END_TEST

START_TEST(metadata_capabilities)
{
	json_t *body, *c;
	size_t i;
	bool seen_out = false, seen_in = false;

	add_binding("both", NULL, NULL);
	add_binding("outonly", "direction", "output");
	start_daemon(false);
	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	body = xjson(&x);
	json_array_foreach(json_object_get(body, "components"), i, c)
	{
		char *caps = json_dumps(json_object_get(c, "capabilities"), JSON_COMPACT);

		if (strcmp(jstr(json_object_get(c, "name")), "both") == 0) {
			ck_assert_str_eq(caps, "[\"INPUT_BINDING\",\"OUTPUT_BINDING\"]");
			seen_in = true;
		} else if (strcmp(jstr(json_object_get(c, "name")), "outonly") == 0) {
			ck_assert_str_eq(caps, "[\"OUTPUT_BINDING\"]");
			seen_out = true;
		}
		free(caps);
	}
	ck_assert(seen_in && seen_out);
	json_decref(body);
}
END_TEST

/* ---- input ---- */

START_TEST(input_delivered_in_order)
{
	const struct delivery *d;

	add_binding("in", NULL, NULL);
	start_daemon(true);
	ck_assert_msg(file_has_line(ack_file("in"), "started", 5000), "the input never started");
	ck_assert_uint_ge(test_app_count_path(app, "/in"), 1);
	ck_assert_str_eq(test_app_delivery(app, 0)->method, "OPTIONS");

	emit("in", "e1", "\"first\"");
	emit("in", "e2", "{\"n\": 2}");
	emit("in", "e3", "3");
	ck_assert(wait_posts("/in", 3, 5000));
	ck_assert(file_has_line(ack_file("in"), "e3 SETTLED", 5000));
	d = nth_on("/in", 0);
	ck_assert_str_eq(d->method, "POST");
	/* The plugin re-emits the JSON text it was given: a string keeps its quotes. */
	ck_assert_str_eq(d->body, "\"first\"");
	ck_assert_str_eq(jstr(json_object_get(d->headers, "id")), "e1");
	ck_assert_str_eq(jstr(json_object_get(d->headers, "x-trace")), "t-e1");
	ck_assert_str_eq(jstr(json_object_get(d->headers, "content-type")), "application/json");
	ck_assert_str_eq(nth_on("/in", 1)->body, "{\"n\":2}");
	ck_assert_str_eq(nth_on("/in", 2)->body, "3");
	ck_assert_int_eq(file_count_line(ack_file("in"), "e1 SETTLED"), 1);
	ck_assert_int_eq(file_count_line(ack_file("in"), "e2 SETTLED"), 1);
}
END_TEST

START_TEST(input_retried_until_2xx)
{
	add_binding("in", NULL, NULL);
	atomic_store(&answers.fail_first, 2);
	start_daemon(true);
	ck_assert_msg(file_has_line(ack_file("in"), "started", 5000), "the input never started");
	emit("in", "e1", "\"one\"");
	emit("in", "e2", "\"two\"");
	/* e1: 500, 500, then 200 (after 500 ms and 750 ms of backoff); e2 waits its turn. */
	ck_assert_msg(file_has_line(ack_file("in"), "e2 SETTLED", 8000), "e2 was never acknowledged");
	ck_assert_uint_eq(posts_on("/in"), 4);
	ck_assert_str_eq(nth_on("/in", 0)->body, "\"one\"");
	ck_assert_str_eq(nth_on("/in", 1)->body, "\"one\"");
	ck_assert_str_eq(nth_on("/in", 2)->body, "\"one\"");
	ck_assert_str_eq(nth_on("/in", 3)->body, "\"two\"");
	ck_assert_int_eq(nth_on("/in", 0)->reply.answer, APP_500);
	ck_assert_int_eq(nth_on("/in", 2)->reply.answer, APP_SUCCESS);
	ck_assert_msg(nth_on("/in", 2)->at_ms - nth_on("/in", 0)->at_ms >= 1000,
		      "retries came too fast: %ld ms", nth_on("/in", 2)->at_ms - nth_on("/in", 0)->at_ms);
	ck_assert_int_eq(file_count_line(ack_file("in"), "e1 SETTLED"), 1);
}
END_TEST

START_TEST(input_not_wanted_on_404)
{
	add_binding("nope", NULL, NULL);
	add_binding("yes", NULL, NULL);
	answers.options_404 = "/nope";
	start_daemon(true);
	ck_assert_msg(file_has_line(ack_file("yes"), "started", 5000), "the wanted input never started");
	ck_assert(test_app_wait_count(app, "/nope", 1, 5000));
	xsleep_ms(200);
	ck_assert_int_eq(file_count_line(ack_file("nope"), "started"), 0);
	call("POST", "/v1.0/bindings/nope", JSON_CT, "{\"operation\":\"emit\",\"data\":1}");
	ck_error(&x, 500, "ERR_INVOKE_OUTPUT_BINDING");
	ck_assert_msg(strstr(XBODY(&x), "input not started") != NULL, "%s", XBODY(&x));
	ck_assert_uint_eq(posts_on("/nope"), 0);
}
END_TEST

START_TEST(input_route_metadata)
{
	add_binding("routed", "route", "/custom-path");
	start_daemon(true);
	ck_assert_msg(file_has_line(ack_file("routed"), "started", 5000), "the input never started");
	ck_assert_uint_eq(test_app_count_path(app, "/routed"), 0);
	ck_assert_uint_ge(test_app_count_path(app, "/custom-path"), 1);
	emit("routed", "r1", "\"x\"");
	ck_assert(wait_posts("/custom-path", 1, 5000));
	ck_assert(file_has_line(ack_file("routed"), "r1 SETTLED", 5000));
}
END_TEST

START_TEST(input_direction_skips_options)
{
	add_binding("direct", "direction", "input");
	start_daemon(true);
	ck_assert_msg(file_has_line(ack_file("direct"), "started", 5000), "the input never started");
	ck_assert_uint_eq(test_app_count_path(app, "/direct"), 0);
}
END_TEST

START_TEST(input_unsettled_at_stop)
{
	add_binding("in", NULL, NULL);
	atomic_store(&answers.fail_all, true);
	start_daemon(true);
	ck_assert_msg(file_has_line(ack_file("in"), "started", 5000), "the input never started");
	emit("in", "e1", "\"never taken\"");
	emit("in", "e2", "\"behind it\"");
	ck_assert(wait_posts("/in", 2, 5000));
	ck_assert_int_eq(daemon_stop(&dmn), 0);
	ck_assert_int_eq(file_count_line(ack_file("in"), "e1 UNSETTLED"), 1);
	ck_assert_int_eq(file_count_line(ack_file("in"), "e2 UNSETTLED"), 1);
	ck_assert_int_eq(file_count_line(ack_file("in"), "e1 SETTLED"), 0);
	/* e2 never went: e1 held the line. */
	for (size_t i = 0; i < posts_on("/in"); i++)
		ck_assert_str_eq(nth_on("/in", i)->body, "\"never taken\"");
}
END_TEST

/*
 * SIGTERM while the app handles an input event: the app finishes it and it is acknowledged; an
 * event the source brings during the stop is refused (the source keeps it), not delivered.
 */
START_TEST(input_stop_finishes_and_refuses)
{
	add_binding("in", NULL, NULL);
	atomic_store(&answers.slow_ms, 1500);
	start_daemon(true);
	ck_assert_msg(file_has_line(ack_file("in"), "started", 5000), "the input never started");
	emit("in", "e1", "\"slow\"");
	ck_assert(wait_posts("/in", 1, 5000));
	/* e2 comes from the plugin's own thread 300 ms from now: after the stop has begun. */
	call("POST", "/v1.0/bindings/in", JSON_CT,
	     "{\"operation\":\"emit\",\"data\":\"later\",\"metadata\":{\"id\":\"e2\",\"afterMs\":\"300\"}}");
	ck_status(&x, 204);
	ck_assert_int_eq(kill(dmn.pid, SIGTERM), 0);
	ck_assert_int_eq(daemon_wait_exit(&dmn, 8000), 0);
	ck_assert_int_eq(file_count_line(ack_file("in"), "e1 SETTLED"), 1);
	ck_assert_int_eq(file_count_line(ack_file("in"), "e2 REFUSED"), 1);
	ck_assert_int_eq(file_count_line(ack_file("in"), "e2 UNSETTLED"), 0);
	ck_assert_uint_eq(posts_on("/in"), 1);
}
END_TEST

START_TEST(input_resiliency_bounds_retries)
{
	static const char resiliency[] = "apiVersion: dapr.io/v1alpha1\n"
					 "kind: Resiliency\n"
					 "metadata:\n"
					 "  name: bindres\n"
					 "spec:\n"
					 "  policies:\n"
					 "    retries:\n"
					 "      twice:\n"
					 "        policy: constant\n"
					 "        duration: 100ms\n"
					 "        maxRetries: 2\n"
					 "  targets:\n"
					 "    components:\n"
					 "      in:\n"
					 "        inbound:\n"
					 "          retry: twice\n";

	add_binding("in", NULL, NULL);
	ck_assert_int_eq(daemon_write_resource(&dmn, "resiliency.yaml", resiliency), 0);
	atomic_store(&answers.fail_all, true);
	start_daemon(true);
	ck_assert_msg(file_has_line(ack_file("in"), "started", 5000), "the input never started");
	emit("in", "e1", "\"doomed\"");
	/* The first try and two retries, then given up (settled), so the next event goes. */
	ck_assert_msg(file_has_line(ack_file("in"), "e1 SETTLED", 5000), "e1 was not given up");
	ck_assert_uint_eq(posts_on("/in"), 3);
}
END_TEST

static Suite *bindings_suite(void)
{
	Suite *s = suite_create("bindings");
	TCase *out = tcase_create("output"), *in = tcase_create("input");

	tcase_add_checked_fixture(out, setup, teardown);
	tcase_add_test(out, output_round_trip);
	tcase_add_test(out, output_errors);
	tcase_add_test(out, metadata_capabilities);
	suite_add_tcase(s, out);
	tcase_add_checked_fixture(in, setup, teardown);
	tcase_set_timeout(in, 60);
	tcase_add_test(in, input_delivered_in_order);
	tcase_add_test(in, input_retried_until_2xx);
	tcase_add_test(in, input_not_wanted_on_404);
	tcase_add_test(in, input_route_metadata);
	tcase_add_test(in, input_direction_skips_options);
	tcase_add_test(in, input_unsettled_at_stop);
	tcase_add_test(in, input_stop_finishes_and_refuses);
	tcase_add_test(in, input_resiliency_bounds_retries);
	suite_add_tcase(s, in);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(bindings_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
