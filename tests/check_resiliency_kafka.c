/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outbound Resiliency policies on Kafka, through the real outrigd, against librdkafka's mock
 * cluster: an output binding's create (bindings.kafka) and a publish (pubsub.kafka) whose broker
 * answers errors, answers late or is down. Each test runs twice: loop 0 the binding, loop 1 publish.
 *
 * What is asserted about duplicates: every request answered with success put exactly one record
 * holding its id in the topic (counted by a consumer of the mock's own), after the broker came
 * back; an attempt cut by a timeout is not retried (the plugin may still be sending it), so a
 * request the client saw fail left at most one record, never two.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon.h"
#include "exchange.h"
#include "kafka_mock_driver.h"

#define TOPIC "orders"
#define JSON_CT "Content-Type: application/json\r\n"
/* What a loaded CI machine may add to a bound. */
#define SLACK_MS 1500
/*
 * A Kafka error librdkafka does not retry itself, and which leaves no state behind it (an
 * authorization error would fail the topic's next records locally): 87, INVALID_RECORD.
 */
#define HARD_ERROR 87

static struct kafka_mock km;
static struct daemon dmn;
static struct exchange x;

static void setup(void)
{
	ck_assert_int_eq(kafka_mock_start(&km, 1), 0);
	ck_assert_int_eq(kafka_mock_cmd(&km, "create %s 1", TOPIC), 0);
	ck_assert_int_eq(daemon_init(&dmn, "rkafka"), 0);
}

static void teardown(void)
{
	xfree(&x);
	daemon_stop(&dmn);
	daemon_cleanup(&dmn);
	kafka_mock_stop(&km);
}

/* Starts outrigd with kout (bindings.kafka, output) and kpub (pubsub.kafka), and the Resiliency spec. */
static void start_with(const char *write_timeout, const char *spec)
{
	ck_assert_int_eq(daemon_add_component(&dmn, "kout", "bindings.kafka", "brokers", km.bootstrap,
					      "authType", "none", "publishTopic", TOPIC, "direction",
					      "output", "writeTimeout", write_timeout, NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "kpub", "pubsub.kafka", "brokers", km.bootstrap,
					      "authType", "none", "writeTimeout", write_timeout, NULL),
			 0);
	ck_assert_int_eq(
		daemon_write_resource(
			&dmn, "resiliency.yaml",
			xfmt("apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: r\nspec:\n%s",
			     spec)),
		0);
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start (log above)");
}

/* The Resiliency targets: the same outbound policy on both components. */
#define TARGETS(p)                                                                                           \
	"  targets:\n"                                                                                       \
	"    components:\n"                                                                                  \
	"      kout:\n"                                                                                      \
	"        outbound: " p "\n"                                                                          \
	"      kpub:\n"                                                                                      \
	"        outbound: " p "\n"

/* Sends the record {"id":"<id>"} through the binding (via 0) or publish (via 1). Returns the status. */
static int send_one(int via, const char *id)
{
	if (via == 0)
		return xreq(&x, dmn.port, "POST", "/v1.0/bindings/kout", JSON_CT,
			    xfmt("{\"operation\":\"create\",\"data\":{\"id\":\"%s\"}}", id));
	return xreq(&x, dmn.port, "POST", "/v1.0/publish/kpub/" TOPIC, JSON_CT, xfmt("{\"id\":\"%s\"}", id));
}

static const char *failure_code(int via)
{
	return via == 0 ? "ERR_INVOKE_OUTPUT_BINDING" : "ERR_PUBSUB_PUBLISH_MESSAGE";
}

/* How many records in the topic hold "id":"<id>" exactly (the quote after it ends the id). */
static long records_of(const char *id)
{
	return kafka_mock_count(&km, TOPIC, 1, xfmt("\"%s\"", id));
}

/* The Produce requests failed by the mock: attempt counts are read from what is left of them. */
START_TEST(retries_count_and_no_duplicates)
{
	long t0, took;

	start_with("5s", "  policies:\n"
			 "    retries:\n"
			 "      twice: {policy: constant, duration: 300ms, maxRetries: 2}\n" TARGETS(
				 "{retry: twice}"));
	/* Warm: the first record also opens the connection. */
	ck_assert_int_eq(send_one(_i, "warm"), 204);
	/* 5 errors queued: the first request spends 3 (1 + maxRetries), fails with Dapr's error. */
	ck_assert_int_eq(kafka_mock_cmd(&km, "errors 5 %d", HARD_ERROR), 0);
	t0 = xnow_ms();
	send_one(_i, "r1");
	took = xnow_ms() - t0;
	ck_error(&x, 500, failure_code(_i));
	ck_assert_msg(took >= 2 * 300 - 50 && took < 2 * 300 + SLACK_MS,
		      "the failing request took %ld ms; the policy waits 300 ms twice", took);
	/* 2 left: the next request fails twice and succeeds on its third attempt. */
	t0 = xnow_ms();
	send_one(_i, "r2");
	ck_status(&x, 204);
	took = xnow_ms() - t0;
	ck_assert_msg(took >= 2 * 300 - 50, "r2 took %ld ms: fewer than 3 attempts, so r1 made more than 3",
		      took);
	/* None left: at once. */
	t0 = xnow_ms();
	ck_assert_int_eq(send_one(_i, "r3"), 204);
	ck_assert_msg(xnow_ms() - t0 < 250, "r3 took %ld ms: r1 and r2 made fewer than 5 attempts",
		      xnow_ms() - t0);
	/* Acknowledged once each; the refused attempts wrote nothing. */
	ck_assert_int_eq(records_of("warm"), 1);
	ck_assert_int_eq(records_of("r1"), 0);
	ck_assert_int_eq(records_of("r2"), 1);
	ck_assert_int_eq(records_of("r3"), 1);
}
END_TEST

/* A broker answering 3 s late: the policy's 500 ms cuts the produce; the cut attempt is not retried. */
START_TEST(timeout_cuts_a_hanging_produce)
{
	long t0, took;

	start_with("10s", "  policies:\n"
			  "    timeouts:\n"
			  "      fast: 500ms\n"
			  "    retries:\n"
			  "      twice: {policy: constant, duration: 100ms, maxRetries: 2}\n" TARGETS(
				  "{retry: twice, timeout: fast}"));
	ck_assert_int_eq(send_one(_i, "warm"), 204);
	ck_assert_int_eq(kafka_mock_cmd(&km, "rtt all 3000"), 0);
	t0 = xnow_ms();
	send_one(_i, "slow");
	took = xnow_ms() - t0;
	ck_error(&x, 500, failure_code(_i));
	ck_assert_msg(strstr(XBODY(&x), "context deadline exceeded") != NULL, "%s", XBODY(&x));
	ck_assert_msg(took >= 450 && took < 500 + SLACK_MS,
		      "the hanging produce took %ld ms; the timeout is 500 ms", took);
	ck_assert_int_eq(kafka_mock_cmd(&km, "rtt all 0"), 0);
	/* The broker got the cut attempt and acknowledged it late: one record, never one per attempt. */
	xsleep_ms(3500);
	ck_assert_int_eq(send_one(_i, "after"), 204);
	ck_assert_int_ge(records_of("after"), 0);
	ck_assert_int_le(records_of("slow"), 1);
	ck_assert_int_ge(records_of("slow"), 0);
	ck_assert_int_eq(records_of("after"), 1);
}
END_TEST

/* A breaker tripping after 3 failures answers at once, half-opens after 1 s, closes on success. */
START_TEST(breaker_opens_and_half_opens)
{
	long t0;

	start_with("5s",
		   "  policies:\n"
		   "    retries:\n"
		   "      none: {maxRetries: 0}\n"
		   "    circuitBreakers:\n"
		   "      cb: {maxRequests: 1, timeout: 1s, trip: \"consecutiveFailures >= 3\"}\n" TARGETS(
			   "{retry: none, circuitBreaker: cb}"));
	ck_assert_int_eq(send_one(_i, "warm"), 204);
	/* 4 errors queued: 3 requests fail, which trips it; the 4th error stays queued while it is open. */
	ck_assert_int_eq(kafka_mock_cmd(&km, "errors 4 %d", HARD_ERROR), 0);
	for (int i = 0; i < 3; i++) {
		send_one(_i, xfmt("f%d", i));
		ck_error(&x, 500, failure_code(_i));
	}
	t0 = xnow_ms();
	send_one(_i, "open");
	ck_error(&x, 500, failure_code(_i));
	ck_assert_msg(strstr(XBODY(&x), "circuit breaker is open") != NULL, "%s", XBODY(&x));
	ck_assert_msg(xnow_ms() - t0 < 250, "an open breaker took %ld ms to answer", xnow_ms() - t0);
	/* Half-open after 1 s: the probe meets the 4th error, and it opens again at once. */
	xsleep_ms(1200);
	send_one(_i, "probe1");
	ck_error(&x, 500, failure_code(_i));
	ck_assert_msg(strstr(XBODY(&x), "circuit breaker is open") == NULL, "the probe was not sent: %s",
		      XBODY(&x));
	send_one(_i, "open2");
	ck_assert_msg(strstr(XBODY(&x), "circuit breaker is open") != NULL, "%s", XBODY(&x));
	/* Half-open again: the probe succeeds and closes it. */
	xsleep_ms(1200);
	send_one(_i, "probe2");
	ck_status(&x, 204);
	ck_assert_int_eq(send_one(_i, "closed"), 204);
	ck_assert_int_eq(records_of("open"), 0);
	ck_assert_int_eq(records_of("open2"), 0);
	ck_assert_int_eq(records_of("probe2"), 1);
	ck_assert_int_eq(records_of("closed"), 1);
}
END_TEST

/* The broker down: each attempt fails after writeTimeout, is retried; once it is back, one record each. */
START_TEST(broker_down_then_back)
{
	long t0, took;

	start_with("2s", "  policies:\n"
			 "    retries:\n"
			 "      once: {policy: constant, duration: 200ms, maxRetries: 1}\n" TARGETS(
				 "{retry: once}"));
	ck_assert_int_eq(send_one(_i, "warm"), 204);
	ck_assert_int_eq(kafka_mock_cmd(&km, "down all"), 0);
	t0 = xnow_ms();
	send_one(_i, "lost");
	took = xnow_ms() - t0;
	ck_error(&x, 500, failure_code(_i));
	/*
	 * Two attempts of writeTimeout (2 s; librdkafka scans for timed out records each second, so
	 * up to 3 s) and one wait of 200 ms: one attempt alone cannot last that long.
	 */
	ck_assert_msg(took >= 2 * 2000 + 200 - 100 && took < 2 * 3000 + 200 + SLACK_MS,
		      "with the broker down the request took %ld ms; 2 attempts of 2-3 s, 1 wait of 200 ms",
		      took);
	ck_assert_int_eq(kafka_mock_cmd(&km, "up all"), 0);
	for (int i = 0; i < 50 && send_one(_i, "back") != 204; i++)
		xsleep_ms(200);
	ck_status(&x, 204);
	ck_assert_int_eq(records_of("lost"), 0);
	ck_assert_int_eq(records_of("back"), 1);
	ck_assert_int_eq(records_of("warm"), 1);
}
END_TEST

static Suite *resiliency_kafka_suite(void)
{
	Suite *s = suite_create("resiliency_kafka");
	TCase *tc = tcase_create("outbound");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, retries_count_and_no_duplicates, 0, 2);
	tcase_add_loop_test(tc, timeout_cuts_a_hanging_produce, 0, 2);
	tcase_add_loop_test(tc, breaker_opens_and_half_opens, 0, 2);
	tcase_add_loop_test(tc, broker_down_then_back, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resiliency_kafka_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
