/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/state_keys.c: Dapr's keyPrefix strategies and the "||" separator. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/state/state_keys.h"

static char err[256];
/* What check_prefix() holds, so that teardown frees it when an assertion fails midway. */
static struct key_prefix cur_kp;
static char *cur_stored;

static void setup(void)
{
	unsetenv("NAMESPACE");
	memset(err, 0, sizeof(err));
	cur_kp.prefix = NULL;
	cur_stored = NULL;
}

static void teardown(void)
{
	free(cur_stored);
	cur_stored = NULL;
	key_prefix_free(&cur_kp);
	unsetenv("NAMESPACE");
}

/* Resolves setting and checks both the prefix and the stored form of "order1". */
static void check_prefix(const char *setting, const char *app_id, const char *store, const char *want_prefix,
			 const char *want_key)
{
	ck_assert_msg(key_prefix_init(&cur_kp, setting, app_id, store, err, sizeof(err)) == 0,
		      "keyPrefix %s refused: %s", setting != NULL ? setting : "(default)", err);
	ck_assert_ptr_nonnull(cur_kp.prefix);
	ck_assert_msg(strcmp(cur_kp.prefix, want_prefix) == 0,
		      "keyPrefix %s, app id \"%s\": prefix \"%s\", expected \"%s\"",
		      setting != NULL ? setting : "(default)", app_id != NULL ? app_id : "(null)",
		      cur_kp.prefix, want_prefix);
	cur_stored = state_key_make(&cur_kp, "order1");
	ck_assert_ptr_nonnull(cur_stored);
	ck_assert_str_eq(cur_stored, want_key);
	ck_assert_str_eq(state_key_strip(cur_stored), "order1");
	free(cur_stored);
	cur_stored = NULL;
	key_prefix_free(&cur_kp);
	ck_assert_ptr_null(cur_kp.prefix);
}

START_TEST(test_appid_default)
{
	check_prefix(NULL, "myapp", "statestore", "myapp", "myapp||order1");
	check_prefix("appid", "myapp", "statestore", "myapp", "myapp||order1");
	check_prefix("AppID", "myapp", "statestore", "myapp", "myapp||order1");
	check_prefix("APPID", "myapp", "statestore", "myapp", "myapp||order1");
}
END_TEST

START_TEST(test_appid_without_app_id)
{
	check_prefix(NULL, "", "statestore", "", "order1");
	check_prefix(NULL, NULL, "statestore", "", "order1");
	check_prefix("appid", "", "statestore", "", "order1");
}
END_TEST

START_TEST(test_name)
{
	check_prefix("name", "myapp", "statestore", "statestore", "statestore||order1");
	check_prefix("NAME", "myapp", "cache", "cache", "cache||order1");
	/* The store's name does not depend on an app id. */
	check_prefix("name", "", "statestore", "statestore", "statestore||order1");
}
END_TEST

START_TEST(test_namespace_unset)
{
	/* Without NAMESPACE, Dapr falls back to the app id. */
	check_prefix("namespace", "myapp", "statestore", "myapp", "myapp||order1");
	setenv("NAMESPACE", "", 1);
	check_prefix("Namespace", "myapp", "statestore", "myapp", "myapp||order1");
}
END_TEST

START_TEST(test_namespace_set)
{
	setenv("NAMESPACE", "production", 1);
	check_prefix("namespace", "myapp", "statestore", "production.myapp", "production.myapp||order1");
	/* NAMESPACE only matters to the namespace strategy. */
	check_prefix("appid", "myapp", "statestore", "myapp", "myapp||order1");
	check_prefix("name", "myapp", "statestore", "statestore", "statestore||order1");
}
END_TEST

/* Dapr: `case strategyNamespace: if appID == "" { return key, nil }`, and the header's "no app id" rule. */
START_TEST(test_namespace_set_without_app_id)
{
	setenv("NAMESPACE", "production", 1);
	check_prefix("namespace", "", "statestore", "", "order1");
}
END_TEST

START_TEST(test_none)
{
	check_prefix("none", "myapp", "statestore", "", "order1");
	check_prefix("NONE", "myapp", "statestore", "", "order1");
}
END_TEST

START_TEST(test_literal)
{
	check_prefix("shared", "myapp", "statestore", "shared", "shared||order1");
	check_prefix("team-a.v2", "", "statestore", "team-a.v2", "team-a.v2||order1");
}
END_TEST

START_TEST(test_separator_refused)
{
	struct key_prefix kp = { NULL };

	ck_assert_int_eq(key_prefix_init(&kp, "a||b", "myapp", "statestore", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "keyPrefix \"a||b\" contains \"||\", which separates the prefix from "
			      "the key; choose a prefix without it");
	ck_assert_ptr_null(kp.prefix);

	/* An app id that holds the separator cannot be a prefix either. */
	memset(err, 0, sizeof(err));
	ck_assert_int_eq(key_prefix_init(&kp, NULL, "my||app", "statestore", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "keyPrefix \"my||app\" contains \"||\", which separates the prefix from "
			      "the key; choose a prefix without it");
	ck_assert_ptr_null(kp.prefix);

	/* A single bar is fine. */
	check_prefix("a|b", "myapp", "statestore", "a|b", "a|b||order1");
}
END_TEST

START_TEST(test_strip)
{
	ck_assert_str_eq(state_key_strip("myapp||order1"), "order1");
	ck_assert_str_eq(state_key_strip("order1"), "order1");
	ck_assert_str_eq(state_key_strip("||order1"), "order1");
	ck_assert_str_eq(state_key_strip("myapp||"), "");
	ck_assert_str_eq(state_key_strip("a||b||c"), "b||c");
	ck_assert_str_eq(state_key_strip("a|b"), "a|b");
	ck_assert_str_eq(state_key_strip(""), "");
}
END_TEST

START_TEST(test_valid)
{
	ck_assert(state_key_valid("order1"));
	ck_assert(state_key_valid("a|b"));
	ck_assert(state_key_valid("with space/and:colon"));
	ck_assert(!state_key_valid(""));
	ck_assert(!state_key_valid(NULL));
	ck_assert(!state_key_valid("a||b"));
	ck_assert(!state_key_valid("||"));
	ck_assert(!state_key_valid("key||"));
}
END_TEST

START_TEST(test_make_unprefixed_copies)
{
	struct key_prefix kp = { NULL };
	const char *key = "order1";
	char *stored = state_key_make(&kp, key);

	ck_assert_ptr_nonnull(stored);
	ck_assert_str_eq(stored, "order1");
	ck_assert_ptr_ne(stored, key);
	free(stored);
}
END_TEST

static Suite *state_keys_suite(void)
{
	Suite *s = suite_create("state_keys");
	TCase *tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_appid_default);
	tcase_add_test(tc, test_appid_without_app_id);
	tcase_add_test(tc, test_name);
	tcase_add_test(tc, test_namespace_unset);
	tcase_add_test(tc, test_namespace_set);
	tcase_add_test(tc, test_namespace_set_without_app_id);
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_literal);
	tcase_add_test(tc, test_separator_refused);
	tcase_add_test(tc, test_strip);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_make_unprefixed_copies);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_keys_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
