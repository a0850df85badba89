/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.cron alone, loaded by the real loader and driven through a test host table: ticks, a slow app, stopping. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "exchange.h"
#include "components/host.h"
#include "plugin_host.h"

#define TYPE "bindings.cron"
#define COMPONENT "cron-test"
/* How far a tick may drift from when it should come: thread wake-ups on a loaded CI machine. */
#define SLACK_MS 250

static const struct outrig_host *test_host;
static const struct outrig_plugin *plugin;
static struct outrig_handle handle = { .name = COMPONENT, .component = NULL };
static char sink_mem;
#define SINK ((struct outrig_binding_sink *)&sink_mem)

/* ---- the test's host table: what the core would offer the plugin ---- */

/* One tick the plugin handed over; the settler thread calls done() once settle_at has passed. */
struct tick {
	long at_ms;	 /* arrival, on xnow_ms()'s clock */
	long settle_at;	 /* when the "app" answers; -1: never (until the core stops) */
	long settled_ms; /* when done() was called; 0 before */
	size_t data_len;
	char time_zone[32];
	char read_time[64];
	void (*done)(void *, int);
	void *done_ctx;
};

#define MAX_TICKS 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct tick ticks[MAX_TICKS];
static int nticks;
static long app_delay_ms; /* how long the app takes to answer the next tick; -1: never */
static int overlaps;	  /* a tick handed over while an earlier one was unsettled */
static int refused;	  /* ticks refused because the core was stopping */
static bool core_stopping;
static bool settler_quit;
static pthread_t settler;

static int host_binding_deliver(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
				void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	const char *tz = outrig_metadata_get(&ev->metadata, "timeZone");
	const char *rt = outrig_metadata_get(&ev->metadata, "readTimeUTC");
	struct tick *t;

	ck_assert_ptr_eq(sink, SINK);
	pthread_mutex_lock(&mu);
	if (core_stopping) {
		refused++;
		pthread_mutex_unlock(&mu);
		return OUTRIG_EUNAVAIL;
	}
	ck_assert_int_lt(nticks, MAX_TICKS);
	for (int i = 0; i < nticks; i++)
		if (ticks[i].settled_ms == 0)
			overlaps++;
	t = &ticks[nticks++];
	t->at_ms = xnow_ms();
	t->settle_at = app_delay_ms < 0 ? -1 : t->at_ms + app_delay_ms;
	t->settled_ms = 0;
	t->data_len = ev->data_len;
	snprintf(t->time_zone, sizeof(t->time_zone), "%s", tz != NULL ? tz : "(none)");
	snprintf(t->read_time, sizeof(t->read_time), "%s", rt != NULL ? rt : "(none)");
	t->done = done;
	t->done_ctx = done_ctx;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&mu);
	return OUTRIG_OK;
}

/* The "core": settles each tick once the app's answer is due, never inside binding_deliver. */
static void *settle_loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!settler_quit) {
		for (int i = 0; i < nticks; i++) {
			struct tick *t = &ticks[i];

			if (t->settled_ms == 0 && t->settle_at >= 0 && xnow_ms() >= t->settle_at) {
				t->settled_ms = xnow_ms();
				t->done(t->done_ctx, OUTRIG_PUBSUB_SETTLED);
				pthread_cond_broadcast(&changed);
			}
		}
		plugin_host_wait(&changed, &mu, 5);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* Waits until n ticks arrived or timeout_ms passed; returns how many arrived. */
static int wait_ticks(int n, long timeout_ms)
{
	long deadline = xnow_ms() + timeout_ms;
	int have;

	pthread_mutex_lock(&mu);
	while (nticks < n && xnow_ms() < deadline)
		plugin_host_wait(&changed, &mu, 20);
	have = nticks;
	pthread_mutex_unlock(&mu);
	return have;
}

static int count_ticks(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = nticks;
	pthread_mutex_unlock(&mu);
	return n;
}

static void set_app_delay(long ms)
{
	pthread_mutex_lock(&mu);
	app_delay_ms = ms;
	pthread_mutex_unlock(&mu);
}

/* What the core does when it stops: every tick it accepted gets done(UNSETTLED). */
static void core_stop(void)
{
	pthread_mutex_lock(&mu);
	core_stopping = true;
	for (int i = 0; i < nticks; i++)
		if (ticks[i].settled_ms == 0) {
			ticks[i].settled_ms = xnow_ms();
			ticks[i].done(ticks[i].done_ctx, OUTRIG_PUBSUB_UNSETTLED);
		}
	pthread_mutex_unlock(&mu);
}

/* readTimeUTC back to milliseconds since the epoch; -1 if it is not Go's UTC time format. */
static int64_t parse_read_time(const char *s)
{
	struct tm tm = { 0 };
	const char *rest = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	int64_t ms = 0, scale = 100;

	if (rest == NULL)
		return -1;
	if (*rest == '.') {
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
			ms += (*rest - '0') * scale;
		if (rest[-1] == '0') /* Go trims trailing zeros */
			return -1;
	}
	if (strcmp(rest, " +0000 UTC") != 0)
		return -1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* ---- creating instances the way the core does ---- */

static int try_create(const char *schedule, void **out, struct outrig_error *err)
{
	const char *const overrides[] = { "schedule", schedule, NULL };
	struct plugin_host_config tc;

	plugin_host_config(&tc, plugin, NULL, COMPONENT, NULL, overrides);
	*out = NULL;
	err->message[0] = '\0';
	return plugin->create(test_host, &handle, &tc.config, out, err);
}

static void *start(const char *schedule)
{
	struct outrig_error err;
	void *inst;
	int rc = try_create(schedule, &inst, &err);

	ck_assert_msg(rc == OUTRIG_OK, "create \"%s\": %s: %s", schedule, outrig_status_name(rc),
		      err.message);
	rc = plugin->bindings->start_input(inst, SINK, &err);
	ck_assert_msg(rc == OUTRIG_OK, "start_input: %s: %s", outrig_status_name(rc), err.message);
	return inst;
}

static void setup(void)
{
	static const struct plugin_host_options options = { .binding_deliver = host_binding_deliver };

	test_host = plugin_host_start(&options);
	plugin = plugin_host_load(TYPE);
	ck_assert_int_eq(pthread_create(&settler, NULL, settle_loop, NULL), 0);
}

static void teardown(void)
{
	pthread_mutex_lock(&mu);
	settler_quit = true;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&mu);
	pthread_join(settler, NULL);
	plugin_host_stop();
}

/* ---- the tests ---- */

START_TEST(descriptor_is_input_only)
{
	ck_assert_str_eq(plugin->type, TYPE);
	ck_assert_ptr_nonnull(plugin->bindings);
	ck_assert_ptr_null(plugin->bindings->operations);
	ck_assert_ptr_null(plugin->bindings->invoke);
	ck_assert_ptr_nonnull(plugin->bindings->start_input);
	ck_assert_ptr_nonnull(plugin->fields);
	ck_assert_str_eq(plugin->fields[0].name, "schedule");
	ck_assert(plugin->fields[0].required);
	/* direction and route are the runtime's, never the plugin's. */
	ck_assert_ptr_null(plugin->fields[1].name);
}
END_TEST

START_TEST(bad_schedules_fail_create)
{
	struct outrig_error err;
	void *inst;

	ck_assert_int_eq(try_create("61 * * * * *", &inst, &err), OUTRIG_EINVAL);
	ck_assert_ptr_null(inst);
	ck_assert_msg(
		strstr(err.message,
		       "component \"cron-test\": metadata schedule \"61 * * * * *\": field 1 (second) \"61\": 61 is out of range; use 0 to 59") !=
			NULL,
		"%s", err.message);
	ck_assert_int_eq(try_create("@every fortnight", &inst, &err), OUTRIG_EINVAL);
	ck_assert_msg(
		strstr(err.message,
		       "metadata schedule \"@every fortnight\": @every: \"fortnight\" is not a Go duration") !=
			NULL,
		"%s", err.message);
	ck_assert_int_eq(try_create("0 0 0 30 2 *", &inst, &err), OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "it matches no date in the next five years") != NULL, "%s",
		      err.message);
	ck_assert_int_eq(try_create(NULL, &inst, &err), OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "component \"cron-test\": metadata schedule is required") != NULL,
		      "%s", err.message);
}
END_TEST

START_TEST(every_second_fires_about_once_a_second)
{
	long t0 = xnow_ms();
	void *inst = start("@every 1s");
	int64_t read_ms;

	ck_assert_int_eq(wait_ticks(5, 5000 + 2 * SLACK_MS), 5);
	plugin->destroy(inst);
	pthread_mutex_lock(&mu);
	ck_assert_msg(labs(ticks[0].at_ms - t0 - 1000) <= SLACK_MS, "first tick after %ld ms",
		      ticks[0].at_ms - t0);
	for (int i = 1; i < nticks; i++)
		ck_assert_msg(labs(ticks[i].at_ms - ticks[i - 1].at_ms - 1000) <= SLACK_MS,
			      "tick %d came %ld ms after the one before", i,
			      ticks[i].at_ms - ticks[i - 1].at_ms);
	ck_assert_int_eq(overlaps, 0);
	/* Dapr's event: an empty body, the cron's zone ("Local") and when it fired. */
	ck_assert_uint_eq(ticks[0].data_len, 0);
	ck_assert_str_eq(ticks[0].time_zone, "Local");
	read_ms = parse_read_time(ticks[4].read_time);
	ck_assert_msg(read_ms > 0, "readTimeUTC \"%s\" is not Go's time format", ticks[4].read_time);
	ck_assert_msg(llabs(read_ms - test_host->now_unix_ms()) < 2000, "readTimeUTC %s is not now",
		      ticks[4].read_time);
	pthread_mutex_unlock(&mu);
}
END_TEST

START_TEST(calendar_schedule_fires_on_the_second)
{
	void *inst = start("* * * * * *");

	ck_assert_int_eq(wait_ticks(3, 3000 + 2 * SLACK_MS), 3);
	plugin->destroy(inst);
	pthread_mutex_lock(&mu);
	for (int i = 0; i < 3; i++) {
		int64_t ms = parse_read_time(ticks[i].read_time);

		ck_assert_msg(ms > 0, "readTimeUTC \"%s\"", ticks[i].read_time);
		ck_assert_msg(ms % 1000 < SLACK_MS, "tick at %s is not on a whole second",
			      ticks[i].read_time);
	}
	ck_assert_int_eq(overlaps, 0);
	pthread_mutex_unlock(&mu);
}
END_TEST

/*
 * The app takes 3.5 s per tick of "@every 1s": the ticks that fire meanwhile fold into one pending
 * tick (no pile-up), which comes as soon as the app answers (not lost). Once the app is quick
 * again, ticks come every second.
 */
START_TEST(slow_app_coalesces_without_losing_a_tick)
{
	long t0 = xnow_ms();
	void *inst;
	int n;

	set_app_delay(3500);
	inst = start("@every 1s");
	/* #1 at ~1 s, settled at ~4.5 s; ticks at 2, 3 and 4 s fold into #2. */
	ck_assert_int_eq(wait_ticks(1, 1000 + SLACK_MS), 1);
	xsleep_ms(2000);
	ck_assert_int_eq(count_ticks(), 1); /* nothing more while the app is busy */
	ck_assert_int_eq(wait_ticks(2, 2000), 2);
	/* The app catches up: #2 (handed over at ~4.5 s, settled ~8 s) is its last slow answer. */
	set_app_delay(0);
	xsleep_ms(3000);
	ck_assert_int_eq(count_ticks(), 2); /* ticks at 5, 6, 7 s wait for #2 */
	/* By 11.6 s: the pending tick at ~8 s, then 9, 10, 11 s (one more if 8 s fired just after settling). */
	xsleep_ms(11600 - (xnow_ms() - t0));
	n = count_ticks();
	plugin->destroy(inst);

	pthread_mutex_lock(&mu);
	ck_assert_msg(n == 6 || n == 7, "%d ticks in 11.6 s", n);
	ck_assert_int_eq(overlaps, 0);
	for (int i = 1; i < 3; i++) {
		/* Each pending tick follows its predecessor's settling at once. */
		long gap = ticks[i].at_ms - ticks[i - 1].settled_ms;

		ck_assert_msg(ticks[i - 1].settled_ms > 0 && gap >= 0 && gap <= SLACK_MS,
			      "tick %d came %ld ms after tick %d settled", i, gap, i - 1);
	}
	ck_assert_msg(labs(ticks[1].at_ms - t0 - 4500) <= 2 * SLACK_MS, "tick 1 at %ld ms",
		      ticks[1].at_ms - t0);
	/* The folded tick says when the latest of its ticks fired (~4 s), not the first (~2 s). */
	ck_assert_msg(parse_read_time(ticks[1].read_time) - parse_read_time(ticks[0].read_time) >= 2500,
		      "read times %s then %s", ticks[0].read_time, ticks[1].read_time);
	for (int i = n - 3; i < n; i++)
		ck_assert_msg(labs(ticks[i].at_ms - ticks[i - 1].at_ms - 1000) <= SLACK_MS ||
				      ticks[i].at_ms - ticks[i - 1].at_ms < SLACK_MS,
			      "tick %d came %ld ms after the one before", i,
			      ticks[i].at_ms - ticks[i - 1].at_ms);
	pthread_mutex_unlock(&mu);
	ck_assert(plugin_host_log_has(
		"3 ticks of schedule \"@every 1s\" fired while the app was still handling the previous one"));
}
END_TEST

START_TEST(stopping_drops_unsettled_and_pending_ticks)
{
	void *inst;
	long t;

	set_app_delay(-1); /* the app never answers */
	inst = start("@every 1s");
	ck_assert_int_eq(wait_ticks(1, 1000 + SLACK_MS), 1);
	xsleep_ms(1500); /* a tick is pending */
	core_stop();
	xsleep_ms(1200); /* the pending tick is gone, later ones are refused */
	ck_assert_int_eq(count_ticks(), 1);
	t = xnow_ms();
	plugin->destroy(inst);
	ck_assert_msg(xnow_ms() - t < SLACK_MS, "destroy took %ld ms", xnow_ms() - t);
	pthread_mutex_lock(&mu);
	ck_assert_int_le(refused, 2);
	pthread_mutex_unlock(&mu);
}
END_TEST

START_TEST(destroy_interrupts_a_long_sleep)
{
	struct outrig_error err;
	void *inst = start("@hourly");
	long t;

	ck_assert_int_eq(plugin->bindings->start_input(inst, SINK, &err), OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "already running") != NULL, "%s", err.message);
	xsleep_ms(100);
	t = xnow_ms();
	plugin->destroy(inst);
	ck_assert_msg(xnow_ms() - t < SLACK_MS, "destroy took %ld ms", xnow_ms() - t);
	ck_assert_int_eq(count_ticks(), 0);
	/* An instance whose input never started (the app did not want it) goes quietly too. */
	ck_assert_int_eq(try_create("*/5 * * * * *", &inst, &err), OUTRIG_OK);
	plugin->destroy(inst);
}
END_TEST

static Suite *cron_plugin_suite(void)
{
	Suite *s = suite_create("cron_plugin");
	TCase *tc = tcase_create("cron");

	/* Each test forks (check's default), so the tick list starts empty. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, descriptor_is_input_only);
	tcase_add_test(tc, bad_schedules_fail_create);
	tcase_add_test(tc, every_second_fires_about_once_a_second);
	tcase_add_test(tc, calendar_schedule_fires_on_the_second);
	tcase_add_test(tc, slow_app_coalesces_without_losing_a_tick);
	tcase_add_test(tc, stopping_drops_unsettled_and_pending_ticks);
	tcase_add_test(tc, destroy_interrupts_a_long_sleep);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cron_plugin_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
