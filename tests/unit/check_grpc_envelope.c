/* SPDX-License-Identifier: Apache-2.0 */
/* core/blocks/pubsub/grpc_envelope.c alone: a CloudEvent as OnTopicEvent's request, as daprd shapes it. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "blocks/pubsub/grpc_envelope.h"

static json_t *event(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	ck_assert_msg(j != NULL, "bad test JSON: %s", text);
	return j;
}

static void assert_data(const struct grpc_envelope *e, const char *want, size_t len)
{
	ck_assert_uint_eq(e->ev.len, len);
	ck_assert(memcmp(e->ev.data, want, len) == 0);
}

START_TEST(test_fields_and_extensions)
{
	json_t *ce = event("{\"id\":\"1\",\"source\":\"s\",\"type\":\"t\",\"specversion\":\"1.0\","
			   "\"datacontenttype\":\"text/plain\",\"data\":\"hello\",\"topic\":\"orders\","
			   "\"pubsubname\":\"ps\",\"traceparent\":\"00-x\",\"custom\":{\"n\":1}}");
	struct grpc_envelope e;
	json_t *want;
	char err[200];

	ck_assert_int_eq(grpc_envelope_from_cloudevent(ce, "orders", "ps", "/orders", &e, err, sizeof(err)),
			 0);
	ck_assert_str_eq(e.ev.id, "1");
	ck_assert_str_eq(e.ev.source, "s");
	ck_assert_str_eq(e.ev.type, "t");
	ck_assert_str_eq(e.ev.spec_version, "1.0");
	ck_assert_str_eq(e.ev.data_content_type, "text/plain");
	ck_assert_str_eq(e.ev.topic, "orders");
	ck_assert_str_eq(e.ev.pubsub_name, "ps");
	ck_assert_str_eq(e.ev.path, "/orders");
	assert_data(&e, "hello", sizeof("hello") - 1);
	ck_assert_ptr_eq(e.ev.extensions, e.extensions);
	want = event(
		"{\"topic\":\"orders\",\"pubsubname\":\"ps\",\"traceparent\":\"00-x\",\"custom\":{\"n\":1}}");
	ck_assert(json_equal(e.extensions, want));
	json_decref(want);
	grpc_envelope_free(&e);
	json_decref(ce);
}
END_TEST

START_TEST(test_data_by_type)
{
	struct grpc_envelope e;
	char err[200];
	json_t *ce;

	/* JSON data is written again, compact with sorted keys, as Go's encoder writes it. */
	ce = event(
		"{\"datacontenttype\":\"application/json; charset=utf-8\",\"data\":{\"b\":1,\"a\":[true,null]}}");
	ck_assert_int_eq(grpc_envelope_from_cloudevent(ce, "t", "p", "", &e, err, sizeof(err)), 0);
	assert_data(&e, "{\"a\":[true,null],\"b\":1}", sizeof("{\"a\":[true,null],\"b\":1}") - 1);
	grpc_envelope_free(&e);
	json_decref(ce);
	ce = event("{\"datacontenttype\":\"application/cloudevents+json\",\"data\":\"str\"}");
	ck_assert_int_eq(grpc_envelope_from_cloudevent(ce, "t", "p", "", &e, err, sizeof(err)), 0);
	assert_data(&e, "\"str\"", sizeof("\"str\"") - 1);
	grpc_envelope_free(&e);
	json_decref(ce);
	/* data_base64 wins, decoded. */
	ce = event("{\"datacontenttype\":\"application/octet-stream\",\"data_base64\":\"AAEC/w==\"}");
	ck_assert_int_eq(grpc_envelope_from_cloudevent(ce, "t", "p", "", &e, err, sizeof(err)), 0);
	assert_data(&e, "\x00\x01\x02\xff", sizeof("\x00\x01\x02\xff") - 1);
	ck_assert_int_eq(json_object_size(e.extensions), 0);
	grpc_envelope_free(&e);
	json_decref(ce);
	/* Another type with plain data: daprd sends none. */
	ce = event("{\"datacontenttype\":\"application/octet-stream\",\"data\":\"raw\"}");
	ck_assert_int_eq(grpc_envelope_from_cloudevent(ce, "t", "p", "", &e, err, sizeof(err)), 0);
	ck_assert_ptr_null(e.ev.data);
	ck_assert_uint_eq(e.ev.len, 0);
	grpc_envelope_free(&e);
	json_decref(ce);
	/* application/xml is text. */
	ce = event("{\"datacontenttype\":\"application/xml\",\"data\":\"<a/>\"}");
	ck_assert_int_eq(grpc_envelope_from_cloudevent(ce, "t", "p", "", &e, err, sizeof(err)), 0);
	assert_data(&e, "<a/>", sizeof("<a/>") - 1);
	grpc_envelope_free(&e);
	json_decref(ce);
}
END_TEST

START_TEST(test_refused)
{
	static const char *const bad[][2] = {
		{ "{\"data_base64\":\"not base64!\"}", "not base64" },
		{ "{\"data_base64\":5}", "not a string" },
		{ "{\"datacontenttype\":\"text/plain\",\"data\":{\"a\":1}}", "text/plain" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *ce = event(bad[i][0]);
		struct grpc_envelope e;
		char err[200] = "";

		ck_assert_int_eq(grpc_envelope_from_cloudevent(ce, "t", "p", "", &e, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, bad[i][1]) != NULL, "%s: %s", bad[i][0], err);
		grpc_envelope_free(&e);
		json_decref(ce);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grpc_envelope");
	TCase *tc = tcase_create("envelope");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_fields_and_extensions);
	tcase_add_test(tc, test_data_by_type);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
