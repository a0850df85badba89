/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/handoff.c: pushes from many threads reach the loop in order, and stop refuses the rest. */
#include "config.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <outrig/status.h>

#include "base/handoff.h"

#define NTHREADS 4
#define PER_THREAD 500

struct item {
	int thread;
	int seq;
	struct handoff_item link;
};

static struct event_base *base;
static struct handoff h;
static struct item items[NTHREADS][PER_THREAD];
static int next_seq[NTHREADS]; /* what the loop expects next from each thread */
static int taken, drains;

static void drain(void *arg)
{
	struct handoff_item *batch = handoff_take_all(&h);

	ck_assert_ptr_eq(arg, &h);
	drains++;
	while (batch != NULL) {
		struct item *it = handoff_entry(batch, struct item, link);

		batch = batch->next;
		ck_assert_int_eq(it->seq, next_seq[it->thread]);
		next_seq[it->thread]++;
		taken++;
	}
	if (taken == NTHREADS * PER_THREAD)
		event_base_loopbreak(base);
}

static void setup(void)
{
	evthread_use_pthreads();
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(handoff_init(&h, base, drain, &h), 0);
	for (int t = 0; t < NTHREADS; t++) {
		next_seq[t] = 0;
		for (int i = 0; i < PER_THREAD; i++)
			items[t][i] = (struct item){ .thread = t, .seq = i };
	}
	taken = drains = 0;
}

static void teardown(void)
{
	handoff_free(&h);
	event_base_free(base);
}

static int64_t deadline_ms;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keeps the loop alive until everything is drained, or gives up at the deadline. */
static void keep_looping(evutil_socket_t fd, short what, void *arg)
{
	if (now_ms() > deadline_ms)
		event_base_loopbreak(base);
}

/* Returns how many pushes were refused: check's asserts belong on the test's own thread. */
static void *pusher(void *arg)
{
	int t = (int)(intptr_t)arg;
	intptr_t refused = 0;

	for (int i = 0; i < PER_THREAD; i++)
		if (handoff_push(&h, &items[t][i].link) != 0)
			refused++;
	return (void *)refused;
}

START_TEST(test_many_threads_in_order)
{
	pthread_t th[NTHREADS];

	/*
	 * The wake event is only activated, never added: without a pending timer the loop would
	 * return at once when it starts before the first push. The timer also bounds the test.
	 */
	struct event *keepalive = event_new(base, -1, EV_PERSIST, keep_looping, NULL);
	struct timeval tick = { 0, 10 * 1000 };

	ck_assert_int_eq(event_add(keepalive, &tick), 0);
	deadline_ms = now_ms() + 10000;
	for (int t = 0; t < NTHREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, pusher, (void *)(intptr_t)t), 0);
	event_base_dispatch(base);
	event_free(keepalive);
	for (int t = 0; t < NTHREADS; t++) {
		void *refused;

		pthread_join(th[t], &refused);
		ck_assert_ptr_null(refused);
	}
	ck_assert_int_eq(taken, NTHREADS * PER_THREAD);
	ck_assert_int_ge(drains, 1);
	for (int t = 0; t < NTHREADS; t++)
		ck_assert_int_eq(next_seq[t], PER_THREAD);
	ck_assert_ptr_null(handoff_take_all(&h));
}
END_TEST

START_TEST(test_drain_runs_on_the_loop)
{
	ck_assert_int_eq(handoff_push(&h, &items[0][0].link), 0);
	ck_assert_int_eq(handoff_push(&h, &items[0][1].link), 0);
	/* Nothing runs until the loop does. */
	ck_assert_int_eq(drains, 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(drains, 1);
	ck_assert_int_eq(taken, 2);
	ck_assert_int_eq(next_seq[0], 2);
}
END_TEST

START_TEST(test_take_all_empty)
{
	ck_assert_ptr_null(handoff_take_all(&h));
	ck_assert(!handoff_stopped(&h));
}
END_TEST

START_TEST(test_stop_returns_the_rest_and_refuses)
{
	struct handoff_item *rest;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(handoff_push(&h, &items[1][i].link), 0);
	rest = handoff_stop(&h);
	ck_assert(handoff_stopped(&h));
	for (int i = 0; i < 3; i++) {
		ck_assert_ptr_eq(rest, &items[1][i].link);
		rest = rest->next;
	}
	ck_assert_ptr_null(rest);
	ck_assert_int_eq(handoff_push(&h, &items[1][3].link), OUTRIG_EUNAVAIL);
	ck_assert_ptr_null(handoff_take_all(&h));
	ck_assert_ptr_null(handoff_stop(&h));
	/* The wake-up for the pushes before the stop finds nothing left. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(taken, 0);
}
END_TEST

static Suite *handoff_suite(void)
{
	Suite *s = suite_create("handoff");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_many_threads_in_order);
	tcase_add_test(tc, test_drain_runs_on_the_loop);
	tcase_add_test(tc, test_take_all_empty);
	tcase_add_test(tc, test_stop_returns_the_rest_and_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(handoff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
