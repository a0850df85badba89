/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/workers.c: work off the loop, done() on it, lanes one at a time and in order. */
#include "config.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/workers.h"

#define MAX_ITEMS 256

struct item {
	struct work w; /* first, so a struct work * is a struct item * */
	int id;
	int lane_no; /* which in-flight counter run() uses: 0 = none */
	int delay_us;
	pthread_t run_thread;
	pthread_t done_thread;
	atomic_int runs;
	int dones;
	unsigned pending_in_done;
};

static struct event_base *base;
static struct workers *ws;
static struct event *guard;
static pthread_t loop_thread;
static struct item items[MAX_ITEMS];
static int expected_dones;
static int dones;
static bool timed_out;

/* Per-lane in-flight counters (index 0: all work) and their peaks. */
static atomic_int in_flight[3];
static atomic_int peak[3];
/* The order run() started in, per lane, and the order done() was called in. */
static atomic_int run_count[3];
static int run_order[3][MAX_ITEMS];
static int done_order[MAX_ITEMS];

/* Lets run() wait until the test opens the gate. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open = true;

static void sleep_us(int us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void peak_update(atomic_int *p, int now)
{
	int old = atomic_load(p);

	while (now > old && !atomic_compare_exchange_weak(p, &old, now))
		;
}

static void item_run(struct work *w)
{
	struct item *it = (struct item *)w;
	int now;

	pthread_mutex_lock(&gate_lock);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);

	it->run_thread = pthread_self();
	atomic_fetch_add(&it->runs, 1);
	run_order[it->lane_no][atomic_fetch_add(&run_count[it->lane_no], 1)] = it->id;
	now = atomic_fetch_add(&in_flight[it->lane_no], 1) + 1;
	peak_update(&peak[it->lane_no], now);
	if (it->lane_no != 0) {
		now = atomic_fetch_add(&in_flight[0], 1) + 1;
		peak_update(&peak[0], now);
	}
	if (it->delay_us > 0)
		sleep_us(it->delay_us);
	if (it->lane_no != 0)
		atomic_fetch_sub(&in_flight[0], 1);
	atomic_fetch_sub(&in_flight[it->lane_no], 1);
}

static void item_done(struct work *w)
{
	struct item *it = (struct item *)w;

	it->done_thread = pthread_self();
	it->dones++;
	it->pending_in_done = workers_pending(ws);
	done_order[dones++] = it->id;
	if (dones == expected_dones)
		event_base_loopbreak(base);
}

static void guard_fired(evutil_socket_t fd, short what, void *arg)
{
	timed_out = true;
	event_base_loopbreak(base);
}

static void setup(void)
{
	struct timeval limit = { 5, 0 };

	memset(items, 0, sizeof(items));
	memset(run_order, 0, sizeof(run_order));
	memset(done_order, 0, sizeof(done_order));
	for (int i = 0; i < 3; i++) {
		atomic_store(&in_flight[i], 0);
		atomic_store(&peak[i], 0);
		atomic_store(&run_count[i], 0);
	}
	dones = 0;
	expected_dones = 0;
	timed_out = false;
	gate_open = true;
	loop_thread = pthread_self();
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	guard = evtimer_new(base, guard_fired, NULL);
	ck_assert_ptr_nonnull(guard);
	ck_assert_int_eq(evtimer_add(guard, &limit), 0);
	ws = NULL;
}

static void set_gate(bool open);

static void teardown(void)
{
	set_gate(true);
	workers_stop(ws);
	ws = NULL;
	event_free(guard);
	event_base_free(base);
}

static void item_init(struct item *it, int id, struct lane *lane, int lane_no, int delay_us)
{
	it->w.run = item_run;
	it->w.done = item_done;
	it->w.lane = lane;
	it->id = id;
	it->lane_no = lane_no;
	it->delay_us = delay_us;
}

/* Runs the loop until expected_dones done() calls have happened (or 5 s went by). */
static void run_loop(void)
{
	ck_assert_int_ge(event_base_dispatch(base), 0);
	ck_assert_msg(!timed_out, "only %d of %d done() calls after 5 s", dones, expected_dones);
	ck_assert_int_eq(dones, expected_dones);
}

static void set_gate(bool open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

START_TEST(test_threads)
{
	ws = workers_start(base, 2);
	ck_assert_ptr_nonnull(ws);
	item_init(&items[0], 0, NULL, 0, 0);
	expected_dones = 1;
	workers_submit(ws, &items[0].w);
	run_loop();
	ck_assert_int_eq(atomic_load(&items[0].runs), 1);
	ck_assert_int_eq(items[0].dones, 1);
	ck_assert_msg(!pthread_equal(items[0].run_thread, loop_thread), "run() ran on the loop thread");
	ck_assert_msg(pthread_equal(items[0].done_thread, loop_thread), "done() ran off the loop thread");
}
END_TEST

START_TEST(test_many_items)
{
	const int n = 200;

	ws = workers_start(base, 4);
	ck_assert_ptr_nonnull(ws);
	expected_dones = n;
	for (int i = 0; i < n; i++) {
		item_init(&items[i], i, NULL, 0, i % 10 == 0 ? 100 : 0);
		workers_submit(ws, &items[i].w);
	}
	ck_assert_uint_eq(workers_pending(ws), (unsigned)n);
	run_loop();
	ck_assert_uint_eq(workers_pending(ws), 0);
	for (int i = 0; i < n; i++) {
		ck_assert_msg(atomic_load(&items[i].runs) == 1, "item %d ran %d times", i,
			      atomic_load(&items[i].runs));
		ck_assert_msg(items[i].dones == 1, "item %d done %d times", i, items[i].dones);
		ck_assert(!pthread_equal(items[i].run_thread, loop_thread));
		ck_assert(pthread_equal(items[i].done_thread, loop_thread));
	}
}
END_TEST

/* Without a lane, work does overlap: this proves the in-flight counter can see it. */
START_TEST(test_no_lane_runs_concurrently)
{
	const int n = 8;

	ws = workers_start(base, 4);
	ck_assert_ptr_nonnull(ws);
	expected_dones = n;
	for (int i = 0; i < n; i++) {
		item_init(&items[i], i, NULL, 1, 20000);
		workers_submit(ws, &items[i].w);
	}
	run_loop();
	ck_assert_int_ge(atomic_load(&peak[1]), 2);
}
END_TEST

START_TEST(test_lane_serial_and_ordered)
{
	const int n = 20;
	struct lane lane = { 0 };

	ws = workers_start(base, 4);
	ck_assert_ptr_nonnull(ws);
	expected_dones = n;
	for (int i = 0; i < n; i++) {
		item_init(&items[i], i, &lane, 1, 2000);
		workers_submit(ws, &items[i].w);
	}
	run_loop();
	ck_assert_int_eq(atomic_load(&peak[1]), 1);
	ck_assert_int_eq(atomic_load(&run_count[1]), n);
	for (int i = 0; i < n; i++) {
		ck_assert_msg(run_order[1][i] == i, "run #%d was item %d", i, run_order[1][i]);
		ck_assert_msg(done_order[i] == i, "done #%d was item %d", i, done_order[i]);
	}
	/* The lane is idle again and can take more. */
	ck_assert_uint_eq(lane.running, 0);
	ck_assert_ptr_null(lane.head);
	ck_assert_ptr_null(lane.tail);
}
END_TEST

/* A bounded lane overlaps its work up to its limit and no further, starting it in order. */
START_TEST(test_lane_limit)
{
	const int n = 16;
	struct lane lane = { .limit = 3 };

	ws = workers_start(base, 4);
	ck_assert_ptr_nonnull(ws);
	ck_assert_int_eq(workers_threads(ws), 4);
	expected_dones = n;
	for (int i = 0; i < n; i++) {
		item_init(&items[i], i, &lane, 1, 20000);
		workers_submit(ws, &items[i].w);
	}
	run_loop();
	ck_assert_int_le(atomic_load(&peak[1]), 3);
	ck_assert_int_ge(atomic_load(&peak[1]), 2);
	ck_assert_int_eq(atomic_load(&run_count[1]), n);
	ck_assert_uint_eq(lane.running, 0);
	ck_assert_ptr_null(lane.head);
}
END_TEST

START_TEST(test_two_lanes)
{
	const int n = 24;
	struct lane lanes[2] = { { 0 }, { 0 } };

	ws = workers_start(base, 4);
	ck_assert_ptr_nonnull(ws);
	expected_dones = n;
	for (int i = 0; i < n; i++) {
		int l = i % 2;

		item_init(&items[i], i, &lanes[l], l + 1, 3000);
		workers_submit(ws, &items[i].w);
	}
	run_loop();
	ck_assert_int_eq(atomic_load(&peak[1]), 1);
	ck_assert_int_eq(atomic_load(&peak[2]), 1);
	/* Two lanes do run side by side. */
	ck_assert_int_eq(atomic_load(&peak[0]), 2);
	for (int k = 0; k < n / 2; k++) {
		ck_assert_int_eq(run_order[1][k], 2 * k);
		ck_assert_int_eq(run_order[2][k], 2 * k + 1);
	}
}
END_TEST

START_TEST(test_pending_counts)
{
	const int n = 5;

	ws = workers_start(base, 2);
	ck_assert_ptr_nonnull(ws);
	ck_assert_uint_eq(workers_pending(ws), 0);
	set_gate(false);
	expected_dones = n;
	for (int i = 0; i < n; i++) {
		item_init(&items[i], i, NULL, 0, 0);
		workers_submit(ws, &items[i].w);
		ck_assert_uint_eq(workers_pending(ws), (unsigned)(i + 1));
	}
	/* Nothing can finish while the gate is shut. */
	sleep_us(20000);
	ck_assert_uint_eq(workers_pending(ws), (unsigned)n);
	ck_assert_int_eq(dones, 0);
	set_gate(true);
	run_loop();
	ck_assert_uint_eq(workers_pending(ws), 0);
	/* Each done() sees the work that is still to be replied to. */
	for (int k = 0; k < n; k++)
		ck_assert_uint_eq(items[done_order[k]].pending_in_done, (unsigned)(n - k - 1));
}
END_TEST

/* workers_stop() runs what is queued (lanes included), joins, and calls no done(). */
START_TEST(test_stop_finishes_queued)
{
	const int n = 12;
	struct lane lane = { 0 };

	ws = workers_start(base, 3);
	ck_assert_ptr_nonnull(ws);
	for (int i = 0; i < n; i++) {
		item_init(&items[i], i, i < n / 2 ? &lane : NULL, i < n / 2 ? 1 : 2, 2000);
		workers_submit(ws, &items[i].w);
	}
	workers_stop(ws);
	ws = NULL;
	for (int i = 0; i < n; i++) {
		ck_assert_msg(atomic_load(&items[i].runs) == 1, "item %d ran %d times", i,
			      atomic_load(&items[i].runs));
		ck_assert_int_eq(items[i].dones, 0);
	}
	ck_assert_int_eq(atomic_load(&in_flight[0]), 0);
	ck_assert_int_eq(atomic_load(&peak[1]), 1);
	for (int i = 0; i < n / 2; i++)
		ck_assert_int_eq(run_order[1][i], i);
	/* The loop has nothing left to deliver. */
	ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	ck_assert_int_eq(dones, 0);
}
END_TEST

START_TEST(test_stop_idle_and_null)
{
	ws = workers_start(base, 4);
	ck_assert_ptr_nonnull(ws);
	workers_stop(ws);
	ws = NULL;
	workers_stop(NULL);
}
END_TEST

static Suite *workers_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = tcase_create("workers");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_many_items);
	tcase_add_test(tc, test_no_lane_runs_concurrently);
	tcase_add_test(tc, test_lane_serial_and_ordered);
	tcase_add_test(tc, test_lane_limit);
	tcase_add_test(tc, test_two_lanes);
	tcase_add_test(tc, test_pending_counts);
	tcase_add_test(tc, test_stop_finishes_queued);
	tcase_add_test(tc, test_stop_idle_and_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (evthread_use_pthreads() != 0) {
		fprintf(stderr, "evthread_use_pthreads failed\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(workers_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	libevent_global_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
