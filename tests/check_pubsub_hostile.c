/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Publish requests a hostile client can send (issue 11, items 1, 5 and 19): bulks whose checks
 * must stay linear on the event loop, NUL bytes inside JSON names, and text that is not UTF-8.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "http_client.h"
#include "probe.h"

#define APP "hostile"
#define JSON_CT "Content-Type: application/json\r\n"
#define BULK "/v1.0-alpha1/publish/bulk/pubsub/orders"

/*
 * How long a request may wait behind another client's work on the loop. Generous, as the CI
 * machine may be loaded many times over (a 200 ms burst then takes a second): the quadratic code
 * held the loop 13 s and more for these requests, the linear code well under a second unloaded.
 */
#define RESPONSIVE_MS 3000

static struct daemon dmn;
static struct exchange x;

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start (log above)");
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
}

/* Expects status and errorCode, and that the message mentions what. */
static void expect_error(int status, const char *code, const char *what)
{
	char got[64];

	ck_status(&x, status);
	ck_assert_msg(xerror(&x, got, sizeof(got)), "%s: not a Dapr error body: %s", x.req, XBODY(&x));
	ck_assert_msg(strcmp(got, code) == 0, "%s: errorCode %s, expected %s; body %s", x.req, got, code,
		      XBODY(&x));
	ck_assert_msg(strstr(XBODY(&x), what) != NULL, "%s: the message does not mention %s: %s", x.req, what,
		      XBODY(&x));
}

static int post(const char *path, const char *headers, const void *body, size_t len)
{
	int rc;

	xfree(&x);
	snprintf(x.req, sizeof(x.req), "POST %.200s (%zu bytes)", path, len);
	rc = http_request(dmn.port, "POST", path, headers, body, len, &x.r);
	if (rc < 0)
		x.r.status = rc;
	return x.r.status;
}

/* ---- a big request in progress must not hold up anyone else ---- */

/*
 * Sends body to path and, while outrigd works on it, asks GET /v1.0/healthz: that answer must
 * come within RESPONSIVE_MS. Returns the big request's status.
 */
static int post_while_probing(const char *path, char *body, size_t len, char **answer)
{
	int status;
	long worst = probe_post(dmn.port, path, body, len, &status, answer);

	ck_assert_msg(worst >= 0, "GET /v1.0/healthz failed while outrigd worked on %zu bytes to %s", len, path);
	ck_assert_msg(worst < RESPONSIVE_MS,
		      "GET /v1.0/healthz took %ld ms while outrigd worked on %zu bytes to %s: the loop was "
		      "blocked",
		      worst, len, path);
	return status;
}

/* 30,000 entries (0.9 MB): the entryId check compared each with every earlier one (13 s). */
START_TEST(bulk_many_entries_keeps_loop_free)
{
	size_t n = 30000, cap = n * 64, len = 0;
	char *body = malloc(cap), *answer = NULL;
	int status;

	len += (size_t)sprintf(body + len, "[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(body + len, "%s{\"entryId\":\"id-%zu\",\"event\":%zu}",
				       i > 0 ? "," : "", i, i);
	len += (size_t)sprintf(body + len, "]");
	status = post_while_probing(BULK, body, len, &answer);
	ck_assert_msg(status == 204, "the bulk of %zu entries answered %d: %s", n, status, answer);
	free(answer);
	free(body);
}
END_TEST

/* The duplicate check still finds a duplicate, and names both entries. */
START_TEST(bulk_duplicate_entry_id)
{
	static const char body[] = "[{\"entryId\":\"a\",\"event\":1},{\"entryId\":\"b\",\"event\":2},"
				   "{\"entryId\":\"a\",\"event\":3}]";

	post(BULK, JSON_CT, body, strlen(body));
	expect_error(400, "ERR_PUBSUB_EVENTS_SER", "entries 0 and 2");
	/* entryIds differ by case only: different ids, as in daprd. */
	post(BULK, JSON_CT, "[{\"entryId\":\"a\",\"event\":1},{\"entryId\":\"A\",\"event\":2}]",
	     strlen("[{\"entryId\":\"a\",\"event\":1},{\"entryId\":\"A\",\"event\":2}]"));
	ck_status(&x, 204);
}
END_TEST

/* One entry whose metadata has 50,000 keys: merging and copying them was quadratic (seconds). */
START_TEST(bulk_entry_with_many_metadata_keys)
{
	size_t n = 50000, cap = n * 24 + 256, len = 0;
	char *body = malloc(cap), *answer = NULL;
	int status;

	len += (size_t)sprintf(body + len, "[{\"entryId\":\"1\",\"event\":1,\"metadata\":{");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(body + len, "%s\"k%zu\":\"v\"", i > 0 ? "," : "", i);
	len += (size_t)sprintf(body + len, "}}]");
	status = post_while_probing(BULK "?metadata.k7=query&metadata.other=x", body, len, &answer);
	ck_assert_msg(status == 204, "the bulk answered %d: %s", status, answer);
	free(answer);
	free(body);
}
END_TEST

/* Query metadata is copied into every entry: 40 KB of it times 20,000 entries is refused. */
START_TEST(bulk_request_metadata_times_entries)
{
	size_t n = 20000, cap = n * 32, len = 0;
	char *body = malloc(cap), *query = malloc(64 * 1024), *path;
	size_t qlen = 0;

	for (int i = 0; i < 20; i++)
		qlen += (size_t)sprintf(query + qlen, "%smetadata.m%d=%0200d", i > 0 ? "&" : "?", i, i);
	len += (size_t)sprintf(body + len, "[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(body + len, "%s{\"entryId\":\"%zu\",\"event\":1}", i > 0 ? "," : "",
				       i);
	len += (size_t)sprintf(body + len, "]");
	ck_assert_int_ge(asprintf(&path, "%s%s", BULK, query), 0);
	post(path, JSON_CT, body, len);
	expect_error(400, "ERR_PUBSUB_EVENTS_SER", "body limit");
	free(path);
	free(query);
	free(body);
}
END_TEST

/* ---- NUL bytes inside JSON names are refused, never cut short ---- */

START_TEST(bulk_nul_in_names)
{
	static const char id[] = "[{\"entryId\":\"a\\u0000evil\",\"event\":1}]";
	static const char md[] =
		"[{\"entryId\":\"a\",\"event\":1,\"metadata\":{\"ttlInSeconds\":\"5\\u0000x\"}}]";
	static const char ct[] =
		"[{\"entryId\":\"a\",\"event\":\"x\",\"contentType\":\"text/plain\\u0000evil\"}]";

	post(BULK, JSON_CT, id, strlen(id));
	expect_error(400, "ERR_PUBSUB_EVENTS_SER", "NUL");
	post(BULK, JSON_CT, md, strlen(md));
	expect_error(400, "ERR_PUBSUB_EVENTS_SER", "NUL");
	post(BULK, JSON_CT, ct, strlen(ct));
	expect_error(400, "ERR_PUBSUB_EVENTS_SER", "NUL");
	/* NULs in the event itself are data, and go through. */
	post(BULK, JSON_CT, "[{\"entryId\":\"a\",\"event\":\"x\\u0000y\"}]",
	     strlen("[{\"entryId\":\"a\",\"event\":\"x\\u0000y\"}]"));
	ck_status(&x, 204);
}
END_TEST

/* ---- text that is not UTF-8 is the client's error (400), not "out of memory" (500) ---- */

START_TEST(invalid_utf8_is_a_bad_request)
{
	post("/v1.0/publish/pubsub/t%FFx", NULL, "hi", 2);
	expect_error(400, "ERR_MALFORMED_REQUEST", "topic");
	post("/v1.0/publish/pubsub/orders", "tracestate: k=\xff\xfe\r\n", "hi", 2);
	expect_error(400, "ERR_MALFORMED_REQUEST", "tracestate");
	post("/v1.0/publish/pubsub/orders", "Content-Type: text/\xc3\r\n", "hi", 2);
	expect_error(400, "ERR_MALFORMED_REQUEST", "Content-Type");
	post("/v1.0/publish/pubsub/orders?metadata.cloudevent.source=%C0%80", NULL, "hi", 2);
	expect_error(400, "ERR_PUBSUB_REQUEST_METADATA", "cloudevent.source");
	post(BULK, JSON_CT "tracestate: \xed\xa0\x80\r\n", "[{\"entryId\":\"a\",\"event\":1}]", 27);
	expect_error(400, "ERR_MALFORMED_REQUEST", "tracestate");
	post("/v1.0-alpha1/publish/bulk/pubsub/t%FF", JSON_CT, "[{\"entryId\":\"a\",\"event\":1}]", 27);
	expect_error(400, "ERR_MALFORMED_REQUEST", "topic");
	/* Well-formed UTF-8 still goes through. */
	post("/v1.0/publish/pubsub/caf%C3%A9", "tracestate: v=\xc3\xa9\r\n", "hi", 2);
	ck_status(&x, 204);
}
END_TEST

/* ---- the bindings API shares the metadata parsing, and had the same NUL and quadratic flaws ---- */

static void bindings_setup(void)
{
	const char *plugins = getenv("OUTRIG_TEST_PLUGIN_DIR");
	const char *args[] = { "--plugin-dir", plugins != NULL ? plugins : "tests/plugins/.libs", NULL };

	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "out", "bindings.test", "ackFile",
					      xfmt("%s/acks.txt", dmn.dir), NULL),
			 0);
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
}

START_TEST(bindings_nul_in_names)
{
	static const char op[] = "{\"operation\":\"create\\u0000evil\",\"data\":1}";
	static const char md[] = "{\"operation\":\"create\",\"data\":1,\"metadata\":{\"k\":\"a\\u0000b\"}}";

	post("/v1.0/bindings/out", JSON_CT, op, strlen(op));
	expect_error(400, "ERR_MALFORMED_REQUEST", "NUL");
	post("/v1.0/bindings/out", JSON_CT, md, strlen(md));
	expect_error(400, "ERR_MALFORMED_REQUEST", "NUL");
}
END_TEST

/* Metadata of 50,000 keys: kv_add_json looked each up in all earlier ones. */
START_TEST(bindings_many_metadata_keys)
{
	size_t n = 50000, len = 0;
	char *body = malloc(n * 24 + 256), *answer = NULL;
	int status;

	/* "fail": bindings.test's other operations echo every key back as a response header. */
	len += (size_t)sprintf(body + len, "{\"operation\":\"fail\",\"data\":1,\"metadata\":{");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(body + len, "%s\"k%zu\":\"v\"", i > 0 ? "," : "", i);
	len += (size_t)sprintf(body + len, "}}");
	status = post_while_probing("/v1.0/bindings/out", body, len, &answer);
	ck_assert_msg(status == 500, "the binding call answered %d, not the plugin's failure: %s", status,
		      answer);
	free(answer);
	free(body);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pubsub_hostile");
	TCase *tc = tcase_create("hostile"), *tb;
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, bulk_many_entries_keeps_loop_free);
	tcase_add_test(tc, bulk_duplicate_entry_id);
	tcase_add_test(tc, bulk_entry_with_many_metadata_keys);
	tcase_add_test(tc, bulk_request_metadata_times_entries);
	tcase_add_test(tc, bulk_nul_in_names);
	tcase_add_test(tc, invalid_utf8_is_a_bad_request);
	suite_add_tcase(s, tc);
	tb = tcase_create("bindings");
	tcase_add_checked_fixture(tb, bindings_setup, teardown);
	tcase_set_timeout(tb, 120);
	tcase_add_test(tb, bindings_nul_in_names);
	tcase_add_test(tb, bindings_many_metadata_keys);
	suite_add_tcase(s, tb);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
