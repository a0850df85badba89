/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/duration.c: Go durations and bare seconds in, milliseconds out. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"

/* A value *ms never holds after a successful parse in these tests. */
#define UNTOUCHED INT64_C(-777777)

struct good_case {
	const char *text;
	int64_t ms;
};

static const struct good_case good_cases[] = {
	{ "0", 0 },
	{ "00", 0 },
	{ "0s", 0 },
	{ "-0", 0 },
	{ "5s", 5000 },
	{ "250ms", 250 },
	{ "1m", 60000 },
	{ "1h", 3600000 },
	{ "1h30m", 5400000 },
	{ "1h30m15s", 5415000 },
	{ "2h45m30s500ms", 9930500 },
	{ "1.5h", 5400000 },
	{ "0.5s", 500 },
	{ ".5s", 500 },
	{ "1.25m", 75000 },
	{ "-1s", -1000 },
	{ "-1.5h", -5400000 },
	{ "+2s", 2000 },
	{ "1000us", 1 },
	{ "1000\xc2\xb5s", 1 },
	{ "2000000ns", 2 },
	{ "1m1m", 120000 },
	/* Bare integers are seconds, as Dapr's metadata decoder reads them. */
	{ "30", 30000 },
	{ "1", 1000 },
	{ "-5", -5000 },
	{ "+7", 7000 },
	{ "86400", 86400000 },
};

static const char *const bad_cases[] = {
	"",	  "5x", "s",  "ms", "1h5",  "abc", "h1", " 5s",	 "5s ", " 5", "5 ",  "1 s", "1h-5m", "1.5",
	"1.5.5s", ".",	".s", "-s", "--1s", "1S",  "1H", "1sec", "5mm", "1d", "1hh", "0x",  "s5",
};

/* Fails once, naming every text of the list that was accepted (and as what). */
static void assert_all_refused(const char *const *texts, size_t n)
{
	char accepted[1024] = "";

	for (size_t i = 0; i < n; i++) {
		int64_t ms = UNTOUCHED;
		size_t used = strlen(accepted);

		if (duration_parse_ms(texts[i], &ms))
			snprintf(accepted + used, sizeof(accepted) - used, " \"%s\" -> %lld ms;", texts[i],
				 (long long)ms);
		else if (ms != UNTOUCHED)
			snprintf(accepted + used, sizeof(accepted) - used, " \"%s\" refused but *ms = %lld;",
				 texts[i], (long long)ms);
	}
	ck_assert_msg(accepted[0] == '\0', "accepted:%s", accepted);
}

START_TEST(test_good)
{
	const struct good_case *c = &good_cases[_i];
	int64_t ms = UNTOUCHED;

	ck_assert_msg(duration_parse_ms(c->text, &ms), "\"%s\" was refused", c->text);
	ck_assert_msg(ms == c->ms, "\"%s\": expected %lld ms, got %lld ms", c->text, (long long)c->ms,
		      (long long)ms);
}
END_TEST

START_TEST(test_bad)
{
	const char *text = bad_cases[_i];
	int64_t ms = UNTOUCHED;

	ck_assert_msg(!duration_parse_ms(text, &ms), "\"%s\" was accepted as %lld ms", text, (long long)ms);
	ck_assert_msg(ms == UNTOUCHED, "\"%s\": *ms changed to %lld on failure", text, (long long)ms);
}
END_TEST

START_TEST(test_null_refused)
{
	int64_t ms = UNTOUCHED;

	ck_assert(!duration_parse_ms(NULL, &ms));
	ck_assert(ms == UNTOUCHED);
}
END_TEST

/* A sign with no number is not a duration (Go: time: invalid duration "-"). */
START_TEST(test_lone_sign_refused)
{
	static const char *const signs[] = { "-", "+" };

	assert_all_refused(signs, sizeof(signs) / sizeof(signs[0]));
}
END_TEST

/* Go's grammar is [0-9]*(\.[0-9]*)?unit: no exponents, no hex, no inf. */
START_TEST(test_not_go_numbers_refused)
{
	static const char *const texts[] = { "1e3s", "1E3ms", "0x10s", "0x1p4s" };

	assert_all_refused(texts, sizeof(texts) / sizeof(texts[0]));
}
END_TEST

/* Go parses the fraction exactly: "1.001s" is 1001 ms, not 1000.9999... truncated. */
START_TEST(test_fraction_exact)
{
	char text[32];
	int wrong = 0;
	int first_bad = -1;
	int64_t first_got = 0;

	for (int frac = 0; frac < 1000; frac++) {
		int64_t ms = UNTOUCHED;

		snprintf(text, sizeof(text), "1.%03ds", frac);
		ck_assert_msg(duration_parse_ms(text, &ms), "\"%s\" was refused", text);
		if (ms != 1000 + frac) {
			if (first_bad < 0) {
				first_bad = frac;
				first_got = ms;
			}
			wrong++;
		}
	}
	ck_assert_msg(wrong == 0, "%d of 1000 values 1.000s..1.999s are off, first \"1.%03ds\" -> %lld ms",
		      wrong, first_bad, (long long)first_got);
}
END_TEST

START_TEST(test_fraction_spot)
{
	int64_t ms = UNTOUCHED;

	ck_assert(duration_parse_ms("1.001s", &ms));
	ck_assert_int_eq(ms, 1001);
	ck_assert(duration_parse_ms("0.007s", &ms));
	ck_assert_int_eq(ms, 7);
}
END_TEST

/* Values that do not fit in int64 milliseconds are refused (Go: invalid duration), not wrapped. */
START_TEST(test_overflow_refused)
{
	static const char *const texts[] = {
		"10000000000000000", /* seconds: * 1000 overflows int64 */
		"99999999999999999999h",
		"9999999999999999999",
	};

	assert_all_refused(texts, sizeof(texts) / sizeof(texts[0]));
}
END_TEST

START_TEST(test_largest_bare_seconds)
{
	int64_t ms = UNTOUCHED;

	ck_assert(duration_parse_ms("9223372036854775", &ms));
	ck_assert(ms == INT64_C(9223372036854775000));
}
END_TEST

static Suite *duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_good, 0, (int)(sizeof(good_cases) / sizeof(good_cases[0])));
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_null_refused);
	tcase_add_test(tc, test_lone_sign_refused);
	tcase_add_test(tc, test_not_go_numbers_refused);
	tcase_add_test(tc, test_fraction_exact);
	tcase_add_test(tc, test_fraction_spot);
	tcase_add_test(tc, test_overflow_refused);
	tcase_add_test(tc, test_largest_bare_seconds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(duration_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
