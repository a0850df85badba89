/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/blocks/invoke/invoke_request.c: method paths, targets and which headers travel, with no transport. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/invoke/invoke_request.h"

static struct kv_list in, out;

static void setup(void)
{
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
}

static void teardown(void)
{
	kv_free(&in);
	kv_free(&out);
}

static void check_clean(const char *raw, const char *want)
{
	char *got = invoke_clean_path(raw);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "clean(\"%s\") = \"%s\", want \"%s\"", raw, got, want);
	free(got);
}

/* The table of core/api/internal/internal_protocol.md, and the edges around it. */
START_TEST(method_paths_are_cleaned_on_the_raw_text)
{
	check_clean("a/../b", "/b");
	check_clean("../../v1.0/state/x", "/v1.0/state/x");
	check_clean("./x//y/", "/x/y/");
	check_clean("a%2Fb", "/a%2Fb");
	check_clean("%2e%2e/secret", "/%2e%2e/secret");
	check_clean("", "/");
	check_clean("..", "/");
	check_clean("a/b/..", "/a");
	check_clean("a/b/../", "/a/");
	check_clean("/abs", "/abs");
}
END_TEST

START_TEST(query_travels_byte_for_byte)
{
	char *p = invoke_method_path("a/../m", "x=1&y=%20+");

	ck_assert_str_eq(p, "/m?x=1&y=%20+");
	free(p);
	p = invoke_method_path("m", "");
	ck_assert_str_eq(p, "/m?");
	free(p);
	p = invoke_method_path("m", NULL);
	ck_assert_str_eq(p, "/m");
	free(p);
}
END_TEST

/* What gRPC can name but a request line cannot carry. */
START_TEST(bytes_that_cannot_travel)
{
	static const char *const bad_methods[] = { "a b", "x\r\nHost: y", "a\tb", "a#b",
						   "a?b", "a\x7f",	  "\x01" };
	const char *ok = "a/%2e%2e/b%20c/\xc3\xa9\"";

	for (size_t i = 0; i < sizeof(bad_methods) / sizeof(bad_methods[0]); i++)
		ck_assert_msg(invoke_bad_byte(bad_methods[i], false) != NULL, "method %zu passed", i);
	ck_assert_ptr_null(invoke_bad_byte(ok, false));
	ck_assert_ptr_null(invoke_bad_byte("", false));
	/* A query may hold '?', never a space or a fragment. */
	ck_assert_ptr_null(invoke_bad_byte("a=1?&b=%20", true));
	ck_assert_ptr_nonnull(invoke_bad_byte("a=1 2", true));
	ck_assert_ptr_nonnull(invoke_bad_byte("a=1#f", true));
	ck_assert(*invoke_bad_byte("ab\ncd", false) == '\n');
}
END_TEST

START_TEST(targets_split_at_the_last_dot)
{
	char id[8], ns[8];

	ck_assert(invoke_split_target("app", id, sizeof(id), ns, sizeof(ns)));
	ck_assert_str_eq(id, "app");
	ck_assert_str_eq(ns, "");
	ck_assert(invoke_split_target("a.b.prod", id, sizeof(id), ns, sizeof(ns)));
	ck_assert_str_eq(id, "a.b");
	ck_assert_str_eq(ns, "prod");
	ck_assert(!invoke_split_target(".prod", id, sizeof(id), ns, sizeof(ns)));
	ck_assert(!invoke_split_target("toolongid", id, sizeof(id), ns, sizeof(ns)));
	ck_assert(!invoke_split_target("a.toolongns", id, sizeof(id), ns, sizeof(ns)));
}
END_TEST

START_TEST(basic_app_id_form)
{
	/* base64("dapr-app-id:svc") */
	char *id = invoke_basic_app_id("Basic ZGFwci1hcHAtaWQ6c3Zj");

	ck_assert_ptr_nonnull(id);
	ck_assert_str_eq(id, "svc");
	free(id);
	/* base64("user:pass"): another kind of Basic credentials, for the app */
	ck_assert_ptr_null(invoke_basic_app_id("Basic dXNlcjpwYXNz"));
	ck_assert_ptr_null(invoke_basic_app_id("Bearer ZGFwci1hcHAtaWQ6c3Zj"));
	ck_assert_ptr_null(invoke_basic_app_id(NULL));
}
END_TEST

START_TEST(request_headers_that_travel)
{
	static const char *const kept[] = { "Content-Type",  "X-Custom",    "x-custom",
					    "Authorization", "traceparent", "dapr-something" };
	size_t i;

	kv_add(&in, "Host", "localhost:3500");
	kv_add(&in, "Content-Type", "text/plain");
	kv_add(&in, "Connection", "keep-alive, X-Secret-Hop");
	kv_add(&in, "X-Secret-Hop", "1");
	kv_add(&in, "Keep-Alive", "timeout=5");
	kv_add(&in, "Transfer-Encoding", "chunked");
	kv_add(&in, "Proxy-Authorization", "x");
	kv_add(&in, "Content-Length", "3");
	kv_add(&in, "Expect", "100-continue");
	kv_add(&in, "X-Custom", "one");
	kv_add(&in, "x-custom", "two"); /* a repeated header travels twice, in order */
	kv_add(&in, "dapr-app-id", "svc");
	kv_add(&in, "dapr-api-token", "secret");
	kv_add(&in, "dapr-caller-app-id", "forged");
	kv_add(&in, "DAPR-CALLEE-APP-ID", "forged");
	kv_add(&in, "outrig-caller-app-id", "forged");
	kv_add(&in, "Authorization", "Bearer abc");
	kv_add(&in, "Authorization", "Basic ZGFwci1hcHAtaWQ6c3Zj");
	kv_add(&in, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	kv_add(&in, "dapr-something", "kept");
	ck_assert_int_eq(invoke_copy_request_headers(&in, &out), 0);
	ck_assert_uint_eq(out.count, sizeof(kept) / sizeof(kept[0]));
	for (i = 0; i < out.count; i++)
		ck_assert_str_eq(out.items[i].key, kept[i]);
	ck_assert_str_eq(out.items[1].value, "one");
	ck_assert_str_eq(out.items[2].value, "two");
	ck_assert_str_eq(out.items[3].value, "Bearer abc");
}
END_TEST

START_TEST(response_headers_that_travel_back)
{
	kv_add(&in, "Content-Type", "application/json");
	kv_add(&in, "Content-Length", "12");
	kv_add(&in, "Connection", "X-Hop");
	kv_add(&in, "X-Hop", "1");
	kv_add(&in, "outrig-status", "app");
	kv_add(&in, "Set-Cookie", "a=1");
	kv_add(&in, "Set-Cookie", "b=2");
	invoke_filter_response_headers(&in, false);
	ck_assert_uint_eq(in.count, 3);
	ck_assert_str_eq(in.items[0].key, "Content-Type");
	ck_assert_str_eq(in.items[1].value, "a=1");
	ck_assert_str_eq(in.items[2].value, "b=2");

	/* A HEAD answer keeps its length: nothing downstream can recompute it. */
	kv_free(&in);
	kv_add(&in, "Content-Length", "12");
	kv_add(&in, "Upgrade", "h2c");
	invoke_filter_response_headers(&in, true);
	ck_assert_uint_eq(in.count, 1);
	ck_assert_str_eq(in.items[0].key, "Content-Length");
}
END_TEST

START_TEST(forwarded_headers_appended_for_this_hop)
{
	const char *tp;

	kv_add(&in, "Host", "api.local:3500");
	kv_add(&in, "X-Forwarded-For", "10.0.0.1");
	kv_add(&in, "Forwarded", "for=10.0.0.1");
	kv_add(&out, "X-Forwarded-For", "10.0.0.1");
	kv_add(&out, "X-Forwarded-Host", "spoofed");
	kv_add(&out, "traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01");
	kv_add(&out, "tracestate", "x=1");
	ck_assert_int_eq(invoke_add_forwarded(&out, &in, "::1", "127.0.0.1"), 0);
	ck_assert_str_eq(invoke_header(&out, "X-Forwarded-For"), "10.0.0.1, ::1");
	ck_assert_str_eq(invoke_header(&out, "Forwarded"),
			 "for=10.0.0.1, for=\"[::1]\";by=127.0.0.1;host=api.local:3500");
	ck_assert_str_eq(invoke_header(&out, "X-Forwarded-Host"), "api.local:3500");
	/* An invalid (all-zero) trace id starts a new, unsampled trace; its tracestate goes with it. */
	tp = invoke_header(&out, "traceparent");
	ck_assert_ptr_nonnull(tp);
	ck_assert_uint_eq(strlen(tp), 55);
	ck_assert(strncmp(tp, "00-", 3) == 0 && strcmp(tp + 52, "-00") == 0);
	ck_assert_str_ne(tp + 3, "00000000000000000000000000000000-b7ad6b7169203331-01");
	ck_assert_ptr_null(invoke_header(&out, "tracestate"));
}
END_TEST

START_TEST(forwarded_when_addresses_are_unknown)
{
	static const char *valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

	kv_add(&out, "traceparent", valid);
	ck_assert_int_eq(invoke_add_forwarded(&out, &in, NULL, NULL), 0);
	ck_assert_str_eq(invoke_header(&out, "X-Forwarded-For"), "unknown");
	ck_assert_str_eq(invoke_header(&out, "Forwarded"), "for=unknown;by=unknown");
	ck_assert_ptr_null(invoke_header(&out, "X-Forwarded-Host"));
	ck_assert_str_eq(invoke_header(&out, "traceparent"), valid);
}
END_TEST

static Suite *invoke_request_suite(void)
{
	Suite *s = suite_create("invoke_request");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, method_paths_are_cleaned_on_the_raw_text);
	tcase_add_test(tc, query_travels_byte_for_byte);
	tcase_add_test(tc, bytes_that_cannot_travel);
	tcase_add_test(tc, targets_split_at_the_last_dot);
	tcase_add_test(tc, basic_app_id_form);
	tcase_add_test(tc, request_headers_that_travel);
	tcase_add_test(tc, response_headers_that_travel_back);
	tcase_add_test(tc, forwarded_headers_appended_for_this_hop);
	tcase_add_test(tc, forwarded_when_addresses_are_unknown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(invoke_request_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
