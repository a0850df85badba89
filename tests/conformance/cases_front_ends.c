/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance cases across the two front ends: a value saved through one API reads back through the other. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "http_client.h"

/*
 * As in daprd, HTTP stores a value's JSON text and gRPC the bytes it is given, and both hand back
 * what is stored: a JSON string saved over HTTP reads over gRPC with its quotes, and bytes saved
 * over gRPC read over HTTP as they are (GET) or, not being JSON, as a JSON string (bulk get).
 */
START_TEST(across_front_ends)
{
	static const char raw[] = "plain text, not JSON: \x01\xff";
	enum via other = ut.via == VIA_HTTP ? VIA_GRPC : VIA_HTTP;
	json_t *arr, *data;

	REQUIRE_CAPS(0);
	sreq_via(other, &x, "POST", store_path(STORE), NULL,
		 save_body("across-json", "{\"a\":[1,\"b\"]}", NULL, NULL));
	ck_status(&x, 204);
	sreq_via(other, &x, "POST", store_path(STORE), NULL, save_body("across-string", "\"s\"", NULL, NULL));
	ck_status(&x, 204);
	expect_value(STORE, "across-json", "{\"a\":[1,\"b\"]}");
	expect_value(STORE, "across-string", "\"s\"");

	grpc_save_raw(STORE, "across-raw", raw, sizeof(raw) - 1);
	sreq_via(VIA_HTTP, &x, "GET", key_path(STORE, "across-raw"), NULL, NULL);
	ck_status(&x, 200);
	ck_assert_msg(x.r.body_len == sizeof(raw) - 1 && memcmp(x.r.body, raw, sizeof(raw) - 1) == 0,
		      "%s -> %zu bytes %.100s, not the %zu bytes saved over gRPC", x.req, x.r.body_len,
		      XBODY(&x), sizeof(raw) - 1);
	sreq_via(VIA_GRPC, &x, "GET", key_path(STORE, "across-raw"), NULL, NULL);
	ck_status(&x, 200);
	ck_assert_uint_eq(x.r.body_len, sizeof(raw) - 1);
	ck_assert_mem_eq(x.r.body, raw, sizeof(raw) - 1);

	/* Not JSON, so a JSON string; \xff is not UTF-8 either: it reads as U+FFFD, as Go writes such a string. */
	sreq_via(VIA_HTTP, &x, "POST", xfmt("%s/bulk", store_path(STORE)), NULL,
		 "{\"keys\":[\"across-raw\"]}");
	ck_status(&x, 200);
	arr = xjson(&x);
	data = json_object_get(json_array_get(arr, 0), "data");
	ck_assert_msg(json_is_string(data) &&
			      strcmp(json_string_value(data), "plain text, not JSON: \x01\xef\xbf\xbd") == 0,
		      "%s -> %.300s", x.req, XBODY(&x));
	json_decref(arr);
}
END_TEST

/*
 * protobuf-c hands strings to C as C strings: a key "nul-a\0x" would reach the store as "nul-a".
 * It is refused, as over HTTP, and "nul-a" keeps its value.
 */
START_TEST(nul_in_grpc_key)
{
	/* SaveStateRequest{store_name "store", states [{key "nul-a\0x", value "2"}]}, as on the wire. */
	static const uint8_t msg[] = { 0x0a, 0x05, 's', 't', 'o', 'r', 'e', 0x12, 0x0c, 0x0a, 0x07,
				       'n',  'u',  'l', '-', 'a', 0,   'x', 0x12, 0x01, '2' };
	char message[512];

	REQUIRE_CAPS(0);
	if (ut.via != VIA_GRPC)
		return;
	expect_saved(STORE, "nul-a", "1");
	ck_assert_int_eq(grpc_raw_call("SaveState", msg, sizeof(msg), message, sizeof(message)),
			 GRPC_CODE_INVALID_ARGUMENT);
	ck_assert_msg(strstr(message, "states[0].key holds a NUL") != NULL, "%s", message);
	expect_value(STORE, "nul-a", "1");
}
END_TEST

/* The store lookup and query errors, with daprd's ErrorInfo reasons, through either front end. */
START_TEST(store_errors)
{
	REQUIRE_CAPS(0);
	call("GET", key_path("no-such-store", "k"), NULL, NULL);
	ck_fail(&x, 400, "ERR_STATE_STORE_NOT_FOUND");
	ck_reason(&x, "DAPR_STATE_NOT_FOUND");
	call("POST", "/v1.0-alpha1/state/" STORE "/query", NULL, "{\"filter\":{}}");
	ck_fail(&x, 500, "ERR_STATE_STORE_NOT_SUPPORTED");
	ck_reason(&x, "DAPR_STATE_QUERYING_NOT_SUPPORTED");
}
END_TEST

/*
 * DeleteBulkState (gRPC only): every key is tried, the first failure is reported (a stale etag:
 * ABORTED), and the keys that could go are gone.
 */
START_TEST(delete_bulk)
{
	const char *const keys[] = { "db-stale", "db-free" };
	const char *etags[] = { NULL, NULL };
	char stale[ETAG_MAX], fresh[ETAG_MAX], message[512];

	REQUIRE_CAPS(CAP_ETAG);
	if (ut.via != VIA_GRPC)
		return;
	expect_saved(STORE, "db-stale", "1");
	etag_of(STORE, "db-stale", stale);
	expect_saved(STORE, "db-stale", "2");
	expect_saved(STORE, "db-free", "3");
	etags[0] = stale;
	ck_assert_int_eq(grpc_delete_bulk(STORE, keys, etags, 2, message, sizeof(message)),
			 GRPC_CODE_ABORTED);
	ck_assert_msg(strstr(message, "db-stale") != NULL || strstr(message, "etag") != NULL, "%s", message);
	expect_value(STORE, "db-stale", "2");
	expect_missing(STORE, "db-free");
	etag_of(STORE, "db-stale", fresh);
	etags[0] = fresh;
	ck_assert_int_eq(grpc_delete_bulk(STORE, keys, etags, 2, message, sizeof(message)), 0);
	expect_missing(STORE, "db-stale");
}
END_TEST

void add_front_end_cases(TCase *tc)
{
	tcase_add_test(tc, store_errors);
	tcase_add_test(tc, delete_bulk);
	tcase_add_test(tc, across_front_ends);
	tcase_add_test(tc, nul_in_grpc_key);
}
