/* SPDX-License-Identifier: Apache-2.0 */
/* The state HTTP API, metadata, health and shutdown of a running outrigd, as a Dapr client sees them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "http_client.h"

#define APP "myapp"

/* Every test runs in its own forked process with its own daemon and scratch directory. */
static struct daemon dmn;
static struct exchange x;

static int call(const char *method, const char *path, const char *headers, const char *body)
{
	return xreq(&x, dmn.port, method, path, headers, body);
}

#define SAVE(store, json)                                                                                    \
	do {                                                                                                 \
		call("POST", xfmt("/v1.0/state/%s", store), NULL, json);                                     \
		ck_status(&x, 204);                                                                          \
		ck_assert_uint_eq(x.r.body_len, 0);                                                          \
	} while (0)

#define GET_BODY(store, key, want)                                                                           \
	do {                                                                                                 \
		call("GET", xfmt("/v1.0/state/%s/%s", store, key), NULL, NULL);                              \
		ck_status(&x, 200);                                                                          \
		ck_body(&x, want);                                                                           \
	} while (0)

#define GET_MISSING(store, key)                                                                              \
	do {                                                                                                 \
		call("GET", xfmt("/v1.0/state/%s/%s", store, key), NULL, NULL);                              \
		ck_status(&x, 204);                                                                          \
		ck_assert_uint_eq(x.r.body_len, 0);                                                          \
	} while (0)

#define ETAG_MAX 256

/* Reads key, which must exist, and copies its (non-empty) ETag into out[ETAG_MAX]. */
static void etag_of(const char *store, const char *key, char *out)
{
	const char *e;

	call("GET", xfmt("/v1.0/state/%s/%s", store, key), NULL, NULL);
	ck_status(&x, 200);
	e = http_header(&x.r, "ETag");
	ck_assert_msg(e != NULL && *e != '\0', "%s: no ETag header", x.req);
	ck_assert_uint_lt(strlen(e), ETAG_MAX);
	strcpy(out, e);
}

static void start_daemon(const char *const *extra)
{
	ck_assert_msg(daemon_start(&dmn, extra) == 0, "outrigd did not start (log above)");
}

static void stop_daemon(void)
{
	int code = daemon_stop(&dmn);

	ck_assert_msg(code == 0, "outrigd exited with %d after SIGTERM, expected 0", code);
}

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.sqlite", "connectionString",
					      xfmt("%s/state.db", dmn.dir), NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "memstore", "state.in-memory", NULL), 0);
	start_daemon(NULL);
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
}

START_TEST(get_missing_is_204)
{
	GET_MISSING("statestore", "nokey");
	GET_MISSING("memstore", "nokey");
}
END_TEST

START_TEST(save_then_get_string)
{
	const char *ct;

	SAVE("statestore", "[{\"key\":\"planet\",\"value\":\"DeathStar\"}]");
	GET_BODY("statestore", "planet", "\"DeathStar\"");
	ck_assert_msg(http_header(&x.r, "ETag") && *http_header(&x.r, "ETag"), "no ETag on GET");
	ct = http_header(&x.r, "Content-Type");
	ck_assert_msg(xjson_type(&x), "GET state: Content-Type '%s', expected application/json",
		      ct ? ct : "(none)");
	/* PUT is an alias of POST for saving. */
	call("PUT", "/v1.0/state/statestore", NULL, "[{\"key\":\"n\",\"value\":42}]");
	ck_status(&x, 204);
	GET_BODY("statestore", "n", "42");
	SAVE("memstore", "[{\"key\":\"planet\",\"value\":\"Hoth\"}]");
	GET_BODY("memstore", "planet", "\"Hoth\"");
	GET_BODY("statestore", "planet", "\"DeathStar\"");
}
END_TEST

START_TEST(save_then_get_object)
{
	/* Compact with sorted keys: what both raw storage and Go's re-encoding produce. */
	static const char obj[] =
		"{\"moons\":[1,2.5,-3],\"name\":\"Tatooine\",\"nested\":{\"a\":true,\"b\":null}}";

	SAVE("statestore",
	     xfmt("[{\"key\":\"o\",\"value\":%s},{\"key\":\"arr\",\"value\":[\"x\",{}]}]", obj));
	GET_BODY("statestore", "o", obj);
	GET_BODY("statestore", "arr", "[\"x\",{}]");
	SAVE("statestore", "[]");
}
END_TEST

START_TEST(route_key_is_query_unescaped)
{
	/* Dapr decodes route parameters like a query string: %XX and '+' as a space. */
	SAVE("statestore", "[{\"key\":\"a b\",\"value\":1},{\"key\":\"x+y\",\"value\":2}]");
	GET_BODY("statestore", "a+b", "1");
	GET_BODY("statestore", "a%20b", "1");
	GET_BODY("statestore", "x%2By", "2");
	GET_BODY("statestore", "a%20b?consistency=strong", "1");
	call("GET", "/v1.0/state/statestore/bad%zzescape", NULL, NULL);
	ck_status(&x, 400);
}
END_TEST

START_TEST(etag_guards_save)
{
	char e1[ETAG_MAX], e2[ETAG_MAX];

	SAVE("statestore", "[{\"key\":\"k\",\"value\":\"v1\"}]");
	etag_of("statestore", "k", e1);
	SAVE("statestore", xfmt("[{\"key\":\"k\",\"value\":\"v2\",\"etag\":\"%s\"}]", e1));
	etag_of("statestore", "k", e2);
	ck_body(&x, "\"v2\"");
	ck_assert_msg(strcmp(e1, e2) != 0, "ETag did not change on update (%s)", e1);
	call("POST", "/v1.0/state/statestore", NULL,
	     xfmt("[{\"key\":\"k\",\"value\":\"v3\",\"etag\":\"%s\"}]", e1));
	ck_error(&x, 409, "ERR_STATE_SAVE");
	ck_assert_msg(strstr(x.r.body, "statestore") != NULL, "message should name the store: %s", x.r.body);
	GET_BODY("statestore", "k", "\"v2\"");
	/* Last write wins without an etag. */
	SAVE("statestore", "[{\"key\":\"k\",\"value\":\"v4\"}]");
	GET_BODY("statestore", "k", "\"v4\"");
}
END_TEST

/*
 * A long non-ASCII key in an error message is cut short, never in the middle of a character
 * (the body would not be JSON), and the store's explanation still follows it.
 */
START_TEST(long_key_in_error_message)
{
	char key[1 + 300 * 2 + 1] = "x";
	char *body;
	json_t *err;

	for (int i = 0; i < 300; i++)
		memcpy(key + 1 + 2 * i, "\xc3\xa9", 2);
	key[sizeof(key) - 1] = '\0';
	body = strdup(xfmt("[{\"key\":\"%s\",\"value\":1,\"etag\":\"999999\"}]", key));
	call("POST", "/v1.0/state/statestore", NULL, body);
	free(body);
	ck_error(&x, 409, "ERR_STATE_SAVE");
	err = xjson(&x);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(jstr(json_object_get(err, "message")), "... (601 bytes): ") != NULL,
		      "the key should be cut and its length given, then the store's reason: %s", x.r.body);
	json_decref(err);
}
END_TEST

START_TEST(etag_guards_delete)
{
	char e1[ETAG_MAX], e2[ETAG_MAX];

	SAVE("statestore", "[{\"key\":\"delkey\",\"value\":1}]");
	etag_of("statestore", "delkey", e1);
	SAVE("statestore", "[{\"key\":\"delkey\",\"value\":2}]");
	etag_of("statestore", "delkey", e2);
	call("DELETE", "/v1.0/state/statestore/delkey", xfmt("If-Match: %s\r\n", e1), NULL);
	ck_error(&x, 409, "ERR_STATE_DELETE");
	ck_assert_msg(strstr(x.r.body, "delkey") != NULL, "message should name the key: %s", x.r.body);
	GET_BODY("statestore", "delkey", "2");
	call("DELETE", "/v1.0/state/statestore/delkey", xfmt("If-Match: %s\r\n", e2), NULL);
	ck_status(&x, 204);
	GET_MISSING("statestore", "delkey");
	/* Deleting what is not there, without an etag, is not an error. */
	call("DELETE", "/v1.0/state/statestore/never", NULL, NULL);
	ck_status(&x, 204);
	SAVE("statestore", "[{\"key\":\"d2\",\"value\":1}]");
	call("DELETE", "/v1.0/state/statestore/d2", NULL, NULL);
	ck_status(&x, 204);
	GET_MISSING("statestore", "d2");
}
END_TEST

START_TEST(first_write_without_etag)
{
	char e[ETAG_MAX];

	SAVE("statestore", "[{\"key\":\"fw\",\"value\":1,\"options\":{\"concurrency\":\"first-write\"}}]");
	call("POST", "/v1.0/state/statestore", NULL,
	     "[{\"key\":\"fw\",\"value\":2,\"options\":{\"concurrency\":\"first-write\"}}]");
	ck_error(&x, 409, "ERR_STATE_SAVE");
	GET_BODY("statestore", "fw", "1");
	etag_of("statestore", "fw", e);
	SAVE("statestore", xfmt("[{\"key\":\"fw\",\"value\":3,\"etag\":\"%s\","
				"\"options\":{\"concurrency\":\"first-write\"}}]",
				e));
	GET_BODY("statestore", "fw", "3");
	SAVE("statestore", "[{\"key\":\"fw\",\"value\":4,\"options\":{\"concurrency\":\"last-write\"}}]");
	GET_BODY("statestore", "fw", "4");
}
END_TEST

START_TEST(invalid_options_rejected)
{
	/* Only the literal option strings are valid; the store refuses anything else. */
	call("POST", "/v1.0/state/statestore", NULL,
	     "[{\"key\":\"opt\",\"value\":1,\"options\":{\"concurrency\":\"sometimes\"}}]");
	ck_error(&x, 500, "ERR_STATE_SAVE");
	GET_MISSING("statestore", "opt");
	call("POST", "/v1.0/state/statestore", NULL,
	     "[{\"key\":\"opt\",\"value\":1,\"options\":{\"consistency\":\"eventually\"}}]");
	ck_error(&x, 500, "ERR_STATE_SAVE");
	GET_MISSING("statestore", "opt");
	SAVE("statestore", "[{\"key\":\"opt\",\"value\":1,\"options\":{\"concurrency\":\"last-write\","
			   "\"consistency\":\"strong\"}}]");
	GET_BODY("statestore", "opt", "1");
}
END_TEST

START_TEST(bulk_get)
{
	json_t *arr, *e;

	SAVE("statestore", "[{\"key\":\"a\",\"value\":\"A\"},{\"key\":\"b\",\"value\":{\"x\":1}}]");
	call("POST", "/v1.0/state/statestore/bulk", NULL,
	     "{\"keys\":[\"b\",\"missing\",\"a\"],\"parallelism\":2}");
	ck_status(&x, 200);
	ck_assert_msg(xjson_type(&x), "bulk: Content-Type %s", xheader(&x, "Content-Type"));
	arr = xjson(&x);
	ck_assert_msg(json_is_array(arr) && json_array_size(arr) == 3, "bulk: %s", x.r.body);

	e = json_array_get(arr, 0);
	ck_assert_str_eq(jstr(json_object_get(e, "key")), "b");
	ck_assert_msg(json_integer_value(json_object_get(json_object_get(e, "data"), "x")) == 1 &&
			      json_object_size(json_object_get(e, "data")) == 1,
		      "bulk: data of b in %s", x.r.body);
	ck_assert_msg(json_string_length(json_object_get(e, "etag")) > 0, "bulk: no etag: %s", x.r.body);
	ck_assert_msg(json_object_get(e, "value") == NULL, "bulk uses 'data', not 'value': %s", x.r.body);

	e = json_array_get(arr, 1);
	ck_assert_msg(json_object_size(e) == 1 && strcmp(jstr(json_object_get(e, "key")), "missing") == 0,
		      "bulk: a missing key comes back with only its key: %s", x.r.body);

	e = json_array_get(arr, 2);
	ck_assert_str_eq(jstr(json_object_get(e, "key")), "a");
	ck_assert_msg(strcmp(jstr(json_object_get(e, "data")), "A") == 0, "bulk: %s", x.r.body);
	json_decref(arr);

	call("PUT", "/v1.0/state/statestore/bulk", NULL, "{\"keys\":[]}");
	ck_status(&x, 200);
	arr = xjson(&x);
	ck_assert_msg(json_is_array(arr) && json_array_size(arr) == 0, "empty keys: %s", x.r.body);
	json_decref(arr);
}
END_TEST

START_TEST(transaction_applies_all)
{
	char e[ETAG_MAX];

	SAVE("statestore", "[{\"key\":\"k2\",\"value\":\"old\"},{\"key\":\"k3\",\"value\":0}]");
	etag_of("statestore", "k3", e);
	call("POST", "/v1.0/state/statestore/transaction", NULL,
	     xfmt("{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"k1\",\"value\":\"new\"}},"
		  "{\"operation\":\"delete\",\"request\":{\"key\":\"k2\"}},"
		  "{\"operation\":\"upsert\",\"request\":{\"key\":\"k3\",\"value\":1,\"etag\":\"%s\"}}],"
		  "\"metadata\":{\"partitionKey\":\"p\"}}",
		  e));
	ck_status(&x, 204);
	GET_BODY("statestore", "k1", "\"new\"");
	GET_MISSING("statestore", "k2");
	GET_BODY("statestore", "k3", "1");
	call("PUT", "/v1.0/state/statestore/transaction", NULL, "{\"operations\":[]}");
	ck_status(&x, 204);
}
END_TEST

START_TEST(transaction_etag_mismatch_rolls_back)
{
	char stale[ETAG_MAX];

	SAVE("statestore", "[{\"key\":\"k1\",\"value\":\"one\"}]");
	etag_of("statestore", "k1", stale);
	SAVE("statestore", "[{\"key\":\"k1\",\"value\":\"two\"}]");
	call("POST", "/v1.0/state/statestore/transaction", NULL,
	     xfmt("{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"t_new\",\"value\":\"x\"}},"
		  "{\"operation\":\"upsert\",\"request\":{\"key\":\"k1\",\"value\":\"bad\",\"etag\":\"%s\"}}]}",
		  stale));
	ck_error(&x, 500, "ERR_STATE_TRANSACTION");
	GET_MISSING("statestore", "t_new");
	GET_BODY("statestore", "k1", "\"two\"");

	call("POST", "/v1.0/state/statestore/transaction", NULL,
	     xfmt("{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"t_new2\",\"value\":\"x\"}},"
		  "{\"operation\":\"delete\",\"request\":{\"key\":\"k1\",\"etag\":\"%s\"}}]}",
		  stale));
	ck_error(&x, 500, "ERR_STATE_TRANSACTION");
	GET_MISSING("statestore", "t_new2");
	GET_BODY("statestore", "k1", "\"two\"");
}
END_TEST

START_TEST(transaction_bad_operation)
{
	call("POST", "/v1.0/state/statestore/transaction", NULL,
	     "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"tb1\",\"value\":1}},"
	     "{\"operation\":\"merge\",\"request\":{\"key\":\"tb2\",\"value\":2}}]}");
	ck_error(&x, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION");
	ck_assert_msg(strstr(x.r.body, "merge") != NULL, "message should name the operation: %s", x.r.body);
	GET_MISSING("statestore", "tb1");
	GET_MISSING("statestore", "tb2");
}
END_TEST

START_TEST(unknown_store)
{
	static const struct {
		const char *method, *path, *body;
	} reqs[] = {
		{ "GET", "/v1.0/state/nostore/k", NULL },
		{ "POST", "/v1.0/state/nostore", "[{\"key\":\"k\",\"value\":1}]" },
		{ "DELETE", "/v1.0/state/nostore/k", NULL },
		{ "POST", "/v1.0/state/nostore/bulk", "{\"keys\":[\"k\"]}" },
		{ "POST", "/v1.0/state/nostore/transaction",
		  "{\"operations\":[{\"operation\":\"delete\",\"request\":{\"key\":\"k\"}}]}" },
	};
	json_t *j, *d, *info = NULL;
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		call(reqs[i].method, reqs[i].path, NULL, reqs[i].body);
		ck_error(&x, 400, "ERR_STATE_STORE_NOT_FOUND");
		ck_reason(&x, "DAPR_STATE_NOT_FOUND");
	}
	call("GET", "/v1.0/state/nostore/k", NULL, NULL);
	j = xjson(&x);
	ck_assert_msg(strstr(jstr(json_object_get(j, "message")), "nostore") != NULL,
		      "message should name the store: %s", x.r.body);
	json_array_foreach(json_object_get(j, "details"), i, d) if (json_object_get(d, "reason")) info = d;
	ck_assert_msg(info != NULL, "no ErrorInfo: %s", x.r.body);
	ck_assert_str_eq(jstr(json_object_get(json_object_get(info, "metadata"), "appID")), APP);
	json_decref(j);
}
END_TEST

START_TEST(malformed_json)
{
	call("POST", "/v1.0/state/statestore", NULL, "[{\"key\":");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	call("POST", "/v1.0/state/statestore", NULL, "{\"key\":\"a\",\"value\":1}");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	call("POST", "/v1.0/state/statestore/bulk", NULL, "{\"keys\":");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	call("POST", "/v1.0/state/statestore/transaction", NULL, "not json");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	GET_MISSING("statestore", "a");
}
END_TEST

START_TEST(missing_key_rejects_whole_request)
{
	call("POST", "/v1.0/state/statestore", NULL, "[{\"key\":\"ok1\",\"value\":1},{\"value\":2}]");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	ck_assert_msg(strstr(x.r.body, "\\\"key\\\" is a required field") != NULL,
		      "message should say '\"key\" is a required field': %s", x.r.body);
	GET_MISSING("statestore", "ok1");
	call("POST", "/v1.0/state/statestore", NULL, "[{\"key\":\"\",\"value\":1}]");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
}
END_TEST

START_TEST(key_with_separator_is_illegal)
{
	call("POST", "/v1.0/state/statestore", NULL, "[{\"key\":\"a||b\",\"value\":1}]");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	ck_reason(&x, "DAPR_STATE_ILLEGAL_KEY");
	call("GET", "/v1.0/state/statestore/a%7C%7Cb", NULL, NULL);
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	ck_reason(&x, "DAPR_STATE_ILLEGAL_KEY");
	call("DELETE", "/v1.0/state/statestore/a%7C%7Cb", NULL, NULL);
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	call("POST", "/v1.0/state/statestore/bulk", NULL, "{\"keys\":[\"a||b\"]}");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	call("POST", "/v1.0/state/statestore/transaction", NULL,
	     "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"a||b\",\"value\":1}}]}");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
}
END_TEST

/* A save request whose value is a string of n 'x'. */
static char *big_save(const char *key, size_t n)
{
	char *s = malloc(n + 64);
	int h;

	ck_assert_ptr_nonnull(s);
	h = sprintf(s, "[{\"key\":\"%s\",\"value\":\"", key);
	memset(s + h, 'x', n);
	strcpy(s + h + n, "\"}]");
	return s;
}

START_TEST(body_over_limit_is_413)
{
	static const char *const args[] = { "--dapr-http-max-request-size", "1", NULL };
	char *big = big_save("big", 2 << 20);
	char *fits = big_save("fits", 900 << 10);

	daemon_stop(&dmn);
	start_daemon(args);
	SAVE("statestore", "[{\"key\":\"keep\",\"value\":\"safe\"}]");
	call("POST", "/v1.0/state/statestore", NULL, big);
	ck_status(&x, 413);
	call("GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
	GET_BODY("statestore", "keep", "\"safe\"");
	GET_MISSING("statestore", "big");
	/* The limit is in MB: 900 KiB is still fine. */
	call("POST", "/v1.0/state/statestore", NULL, fits);
	ck_status(&x, 204);
	SAVE("statestore", "[{\"key\":\"after\",\"value\":1}]");
	GET_BODY("statestore", "after", "1");
	free(big);
	free(fits);
}
END_TEST

/* Polls until every key of keys answers 204, or deadline; returns NULL or a key still there. */
static const char *first_left(const char *store, const char *const *keys, long deadline)
{
	for (;;) {
		const char *left = NULL;

		for (int i = 0; keys[i] != NULL; i++)
			if (call("GET", xfmt("/v1.0/state/%s/%s", store, keys[i]), NULL, NULL) != 204 &&
			    left == NULL)
				left = keys[i];
		if (left == NULL || xnow_ms() > deadline)
			return left;
		usleep(100 * 1000);
	}
}

START_TEST(ttl_expires_keys)
{
	static const char *const expiring[] = { "t1", "t2", "t4", "t6", "t7", NULL };
	long saved = xnow_ms();
	const char *left;
	json_t *arr;

	SAVE("statestore?metadata.ttlInSeconds=1", "[{\"key\":\"t1\",\"value\":1}]");
	SAVE("statestore",
	     "[{\"key\":\"t2\",\"value\":2,\"metadata\":{\"ttlInSeconds\":\"1\"}},"
	     "{\"key\":\"t3\",\"value\":3},{\"key\":\"t5\",\"value\":5,\"metadata\":{\"ttlInSeconds\":\"-1\"}}]");
	call("POST", "/v1.0/state/statestore/transaction", NULL,
	     "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"t4\",\"value\":4,"
	     "\"metadata\":{\"ttlInSeconds\":\"1\"}}}]}");
	ck_status(&x, 204);
	/* URL metadata wins over the item's; of a repeated parameter only the first counts. */
	SAVE("statestore?metadata.ttlInSeconds=1",
	     "[{\"key\":\"t6\",\"value\":6,\"metadata\":{\"ttlInSeconds\":\"-1\"}}]");
	SAVE("statestore?metadata.ttlInSeconds=1&metadata.ttlInSeconds=-1", "[{\"key\":\"t7\",\"value\":7}]");
	GET_BODY("statestore", "t1", "1");
	GET_BODY("statestore", "t2", "2");
	GET_BODY("statestore", "t4", "4");
	left = first_left("statestore", expiring, saved + 3500);
	ck_assert_msg(left == NULL, "key %s, saved with ttlInSeconds 1, still there after 3.5 s", left);
	GET_BODY("statestore", "t3", "3");
	GET_BODY("statestore", "t5", "5");
	call("POST", "/v1.0/state/statestore/bulk", NULL, "{\"keys\":[\"t1\"]}");
	ck_status(&x, 200);
	arr = xjson(&x);
	ck_assert_msg(json_object_size(json_array_get(arr, 0)) == 1, "expired key in bulk: %s", x.r.body);
	json_decref(arr);
}
END_TEST

START_TEST(key_prefix_strategies)
{
	char db[DAEMON_PATH_MAX + 16];
	json_t *arr;

	snprintf(db, sizeof(db), "%s/state.db", dmn.dir);
	daemon_stop(&dmn);
	/* All on the file "statestore" uses, so the stored key names show through. */
	ck_assert_int_eq(daemon_add_component(&dmn, APP, "state.sqlite", "connectionString", db, "keyPrefix",
					      "name", NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "nopfx", "state.sqlite", "connectionString", db,
					      "keyPrefix", "none", NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "explicit", "state.sqlite", "connectionString", db,
					      "keyPrefix", "appid", NULL),
			 0);
	/* The metadata name is case-insensitive; any other value is a literal prefix. */
	ck_assert_int_eq(daemon_add_component(&dmn, "custom", "state.sqlite", "connectionString", db,
					      "KEYPREFIX", APP, NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "other", "state.sqlite", "connectionString", db,
					      "keyPrefix", "name", NULL),
			 0);
	start_daemon(NULL);

	/* statestore: myapp||k1, seen by name=myapp, appid and literal "myapp". */
	SAVE("statestore", "[{\"key\":\"k1\",\"value\":\"a\"}]");
	GET_BODY(APP, "k1", "\"a\"");
	GET_BODY("explicit", "k1", "\"a\"");
	GET_BODY("custom", "k1", "\"a\"");
	GET_MISSING("nopfx", "k1");
	GET_MISSING("other", "k1");

	SAVE("nopfx", "[{\"key\":\"k2\",\"value\":\"b\"}]");
	GET_BODY("nopfx", "k2", "\"b\"");
	GET_MISSING("statestore", "k2");
	GET_MISSING("other", "k2");

	SAVE("other", "[{\"key\":\"k3\",\"value\":\"c\"}]");
	GET_BODY("other", "k3", "\"c\"");
	GET_MISSING("statestore", "k3");
	GET_MISSING("nopfx", "k3");
	GET_MISSING(APP, "k3");

	/* Keys handed back to clients carry no prefix. */
	call("POST", xfmt("/v1.0/state/%s/bulk", APP), NULL, "{\"keys\":[\"k1\"]}");
	ck_status(&x, 200);
	arr = xjson(&x);
	ck_assert_str_eq(jstr(json_object_get(json_array_get(arr, 0), "key")), "k1");
	ck_assert_msg(strcmp(jstr(json_object_get(json_array_get(arr, 0), "data")), "a") == 0,
		      "bulk via name prefix: %s", x.r.body);
	json_decref(arr);

	call("DELETE", "/v1.0/state/explicit/k1", NULL, NULL);
	ck_status(&x, 204);
	GET_MISSING("statestore", "k1");
}
END_TEST

/* The component called name in /v1.0/metadata, or NULL. */
static json_t *component(json_t *meta, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(meta, "components"), i,
			   c) if (strcmp(jstr(json_object_get(c, "name")), name) == 0) return c;
	return NULL;
}

static bool has_capability(json_t *c, const char *cap)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(c, "capabilities"), i,
			   v) if (strcmp(jstr(v), cap) == 0) return true;
	return false;
}

START_TEST(metadata_lists_components)
{
	static const char *const known[] = {
		"ETAG",		 "TRANSACTIONAL", "QUERY_API", "TTL", "DELETE_WITH_PREFIX",
		"PARTITION_KEY", "KEYS_LIKE",	  "ACTOR",     NULL
	};
	static const struct {
		const char *name, *type;
	} want[] = { { "statestore", "state.sqlite" }, { "memstore", "state.in-memory" } };
	json_t *meta, *c, *v;
	size_t i, k;

	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	ck_assert_msg(xjson_type(&x), "metadata: Content-Type %s", xheader(&x, "Content-Type"));
	meta = xjson(&x);
	ck_assert_msg(json_is_object(meta), "metadata is not a JSON object: %s", x.r.body);
	ck_assert_str_eq(jstr(json_object_get(meta, "id")), APP);
	for (i = 0; i < 2; i++) {
		c = component(meta, want[i].name);
		ck_assert_msg(c != NULL, "component %s missing: %s", want[i].name, x.r.body);
		ck_assert_str_eq(jstr(json_object_get(c, "type")), want[i].type);
		ck_assert_str_eq(jstr(json_object_get(c, "version")), "v1");
		ck_assert_msg(has_capability(c, "ETAG") && has_capability(c, "TRANSACTIONAL"),
			      "%s should report ETAG and TRANSACTIONAL: %s", want[i].name, x.r.body);
		json_array_foreach(json_object_get(c, "capabilities"), k, v)
		{
			int n;

			for (n = 0; known[n] && strcmp(known[n], jstr(v)); n++)
				;
			ck_assert_msg(known[n] != NULL, "unknown capability %s",
				      json_dumps(v, JSON_ENCODE_ANY));
		}
	}
	json_decref(meta);
}
END_TEST

START_TEST(health_endpoints)
{
	call("GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
	call("GET", "/v1.0/healthz/outbound", NULL, NULL);
	ck_status(&x, 204);
	call("GET", "/v1.0/healthz?appid=" APP, NULL, NULL);
	ck_status(&x, 204);
	call("GET", "/v1.0/healthz?appid=someoneelse", NULL, NULL);
	ck_error(&x, 500, "ERR_HEALTH_APPID_NOT_MATCH");
}
END_TEST

START_TEST(metadata_put_extended)
{
	json_t *meta;

	call("PUT", "/v1.0/metadata/cliPID", "Content-Type: text/plain\r\n", "4242");
	ck_status(&x, 204);
	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	meta = xjson(&x);
	ck_assert_msg(strcmp(jstr(json_object_get(json_object_get(meta, "extended"), "cliPID")), "4242") == 0,
		      "extended.cliPID should be \"4242\": %s", x.r.body);
	json_decref(meta);
	/* Bytes JSON cannot carry are refused, not accepted and then silently dropped. */
	call("PUT", "/v1.0/metadata/blob", "Content-Type: application/octet-stream\r\n", "\xff\xfe");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
}
END_TEST

START_TEST(api_token)
{
	daemon_stop(&dmn);
	ck_assert_int_eq(daemon_setenv(&dmn, "DAPR_API_TOKEN", "s3cret"), 0);
	start_daemon(NULL);
	call("GET", "/v1.0/state/statestore/k", NULL, NULL);
	ck_status(&x, 401);
	ck_assert_msg(strstr(x.r.body, "invalid api token") != NULL, "401 body: %s", x.r.body);
	call("GET", "/v1.0/state/statestore/k", "dapr-api-token: wrong\r\n", NULL);
	ck_status(&x, 401);
	call("GET", "/v1.0/state/statestore/k", "dapr-api-token: s3cret\r\n", NULL);
	ck_status(&x, 204);
	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 401);
	/* Health never needs the token: sidecar waiters do not have it. */
	call("GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
	call("GET", "/v1.0/healthz/outbound", NULL, NULL);
	ck_status(&x, 204);
}
END_TEST

START_TEST(forced_shutdown)
{
	int code;

	call("POST", "/v1.0/shutdown", "dapr-force-shutdown: true\r\n", NULL);
	ck_status(&x, 204);
	code = daemon_wait_exit(&dmn, 3000);
	ck_assert_msg(code == 1, "after a forced shutdown outrigd %s %d, expected exit 1",
		      code < 0 ? "was still running after 3 s:" : "exited with", code);
}
END_TEST

START_TEST(shutdown_endpoint)
{
	int code;

	call("POST", "/v1.0/shutdown", NULL, NULL);
	ck_status(&x, 204);
	code = daemon_wait_exit(&dmn, 8000);
	ck_assert_msg(code == 0, "after POST /v1.0/shutdown outrigd %s %d",
		      code < 0 ? "was still running after 8 s:" : "exited with", code);
}
END_TEST

START_TEST(restart_keeps_data)
{
	char etag[ETAG_MAX];

	SAVE("statestore", "[{\"key\":\"p1\",\"value\":\"one\"},{\"key\":\"p2\",\"value\":{\"n\":2}}]");
	SAVE("statestore", "[{\"key\":\"p3\",\"value\":3}]");
	call("DELETE", "/v1.0/state/statestore/p3", NULL, NULL);
	ck_status(&x, 204);
	etag_of("statestore", "p1", etag);
	stop_daemon();
	start_daemon(NULL);
	GET_BODY("statestore", "p1", "\"one\"");
	ck_assert_str_eq(xheader(&x, "ETag"), etag);
	GET_BODY("statestore", "p2", "{\"n\":2}");
	GET_MISSING("statestore", "p3");
	SAVE("statestore", xfmt("[{\"key\":\"p1\",\"value\":\"uno\",\"etag\":\"%s\"}]", etag));
	GET_BODY("statestore", "p1", "\"uno\"");

	/* Acknowledged means durable: a crash right after the 204 loses nothing. */
	SAVE("statestore", "[{\"key\":\"c1\",\"value\":\"crash-safe\"}]");
	call("POST", "/v1.0/state/statestore/transaction", NULL,
	     "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"c2\",\"value\":2}},"
	     "{\"operation\":\"delete\",\"request\":{\"key\":\"p2\"}}]}");
	ck_status(&x, 204);
	daemon_kill(&dmn);
	start_daemon(NULL);
	GET_BODY("statestore", "c1", "\"crash-safe\"");
	GET_BODY("statestore", "c2", "2");
	GET_MISSING("statestore", "p2");
	GET_BODY("statestore", "p1", "\"uno\"");
}
END_TEST

START_TEST(embedded_default_store)
{
	json_t *meta, *c;
	DIR *dir;
	struct dirent *de;
	int entries = 0;

	daemon_stop(&dmn);
	dmn.use_resources = false;
	start_daemon(NULL);
	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	meta = xjson(&x);
	c = component(meta, "statestore");
	ck_assert_msg(c != NULL, "no embedded statestore: %s", x.r.body);
	ck_assert_str_eq(jstr(json_object_get(c, "type")), "state.sqlite");
	json_decref(meta);
	SAVE("statestore", "[{\"key\":\"emb\",\"value\":\"kept\"}]");
	stop_daemon();

	dir = opendir(xfmt("%s/outrig", dmn.data));
	ck_assert_msg(dir != NULL, "embedded store wrote nothing under $XDG_DATA_HOME/outrig");
	while ((de = readdir(dir)) != NULL)
		entries += de->d_name[0] != '.';
	closedir(dir);
	ck_assert_msg(entries > 0, "$XDG_DATA_HOME/outrig is empty");

	start_daemon(NULL);
	GET_BODY("statestore", "emb", "\"kept\"");
}
END_TEST

START_TEST(no_state_store_configured)
{
	daemon_stop(&dmn);
	unlink(xfmt("%s/statestore.yaml", dmn.resources));
	unlink(xfmt("%s/memstore.yaml", dmn.resources));
	start_daemon(NULL);
	call("GET", "/v1.0/state/statestore/k", NULL, NULL);
	ck_error(&x, 500, "ERR_STATE_STORE_NOT_CONFIGURED");
	ck_reason(&x, "DAPR_STATE_NOT_CONFIGURED");
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("api_state");
	TCase *tc;

	tc = tcase_create("crud");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, get_missing_is_204);
	tcase_add_test(tc, save_then_get_string);
	tcase_add_test(tc, save_then_get_object);
	tcase_add_test(tc, route_key_is_query_unescaped);
	tcase_add_test(tc, etag_guards_save);
	tcase_add_test(tc, long_key_in_error_message);
	tcase_add_test(tc, etag_guards_delete);
	tcase_add_test(tc, first_write_without_etag);
	tcase_add_test(tc, invalid_options_rejected);
	tcase_add_test(tc, bulk_get);
	tcase_add_test(tc, key_prefix_strategies);
	suite_add_tcase(s, tc);

	tc = tcase_create("transaction");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, transaction_applies_all);
	tcase_add_test(tc, transaction_etag_mismatch_rolls_back);
	tcase_add_test(tc, transaction_bad_operation);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, unknown_store);
	tcase_add_test(tc, malformed_json);
	tcase_add_test(tc, missing_key_rejects_whole_request);
	tcase_add_test(tc, key_with_separator_is_illegal);
	tcase_add_test(tc, body_over_limit_is_413);
	tcase_add_test(tc, no_state_store_configured);
	suite_add_tcase(s, tc);

	tc = tcase_create("ttl");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ttl_expires_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("runtime");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, metadata_lists_components);
	tcase_add_test(tc, health_endpoints);
	tcase_add_test(tc, metadata_put_extended);
	tcase_add_test(tc, api_token);
	tcase_add_test(tc, shutdown_endpoint);
	tcase_add_test(tc, forced_shutdown);
	tcase_add_test(tc, restart_keeps_data);
	tcase_add_test(tc, embedded_default_store);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
