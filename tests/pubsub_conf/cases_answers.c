/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance cases on the app's answers (API.md §2.6): retries, drops, backoff, dead letters. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pubsub_conf.h"

#define SUB(topic) "{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"" topic "\",\"route\":\"/" topic "\"}"
#define SUB_DL(topic, dead)                                                                                  \
	"{\"pubsubname\":\"" PUBSUB "\",\"topic\":\"" topic "\",\"route\":\"/" topic                         \
	"\",\"deadLetterTopic\":\"" dead "\"}"

static const char *const fast_retries[] = { "resiliency-fast.yaml", NULL };
static const char *const bounded_retries[] = { "resiliency-bounded.yaml", NULL };

/* Long enough for many 20 ms retries, or for both 100 ms ones of the bounded policy. */
#define QUIET_MS 600

/* Fails the first two deliveries of each message (a RETRY, then a 500) and every fifth delivery. */
static struct app_reply flaky(const struct delivery *d, void *arg)
{
	(void)arg;
	if (d->attempt == 1)
		return (struct app_reply){ APP_RETRY, 0 };
	if (d->attempt == 2 || d->seq % 5 == 0)
		return (struct app_reply){ APP_500, 0 };
	return (struct app_reply){ APP_SUCCESS, 0 };
}

#define FLAKY 50

START_TEST(flaky_app_loses_nothing)
{
	static const char *const topics[] = { "flaky", NULL };
	const struct case_setup s = {
		.subscribe = "[" SUB("flaky") "]",
		.fixtures = fast_retries,
		.topics = topics,
		.policy = flaky,
	};
	int acked[FLAKY] = { 0 };
	const struct delivery *d;
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	for (int i = 0; i < FLAKY; i++)
		publish("flaky", "application/json", xfmt("{\"i\":%d}", i), NULL);
	ck_assert_msg(test_app_wait_acked(ut.app, "/flaky", FLAKY, 3 * PS_SOON_MS),
		      "%zu of %d messages acknowledged after retries", test_app_acked_ids(ut.app, "/flaky"),
		      FLAKY);
	/* Once acknowledged, a message is done: no delivery of it after its SUCCESS. */
	expect_no_more("/flaky", test_app_count_path(ut.app, "/flaky"), 300);
	for (size_t k = 0; (d = test_app_delivery(ut.app, k)) != NULL; k++) {
		json_int_t i = json_integer_value(json_object_get(ce(d, "data"), "i"));

		ck_assert_msg(i >= 0 && i < FLAKY, "unexpected message %.200s", d->body);
		acked[i] += d->reply.answer == APP_SUCCESS;
	}
	for (int i = 0; i < FLAKY; i++)
		ck_assert_msg(acked[i] == 1, "message %d acknowledged %d times", i, acked[i]);
	json_decref(subs);
}
END_TEST

static struct app_reply retry_once(const struct delivery *d, void *arg)
{
	(void)arg;
	return (struct app_reply){ d->attempt == 1 ? APP_RETRY : APP_SUCCESS, 0 };
}

START_TEST(retry_answer_redelivers)
{
	static const char *const topics[] = { "again", NULL };
	const struct case_setup s = {
		.subscribe = "[" SUB("again") "]",
		.fixtures = fast_retries,
		.topics = topics,
		.policy = retry_once,
	};
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	publish("again", "application/json", "{\"once\":\"more\"}", NULL);
	expect_requests("/again", 2);
	ck_assert_str_eq(nth(1)->id, nth(0)->id);
	ck_assert_str_eq(nth(1)->body, nth(0)->body);
	/* Acknowledged the second time: that is the end of it. */
	expect_no_more("/again", 2, QUIET_MS);
	json_decref(subs);
}
END_TEST

/* Each path its own answer, all final: an ack, or a drop. */
static struct app_reply final_by_path(const struct delivery *d, void *arg)
{
	(void)arg;
	if (strcmp(d->path, "/empty") == 0)
		return (struct app_reply){ APP_EMPTY_200, 0 };
	if (strcmp(d->path, "/drop") == 0)
		return (struct app_reply){ APP_DROP, 0 };
	if (strcmp(d->path, "/gone") == 0)
		return (struct app_reply){ APP_404, 0 };
	return (struct app_reply){ APP_SUCCESS, 0 };
}

START_TEST(final_answers_are_not_retried)
{
	static const char *const topics[] = { "empty", "drop", "gone", NULL };
	const struct case_setup s = {
		.subscribe = "[" SUB("empty") "," SUB("drop") "," SUB("gone") "]",
		.fixtures = fast_retries,
		.topics = topics,
		.policy = final_by_path,
	};
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	publish("empty", "text/plain", "empty 200 acks", NULL);
	publish("drop", "text/plain", "DROP drops", NULL);
	publish("gone", "text/plain", "404 drops", NULL);
	expect_requests("/empty", 1);
	expect_requests("/drop", 1);
	expect_requests("/gone", 1);
	/* With retries every 20 ms, any of them being retried would show many times over. */
	expect_no_more("/empty", 1, QUIET_MS);
	expect_no_more("/drop", 1, 0);
	expect_no_more("/gone", 1, 0);
	json_decref(subs);
}
END_TEST

static struct app_reply fail_three(const struct delivery *d, void *arg)
{
	(void)arg;
	return (struct app_reply){ d->attempt <= 3 ? APP_500 : APP_SUCCESS, 0 };
}

/* Dapr's default: 500 ms, then ×1.5. A loaded machine adds delay, never removes it. */
#define BACKOFF_LOW_PERCENT 80
#define BACKOFF_SLACK_MS 1000

START_TEST(default_backoff)
{
	static const char *const topics[] = { "backoff", NULL };
	const struct case_setup s = { .subscribe = "[" SUB("backoff") "]",
				      .topics = topics,
				      .policy = fail_three };
	const long want[] = { 500, 750, 1125 };
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	publish("backoff", "text/plain", "slowly", NULL);
	expect_requests("/backoff", 4);
	for (size_t i = 0; i < 3; i++) {
		long gap = nth_on("/backoff", i + 1)->at_ms - nth_on("/backoff", i)->at_ms;

		ck_assert_msg(
			gap >= want[i] * BACKOFF_LOW_PERCENT / 100 && gap <= want[i] + BACKOFF_SLACK_MS,
			"retry %zu came %ld ms after the previous attempt; the default backoff waits %ld ms",
			i + 1, gap, want[i]);
	}
	expect_no_more("/backoff", 4, 300);
	json_decref(subs);
}
END_TEST

static struct app_reply fail_except_dead(const struct delivery *d, void *arg)
{
	(void)arg;
	return (struct app_reply){ strcmp(d->path, "/dead") == 0 ? APP_SUCCESS : APP_500, 0 };
}

START_TEST(dead_letter_after_retries)
{
	static const char *const topics[] = { "jobs", "dead", "doomed", NULL };
	const struct case_setup s = {
		.subscribe = "[" SUB_DL("jobs", "dead") "," SUB("dead") "," SUB("doomed") "]",
		.fixtures = bounded_retries,
		.topics = topics,
		.policy = fail_except_dead,
	};
	const struct delivery *job, *dead;
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	ck_assert_str_eq(jstr(json_object_get(ps_subscription(subs, PUBSUB, "jobs"), "deadLetterTopic")),
			 "dead");
	publish("jobs", "application/json", "{\"job\":7}", NULL);
	/* Without a dead-letter topic the message is dropped after its retries. */
	publish("doomed", "application/json", "{\"job\":8}", NULL);
	dead = first_on("/dead");
	job = first_on("/jobs");
	/* maxRetries 2: the first delivery and two retries, then the dead letter. */
	ck_assert_int_eq(test_app_count_path(ut.app, "/jobs"), 3);
	ck_assert_str_eq(dead->id, job->id);
	ck_assert_msg(json_equal(ce(dead, "data"), ce(job, "data")),
		      "the dead letter is not the original: %.300s", dead->body);
	expect_requests("/doomed", 3);
	expect_no_more("/jobs", 3, QUIET_MS);
	expect_no_more("/doomed", 3, 0);
	expect_no_more("/dead", 1, 0);
	/* The Resiliency file's constant 100 ms, not the default 500 ms backoff nor none at all. */
	for (size_t i = 1; i < 3; i++) {
		long gap = nth_on("/jobs", i)->at_ms - nth_on("/jobs", i - 1)->at_ms;

		ck_assert_msg(gap >= 80 && gap < 500,
			      "retry %zu of /jobs came after %ld ms; the policy says 100ms", i, gap);
	}
	json_decref(subs);
}
END_TEST

static struct app_reply drop_except_dead(const struct delivery *d, void *arg)
{
	(void)arg;
	return (struct app_reply){ strcmp(d->path, "/dead") == 0 ? APP_SUCCESS : APP_DROP, 0 };
}

START_TEST(dead_letter_on_drop)
{
	static const char *const topics[] = { "refused", "dead", NULL };
	const struct case_setup s = {
		.subscribe = "[" SUB_DL("refused", "dead") "," SUB("dead") "]",
		.fixtures = fast_retries,
		.topics = topics,
		.policy = drop_except_dead,
	};
	const struct delivery *refused, *dead;
	json_t *subs;

	REQUIRE_ROW();
	subs = bring_up(&s);
	publish("refused", "text/plain", "not for me", NULL);
	dead = first_on("/dead");
	refused = first_on("/refused");
	ck_assert_str_eq(dead->id, refused->id);
	ck_assert_str_eq(jstr(ce(dead, "data")), "not for me");
	/* A drop is final: no retry of the original, one dead letter. */
	expect_no_more("/refused", 1, QUIET_MS);
	expect_no_more("/dead", 1, 0);
	json_decref(subs);
}
END_TEST

void add_answer_cases(TCase *tc)
{
	tcase_add_test(tc, flaky_app_loses_nothing);
	tcase_add_test(tc, retry_answer_redelivers);
	tcase_add_test(tc, final_answers_are_not_retried);
	tcase_add_test(tc, default_backoff);
	tcase_add_test(tc, dead_letter_after_retries);
	tcase_add_test(tc, dead_letter_on_drop);
}
