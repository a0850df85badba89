/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/resiliency: the trip expression, the circuit breaker, and policy lookup. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resiliency/breaker.h"
#include "resiliency/resil.h"
#include "resiliency/trip.h"
#include "resources/resiliency.h"

static bool trip_holds(const char *text, struct breaker_counts c)
{
	struct trip t;
	char err[256];

	ck_assert_msg(trip_compile(text, &t, err, sizeof(err)), "%s: %s", text, err);
	return trip_eval(&t, &c);
}

START_TEST(test_trip_eval)
{
	struct breaker_counts c = { .requests = 10,
				    .total_successes = 4,
				    .total_failures = 6,
				    .consecutive_successes = 0,
				    .consecutive_failures = 3 };

	ck_assert(!trip_holds("consecutiveFailures > 5", c));
	ck_assert(trip_holds("consecutiveFailures > 2", c));
	ck_assert(trip_holds("consecutiveFailures >= 3", c));
	/* Boundaries: > is strict, <= is not. */
	ck_assert(!trip_holds("consecutiveFailures > 3", c));
	ck_assert(!trip_holds("requests < 10", c));
	ck_assert(trip_holds("requests <= 10", c));
	ck_assert(!trip_holds("consecutiveFailures < 3", c));
	ck_assert(trip_holds("consecutiveFailures <= 3u", c));
	ck_assert(trip_holds("requests == 10 && totalFailures != 4", c));
	ck_assert(trip_holds("requests > 100 || totalFailures > 5", c));
	ck_assert(!trip_holds("!(totalFailures > 5)", c));
	ck_assert(trip_holds("!(requests > 100) && (consecutiveSuccesses == 0 || false)", c));
	/* && binds tighter than ||. */
	ck_assert(trip_holds("true || false && false", c));
	ck_assert(!trip_holds("(true || false) && false", c));
	ck_assert(trip_holds("totalFailures > totalSuccesses", c));
	ck_assert(trip_holds("consecutiveFailures > -1", c));
	ck_assert(trip_holds("  requests>=10&&requests<=10  ", c));
}
END_TEST

static const struct {
	const char *text;
	const char *error;
} trip_bad[] = {
	{ "", "column 1: the expression ends too early" },
	{ "consecutiveFailures", "column 1: the expression is a number, not a condition" },
	{ "consecutiveFailure > 5", "column 1: unknown name \"consecutiveFailure\"" },
	{ "consecutiveFailures > ", "column 23: the expression ends too early" },
	{ "(requests > 1", "column 14: expected \")\"" },
	{ "requests > 1 &&", "the expression ends too early" },
	{ "!requests", "\"!\" needs a true/false value, found a number" },
	{ "requests && true", "\"&&\" needs a true/false value, found a number" },
	{ "true > 1", "> needs a number, found a true/false value" },
	{ "requests = 5", "unexpected \"=\"" },
	{ "requests > 5 requests", "after a complete expression" },
	{ "requests > 5.5", "expected a whole number" },
	{ "size(requests) > 1", "column 1: unknown name \"size\"" },
	{ "requests > 99999999999999999999", "the number is too large" },
};

START_TEST(test_trip_errors)
{
	struct trip t;
	char err[256] = "";

	ck_assert_msg(!trip_compile(trip_bad[_i].text, &t, err, sizeof(err)), "%s compiled",
		      trip_bad[_i].text);
	ck_assert_msg(strstr(err, trip_bad[_i].error) != NULL, "%s: got \"%s\", want \"%s\"",
		      trip_bad[_i].text, err, trip_bad[_i].error);
}
END_TEST

START_TEST(test_trip_too_long)
{
	char text[2048] = "requests > 0";
	struct trip t;
	char err[256];

	for (int i = 0; i < 40; i++)
		strcat(text, " && requests > 0");
	ck_assert(!trip_compile(text, &t, err, sizeof(err)));
	ck_assert_msg(strstr(err, "too long") != NULL, "%s", err);
}
END_TEST

static struct breaker_policy breaker_policy(const char *trip, uint32_t max_requests, int64_t interval_ms,
					    int64_t timeout_ms)
{
	struct breaker_policy p = { .max_requests = max_requests,
				    .interval_ms = interval_ms,
				    .timeout_ms = timeout_ms };
	char err[256];

	ck_assert(trip_compile(trip, &p.trip, err, sizeof(err)));
	return p;
}

START_TEST(test_breaker_cycle)
{
	struct breaker_policy p = breaker_policy("consecutiveFailures > 2", 2, 0, 1000);
	struct breaker b;
	uint64_t g, g1, g2;
	int64_t now = 1000;

	breaker_init(&b, &p, now);
	/* Three failures in a row trip it: the trip is checked after each failure. */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(breaker_allow(&b, now, &g), BREAKER_ALLOWED);
		breaker_done(&b, now, g, false);
	}
	ck_assert_int_eq(breaker_state(&b, now), BREAKER_OPEN);
	ck_assert_int_eq(breaker_allow(&b, now + 999, &g), BREAKER_IS_OPEN);
	ck_assert_str_eq(breaker_refusal_text(BREAKER_IS_OPEN), "circuit breaker is open");
	/* After timeout, half-open: maxRequests calls go through, more are refused. */
	now += 1001;
	ck_assert_int_eq(breaker_allow(&b, now, &g1), BREAKER_ALLOWED);
	ck_assert_int_eq(breaker_state(&b, now), BREAKER_HALF_OPEN);
	ck_assert_int_eq(breaker_allow(&b, now, &g2), BREAKER_ALLOWED);
	ck_assert_int_eq(breaker_allow(&b, now, &g), BREAKER_TOO_MANY);
	ck_assert_str_eq(breaker_refusal_text(BREAKER_TOO_MANY), "too many requests");
	/* maxRequests successes close it. */
	breaker_done(&b, now, g1, true);
	ck_assert_int_eq(breaker_state(&b, now), BREAKER_HALF_OPEN);
	breaker_done(&b, now, g2, true);
	ck_assert_int_eq(breaker_state(&b, now), BREAKER_CLOSED);
	ck_assert_uint_eq(b.counts.requests, 0);
	/* A failure while half-open opens it again at once. */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(breaker_allow(&b, now, &g), BREAKER_ALLOWED);
		breaker_done(&b, now, g, false);
	}
	ck_assert_int_eq(breaker_state(&b, now), BREAKER_OPEN);
	now += 1001;
	ck_assert_int_eq(breaker_allow(&b, now, &g), BREAKER_ALLOWED);
	breaker_done(&b, now, g, false);
	ck_assert_int_eq(breaker_state(&b, now), BREAKER_OPEN);
	ck_assert_uint_eq(b.opened, 3);
}
END_TEST

START_TEST(test_breaker_interval_and_generations)
{
	struct breaker_policy p = breaker_policy("totalFailures >= 3", 1, 500, 1000);
	struct breaker b;
	uint64_t g, late;
	int64_t now = 0;

	breaker_init(&b, &p, now);
	/* Two failures, then the interval resets the counts: the third does not trip. */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(breaker_allow(&b, now, &g), BREAKER_ALLOWED);
		breaker_done(&b, now, g, false);
	}
	ck_assert_int_eq(breaker_allow(&b, now, &late), BREAKER_ALLOWED);
	now += 501;
	ck_assert_int_eq(breaker_allow(&b, now, &g), BREAKER_ALLOWED);
	breaker_done(&b, now, g, false);
	ck_assert_int_eq(breaker_state(&b, now), BREAKER_CLOSED);
	/* A call of the previous period counts for nothing. */
	breaker_done(&b, now, late, false);
	ck_assert_uint_eq(b.counts.total_failures, 1);
	/* Successes reset consecutive failures but not totals. */
	ck_assert_int_eq(breaker_allow(&b, now, &g), BREAKER_ALLOWED);
	breaker_done(&b, now, g, true);
	ck_assert_uint_eq(b.counts.consecutive_failures, 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(breaker_allow(&b, now, &g), BREAKER_ALLOWED);
		breaker_done(&b, now, g, false);
	}
	ck_assert_int_eq(breaker_state(&b, now), BREAKER_OPEN);
}
END_TEST

/* A set with Default policies and one named component target, for the lookup order. */
static void lookup_set(struct resiliency_set *set, struct resiliency_default *defs, size_t n,
		       struct resiliency_target *t)
{
	memset(set, 0, sizeof(*set));
	set->defaults = defs;
	set->ndefaults = n;
	set->targets = t;
	set->ntargets = t != NULL ? 1 : 0;
}

START_TEST(test_lookup_order)
{
	struct resiliency_default defs[] = {
		{ .name = "DefaultRetryPolicy", .what = RESIL_POLICY_RETRY, .policy = { .max_retries = 1 } },
		{ .name = "DefaultComponentRetryPolicy",
		  .what = RESIL_POLICY_RETRY,
		  .policy = { .max_retries = 2 } },
		{ .name = "DefaultComponentOutboundRetryPolicy",
		  .what = RESIL_POLICY_RETRY,
		  .policy = { .max_retries = 3 } },
		{ .name = "DefaultStatestoreComponentOutboundRetryPolicy",
		  .what = RESIL_POLICY_RETRY,
		  .policy = { .max_retries = 4 } },
		{ .name = "DefaultAppRetryPolicy",
		  .what = RESIL_POLICY_RETRY,
		  .policy = { .max_retries = 5 } },
		{ .name = "DefaultTimeoutPolicy", .what = RESIL_POLICY_TIMEOUT, .timeout_ms = 700 },
		{ .name = "DefaultAppTimeoutPolicy", .what = RESIL_POLICY_TIMEOUT, .timeout_ms = 800 },
	};
	struct resiliency_target t = { .kind = RESIL_TARGET_COMPONENT,
				       .component = "store",
				       .policy_name = "mine",
				       .policy = { .max_retries = 9 } };
	struct resiliency_set set;
	const struct retry_policy *r;
	const struct breaker_policy *b;
	int64_t timeout;

	lookup_set(&set, defs, 7, &t);
	/* The target's own retry; its timeout from the Default ones, no breaker. */
	ck_assert_ptr_eq(resiliency_lookup(&set, RESIL_TARGET_COMPONENT, "store", "state.redis", false, &r,
					   &timeout, &b),
			 &t);
	ck_assert_int_eq(r->max_retries, 9);
	ck_assert_int_eq(timeout, 700);
	ck_assert_ptr_null(b);
	/* The most specific Default: by type and direction, then direction, then components, then all. */
	ck_assert_int_eq(resiliency_set_component_retry(&set, "other", "state.redis", false)->max_retries, 4);
	ck_assert_int_eq(resiliency_set_component_retry(&set, "other", "pubsub.mqtt3", false)->max_retries,
			 3);
	ck_assert_int_eq(resiliency_set_component_retry(&set, "other", "pubsub.mqtt3", true)->max_retries, 2);
	ck_assert_int_eq(resiliency_set_component_retry(&set, "store", "state.redis", true)->max_retries, 2);
	resiliency_lookup(&set, RESIL_TARGET_APP, "app", NULL, false, &r, &timeout, &b);
	ck_assert_int_eq(r->max_retries, 5);
	ck_assert_int_eq(timeout, 800);
	/* Without DefaultComponentRetryPolicy, inbound calls fall to DefaultRetryPolicy. */
	defs[1].name = "Unused";
	ck_assert_int_eq(resiliency_set_component_retry(&set, "x", "bindings.kafka", true)->max_retries, 1);
	lookup_set(&set, NULL, 0, NULL);
	ck_assert_ptr_null(resiliency_lookup(&set, RESIL_TARGET_APP, "app", NULL, false, &r, &timeout, &b));
	ck_assert_ptr_null(r);
	ck_assert_int_eq(timeout, 0);
}
END_TEST

START_TEST(test_runtime_targets)
{
	struct resiliency_default defs[] = {
		{ .name = "DefaultAppCircuitBreakerPolicy", .what = RESIL_POLICY_BREAKER },
	};
	struct resiliency_set set;
	struct resil *r;
	struct resil_target *a, *b;
	char id[32];

	lookup_set(&set, defs, 1, NULL);
	ck_assert(trip_compile("consecutiveFailures > 1", &defs[0].breaker.trip, id, sizeof(id)));
	defs[0].breaker.timeout_ms = 1000;
	r = resil_new(NULL, &set);
	ck_assert_ptr_nonnull(r);
	/* No policy for components here. */
	ck_assert_ptr_null(resil_target(r, RESIL_TARGET_COMPONENT, "store", "state.redis", false));
	/* One breaker per app id, the same on the next call. */
	a = resil_target(r, RESIL_TARGET_APP, "a", NULL, false);
	ck_assert_ptr_nonnull(a);
	ck_assert(a->has_breaker);
	ck_assert_ptr_eq(resil_target(r, RESIL_TARGET_APP, "a", NULL, false), a);
	b = resil_target(r, RESIL_TARGET_APP, "b", NULL, false);
	ck_assert_ptr_ne(a, b);
	/* Held while in use: never evicted; at most 100 app ids otherwise. */
	a->inflight = 1;
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "app%d", i);
		ck_assert_ptr_nonnull(resil_target(r, RESIL_TARGET_APP, id, NULL, false));
	}
	ck_assert_ptr_eq(resil_target(r, RESIL_TARGET_APP, "a", NULL, false), a);
	{
		size_t n = 0;

		for (const struct resil_target *t = a; t != NULL; t = t->next)
			n++;
		(void)n;
	}
	a->inflight = 0;
	resil_free(r);
}
END_TEST

static void count_targets(const struct resil_target *t, void *arg)
{
	(void)t;
	(*(size_t *)arg)++;
}

START_TEST(test_runtime_cache_bound)
{
	struct resiliency_default defs[] = {
		{ .name = "DefaultAppRetryPolicy",
		  .what = RESIL_POLICY_RETRY,
		  .policy = { .max_retries = 1 } },
	};
	struct resiliency_set set;
	struct resil *r;
	char id[32];
	size_t n = 0;

	lookup_set(&set, defs, 1, NULL);
	r = resil_new(NULL, &set);
	for (int i = 0; i < 250; i++) {
		snprintf(id, sizeof(id), "app%d", i);
		ck_assert_ptr_nonnull(resil_target(r, RESIL_TARGET_APP, id, NULL, false));
	}
	resil_each(r, count_targets, &n);
	ck_assert_uint_eq(n, 100);
	resil_free(r);
}
END_TEST

START_TEST(test_code_sets)
{
	struct code_set s;
	char err[200];

	ck_assert(code_set_parse("500, 502 - 504,599", 100, 599, &s, err, sizeof(err)));
	ck_assert_uint_eq(s.n, 3);
	ck_assert(code_set_parse("", 100, 599, &s, err, sizeof(err)));
	ck_assert_uint_eq(s.n, 0);
	ck_assert(!code_set_parse("600", 100, 599, &s, err, sizeof(err)));
	ck_assert_msg(strstr(err, "outside 100-599") != NULL, "%s", err);
	ck_assert(!code_set_parse("504-502", 100, 599, &s, err, sizeof(err)));
	ck_assert(!code_set_parse("5xx", 100, 599, &s, err, sizeof(err)));
	ck_assert(!code_set_parse("500;503", 100, 599, &s, err, sizeof(err)));
	ck_assert_msg(strstr(err, "is not a list of codes") != NULL, "%s", err);
	ck_assert(!code_set_parse("0", 1, 16, &s, err, sizeof(err)));
	ck_assert(code_set_parse("1-4,14", 1, 16, &s, err, sizeof(err)));
}
END_TEST

static Suite *resiliency_suite(void)
{
	Suite *s = suite_create("resiliency");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_trip_eval);
	tcase_add_loop_test(tc, test_trip_errors, 0, (int)(sizeof(trip_bad) / sizeof(trip_bad[0])));
	tcase_add_test(tc, test_trip_too_long);
	tcase_add_test(tc, test_breaker_cycle);
	tcase_add_test(tc, test_breaker_interval_and_generations);
	tcase_add_test(tc, test_lookup_order);
	tcase_add_test(tc, test_runtime_targets);
	tcase_add_test(tc, test_runtime_cache_bound);
	tcase_add_test(tc, test_code_sets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resiliency_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
