/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance cases on keys: encoding, unicode, SQL-looking and very long keys, and keyPrefix modes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "http_client.h"

/* Saves key, reads it by URL and by bulk get (which must hand it back unchanged), deletes it. */
static void round_trip_key(const char *key, size_t n)
{
	json_t *arr;

	expect_saved(STORE, key, xfmt("%zu", n));
	expect_value(STORE, key, xfmt("%zu", n));
	arr = bulk_get(STORE, json_pack("[s]", key), 0);
	expect_bulk_item(json_array_get(arr, 0), key, xfmt("%zu", n));
	json_decref(arr);
	expect_deleted(STORE, key);
	expect_missing(STORE, key);
}

START_TEST(key_encoding)
{
	/* Characters that mean something in a URL, once percent-encoded by the client. */
	static const char *const keys[] = {
		"with space",  "a/b/c",	      "/leading-slash",	    "plus+sign",
		"100%",	       "q?uery#frag", "semi;colon:eq=amp&", "dot.dash-under_tilde~",
		"sq'dq\"bs\\", "  spaced  ",
	};

	REQUIRE_CAPS(0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		round_trip_key(keys[i], i);
}
END_TEST

/* A key of n copies of the UTF-8 text unit. Ownership: caller frees. */
static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(n * len + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[n * len] = '\0';
	return s;
}

START_TEST(unicode_keys)
{
	static const char *const keys[] = {
		"ctl\x01\x02\x1e\x1f\x7f",
		"tab\there",
		"new\nline\r\n",
		"\xc3\xbcn\xc3\xaf"
		"c\xc3\xb6"
		"d\xc3\xa9-\xe3\x82\xad\xe3\x83\xbc",
		"4-byte \xf0\x9f\x98\x80\xf0\x9f\x9a\x80",
		"last code point \xf4\x8f\xbf\xbf",
		"separators \xe2\x80\xa8\xe2\x80\xa9 bom \xef\xbb\xbf",
	};
	/* Long runs of 2-, 3- and 4-byte characters, each well under every store's key limit. */
	char *long_keys[] = { repeat("\xc3\xa9", 300), repeat("\xe6\x97\xa5\xe6\x9c\xac", 150),
			      repeat("\xf0\x9f\x9a\x80", 200) };
	size_t i;

	REQUIRE_CAPS(0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		round_trip_key(keys[i], i);
	for (i = 0; i < sizeof(long_keys) / sizeof(long_keys[0]); i++) {
		round_trip_key(long_keys[i], 100 + i);
		free(long_keys[i]);
	}
}
END_TEST

/* Keys (and, as JSON strings, values) that would do damage if a store pasted them into a query. */
static const char *const sql_keys[] = {
	"' OR '1'='1",
	"x'); DROP TABLE state;--",
	"\"; DROP TABLE \"state",
	"%",
	"_",
	"a%",
	"a_",
	"\\",
	"\\%",
	"`",
	"`state`",
	"$1",
	"$1$2",
	"?",
	"*",
	"[a-z]",
	"{tag}",
	"/* c */",
	"--",
	"NULL",
};

#define NSQL (sizeof(sql_keys) / sizeof(sql_keys[0]))

/* Every sql_keys[i] for i >= from holds its own name, and the canaries are untouched. */
static void expect_sql_keys(size_t from)
{
	json_t *keys = json_pack("[ss]", "sql-canary-1", "sql-canary-2"), *arr;

	for (size_t i = from; i < NSQL; i++)
		json_array_append_new(keys, json_string(sql_keys[i]));
	arr = bulk_get(STORE, keys, 0);
	expect_bulk_item(json_array_get(arr, 0), "sql-canary-1", "\"first\"");
	expect_bulk_item(json_array_get(arr, 1), "sql-canary-2", "\"second\"");
	for (size_t i = from; i < NSQL; i++) {
		char *v = json_text(sql_keys[i]);

		expect_bulk_item(json_array_get(arr, 2 + i - from), sql_keys[i], v);
		free(v);
	}
	json_decref(arr);
}

START_TEST(sql_looking)
{
	size_t i;

	REQUIRE_CAPS(0);
	expect_saved(STORE, "sql-canary-1", "\"first\"");
	expect_saved(STORE, "sql-canary-2", "\"second\"");
	for (i = 0; i < NSQL; i++) {
		char *v = json_text(sql_keys[i]);

		expect_saved(STORE, sql_keys[i], v);
		expect_value(STORE, sql_keys[i], v);
		free(v);
	}
	/* No key overwrote another, and deleting one (% or _ as a LIKE pattern, * as a glob) takes no other. */
	expect_sql_keys(0);
	for (i = 0; i < NSQL; i++) {
		expect_deleted(STORE, sql_keys[i]);
		expect_missing(STORE, sql_keys[i]);
		expect_sql_keys(i + 1);
	}
}
END_TEST

/* Whether the message of the error in x quotes the start of key. */
static bool error_mentions(const char *key)
{
	json_t *j = xjson(&x);
	const char *m = jstr(json_object_get(j, "message"));
	char start[41];
	bool found;

	snprintf(start, sizeof(start), "%s", key);
	found = strstr(m, start) != NULL;
	json_decref(j);
	return found;
}

#define BIG_KEY (64 * 1024)

START_TEST(long_keys)
{
	size_t limit = ut.row->max_key_bytes;
	/* The store holds "conformance||key": the prefix counts against its limit. */
	char *medium = random_key(limit > 0 ? limit - strlen(APP_ID "||") : 8192, 1);
	char *big = random_key(BIG_KEY, 2);
	json_t *arr;

	REQUIRE_CAPS(0);
	round_trip_key(medium, 1);

	/* 64 KB does not fit in a URL (outrigd reads at most 64 KB of headers): bodies only. */
	call("POST", store_path(STORE), NULL, save_body(big, "\"big\"", NULL, NULL));
	if (limit > 0) {
		ck_fail(&x, 400, "ERR_STATE_SAVE");
		ck_assert_msg(error_mentions(big),
			      "the error for a %d-byte key does not quote its start: %.300s", BIG_KEY,
			      XBODY(&x));
		arr = bulk_get(STORE, json_pack("[s]", big), 0);
		expect_bulk_item(json_array_get(arr, 0), big, NULL);
		json_decref(arr);
	} else {
		ck_status(&x, 204);
		arr = bulk_get(STORE, json_pack("[s]", big), 0);
		expect_bulk_item(json_array_get(arr, 0), big, "\"big\"");
		json_decref(arr);
		if (ut.row->caps & CAP_TX) {
			char *k = json_text(big), *op = NULL;

			ck_assert_int_ge(
				asprintf(&op, "[{\"operation\":\"delete\",\"request\":{\"key\":%s}}]", k), 0);
			transact(STORE, op);
			ck_status(&x, 204);
			arr = bulk_get(STORE, json_pack("[s]", big), 0);
			expect_bulk_item(json_array_get(arr, 0), big, NULL);
			json_decref(arr);
			free(op);
			free(k);
		}
	}
	free(big);
	free(medium);
}
END_TEST

START_TEST(illegal_key)
{
	/* Dapr's separator may not be in a key, whatever the prefix (API.md §1.3). */
	static const char *const stores[] = { STORE, BARE, BYNAME };

	REQUIRE_CAPS(0);
	for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
		call("POST", store_path(stores[i]), NULL, save_body("a||b", "1", NULL, NULL));
		ck_fail(&x, 400, "ERR_MALFORMED_REQUEST");
		ck_reason(&x, "DAPR_STATE_ILLEGAL_KEY");
		/* A bare store must not reach what another stored as "byname||k" either. */
		call("GET", key_path(stores[i], "byname||kp"), NULL, NULL);
		ck_fail(&x, 400, "ERR_MALFORMED_REQUEST");
		ck_reason(&x, "DAPR_STATE_ILLEGAL_KEY");
		call("DELETE", key_path(stores[i], "byname||kp"), NULL, NULL);
		ck_fail(&x, 400, "ERR_MALFORMED_REQUEST");
		call("POST", xfmt("%s/bulk", store_path(stores[i])), NULL, "{\"keys\":[\"ok\",\"x||y\"]}");
		ck_fail(&x, 400, "ERR_MALFORMED_REQUEST");
		if (!(ut.row->caps & CAP_TX))
			continue;
		transact(stores[i], "[{\"operation\":\"upsert\",\"request\":{\"key\":\"ok-tx\",\"value\":1}},"
				    "{\"operation\":\"upsert\",\"request\":{\"key\":\"||\",\"value\":1}}]");
		ck_fail(&x, 400, "ERR_MALFORMED_REQUEST");
		expect_missing(stores[i], "ok-tx");
	}
}
END_TEST

/* want NULL: store must not see key. */
static void expect_seen(const char *store, const char *key, const char *want)
{
	if (want != NULL)
		expect_value(store, key, want);
	else
		expect_missing(store, key);
}

/* Bulk get of keys on store hands them back as asked, unprefixed, with wants[i] (NULL: missing). */
static void expect_bulk(const char *store, const char *const *keys, const char *const *wants, size_t n)
{
	json_t *ask = json_array(), *arr;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(ask, json_string(keys[i]));
	arr = bulk_get(store, ask, 0);
	for (size_t i = 0; i < n; i++)
		expect_bulk_item(json_array_get(arr, i), keys[i], wants[i]);
	json_decref(arr);
}

START_TEST(key_prefix_modes)
{
	static const char *const keys[] = { "kp-name", "kp-literal", "kp-appid", "kp-bare" };
	static const char *const values[] = { "\"by name\"", "\"by literal\"", "\"by appid\"", "\"bare\"" };
	static const char *const writers[] = { BYNAME, LITERAL, STORE, BARE };
	bool shared = ut.row->shared_backend;
	char e[ETAG_MAX];

	REQUIRE_CAPS(0);
	for (size_t i = 0; i < 4; i++)
		expect_saved(writers[i], keys[i], values[i]);

	/* "byname||k" either way: the name mode and the literal are one key space on a shared backend. */
	expect_seen(LITERAL, "kp-name", shared ? values[0] : NULL);
	expect_seen(BYNAME, "kp-literal", shared ? values[1] : NULL);
	/* "conformance||k", whether appid is the default or spelled out. */
	expect_seen(TWIN, "kp-appid", shared ? values[2] : NULL);
	/* Any other prefix, or none, is another key. */
	for (size_t i = 0; i < 2; i++) {
		expect_missing(STORE, keys[i]);
		expect_missing(TWIN, keys[i]);
		expect_missing(BARE, keys[i]);
	}
	expect_missing(BYNAME, "kp-appid");
	expect_missing(LITERAL, "kp-appid");
	expect_missing(BARE, "kp-appid");
	expect_missing(STORE, "kp-bare");
	expect_missing(BYNAME, "kp-bare");

	/* Bulk get strips whatever prefix the store added. */
	{
		const char *const mine[] = { values[0], shared ? values[1] : NULL, NULL, NULL };
		const char *const appid[] = { NULL, NULL, values[2], NULL };
		const char *const bare[] = { NULL, NULL, NULL, values[3] };

		expect_bulk(BYNAME, keys, mine, 4);
		expect_bulk(STORE, keys, appid, 4);
		expect_bulk(BARE, keys, bare, 4);
	}

	if (!shared || !(ut.row->caps & CAP_ETAG))
		return;
	/* One row, not a copy: an etag read through one component guards a write through the other. */
	etag_of(BYNAME, "kp-name", e);
	call("POST", store_path(LITERAL), NULL, save_body("kp-name", "\"via literal\"", e, NULL));
	ck_status(&x, 204);
	expect_value(BYNAME, "kp-name", "\"via literal\"");
	expect_deleted(LITERAL, "kp-name");
	expect_missing(BYNAME, "kp-name");
}
END_TEST

void add_key_cases(TCase *tc)
{
	tcase_add_test(tc, key_encoding);
	tcase_add_test(tc, unicode_keys);
	tcase_add_test(tc, sql_looking);
	tcase_add_test(tc, long_keys);
	tcase_add_test(tc, illegal_key);
	tcase_add_test(tc, key_prefix_modes);
}
