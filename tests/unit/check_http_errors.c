/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/http_errors.c: Dapr's errorCode strings and the HTTP status of plugin results. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include <outrig/status.h>

#include "api/http/http_errors.h"

static const struct {
	enum api_error e;
	const char *code;
} codes[] = {
	{ API_ERR_MALFORMED_REQUEST, "ERR_MALFORMED_REQUEST" },
	{ API_ERR_ILLEGAL_KEY, "ERR_MALFORMED_REQUEST" },
	{ API_ERR_BAD_REQUEST, "ERR_BAD_REQUEST" },
	{ API_ERR_BODY_READ, "ERR_BODY_READ" },
	{ API_ERR_BODY_TOO_LARGE, "ERR_BODY_TOO_LARGE" },
	{ API_ERR_NOT_FOUND, "ERR_NOT_FOUND" },
	{ API_ERR_METHOD_NOT_ALLOWED, "ERR_METHOD_NOT_ALLOWED" },
	{ API_ERR_API_UNIMPLEMENTED, "ERR_API_UNIMPLEMENTED" },
	{ API_ERR_INTERNAL, "ERR_INTERNAL" },
	{ API_ERR_STATE_STORE_NOT_CONFIGURED, "ERR_STATE_STORE_NOT_CONFIGURED" },
	{ API_ERR_STATE_STORE_NOT_FOUND, "ERR_STATE_STORE_NOT_FOUND" },
	{ API_ERR_STATE_GET, "ERR_STATE_GET" },
	{ API_ERR_STATE_BULK_GET, "ERR_STATE_BULK_GET" },
	{ API_ERR_STATE_SAVE, "ERR_STATE_SAVE" },
	{ API_ERR_STATE_DELETE, "ERR_STATE_DELETE" },
	{ API_ERR_STATE_TRANSACTION, "ERR_STATE_TRANSACTION" },
	{ API_ERR_STATE_OPERATION_NOT_SUPPORTED, "ERR_NOT_SUPPORTED_STATE_OPERATION" },
	{ API_ERR_STATE_TRANSACTIONS_NOT_SUPPORTED, "ERR_STATE_STORE_NOT_SUPPORTED" },
	{ API_ERR_STATE_QUERY_NOT_SUPPORTED, "ERR_STATE_STORE_NOT_SUPPORTED" },
	{ API_ERR_STATE_TOO_MANY_TRANSACTIONS, "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS" },
	{ API_ERR_HEALTH_NOT_READY, "ERR_HEALTH_NOT_READY" },
	{ API_ERR_HEALTH_APPID_NOT_MATCH, "ERR_HEALTH_APPID_NOT_MATCH" },
	{ API_ERR_OUTBOUND_HEALTH_NOT_READY, "ERR_OUTBOUND_HEALTH_NOT_READY" },
	{ API_ERR_PUBSUB_NOT_CONFIGURED, "ERR_PUBSUB_NOT_CONFIGURED" },
	{ API_ERR_PUBSUB_EMPTY, "ERR_PUBSUB_EMPTY" },
	{ API_ERR_PUBSUB_NOT_FOUND, "ERR_PUBSUB_NOT_FOUND" },
	{ API_ERR_PUBSUB_TOPIC_NAME_EMPTY, "ERR_TOPIC_NAME_EMPTY" },
	{ API_ERR_PUBSUB_FORBIDDEN, "ERR_PUBSUB_FORBIDDEN" },
	{ API_ERR_PUBSUB_REQUEST_METADATA, "ERR_PUBSUB_REQUEST_METADATA" },
	{ API_ERR_PUBSUB_CLOUD_EVENTS_SER, "ERR_PUBSUB_CLOUD_EVENTS_SER" },
	{ API_ERR_PUBSUB_EVENTS_SER, "ERR_PUBSUB_EVENTS_SER" },
	{ API_ERR_PUBSUB_PUBLISH_MESSAGE, "ERR_PUBSUB_PUBLISH_MESSAGE" },
	{ API_ERR_PUBSUB_TEST_NOT_FOUND, "ERR_PUBSUB_NOT_FOUND" },
};

#define CODE_COUNT (sizeof(codes) / sizeof(codes[0]))

START_TEST(test_error_code)
{
	const char *got = api_error_code(codes[_i].e);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, codes[_i].code);
}
END_TEST

/* The list above covers every enum value: a new one must be added there too. */
START_TEST(test_every_code_listed)
{
	ck_assert_int_eq(CODE_COUNT, API_ERR_PUBSUB_TEST_NOT_FOUND + 1);
	for (size_t i = 0; i < CODE_COUNT; i++)
		ck_assert_int_eq(codes[i].e, (int)i);
}
END_TEST

START_TEST(test_plugin_result_status)
{
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_ECONFLICT), 409);
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_EBADETAG), 400);
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_EINVAL), 400);
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_ENOTFOUND), 500);
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_EUNAVAIL), 500);
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_ETIMEDOUT), 500);
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_ENOTSUP), 500);
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_ENOMEM), 500);
	ck_assert_int_eq(api_status_for_plugin_result(OUTRIG_EINTERNAL), 500);
	ck_assert_int_eq(api_status_for_plugin_result(-1000), 500);
	ck_assert_int_eq(api_status_for_plugin_result(42), 500);
}
END_TEST

static Suite *http_errors_suite(void)
{
	Suite *s = suite_create("http_errors");
	TCase *tc = tcase_create("table");

	tcase_add_loop_test(tc, test_error_code, 0, (int)CODE_COUNT);
	tcase_add_test(tc, test_every_code_listed);
	tcase_add_test(tc, test_plugin_result_status);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_errors_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
