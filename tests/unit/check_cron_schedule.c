/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of plugins/bindings_cron/cron_schedule.c: Dapr's cron grammar in, next fire times out. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron_schedule.h"

/* A POSIX zone with DST that needs no zone database: America/New_York's rules since 2007. */
#define NEW_YORK "EST5EDT,M3.2.0,M11.1.0"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* Milliseconds since the epoch of a UTC date and time. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000;
}

static char *show(int64_t ms)
{
	static char buf[4][80];
	static int i;
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	i = (i + 1) % 4;
	if (ms < 0) {
		snprintf(buf[i], sizeof(buf[i]), "never (%lld)", (long long)ms);
		return buf[i];
	}
	gmtime_r(&t, &tm);
	snprintf(buf[i], sizeof(buf[i]), "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return buf[i];
}

static struct cron_schedule parse_ok(const char *text)
{
	struct cron_schedule s;
	struct outrig_error err = { "" };
	int rc = cron_schedule_parse(text, &s, &err);

	ck_assert_msg(rc == OUTRIG_OK, "\"%s\" refused: %s", text, err.message);
	return s;
}

/* The next fire time of text after from must be want. */
#define NEXT(text, from, want)                                                                               \
	do {                                                                                                 \
		struct cron_schedule s_ = parse_ok(text);                                                    \
		int64_t got_ = cron_schedule_next(&s_, (from));                                              \
		ck_assert_msg(got_ == (want), "\"%s\" after %s: got %s, want %s", text, show(from),          \
			      show(got_), show(want));                                                       \
	} while (0)

/* Every test starts in UTC unless it sets another zone. */
static void setup(void)
{
	set_tz("UTC0");
}

START_TEST(six_fields_with_seconds)
{
	NEXT("*/5 * * * * *", utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 1, 0, 0, 5));
	NEXT("*/5 * * * * *", utc(2024, 1, 1, 0, 0, 4) + 999, utc(2024, 1, 1, 0, 0, 5));
	/* Strictly after: a schedule does not fire again at the instant it fired. */
	NEXT("*/5 * * * * *", utc(2024, 1, 1, 0, 0, 5), utc(2024, 1, 1, 0, 0, 10));
	NEXT("*/5 * * * * *", utc(2024, 1, 1, 0, 0, 5) + 1, utc(2024, 1, 1, 0, 0, 10));
	NEXT("* * * * * *", utc(2024, 1, 1, 0, 0, 5) + 300, utc(2024, 1, 1, 0, 0, 6));
	NEXT("30 * * * * *", utc(2024, 1, 1, 12, 0, 30), utc(2024, 1, 1, 12, 1, 30));
	NEXT("0 15 * * * *", utc(2024, 1, 1, 12, 15, 0), utc(2024, 1, 1, 13, 15, 0));
	NEXT("59 59 23 31 12 *", utc(2024, 6, 1, 0, 0, 0), utc(2024, 12, 31, 23, 59, 59));
	/* The year rolls over. */
	NEXT("0 0 0 1 1 *", utc(2024, 6, 1, 0, 0, 0), utc(2025, 1, 1, 0, 0, 0));
	/* Tabs and extra blanks separate fields too. */
	NEXT("  0\t0  12 * * *  ", utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 1, 12, 0, 0));
}
END_TEST

START_TEST(five_fields_have_second_zero)
{
	NEXT("*/15 * * * *", utc(2024, 1, 1, 10, 7, 12), utc(2024, 1, 1, 10, 15, 0));
	NEXT("0 12 * * *", utc(2024, 1, 1, 12, 0, 0), utc(2024, 1, 2, 12, 0, 0));
	NEXT("* * * * *", utc(2024, 1, 1, 10, 7, 12), utc(2024, 1, 1, 10, 8, 0));
}
END_TEST

START_TEST(lists_ranges_and_steps)
{
	NEXT("0 0 8,12,18 * * *", utc(2024, 1, 1, 12, 0, 0), utc(2024, 1, 1, 18, 0, 0));
	NEXT("0 30 3-6,20-23 * * *", utc(2024, 1, 1, 6, 30, 0), utc(2024, 1, 1, 20, 30, 0));
	NEXT("0 30 3-6,20-23 * * *", utc(2024, 1, 1, 23, 30, 0), utc(2024, 1, 2, 3, 30, 0));
	NEXT("0 0 1-10/3 * * *", utc(2024, 1, 1, 5, 0, 0), utc(2024, 1, 1, 7, 0, 0));
	NEXT("0 0 1-10/3 * * *", utc(2024, 1, 1, 10, 0, 0), utc(2024, 1, 2, 1, 0, 0));
	/* "N/step" is "N-max/step": 5, 25, 45. */
	NEXT("5/20 * * * * *", utc(2024, 1, 1, 0, 0, 26), utc(2024, 1, 1, 0, 0, 45));
	NEXT("5/20 * * * * *", utc(2024, 1, 1, 0, 0, 45), utc(2024, 1, 1, 0, 1, 5));
	/* "?" is "*". */
	NEXT("0 0 0 ? * ?", utc(2024, 1, 1, 5, 0, 0), utc(2024, 1, 2, 0, 0, 0));
	/* A single value, the range's ends and a list mixing all three. */
	NEXT("7,10-11,50/5 * * * * *", utc(2024, 1, 1, 0, 0, 7), utc(2024, 1, 1, 0, 0, 10));
	NEXT("7,10-11,50/5 * * * * *", utc(2024, 1, 1, 0, 0, 11), utc(2024, 1, 1, 0, 0, 50));
	NEXT("7,10-11,50/5 * * * * *", utc(2024, 1, 1, 0, 0, 55), utc(2024, 1, 1, 0, 1, 7));
}
END_TEST

START_TEST(month_and_day_names)
{
	/* 2024-01-05 is a Friday. */
	NEXT("0 0 9 * * MON-FRI", utc(2024, 1, 5, 10, 0, 0), utc(2024, 1, 8, 9, 0, 0));
	NEXT("0 0 9 * * mon-fri", utc(2024, 1, 5, 8, 0, 0), utc(2024, 1, 5, 9, 0, 0));
	NEXT("0 0 9 * * Sat,SUN", utc(2024, 1, 5, 10, 0, 0), utc(2024, 1, 6, 9, 0, 0));
	NEXT("0 0 0 1 JAN,jul *", utc(2024, 2, 1, 0, 0, 0), utc(2024, 7, 1, 0, 0, 0));
	NEXT("0 0 0 1 Mar-May/2 *", utc(2024, 3, 1, 0, 0, 0), utc(2024, 5, 1, 0, 0, 0));
	/* Numbers: Sunday is 0. */
	NEXT("0 0 0 * * 0", utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 7, 0, 0, 0));
}
END_TEST

START_TEST(day_of_month_and_day_of_week)
{
	/* 2024-01-01 is a Monday. Both restricted: either may match (Friday the 5th before the 13th). */
	NEXT("0 0 0 13 * FRI", utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 5, 0, 0, 0));
	NEXT("0 0 0 13 * FRI", utc(2024, 1, 12, 0, 0, 0), utc(2024, 1, 13, 0, 0, 0));
	/* One of them "*" or "?": the other alone decides. */
	NEXT("0 0 0 13 * *", utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 13, 0, 0, 0));
	NEXT("0 0 0 * * FRI", utc(2024, 1, 6, 0, 0, 0), utc(2024, 1, 12, 0, 0, 0));
	NEXT("0 0 0 ? * FRI", utc(2024, 1, 6, 0, 0, 0), utc(2024, 1, 12, 0, 0, 0));
	/* "*" with a step restricts (OR rule): the 11th comes before Friday the 12th ... */
	NEXT("0 0 0 */10 * FRI", utc(2024, 1, 6, 0, 0, 0), utc(2024, 1, 11, 0, 0, 0));
	NEXT("0 0 0 */2 * FRI", utc(2024, 1, 5, 0, 0, 0), utc(2024, 1, 7, 0, 0, 0));
	/* ... but "*" with step 1 is still "*" (AND rule): only Fridays. */
	NEXT("0 0 0 */1 * FRI", utc(2024, 1, 6, 0, 0, 0), utc(2024, 1, 12, 0, 0, 0));
	/* Days a month lacks are skipped, not rolled over. */
	NEXT("0 0 0 31 * *", utc(2024, 4, 1, 0, 0, 0), utc(2024, 5, 31, 0, 0, 0));
	NEXT("0 0 0 29 2 *", utc(2025, 3, 1, 0, 0, 0), utc(2028, 2, 29, 0, 0, 0));
}
END_TEST

START_TEST(never_within_five_years)
{
	struct cron_schedule s = parse_ok("0 0 0 30 2 *");

	ck_assert_int_eq(cron_schedule_next(&s, utc(2024, 1, 1, 0, 0, 0)), -1);
	s = parse_ok("0 0 0 31 4,6,9,11 *");
	ck_assert_int_eq(cron_schedule_next(&s, utc(2024, 1, 1, 0, 0, 0)), -1);
}
END_TEST

START_TEST(descriptors)
{
	NEXT("@yearly", utc(2024, 6, 15, 10, 20, 30), utc(2025, 1, 1, 0, 0, 0));
	NEXT("@annually", utc(2024, 6, 15, 10, 20, 30), utc(2025, 1, 1, 0, 0, 0));
	NEXT("@monthly", utc(2024, 6, 15, 10, 20, 30), utc(2024, 7, 1, 0, 0, 0));
	NEXT("@monthly", utc(2024, 12, 15, 0, 0, 0), utc(2025, 1, 1, 0, 0, 0));
	/* Weeks start on Sunday; 2024-01-03 is a Wednesday. */
	NEXT("@weekly", utc(2024, 1, 3, 10, 0, 0), utc(2024, 1, 7, 0, 0, 0));
	NEXT("@daily", utc(2024, 1, 31, 10, 0, 0), utc(2024, 2, 1, 0, 0, 0));
	NEXT("@midnight", utc(2024, 1, 3, 0, 0, 0), utc(2024, 1, 4, 0, 0, 0));
	NEXT("@hourly", utc(2024, 1, 3, 10, 20, 0), utc(2024, 1, 3, 11, 0, 0));
	NEXT("@hourly", utc(2024, 1, 3, 23, 0, 0), utc(2024, 1, 4, 0, 0, 0));
	NEXT("@HOURLY", utc(2024, 1, 3, 10, 20, 0), utc(2024, 1, 3, 11, 0, 0));
}
END_TEST

START_TEST(every)
{
	int64_t from = utc(2024, 1, 1, 0, 0, 0) + 123;
	struct cron_schedule s = parse_ok("@every 15s");

	ck_assert(s.every);
	ck_assert_int_eq(s.every_ms, 15000);
	/* A constant delay from the time it is asked, not aligned to the calendar. */
	NEXT("@every 15s", from, from + 15000);
	NEXT("@every 1h30m", from, from + 5400000);
	NEXT("@every 1.5s", from, from + 1500);
	NEXT("@every 250ms", from, from + 250);
	NEXT("@every   2m", from, from + 120000);
	/* dapr/kit/cron keeps whole milliseconds, at least one. */
	NEXT("@every 1500us", from, from + 1);
	NEXT("@every 500ns", from, from + 1);
}
END_TEST

START_TEST(local_time_and_zone_prefix)
{
	set_tz(NEW_YORK);
	/* Without a prefix, fields are in the process's zone: noon in New York in January is 17:00 UTC. */
	NEXT("0 0 12 * * *", utc(2024, 1, 10, 0, 0, 0), utc(2024, 1, 10, 17, 0, 0));
	NEXT("0 0 12 * * *", utc(2024, 7, 10, 0, 0, 0), utc(2024, 7, 10, 16, 0, 0));
	NEXT("@daily", utc(2024, 1, 10, 6, 0, 0), utc(2024, 1, 11, 5, 0, 0));
	/* CRON_TZ=UTC and TZ=UTC read the fields in UTC whatever the process's zone. */
	NEXT("CRON_TZ=UTC 0 0 12 * * *", utc(2024, 1, 10, 0, 0, 0), utc(2024, 1, 10, 12, 0, 0));
	NEXT("TZ=UTC 0 0 12 * * *", utc(2024, 1, 10, 0, 0, 0), utc(2024, 1, 10, 12, 0, 0));
	NEXT("TZ=Etc/UTC @hourly", utc(2024, 1, 10, 0, 30, 0), utc(2024, 1, 10, 1, 0, 0));
	NEXT("CRON_TZ=Local 0 0 12 * * *", utc(2024, 1, 10, 0, 0, 0), utc(2024, 1, 10, 17, 0, 0));
}
END_TEST

START_TEST(daylight_saving_changes)
{
	set_tz(NEW_YORK);
	/* 2024-03-10 02:30 does not exist in New York: that day is skipped, as in Dapr. */
	NEXT("0 30 2 * * *", utc(2024, 3, 9, 12, 0, 0), utc(2024, 3, 11, 6, 30, 0));
	/* Hourly ticks go on across the gap: 01:00 EST, then 03:00 EDT. */
	NEXT("@hourly", utc(2024, 3, 10, 6, 0, 0), utc(2024, 3, 10, 7, 0, 0));
	/* 2024-11-03 01:30 happens twice; Dapr fires at both. */
	NEXT("0 30 1 * * *", utc(2024, 11, 3, 5, 0, 0), utc(2024, 11, 3, 5, 30, 0));
	NEXT("0 30 1 * * *", utc(2024, 11, 3, 5, 30, 0), utc(2024, 11, 3, 6, 30, 0));
	NEXT("0 30 1 * * *", utc(2024, 11, 3, 6, 30, 0), utc(2024, 11, 4, 6, 30, 0));
	/* Midnight stays midnight in both offsets. */
	NEXT("@daily", utc(2024, 3, 10, 12, 0, 0), utc(2024, 3, 11, 4, 0, 0));
}
END_TEST

struct refusal {
	const char *text;
	const char *message; /* a part of the message that must be there */
};

static const struct refusal refusals[] = {
	{ "", "it is empty" },
	{ "   ", "it is empty" },
	{ "* * * *",
	  "expected 5 or 6 fields ([second] minute hour day-of-month month day-of-week), found 4" },
	{ "* * * * * * *", "more than 6 fields" },
	{ "60 * * * * *", "field 1 (second) \"60\": 60 is out of range; use 0 to 59" },
	{ "* 60 * * * *", "field 2 (minute) \"60\": 60 is out of range; use 0 to 59" },
	{ "* * 24 * * *", "field 3 (hour) \"24\": 24 is out of range; use 0 to 23" },
	{ "* * * 0 * *", "field 4 (day-of-month) \"0\": 0 is out of range; use 1 to 31" },
	{ "* * * 32 * *", "field 4 (day-of-month) \"32\": 32 is out of range; use 1 to 31" },
	{ "* * * * 13 *", "field 5 (month) \"13\": 13 is out of range; use 1 to 12 or JAN-DEC" },
	{ "* * * * 0 *", "field 5 (month) \"0\": 0 is out of range" },
	/* Dapr's parser takes 0-6 only, whatever its docs say of 7. */
	{ "* * * * * 7",
	  "field 6 (day-of-week) \"7\": 7 is out of range; use 0 to 6 or SUN-SAT (Sunday is 0)" },
	/* Five fields: counted as written. */
	{ "60 * * * *", "field 1 (minute) \"60\": 60 is out of range; use 0 to 59" },
	{ "* * * * 8", "field 5 (day-of-week) \"8\"" },
	{ "*/0 * * * * *", "field 1 (second) \"*/0\": the step \"0\" is not a positive number" },
	{ "1-5/ * * * * *", "the step \"\" is not a positive number" },
	{ "*/x * * * * *", "the step \"x\" is not a positive number" },
	{ "5-1 * * * * *", "field 1 (second) \"5-1\": the range 5-1 runs backwards" },
	{ "* * * * * FRI-MON", "the range 5-1 runs backwards" },
	{ "a * * * * *", "field 1 (second) \"a\": \"a\" is not a number, '*' or '?'" },
	{ "MON * * * * *", "\"MON\" is not a number" },
	{ "* * * * JANUARY *", "\"JANUARY\" is not a number or JAN-DEC" },
	{ "* * * * * MON-", "\"MON-\" is not a range N-M" },
	{ "-1 * * * * *", "is not a range N-M" },
	{ "*-5 * * * * *", "\"*-5\" is not a range N-M" },
	{ "1-2-3 * * * * *", "is not a range N-M" },
	{ "1,,2 * * * * *", "field 1 (second) \"1,,2\": an empty item in the list" },
	{ "1, * * * * *", "an empty item in the list" },
	{ "1/2/3 * * * * *", "more than one '/'" },
	{ "+5 * * * * *", "is not a number" },
	{ "@daly", "unknown descriptor \"@daly\"; use @yearly" },
	{ "@everyday", "unknown descriptor" },
	{ "@every", "@every needs a duration" },
	{ "@every 15", "@every: \"15\" is not a Go duration" },
	{ "@every 15x", "@every: \"15x\" is not a Go duration" },
	{ "@every 1d", "is not a Go duration" },
	{ "@every 0s", "@every: \"0s\" is not a positive duration" },
	{ "@every 0", "is not a positive duration" },
	{ "@every -5s", "is not a positive duration" },
	{ "TZ=America/New_York 0 * * * * *", "time zone \"America/New_York\" is not supported by outrig" },
	{ "CRON_TZ=UTC", "the time zone prefix \"CRON_TZ=UTC\" is not followed by a schedule" },
	{ "CRON_TZ=UTC 61 * * * * *", "field 1 (second) \"61\"" },
};

START_TEST(refused)
{
	const struct refusal *r = &refusals[_i];
	struct cron_schedule s;
	struct outrig_error err = { "" };
	int rc = cron_schedule_parse(r->text, &s, &err);

	ck_assert_msg(rc == OUTRIG_EINVAL, "\"%s\" was accepted (rc %d)", r->text, rc);
	ck_assert_msg(strstr(err.message, r->message) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", r->text,
		      err.message, r->message);
}
END_TEST

START_TEST(go_durations)
{
	static const struct {
		const char *text;
		int64_t ns;
	} good[] = {
		{ "0", 0 },
		{ "15s", INT64_C(15000000000) },
		{ "1h30m", INT64_C(5400000000000) },
		{ "1.5h", INT64_C(5400000000000) },
		{ ".5s", INT64_C(500000000) },
		{ "300ms", INT64_C(300000000) },
		{ "10us", 10000 },
		{ "10\xc2\xb5s", 10000 },
		{ "10\xce\xbcs", 10000 },
		{ "7ns", 7 },
		{ "-2m", INT64_C(-120000000000) },
		{ "+1h", INT64_C(3600000000000) },
		{ "1m1m", INT64_C(120000000000) },
	};
	static const char *const bad[] = { "", "15", "s", "1.5", "1d", "1S", ".", "--1s", "1 s", "9999999h" };
	int64_t ns;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(cron_parse_go_duration(good[i].text, &ns), "\"%s\" refused", good[i].text);
		ck_assert_msg(ns == good[i].ns, "\"%s\": %lld, want %lld", good[i].text, (long long)ns,
			      (long long)good[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cron_parse_go_duration(bad[i], &ns), "\"%s\" accepted", bad[i]);
}
END_TEST

static Suite *cron_schedule_suite(void)
{
	Suite *s = suite_create("cron_schedule");
	TCase *tc = tcase_create("schedule");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, six_fields_with_seconds);
	tcase_add_test(tc, five_fields_have_second_zero);
	tcase_add_test(tc, lists_ranges_and_steps);
	tcase_add_test(tc, month_and_day_names);
	tcase_add_test(tc, day_of_month_and_day_of_week);
	tcase_add_test(tc, never_within_five_years);
	tcase_add_test(tc, descriptors);
	tcase_add_test(tc, every);
	tcase_add_test(tc, local_time_and_zone_prefix);
	tcase_add_test(tc, daylight_saving_changes);
	tcase_add_loop_test(tc, refused, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(tc, go_durations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cron_schedule_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
