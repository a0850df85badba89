/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resiliency policies end to end, against the real outrigd: service invocation over HTTP and
 * gRPC to an app that fails N times, hangs, or answers chosen codes (attempt counts, spacing,
 * timeouts, a breaker opening after its trip and half-opening after its timeout), and a state
 * store whose real Redis is stopped.
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

#include "daemon.h"
#include "exchange.h"
#include "grpc_client.h"
#include "http_client.h"
#include "server.h"
#include "test_app.h"

#include "dapr/proto/runtime/v1/dapr.pb-c.h"

#define INVOKE_SERVICE "/dapr.proto.runtime.v1.Dapr/InvokeService"
/* What a loaded CI machine may add to a bound. */
#define SLACK_MS 1500

static struct daemon dmn;
static struct exchange x;
static struct test_app *app;
static struct test_server redis;

/* How the app answers, by path; counts what it got. */
static atomic_int fail2_seen, hang_seen;

static struct app_reply app_answers(const struct delivery *d, void *arg)
{
	struct app_reply r = { APP_EMPTY_200, 0 };

	(void)arg;
	if (strcmp(d->path, "/fail2") == 0 && atomic_fetch_add(&fail2_seen, 1) < 2)
		r.answer = APP_500;
	else if (strcmp(d->path, "/always500") == 0 || strcmp(d->path, "/orders") == 0)
		r.answer = APP_500;
	else if (strcmp(d->path, "/notfound") == 0)
		r.answer = APP_404;
	else if (strcmp(d->path, "/hang") == 0 && strcmp(d->method, "OPTIONS") != 0) {
		atomic_fetch_add(&hang_seen, 1);
		r.answer = APP_SLOW;
		r.delay_ms = 3000;
	}
	return r;
}

static void setup(void)
{
	memset(&redis, 0, sizeof(redis));
	atomic_store(&fail2_seen, 0);
	atomic_store(&hang_seen, 0);
	ck_assert_int_eq(daemon_init(&dmn, "resil"), 0);
	app = test_app_start();
	ck_assert_ptr_nonnull(app);
	test_app_set_policy(app, app_answers, NULL);
}

static void teardown(void)
{
	xfree(&x);
	daemon_stop(&dmn);
	test_app_destroy(app);
	app = NULL;
	server_destroy(&redis);
	daemon_cleanup(&dmn);
}

/* Starts outrigd with the app and the Resiliency document given (its spec). */
static void start_with(const char *spec)
{
	char *doc =
		xfmt("apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: r\nspec:\n%s", spec);
	char port[16];
	const char *args[] = { "--app-port", port, NULL };

	snprintf(port, sizeof(port), "%d", test_app_port(app));
	ck_assert_int_eq(daemon_write_resource(&dmn, "resiliency.yaml", doc), 0);
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start");
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

#define RESIL_SERIES(name, policy)                                                                                \
	name "{app_id=\"resil\",namespace=\"\",flow_direction=\"outbound\",target=\"app_resil\",policy=\"" policy \
	     "\",status=\"\"} "

static int invoke(const char *method)
{
	char path[128];

	snprintf(path, sizeof(path), "/v1.0/invoke/resil/method%s", method);
	return xreq(&x, dmn.port, "POST", path, NULL, "{}");
}

/* The arrival times of the requests the app got on path (but input bindings' OPTIONS). */
static size_t arrivals(const char *path, long *at, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < test_app_count(app) && n < max; i++) {
		const struct delivery *d = test_app_delivery(app, i);

		if (strcmp(d->path, path) == 0 && strcmp(d->method, "OPTIONS") != 0)
			at[n++] = d->at_ms;
	}
	return n;
}

static const char *const app_policies = "  policies:\n"
					"    timeouts:\n"
					"      short: 500ms\n"
					"    retries:\n"
					"      three:\n"
					"        policy: constant\n"
					"        duration: 200ms\n"
					"        maxRetries: 3\n"
					"        matching:\n"
					"          httpStatusCodes: \"500,502-504\"\n"
					"  targets:\n"
					"    apps:\n"
					"      resil: {retry: three, timeout: short}\n";

START_TEST(http_retries)
{
	long at[16];
	size_t n;

	start_with(app_policies);
	/* Fails twice, then answers: the caller sees only the answer; three attempts ~200 ms apart. */
	ck_assert_int_eq(invoke("/fail2"), 200);
	n = arrivals("/fail2", at, 16);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 1; i < n; i++)
		ck_assert_msg(at[i] - at[i - 1] >= 180 && at[i] - at[i - 1] < 200 + SLACK_MS,
			      "attempt %zu came %ld ms after the one before; the policy waits 200 ms", i + 1,
			      at[i] - at[i - 1]);
	/* Always failing: 1 + maxRetries attempts, then the app's own last answer. */
	ck_assert_int_eq(invoke("/always500"), 500);
	ck_assert_uint_eq(arrivals("/always500", at, 16), 4);
	/* A status matching does not list is the app's answer, not retried. */
	ck_assert_int_eq(invoke("/notfound"), 404);
	ck_assert_uint_eq(arrivals("/notfound", at, 16), 1);
	/* Dapr's metrics: 2 + 3 retries made; both policies applied to each of the 8 attempts. */
	ck_assert_int_eq(metric_value(RESIL_SERIES("dapr_resiliency_activations_total", "retry")), 5);
	ck_assert_int_eq(metric_value(RESIL_SERIES("dapr_resiliency_count", "retry")), 8);
	ck_assert_int_eq(metric_value(RESIL_SERIES("dapr_resiliency_count", "timeout")), 8);
	ck_assert_int_eq(metric_value(RESIL_SERIES("dapr_resiliency_activations_total", "timeout")), -1);
}
END_TEST

START_TEST(http_timeout)
{
	long t0, took;

	start_with(app_policies);
	/* Each attempt is cut at 500 ms and retried: 4 attempts, 3 waits, then Dapr's error. */
	t0 = xnow_ms();
	invoke("/hang");
	took = xnow_ms() - t0;
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_assert_msg(strstr(XBODY(&x), "context deadline exceeded") != NULL, "%s", XBODY(&x));
	ck_assert_msg(took >= 4 * 500 + 3 * 200 - 100 && took < 4 * 500 + 3 * 200 + SLACK_MS,
		      "the hanging call took %ld ms; 4 attempts of 500 ms and 3 waits of 200 ms", took);
	ck_assert_int_eq(atomic_load(&hang_seen), 4);
	ck_assert_int_eq(metric_value(RESIL_SERIES("dapr_resiliency_activations_total", "timeout")), 4);
	/* Still serving, and the late answers of the app were dropped without harm. */
	xsleep_ms(3200);
	ck_assert_int_eq(invoke("/ok"), 200);
}
END_TEST

static const char *const breaker_policies = "  policies:\n"
					    "    retries:\n"
					    "      none: {maxRetries: 0}\n"
					    "    circuitBreakers:\n"
					    "      cb:\n"
					    "        maxRequests: 1\n"
					    "        timeout: 1s\n"
					    "        trip: \"consecutiveFailures > 2\"\n"
					    "  targets:\n"
					    "    apps:\n"
					    "      resil: {retry: none, circuitBreaker: cb}\n";

START_TEST(http_breaker)
{
	long at[16], t0;

	start_with(breaker_policies);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(invoke("/always500"), 500);
	ck_assert_uint_eq(arrivals("/always500", at, 16), 3);
	/* consecutiveFailures > 2: open. The app is not called; the answer is at once. */
	t0 = xnow_ms();
	invoke("/ok");
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_assert_msg(strstr(XBODY(&x), "circuit breaker is open") != NULL, "%s", XBODY(&x));
	ck_assert_msg(xnow_ms() - t0 < 500, "an open breaker took %ld ms to answer", xnow_ms() - t0);
	ck_assert_uint_eq(arrivals("/ok", at, 16), 0);
	/* After its timeout, half-open: one call goes through, and its success closes it. */
	xsleep_ms(1200);
	ck_assert_int_eq(invoke("/ok"), 200);
	ck_assert_int_eq(invoke("/ok"), 200);
	ck_assert_uint_eq(arrivals("/ok", at, 16), 2);
	/* Open again; a failure while half-open opens it again. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(invoke("/always500"), 500);
	invoke("/ok");
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	xsleep_ms(1200);
	ck_assert_int_eq(invoke("/always500"), 500);
	invoke("/ok");
	ck_assert_msg(strstr(XBODY(&x), "circuit breaker is open") != NULL, "%s", XBODY(&x));
}
END_TEST

/* InvokeService of method on this sidecar's own app id; the gRPC status. */
static int grpc_invoke(const char *method, struct grpc_result *r)
{
	Dapr__Proto__Runtime__V1__InvokeServiceRequest rq =
		DAPR__PROTO__RUNTIME__V1__INVOKE_SERVICE_REQUEST__INIT;
	Dapr__Proto__Common__V1__InvokeRequest m = DAPR__PROTO__COMMON__V1__INVOKE_REQUEST__INIT;
	Dapr__Proto__Common__V1__HTTPExtension he = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__INIT;
	struct grpc_client *cl = grpc_client_connect(dmn.grpc_port);
	uint8_t *buf;
	size_t n;

	ck_assert_ptr_nonnull(cl);
	rq.id = "resil";
	rq.message = &m;
	m.method = (char *)method;
	m.content_type = "";
	he.verb = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__POST;
	he.querystring = "";
	m.http_extension = &he;
	n = dapr__proto__runtime__v1__invoke_service_request__get_packed_size(&rq);
	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	dapr__proto__runtime__v1__invoke_service_request__pack(&rq, buf);
	ck_assert_msg(grpc_client_call(cl, INVOKE_SERVICE, NULL, buf, n, 15000, r) == 0,
		      "InvokeService: no answer");
	free(buf);
	grpc_client_close(cl);
	return r->status;
}

START_TEST(grpc_retries_timeout_breaker)
{
	struct grpc_result r = { 0 };
	long at[16], t0, took;

	start_with(app_policies);
	/* The same policy through the gRPC front end: retried until the app answers. */
	ck_assert_int_eq(grpc_invoke("fail2", &r), 0);
	grpc_result_free(&r);
	ck_assert_uint_eq(arrivals("/fail2", at, 16), 3);
	t0 = xnow_ms();
	ck_assert_int_ne(grpc_invoke("hang", &r), 0);
	took = xnow_ms() - t0;
	ck_assert_msg(r.message != NULL && strstr(r.message, "context deadline exceeded") != NULL,
		      "grpc-message: %s", r.message != NULL ? r.message : "(none)");
	grpc_result_free(&r);
	ck_assert_msg(took < 4 * 500 + 3 * 200 + SLACK_MS, "the hanging call took %ld ms", took);
	ck_assert_int_eq(atomic_load(&hang_seen), 4);
}
END_TEST

START_TEST(grpc_breaker)
{
	struct grpc_result r = { 0 };
	long at[16];

	start_with(breaker_policies);
	for (int i = 0; i < 3; i++) {
		grpc_invoke("always500", &r);
		grpc_result_free(&r);
	}
	ck_assert_int_ne(grpc_invoke("ok", &r), 0);
	ck_assert_msg(r.message != NULL && strstr(r.message, "circuit breaker is open") != NULL,
		      "grpc-message: %s", r.message != NULL ? r.message : "(none)");
	grpc_result_free(&r);
	ck_assert_uint_eq(arrivals("/ok", at, 16), 0);
	xsleep_ms(1200);
	ck_assert_int_eq(grpc_invoke("ok", &r), 0);
	grpc_result_free(&r);
}
END_TEST

/* ---- a state store whose Redis stops ---- */

static bool redis_serving(const char *spec)
{
	char md[256];
	int rc = server_redis_start(&redis);

	if (rc == SERVER_UNAVAILABLE) {
		ck_assert_msg(getenv("OUTRIG_REQUIRE_SERVERS") == NULL, "redis-server is not installed");
		fprintf(stderr, "resiliency state: SKIPPED, redis-server is not installed here\n");
		return false;
	}
	ck_assert_int_eq(rc, 0);
	snprintf(
		md, sizeof(md),
		"  - name: redisHost\n    value: \"127.0.0.1:%d\"\n  - name: dialTimeout\n    value: \"300ms\"\n"
		"  - name: readTimeout\n    value: \"2s\"\n",
		redis.port);
	ck_assert_int_eq(daemon_write_component(&dmn, "store", "state.redis", md), 0);
	start_with(spec);
	return true;
}

START_TEST(state_stopped_redis)
{
	long t0, took;
	int ok = -1;

	if (!redis_serving("  policies:\n"
			   "    retries:\n"
			   "      twice: {policy: constant, duration: 300ms, maxRetries: 2}\n"
			   "    circuitBreakers:\n"
			   "      cb: {timeout: 2s, trip: \"consecutiveFailures >= 6\"}\n"
			   "  targets:\n"
			   "    components:\n"
			   "      store:\n"
			   "        outbound: {retry: twice, circuitBreaker: cb}\n"))
		return;
	ck_assert_int_eq(
		xreq(&x, dmn.port, "POST", "/v1.0/state/store", NULL, "[{\"key\":\"k\",\"value\":1}]"), 204);
	ck_assert_int_eq(server_halt(&redis), 0);
	/* Down: three attempts 300 ms apart, then the operation's error. */
	t0 = xnow_ms();
	xreq(&x, dmn.port, "GET", "/v1.0/state/store/k", NULL, NULL);
	took = xnow_ms() - t0;
	ck_error(&x, 500, "ERR_STATE_GET");
	ck_assert_msg(took >= 2 * 300 - 50 && took < 2 * 300 + 3 * 300 + SLACK_MS,
		      "a GET with Redis down took %ld ms; 2 waits of 300 ms", took);
	/* Three more failures (6 in a row): the breaker opens, and answers at once. */
	xreq(&x, dmn.port, "POST", "/v1.0/state/store", NULL, "[{\"key\":\"k\",\"value\":2}]");
	ck_error(&x, 500, "ERR_STATE_SAVE");
	t0 = xnow_ms();
	xreq(&x, dmn.port, "GET", "/v1.0/state/store/k", NULL, NULL);
	ck_error(&x, 500, "ERR_STATE_GET");
	ck_assert_msg(strstr(XBODY(&x), "circuit breaker is open") != NULL, "%s", XBODY(&x));
	ck_assert_msg(xnow_ms() - t0 < 2 * 300 + 200, "an open breaker took %ld ms", xnow_ms() - t0);
	/* Redis back; after the breaker's timeout the store serves again, nothing lost. */
	ck_assert_int_eq(server_restart(&redis), 0);
	for (int i = 0; i < 60 && ok < 0; i++) {
		if (xreq(&x, dmn.port, "GET", "/v1.0/state/store/k", NULL, NULL) == 200)
			ok = i;
		else
			xsleep_ms(100);
	}
	ck_assert_msg(ok >= 0, "still failing: %s", XBODY(&x));
	ck_body(&x, "1");
}
END_TEST

START_TEST(state_timeout_frozen_redis)
{
	long t0, took;

	if (!redis_serving("  policies:\n"
			   "    timeouts:\n"
			   "      fast: 400ms\n"
			   "  targets:\n"
			   "    components:\n"
			   "      store:\n"
			   "        outbound: {timeout: fast}\n"))
		return;
	ck_assert_int_eq(
		xreq(&x, dmn.port, "POST", "/v1.0/state/store", NULL, "[{\"key\":\"k\",\"value\":1}]"), 204);
	server_freeze(&redis);
	/* The store's own readTimeout is 2 s: the policy's 400 ms cuts the call first. */
	t0 = xnow_ms();
	xreq(&x, dmn.port, "GET", "/v1.0/state/store/k", NULL, NULL);
	took = xnow_ms() - t0;
	ck_error(&x, 500, "ERR_STATE_GET");
	ck_assert_msg(strstr(XBODY(&x), "context deadline exceeded") != NULL, "%s", XBODY(&x));
	ck_assert_msg(took >= 350 && took < 400 + SLACK_MS, "the GET took %ld ms; the timeout is 400 ms",
		      took);
	server_thaw(&redis);
	/* The late result was dropped; the store serves on. */
	xsleep_ms(2200);
	ck_assert_int_eq(xreq(&x, dmn.port, "GET", "/v1.0/state/store/k", NULL, NULL), 200);
	ck_body(&x, "1");
}
END_TEST

/* ---- inbound: deliveries to the app behind a breaker ---- */

START_TEST(inbound_breaker)
{
	long at[64], t0;
	size_t n;

	test_app_set_subscribe(app,
			       "[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"route\":\"/orders\"}]");
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	start_with("  policies:\n"
		   "    retries:\n"
		   "      fast: {duration: 100ms, maxRetries: -1}\n"
		   "    circuitBreakers:\n"
		   "      cb: {timeout: 1s, trip: \"consecutiveFailures > 2\"}\n"
		   "  targets:\n"
		   "    components:\n"
		   "      pubsub:\n"
		   "        inbound: {retry: fast, circuitBreaker: cb}\n");
	for (long until = xnow_ms() + 5000; test_app_subscribe_calls(app, NULL, 0) == 0 && xnow_ms() < until;)
		xsleep_ms(20);
	t0 = xnow_ms();
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/orders", NULL, "{\"n\":1}"), 204);
	/* Three failures 100 ms apart trip it; then no delivery while it is open (1 s). */
	xsleep_ms(900);
	n = arrivals("/orders", at, 64);
	ck_assert_msg(n == 3, "%zu deliveries in the first 900 ms; the breaker opens after 3", n);
	/* Half-open after 1 s: one delivery, which fails, and it opens again. */
	xsleep_ms(t0 + 1700 - xnow_ms());
	n = arrivals("/orders", at, 64);
	ck_assert_msg(n == 4, "%zu deliveries after 1.7 s; want 3, then 1 when half-open", n);
	ck_assert_msg(at[3] - at[2] >= 900, "the half-open delivery came %ld ms after the third",
		      at[3] - at[2]);
}
END_TEST

/* ---- inbound timeouts ---- */

#define INBOUND_SERIES(name, component, policy)                                                    \
	name "{app_id=\"resil\",namespace=\"\",flow_direction=\"inbound\",target=\"component_" component \
	     "\",policy=\"" policy "\",status=\"\"} "

/* Each attempt at an app that hangs (3 s) is cut at 300 ms: 1 + 2 retries 100 ms apart, then dropped. */
static const char *const inbound_timeout_policies = "  policies:\n"
						    "    timeouts:\n"
						    "      short: 300ms\n"
						    "    retries:\n"
						    "      two: {duration: 100ms, maxRetries: 2}\n"
						    "  targets:\n"
						    "    components:\n"
						    "      %s:\n"
						    "        inbound: {retry: two, timeout: short}\n";

/* The attempts that came at path: 3, about 400 ms apart (300 ms cut + 100 ms wait), and no more. */
static void check_cut_attempts(const char *path, long since)
{
	long at[64];
	size_t n;

	for (long until = xnow_ms() + 8000; arrivals(path, at, 64) < 3 && xnow_ms() < until;)
		xsleep_ms(20);
	n = arrivals(path, at, 64);
	ck_assert_msg(n >= 3, "%zu attempts at %s; each cut at 300 ms, want 3", n, path);
	ck_assert_msg(at[0] >= since, "an attempt at %s came before the event", path);
	for (size_t i = 1; i < 3; i++)
		ck_assert_msg(at[i] - at[i - 1] >= 350 && at[i] - at[i - 1] < 400 + SLACK_MS,
			      "attempt %zu at %s came %ld ms after the one before; want 300 ms + 100 ms", i + 1,
			      path, at[i] - at[i - 1]);
}

START_TEST(inbound_timeout_pubsub)
{
	char spec[512];
	long t0, at[64];

	test_app_set_subscribe(app, "[{\"pubsubname\":\"pubsub\",\"topic\":\"slow\",\"route\":\"/hang\"},"
				    "{\"pubsubname\":\"pubsub\",\"topic\":\"fine\",\"route\":\"/ok\"}]");
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	snprintf(spec, sizeof(spec), inbound_timeout_policies, "pubsub");
	start_with(spec);
	for (long until = xnow_ms() + 5000; test_app_subscribe_calls(app, NULL, 0) == 0 && xnow_ms() < until;)
		xsleep_ms(20);
	t0 = xnow_ms();
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/slow", NULL, "{\"n\":1}"), 204);
	check_cut_attempts("/hang", t0);
	/* Its retries spent, the message is dropped; the app's three late answers (3 s) change nothing. */
	xsleep_ms(t0 + 3800 - xnow_ms());
	ck_assert_int_eq(metric_value(INBOUND_SERIES("dapr_resiliency_activations_total", "pubsub", "timeout")),
			 3);
	ck_assert_int_eq(arrivals("/hang", at, 64), 3);
	ck_assert_int_eq(atomic_load(&hang_seen), 3);
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/fine", NULL, "{\"n\":2}"), 204);
	for (long until = xnow_ms() + 3000; arrivals("/ok", at, 64) == 0 && xnow_ms() < until;)
		xsleep_ms(20);
	ck_assert_int_eq(arrivals("/ok", at, 64), 1);
	ck_assert_int_eq(arrivals("/hang", at, 64), 3);
}
END_TEST

START_TEST(inbound_timeout_binding)
{
	char spec[512];
	long t0, at[64];
	size_t n;

	/* The app's /hang hangs; the next tick (3 s later) comes after the three attempts. */
	ck_assert_int_eq(daemon_add_component(&dmn, "hang", "bindings.cron", "schedule", "@every 3s", "route", "/hang",
					      NULL),
			 0);
	snprintf(spec, sizeof(spec), inbound_timeout_policies, "hang");
	t0 = xnow_ms();
	start_with(spec);
	check_cut_attempts("/hang", t0);
	/* Then the event is dropped: no 4th attempt before the next tick. */
	arrivals("/hang", at, 64);
	xsleep_ms(at[2] + 1200 - xnow_ms());
	n = arrivals("/hang", at, 64);
	ck_assert_msg(n == 3, "%zu attempts within 1.2 s of the third; want 3", n);
	ck_assert_int_eq(metric_value(INBOUND_SERIES("dapr_resiliency_activations_total", "hang", "timeout")), 3);
	ck_assert_int_eq(xreq(&x, dmn.port, "GET", "/v1.0/healthz", NULL, NULL), 204);
}
END_TEST

/*
 * matching on inbound retries: the app's 500 is retried where the policy lists it (pubsub2: 1 +
 * 2 retries), and not where it does not (pubsub: one attempt, then dropped as when retries are spent).
 */
START_TEST(inbound_matching)
{
	long at[64];
	size_t n;

	test_app_set_subscribe(app,
			       "[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"route\":\"/orders\"},"
			       "{\"pubsubname\":\"pubsub2\",\"topic\":\"orders\",\"route\":\"/always500\"}]");
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub2", "pubsub.in-memory", NULL), 0);
	start_with("  policies:\n"
		   "    retries:\n"
		   "      gateway: {duration: 100ms, maxRetries: 2, matching: {httpStatusCodes: \"502-504\"}}\n"
		   "      server: {duration: 100ms, maxRetries: 2, matching: {httpStatusCodes: \"500\"}}\n"
		   "  targets:\n"
		   "    components:\n"
		   "      pubsub:\n"
		   "        inbound: {retry: gateway}\n"
		   "      pubsub2:\n"
		   "        inbound: {retry: server}\n");
	for (long until = xnow_ms() + 5000; test_app_subscribe_calls(app, NULL, 0) == 0 && xnow_ms() < until;)
		xsleep_ms(20);
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/orders", NULL, "{\"n\":1}"), 204);
	ck_assert_int_eq(xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub2/orders", NULL, "{\"n\":2}"), 204);
	for (long until = xnow_ms() + 5000; arrivals("/always500", at, 64) < 3 && xnow_ms() < until;)
		xsleep_ms(20);
	xsleep_ms(600);
	n = arrivals("/always500", at, 64);
	ck_assert_msg(n == 3, "%zu deliveries of a 500 the policy lists; want 1 + 2 retries", n);
	n = arrivals("/orders", at, 64);
	ck_assert_msg(n == 1, "%zu deliveries of a 500 the policy does not list; want 1, not retried", n);
}
END_TEST

/* ---- refused at start-up ---- */

START_TEST(refused_policies)
{
	char port[16];
	const char *args[] = { "--app-port", port, NULL };
	char *log;

	snprintf(port, sizeof(port), "%d", test_app_port(app));
	ck_assert_int_eq(daemon_write_resource(
				 &dmn, "resiliency.yaml",
				 "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: r\n"
				 "spec:\n  policies:\n    timeouts:\n      t: 1s\n"
				 "    circuitBreakers:\n      cb: {trip: \"consecutiveFailures >> 1\"}\n"
				 "  targets:\n    components:\n      c:\n        inbound: {timeout: t}\n"),
			 0);
	ck_assert_msg(daemon_start(&dmn, args) != 0, "outrigd started with policies it cannot enforce");
	log = xslurp(dmn.log);
	/* Inbound timeouts are enforced now (inbound_timeout_*): only the trip expression is refused. */
	ck_assert_msg(strstr(log, "inbound.timeout") == NULL, "%s", log);
	ck_assert_msg(strstr(log, "spec.policies.circuitBreakers.cb.trip: ") != NULL &&
			      strstr(log, "is not a trip expression outrig reads: column 22") != NULL,
		      "%s", log);
	free(log);
}
END_TEST

/*
 * DaprBuiltInServiceRetries may be made stronger, never weaker (Dapr's docs): fewer than its 3
 * retries is refused by --check and at start, naming file:line; more starts and serves.
 */
#define BUILTIN_DOC                                                                        \
	"apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: r\n"                \
	"spec:\n  policies:\n    retries:\n      DaprBuiltInServiceRetries:\n"                   \
	"        policy: constant\n        duration: 1s\n        maxRetries: %d\n"
#define BUILTIN_WANT                                                                              \
	"%s:8:7: spec.policies.retries.DaprBuiltInServiceRetries: maxRetries 1 is fewer than Dapr's " \
	"built-in 3, and Dapr forbids weakening its built-in retries"

START_TEST(builtin_service_retries_weaker)
{
	char port[16], file[DAEMON_PATH_MAX + 32];
	const char *args[] = { "--app-port", port, NULL };
	const char *check[] = { "--check", NULL };
	char *log;

	snprintf(port, sizeof(port), "%d", test_app_port(app));
	snprintf(file, sizeof(file), "%s/resiliency.yaml", dmn.resources);
	ck_assert_int_eq(daemon_write_resource(&dmn, "resiliency.yaml", xfmt(BUILTIN_DOC, 1)), 0);
	ck_assert_msg(daemon_start(&dmn, check) != 0, "outrigd --check passed a weaker DaprBuiltInServiceRetries");
	log = xslurp(dmn.log);
	ck_assert_msg(strstr(log, xfmt(BUILTIN_WANT, file)) != NULL, "%s", log);
	free(log);
	ck_assert_int_eq(truncate(dmn.log, 0), 0);
	ck_assert_msg(daemon_start(&dmn, args) != 0, "outrigd started with a weaker DaprBuiltInServiceRetries");
	log = xslurp(dmn.log);
	ck_assert_msg(strstr(log, xfmt(BUILTIN_WANT, file)) != NULL && strstr(log, "not starting") != NULL, "%s", log);
	free(log);
	/* Stronger (5 retries) is honoured: outrigd serves. */
	ck_assert_int_eq(daemon_write_resource(&dmn, "resiliency.yaml", xfmt(BUILTIN_DOC, 5)), 0);
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd refused a stronger DaprBuiltInServiceRetries");
}
END_TEST

/*
 * matching on component calls: outbound, plugin errors carry no status code, so every failure is
 * retried (daprd's rule too). A warning says so where the policy applies, and outrigd serves (a
 * DefaultRetryPolicy with matching is common).
 */
START_TEST(component_matching_warns)
{
	char port[16];
	const char *args[] = { "--app-port", port, NULL };
	char *log;

	snprintf(port, sizeof(port), "%d", test_app_port(app));
	ck_assert_int_eq(daemon_write_resource(
				 &dmn, "resiliency.yaml",
				 "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: r\n"
				 "spec:\n  policies:\n    retries:\n"
				 "      m: {maxRetries: 1, matching: {httpStatusCodes: \"500\"}}\n"
				 "      DefaultRetryPolicy: {maxRetries: 2, matching: {gRPCStatusCodes: \"14\"}}\n"
				 "  targets:\n    components:\n      c:\n        outbound: {retry: m}\n"),
			 0);
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd refused matching on component calls");
	log = xslurp(dmn.log);
	/* The log quotes with ' (its own quoting of "). */
	ck_assert_msg(strstr(log, "spec.targets.components.c.outbound.retry: retry policy 'm' has matching, "
				  "which applies to status codes of service invocation") != NULL,
		      "%s", log);
	ck_assert_msg(strstr(log, "retry policy 'DefaultRetryPolicy' has matching, which applies to status "
				  "codes of service invocation") != NULL,
		      "%s", log);
	/* Inbound, the app's answers are matched (inbound_matching): nothing to warn about. */
	ck_assert_msg(strstr(log, "deliveries to the app") == NULL, "%s", log);
	free(log);
	ck_assert_int_eq(invoke("/ok"), 200);
}
END_TEST

static Suite *resiliency_e2e_suite(void)
{
	Suite *s = suite_create("resiliency_e2e");
	TCase *tc = tcase_create("invoke");
	TCase *st = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, http_retries);
	tcase_add_test(tc, http_timeout);
	tcase_add_test(tc, http_breaker);
	tcase_add_test(tc, grpc_retries_timeout_breaker);
	tcase_add_test(tc, grpc_breaker);
	tcase_add_test(tc, refused_policies);
	tcase_add_test(tc, builtin_service_retries_weaker);
	tcase_add_test(tc, component_matching_warns);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(st, setup, teardown);
	tcase_set_timeout(st, 60);
	tcase_add_test(st, state_stopped_redis);
	tcase_add_test(st, state_timeout_frozen_redis);
	tcase_add_test(st, inbound_breaker);
	tcase_add_test(st, inbound_timeout_pubsub);
	tcase_add_test(st, inbound_timeout_binding);
	tcase_add_test(st, inbound_matching);
	suite_add_tcase(s, st);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resiliency_e2e_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
