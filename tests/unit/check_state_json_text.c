/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a state value's own text in a request body (core/state_json_text.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "blocks/state/state_json_text.h"

/* The compacted text of member name of the object that starts text, or "(none)". */
static const char *member(const char *text, const char *name)
{
	static char out[256];
	const char *end = text + strlen(text), *vend = NULL, *v = sjt_member(text, end, name, &vend);
	size_t len;
	char *c;

	if (v == NULL)
		return "(none)";
	c = sjt_compact(v, vend, &len);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(len, strlen(c));
	snprintf(out, sizeof(out), "%s", c);
	free(c);
	return out;
}

START_TEST(numbers_keep_their_text)
{
	ck_assert_str_eq(member("{\"value\":2.5e3}", "value"), "2.5e3");
	ck_assert_str_eq(member("{\"value\": 0.1 , \"key\":\"k\"}", "value"), "0.1");
	ck_assert_str_eq(member("{\"key\":\"k\",\"value\":-1E-07}", "value"), "-1E-07");
	ck_assert_str_eq(member("{\"value\":12345678901234567890123}", "value"), "12345678901234567890123");
	ck_assert_str_eq(member("{\"value\":true}", "value"), "true");
	ck_assert_str_eq(member("{\"value\":null}", "value"), "null");
}
END_TEST

START_TEST(whitespace_outside_strings_goes)
{
	ck_assert_str_eq(member("{ \"value\" :\n{ \"b\" : [ 1 , 2 ] ,\t\"a\" : \" x , y \" } }", "value"),
			 "{\"b\":[1,2],\"a\":\" x , y \"}");
	/* Escapes, and < > &, stay as the client wrote them. */
	ck_assert_str_eq(member("{\"value\":\"\\u003c<&\\\" }]\"}", "value"), "\"\\u003c<&\\\" }]\"");
}
END_TEST

START_TEST(names_are_matched_as_jansson_reads_them)
{
	/* An escaped name is the same name; of a repeated name the last counts, as in jansson. */
	ck_assert_str_eq(member("{\"valu\\u0065\":1}", "value"), "1");
	ck_assert_str_eq(member("{\"value\":1,\"x\":{\"value\":2},\"value\":[3]}", "value"), "[3]");
	ck_assert_str_eq(member("{\"values\":1,\"valu\":2,\"\\u00e9\":3}", "value"), "(none)");
	ck_assert_str_eq(member("{\"key\":\"value\"}", "value"), "(none)");
	ck_assert_str_eq(member("{}", "value"), "(none)");
	ck_assert_str_eq(member("[1]", "value"), "(none)");
}
END_TEST

START_TEST(array_elements_in_order)
{
	static const char body[] = " [ {\"a\":[1,{\"b\":\"]\"}]} , 2 ,\"x,\" , [] ] ";
	const char *end = body + strlen(body), *e = sjt_first(body, end);
	const char *want[] = { "{\"a\":[1,{\"b\":\"]\"}]}", "2", "\"x,\"", "[]" };

	for (size_t i = 0; i < 4; i++) {
		size_t len;
		char *c;

		ck_assert_ptr_nonnull(e);
		c = sjt_compact(e, sjt_skip(e, end), &len);
		ck_assert_str_eq(c, want[i]);
		free(c);
		e = sjt_next(e, end);
	}
	ck_assert_ptr_null(e);
	ck_assert_ptr_null(sjt_first("[ ]", "[ ]" + 3));
	ck_assert_ptr_null(sjt_first("{}", "{}" + 2));
}
END_TEST

START_TEST(truncated_text_is_never_overrun)
{
	static const char text[] = "{\"value\":\"abc";
	const char *vend;

	/* Not what jansson accepts, but the walk stops at end and gives up. */
	ck_assert_ptr_null(sjt_member(text, text + strlen(text), "value", &vend));
	ck_assert_ptr_null(sjt_skip("[1,", "[1," + 3));
	ck_assert_ptr_null(sjt_member("{\"valu\\u00", "{\"valu\\u00" + 10, "value", &vend));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state_json_text");
	TCase *tc = tcase_create("text");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, numbers_keep_their_text);
	tcase_add_test(tc, whitespace_outside_strings_goes);
	tcase_add_test(tc, names_are_matched_as_jansson_reads_them);
	tcase_add_test(tc, array_elements_in_order);
	tcase_add_test(tc, truncated_text_is_never_overrun);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
