/* SPDX-License-Identifier: Apache-2.0 */
/* core/channels/app_grpc_http.c alone: an HTTP caller's headers as gRPC metadata, and a gRPC app's answer as HTTP. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "channels/app_grpc_http.h"

START_TEST(test_metadata_from_http)
{
	static const char *const in[][2] = {
		{ "Content-Type", "application/json" },
		{ "Accept", "*/*" },
		{ "If-Match", "\"3\"" },
		{ "Cookie", "a=b" },
		{ "Content-Length", "12" },
		{ "X-Foo", "bar" },
		{ "User-Agent", "curl/8" },
		{ "Host", "127.0.0.1:3500" },
		{ "destination-app-id", "b" },
		{ "traceparent", "00-x" },
	};
	static const char *const want[][2] = {
		{ "dapr-content-type", "application/json" },
		{ "dapr-accept", "*/*" },
		{ "dapr-if-match", "\"3\"" },
		{ "dapr-cookie", "a=b" },
		{ "dapr-content-length", "12" },
		{ "x-foo", "bar" },
		{ "user-agent", "curl/8" },
		{ "traceparent", "00-x" },
	};
	struct kv_list h = { 0 }, md = { 0 };

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_int_eq(kv_set(&h, in[i][0], in[i][1]), 0);
	ck_assert_int_eq(app_grpc_metadata_from_http(&h, &md), 0);
	ck_assert_uint_eq(md.count, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *v = kv_get(&md, want[i][0]);

		ck_assert_msg(v != NULL, "no %s", want[i][0]);
		ck_assert_str_eq(v, want[i][1]);
	}
	ck_assert_int_eq(app_grpc_metadata_from_http(NULL, &md), 0);
	kv_free(&h);
	kv_free(&md);
}
END_TEST

START_TEST(test_http_status)
{
	static const int want[17] = { 200, 408, 500, 400, 504, 404, 409, 403, 429,
				      400, 409, 400, 501, 500, 503, 500, 401 };

	for (int code = 0; code <= 16; code++)
		ck_assert_int_eq(app_grpc_http_status(code), want[code]);
	ck_assert_int_eq(app_grpc_http_status(-1), 500);
	ck_assert_int_eq(app_grpc_http_status(17), 500);
}
END_TEST

static struct app_grpc_invoke_result ok_result(const char *data, const char *type_url,
					       const char *content_type, const struct kv_list *headers)
{
	static const struct kv_list none = { 0 };
	struct app_grpc_invoke_result r = {
		.message = "",
		.data = data,
		.len = data != NULL ? strlen(data) : 0,
		.data_type_url = type_url,
		.content_type = content_type,
		.headers = headers != NULL ? headers : &none,
		.trailers = &none,
		.status_details_bin = "",
	};

	return r;
}

START_TEST(test_answer_ok)
{
	struct app_grpc_invoke_result r = ok_result("{\"a\":1}", "", "application/json", NULL);
	struct app_grpc_http_answer a;

	ck_assert_int_eq(app_grpc_http_answer(&r, &a), 0);
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(a.content_type, "application/json");
	ck_assert_uint_eq(a.len, 7);
	ck_assert(memcmp(a.body, "{\"a\":1}", 7) == 0);
	app_grpc_http_answer_free(&a);
	/* Typed data is protobuf, whatever content type the app named. */
	r = ok_result("\x08\x01", "type.googleapis.com/x.Y", "application/json", NULL);
	ck_assert_int_eq(app_grpc_http_answer(&r, &a), 0);
	ck_assert_str_eq(a.content_type, "application/x-protobuf");
	app_grpc_http_answer_free(&a);
	/* No content type: none is set. */
	r = ok_result(NULL, "", "", NULL);
	ck_assert_int_eq(app_grpc_http_answer(&r, &a), 0);
	ck_assert_int_eq(a.status, 200);
	ck_assert_ptr_null(a.content_type);
	ck_assert_uint_eq(a.len, 0);
	app_grpc_http_answer_free(&a);
}
END_TEST

START_TEST(test_answer_headers)
{
	static const char *const in[][2] = {
		{ "x-answer", "yes" },
		{ "grpc-accept-encoding", "gzip" },
		{ "content-type", "application/grpc" },
		{ "content-length", "9" },
		{ "x-data-bin", "AAE=" },
		{ "connection", "close" },
		{ "te", "trailers" },
		{ "traceparent", "00-y" },
		{ "date", "Mon" },
	};
	struct kv_list h = { 0 };
	struct app_grpc_invoke_result r;
	struct app_grpc_http_answer a;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_int_eq(kv_set(&h, in[i][0], in[i][1]), 0);
	r = ok_result("x", "", "text/plain", &h);
	ck_assert_int_eq(app_grpc_http_answer(&r, &a), 0);
	ck_assert_uint_eq(a.headers.count, 4);
	ck_assert_str_eq(kv_get(&a.headers, "x-answer"), "yes");
	ck_assert_str_eq(kv_get(&a.headers, "dapr-grpc-accept-encoding"), "gzip");
	ck_assert_str_eq(kv_get(&a.headers, "traceparent"), "00-y");
	ck_assert_str_eq(kv_get(&a.headers, "date"), "Mon");
	app_grpc_http_answer_free(&a);
	kv_free(&h);
}
END_TEST

START_TEST(test_answer_error)
{
	struct app_grpc_invoke_result r = ok_result(NULL, "", "", NULL);
	struct app_grpc_http_answer a;
	json_t *j;

	r.status = 5;
	r.message = "no \"such\" thing";
	ck_assert_int_eq(app_grpc_http_answer(&r, &a), 0);
	ck_assert_int_eq(a.status, 404);
	ck_assert_str_eq(a.content_type, "text/plain; charset=utf-8");
	ck_assert_str_eq(a.body, "{\"code\":5,\"message\":\"no \\\"such\\\" thing\"}");
	ck_assert_uint_eq(a.len, strlen(a.body));
	app_grpc_http_answer_free(&a);
	/* protojson leaves an empty message out. */
	r.status = 14;
	r.message = "";
	ck_assert_int_eq(app_grpc_http_answer(&r, &a), 0);
	ck_assert_int_eq(a.status, 503);
	ck_assert_str_eq(a.body, "{\"code\":14}");
	app_grpc_http_answer_free(&a);
	/* A message that is not UTF-8 still makes valid JSON. */
	r.status = 13;
	r.message = "bad \xff byte";
	ck_assert_int_eq(app_grpc_http_answer(&r, &a), 0);
	j = json_loadb(a.body, a.len, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "bad ? byte");
	json_decref(j);
	app_grpc_http_answer_free(&a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("app_grpc_http");
	TCase *tc = tcase_create("bridge");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_metadata_from_http);
	tcase_add_test(tc, test_http_status);
	tcase_add_test(tc, test_answer_ok);
	tcase_add_test(tc, test_answer_headers);
	tcase_add_test(tc, test_answer_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
