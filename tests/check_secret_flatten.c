/* SPDX-License-Identifier: Apache-2.0 */
/* secretstores.local.file's flattening of the secrets file (secret_flatten.c), without the plugin around it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "secret_flatten.h"

static json_t *load(const char *text)
{
	json_t *doc = json_loads(text, 0, NULL);

	ck_assert_ptr_nonnull(doc);
	return doc;
}

START_TEST(test_single_nested)
{
	json_t *doc = load("{\"db\":{\"password\":\"p\",\"port\":5432},\"list\":[true,null]}");
	json_t *secrets = json_object();
	struct outrig_error err = { 0 };

	ck_assert_int_eq(lf_flatten_single(doc, secrets, ":", &err), 0);
	ck_assert_str_eq(
		json_string_value(json_object_get(json_object_get(secrets, "db:password"), "db:password")),
		"p");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(secrets, "db:port"), "db:port")),
			 "5432");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(secrets, "list:0"), "list:0")),
			 "true");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(secrets, "list:1"), "list:1")),
			 "");
	ck_assert_uint_eq(json_object_size(secrets), 4);
	json_decref(secrets);
	json_decref(doc);
}
END_TEST

/*
 * A name made twice once keys are joined is refused, and nothing leaks on the way out (found by
 * fuzz_secret_flatten: each secret's object was made before the error was looked at; the
 * ASan run of this test reports the leak).
 */
START_TEST(test_single_twice)
{
	json_t *doc = load("{\"a\":{\"b\":\"1\",\"c\":\"3\"},\"a:b\":\"2\",\"d\":\"4\"}");
	json_t *secrets = json_object();
	struct outrig_error err = { 0 };

	ck_assert_int_eq(lf_flatten_single(doc, secrets, ":", &err), OUTRIG_EINVAL);
	ck_assert_str_eq(err.message,
			 "the secrets file gives \"a:b\" twice once nested keys are joined; rename one");
	json_decref(secrets);
	json_decref(doc);
}
END_TEST

START_TEST(test_multi)
{
	json_t *doc =
		load("{\"db\":{\"user\":\"u\",\"x\":{\"y\":1}},\"token\":\"t\",\"skip\":[1],\"none\":null}");
	json_t *secrets = json_object();
	struct outrig_error err = { 0 };

	ck_assert_int_eq(lf_flatten_multi(doc, secrets, "/", &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(secrets, "db"), "x/y")), "1");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(secrets, "token"), "token")), "t");
	ck_assert_ptr_null(json_object_get(secrets, "skip"));
	ck_assert_ptr_null(json_object_get(secrets, "none"));
	json_decref(secrets);
	json_decref(doc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("secret_flatten");
	TCase *tc = tcase_create("flatten");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_single_nested);
	tcase_add_test(tc, test_single_twice);
	tcase_add_test(tc, test_multi);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
