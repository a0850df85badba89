/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance cases on values: CRUD, JSON and unicode round trips, large values, bulk, transactions, TTL. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance.h"
#include "http_client.h"

/* Transaction operations as JSON text, for keys and values the case writes literally. */
#define UPSERT(key, value) "{\"operation\":\"upsert\",\"request\":{\"key\":\"" key "\",\"value\":" value "}}"
#define DELETE(key) "{\"operation\":\"delete\",\"request\":{\"key\":\"" key "\"}}"

START_TEST(crud)
{
	REQUIRE_CAPS(0);
	expect_missing(STORE, "crud");
	expect_saved(STORE, "crud", "\"v1\"");
	expect_value(STORE, "crud", "\"v1\"");
	expect_saved(STORE, "crud", "\"v2\"");
	expect_value(STORE, "crud", "\"v2\"");
	expect_deleted(STORE, "crud");
	expect_missing(STORE, "crud");
	/* Deleting what is not there is not an error without an etag. */
	expect_deleted(STORE, "crud");
}
END_TEST

START_TEST(json_values)
{
	/* Canonical compact JSON: the same bytes whether a store keeps them or re-encodes them. */
	static const char *const values[] = {
		"\"plain\"",
		"\"\"",
		"0",
		"-7",
		"0.5",
		"12345678901234",
		"true",
		"false",
		"null",
		"[]",
		"{}",
		"[1,\"two\",[3,[4,{\"five\":5}]]]",
		"{\"a\":{\"b\":{\"c\":[true,false,null]}},\"z\":\"last\"}",
		"\"AAECAwQF/+7/3q2+7w==\"",
	};

	REQUIRE_CAPS(0);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const char *key = xfmt("value-%zu", i);

		expect_saved(STORE, key, values[i]);
		expect_value(STORE, key, values[i]);
	}
}
END_TEST

START_TEST(nul_in_string_value)
{
	/* Valid JSON that Dapr (Go) accepts and hands back unchanged; C parsers often refuse it. */
	REQUIRE_CAPS(0);
	expect_saved(STORE, "nul", "\"nul\\u0000inside\"");
	expect_value(STORE, "nul", "\"nul\\u0000inside\"");
}
END_TEST

/* A JSON string of n copies of the UTF-8 text unit. Ownership: caller frees. */
static char *repeated(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(n * len + 1), *t;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[n * len] = '\0';
	t = json_text(s);
	free(s);
	return t;
}

START_TEST(unicode_values)
{
	/*
	 * What the app sends is the bytes the store holds: the core stores a value's JSON text as
	 * written (issue 11 item 27), escapes and all, and never re-encodes it.
	 */
	static const char *const escapes[] = {
		/* Every short escape, \/ included. */
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
		/* Control characters escaped, upper- or lower-case; DEL raw. */
		"\"\\u0001\\u0002\\u001e\\u001F\x7f\"",
		/* \u escapes of BMP text and a surrogate pair stay escapes. */
		"\"\\u00e9\\u65e5\\ud83d\\ude80\"",
		/* 4-byte UTF-8, the last code point, separators and a BOM, raw. */
		"\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf\"",
		/* Strings inside structures, as keys too. */
		"{\"\\u00fc\":[\"\\t\",\"\xf0\x9f\x9a\x80\"]}",
	};
	char ascii[128], *all_ascii, *long_values[3];
	size_t i;

	REQUIRE_CAPS(0);
	for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		const char *key = xfmt("unicode-%zu", i);

		expect_saved(STORE, key, escapes[i]);
		expect_value(STORE, key, escapes[i]);
	}

	/* Binary-ish: every byte from 1 to 127 in one string. */
	for (i = 1; i < 128; i++)
		ascii[i - 1] = (char)i;
	ascii[127] = '\0';
	all_ascii = json_text(ascii);
	expect_saved(STORE, "unicode-ascii", all_ascii);
	expect_value(STORE, "unicode-ascii", all_ascii);
	free(all_ascii);

	/* Long runs of 2-, 3- and 4-byte characters: 32 to 64 KB each. */
	long_values[0] = repeated("\xc3\xa9", 16384);
	long_values[1] = repeated("\xe6\x97\xa5\xe6\x9c\xac", 8192);
	long_values[2] = repeated("\xf0\x9f\x9a\x80", 16384);
	for (i = 0; i < 3; i++) {
		const char *key = xfmt("unicode-long-%zu", i);

		expect_saved(STORE, key, long_values[i]);
		expect_value(STORE, key, long_values[i]);
		free(long_values[i]);
	}
}
END_TEST

START_TEST(large_value)
{
	size_t n = 1 << 20;
	char *value = malloc(n + 3);

	REQUIRE_CAPS(0);
	ck_assert_ptr_nonnull(value);
	value[0] = '"';
	for (size_t i = 1; i <= n; i++)
		value[i] = (char)('a' + i % 26);
	strcpy(value + n + 1, "\"");
	expect_saved(STORE, "large", value);
	expect_value(STORE, "large", value);
	free(value);
}
END_TEST

START_TEST(bulk)
{
	/* 0: parallelism left out; the answer must not depend on it. */
	static const int parallelism[] = { 0, 1, 4, 50 };
	json_t *req = json_array();
	char *body;
	size_t i;

	REQUIRE_CAPS(0);
	for (i = 0; i < 20; i++)
		json_array_append_new(req, json_pack("{s:s,s:{s:I}}", "key", xfmt("bulk-%zu", i), "value",
						     "n", (json_int_t)i));
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	call("POST", store_path(STORE), NULL, body);
	ck_status(&x, 204);
	free(body);

	for (size_t p = 0; p < sizeof(parallelism) / sizeof(parallelism[0]); p++) {
		json_t *keys = json_array(), *arr;

		/* Every third asked-for key does not exist, one is asked twice; order must be kept. */
		for (i = 0; i < 20; i++)
			json_array_append_new(keys, json_string(xfmt("bulk-%zu", i % 3 ? i : i + 100)));
		json_array_append_new(keys, json_string("bulk-1"));
		arr = bulk_get(STORE, keys, parallelism[p]);
		for (i = 0; i < 20; i++)
			expect_bulk_item(json_array_get(arr, i), xfmt("bulk-%zu", i % 3 ? i : i + 100),
					 i % 3 ? xfmt("{\"n\":%zu}", i) : NULL);
		expect_bulk_item(json_array_get(arr, 20), "bulk-1", "{\"n\":1}");
		json_decref(arr);
	}
}
END_TEST

START_TEST(transaction)
{
	char guard[ETAG_MAX], e_new[ETAG_MAX], e_after[ETAG_MAX];

	REQUIRE_CAPS(CAP_TX | CAP_ETAG);
	expect_saved(STORE, "tx-old", "\"old\"");
	expect_saved(STORE, "tx-guarded", "0");
	etag_of(STORE, "tx-guarded", guard);
	transact(
		STORE,
		xfmt("[" UPSERT("tx-new", "\"new\"") "," DELETE(
			     "tx-old") ","
				       "{\"operation\":\"upsert\",\"request\":{\"key\":\"tx-guarded\",\"value\":1,\"etag\":\"%s\"}}]",
		     guard));
	ck_status(&x, 204);
	expect_value(STORE, "tx-new", "\"new\"");
	expect_missing(STORE, "tx-old");
	expect_value(STORE, "tx-guarded", "1");

	/*
	 * guard is stale now, and it is on the last operation: the insert, update and delete before
	 * it must all be undone, the update without even a new etag.
	 */
	expect_saved(STORE, "tx-kept", "\"kept\"");
	etag_of(STORE, "tx-new", e_new);
	transact(
		STORE,
		xfmt("[" UPSERT("tx-none", "1") "," UPSERT("tx-new", "\"changed\"") "," DELETE(
			     "tx-kept") ","
					"{\"operation\":\"upsert\",\"request\":{\"key\":\"tx-guarded\",\"value\":2,\"etag\":\"%s\"}}]",
		     guard));
	ck_fail(&x, 500, "ERR_STATE_TRANSACTION");
	expect_missing(STORE, "tx-none");
	expect_value(STORE, "tx-new", "\"new\"");
	etag_of(STORE, "tx-new", e_after);
	ck_assert_msg(strcmp(e_new, e_after) == 0,
		      "a rolled-back update changed the etag of tx-new: %s -> %s", e_new, e_after);
	expect_value(STORE, "tx-kept", "\"kept\"");
	expect_value(STORE, "tx-guarded", "1");

	transact(STORE,
		 "[" UPSERT("tx-bad", "1") ",{\"operation\":\"patch\",\"request\":{\"key\":\"tx-bad\"}}]");
	ck_fail(&x, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION");
	expect_missing(STORE, "tx-bad");
}
END_TEST

START_TEST(ttl)
{
	/* A 1 s TTL, given 6 s to take effect: expiry may be lazy or swept, and CI machines slow. */
	long deadline = now_ms() + 6000;

	REQUIRE_CAPS(CAP_TTL);
	call("POST", xfmt("%s?metadata.ttlInSeconds=1", store_path(STORE)), NULL,
	     save_body("ttl-q", "1", NULL, NULL));
	ck_status(&x, 204);
	call("POST", store_path(STORE), NULL,
	     "[{\"key\":\"ttl-item\",\"value\":2,\"metadata\":{\"ttlInSeconds\":\"1\"}},"
	     "{\"key\":\"ttl-none\",\"value\":3},"
	     "{\"key\":\"ttl-forever\",\"value\":4,\"metadata\":{\"ttlInSeconds\":\"-1\"}}]");
	ck_status(&x, 204);
	expect_value(STORE, "ttl-q", "1");
	expect_value(STORE, "ttl-item", "2");
	while (now_ms() < deadline && (call("GET", key_path(STORE, "ttl-q"), NULL, NULL) != 204 ||
				       call("GET", key_path(STORE, "ttl-item"), NULL, NULL) != 204))
		usleep(100 * 1000);
	expect_missing(STORE, "ttl-q");
	expect_missing(STORE, "ttl-item");
	expect_value(STORE, "ttl-none", "3");
	expect_value(STORE, "ttl-forever", "4");
}
END_TEST

void add_basic_cases(TCase *tc)
{
	tcase_add_test(tc, crud);
	tcase_add_test(tc, json_values);
	tcase_add_test(tc, nul_in_string_value);
	tcase_add_test(tc, unicode_values);
	tcase_add_test(tc, large_value);
	tcase_add_test(tc, bulk);
	tcase_add_test(tc, transaction);
	tcase_add_test(tc, ttl);
}
