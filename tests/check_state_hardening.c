/* SPDX-License-Identifier: Apache-2.0 */
/* The state API against hostile or oversized requests, and what daprd reports that outrig must too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <netinet/in.h>
#include <signal.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "http_client.h"

#define APP "myapp"

static struct daemon dmn;
static struct exchange x;

static int call(const char *method, const char *path, const char *headers, const char *body)
{
	return xreq(&x, dmn.port, method, path, headers, body);
}

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.sqlite", "connectionString",
					      xfmt("%s/state.db", dmn.dir), NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "memstore", "state.in-memory", NULL), 0);
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start (log above)");
}

static void teardown(void)
{
	/* Exit status 0 also says a sanitizer build found nothing in outrigd. */
	int code = dmn.pid > 0 ? daemon_stop(&dmn) : 0;

	if (code != 0)
		daemon_dump_log(&dmn);
	xfree(&x);
	daemon_cleanup(&dmn);
	ck_assert_msg(code == 0, "outrigd exited with %d after SIGTERM, expected 0", code);
}

static void expect_value(const char *store, const char *key, const char *want)
{
	call("GET", xfmt("/v1.0/state/%s/%s", store, key), NULL, NULL);
	ck_status(&x, 200);
	ck_body(&x, want);
}

/* A request that must be refused with 400 ERR_MALFORMED_REQUEST naming a NUL. */
static void expect_nul_refused(const char *method, const char *path, const char *body)
{
	call(method, path, NULL, body);
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	ck_assert_msg(strstr(XBODY(&x), "NUL") != NULL, "%s -> %s", x.req, XBODY(&x));
}

/* Issue 11 item 5: "acct\u0000evil" was cut to "acct" and overwrote it. */
START_TEST(nul_in_json_names_is_refused)
{
	static const char *const stores[] = { "statestore", "memstore" };

	for (size_t i = 0; i < 2; i++) {
		const char *save = xfmt("/v1.0/state/%s", stores[i]);
		const char *tx = xfmt("/v1.0/state/%s/transaction", stores[i]);

		call("POST", save, NULL, "[{\"key\":\"acct\",\"value\":100}]");
		ck_status(&x, 204);
		expect_nul_refused("POST", save, "[{\"key\":\"acct\\u0000evil\",\"value\":0}]");
		expect_nul_refused("POST", save, "[{\"key\":\"acct\",\"value\":0,\"etag\":\"1\\u0000x\"}]");
		expect_nul_refused("POST", save,
				   "[{\"key\":\"acct\",\"value\":0,\"metadata\":{\"ttlInSeconds\":\"5\\u0000x\"}}]");
		expect_nul_refused("POST", save,
				   "[{\"key\":\"acct\",\"value\":0,\"options\":{\"concurrency\":\"last-write\\u0000\"}}]");
		expect_nul_refused("POST", tx,
				   "{\"operations\":[{\"operation\":\"upsert\",\"request\":"
				   "{\"key\":\"acct\\u0000evil\",\"value\":0}}]}");
		expect_nul_refused("POST", tx,
				   "{\"operations\":[{\"operation\":\"delete\",\"request\":{\"key\":\"acct\\u0000\"}}],"
				   "\"metadata\":{\"a\":\"b\\u0000\"}}");
		call("POST", tx, NULL,
		     "{\"operations\":[{\"operation\":\"delete\\u0000x\",\"request\":{\"key\":\"acct\"}}]}");
		ck_error(&x, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION");
		ck_assert_msg(strstr(XBODY(&x), "NUL") != NULL, "%s -> %s", x.req, XBODY(&x));
		expect_nul_refused("POST", xfmt("/v1.0/state/%s/bulk", stores[i]),
				   "{\"keys\":[\"other\",\"acct\\u0000evil\"]}");
		expect_nul_refused("POST", xfmt("/v1.0/state/%s/bulk", stores[i]),
				   "{\"keys\":[\"acct\"],\"metadata\":{\"a\":\"\\u0000\"}}");
		expect_value(stores[i], "acct", "100");
		/* A NUL inside a value is data, not a name: it is stored as sent. */
		call("POST", save, NULL, "[{\"key\":\"v\",\"value\":\"a\\u0000b\"}]");
		ck_status(&x, 204);
		expect_value(stores[i], "v", "\"a\\u0000b\"");
	}
}
END_TEST

/*
 * Issue 11 item 27: values were re-encoded by jansson (2.5e3 stored as 2500.0, 0.1 as
 * 0.10000000000000001). They are stored as written, less whitespace outside strings, and read
 * back so by get, bulk get and after a transaction.
 */
START_TEST(values_are_stored_as_written)
{
	static const char *const stores[] = { "statestore", "memstore" };
	static const char sent[] =
		"[{\"key\":\"a\",\"value\": 2.5e3 },{\"value\":0.1,\"key\":\"b\"},"
		"{\"key\":\"c\",\"valu\\u0065\":-1E-7},{\"key\":\"d\",\"value\":1,\"value\":[1e21, 12345678901234567]},"
		"{\"key\":\"e\",\"value\":{ \"z\" : \"<a & b> \\\" ,]\", \"a\" : {\"n\": 1.50} }},{\"key\":\"f\"}]";

	for (size_t i = 0; i < 2; i++) {
		call("POST", xfmt("/v1.0/state/%s", stores[i]), NULL, sent);
		ck_status(&x, 204);
		expect_value(stores[i], "a", "2.5e3");
		expect_value(stores[i], "b", "0.1");
		expect_value(stores[i], "c", "-1E-7");
		expect_value(stores[i], "d", "[1e21,12345678901234567]");
		expect_value(stores[i], "e", "{\"z\":\"<a & b> \\\" ,]\",\"a\":{\"n\":1.50}}");
		expect_value(stores[i], "f", "null");
		call("POST", xfmt("/v1.0/state/%s/bulk", stores[i]), NULL, "{\"keys\":[\"a\",\"e\",\"zz\"]}");
		ck_status(&x, 200);
		/* Etags differ by store (counters, UUIDs): the data is what is compared. */
		ck_assert_msg(strstr(XBODY(&x), "{\"key\":\"a\",\"data\":2.5e3,\"etag\":") != NULL &&
				      strstr(XBODY(&x), "{\"key\":\"e\",\"data\":{\"z\":\"<a & b> \\\" ,]\","
							"\"a\":{\"n\":1.50}},\"etag\":") != NULL &&
				      strstr(XBODY(&x), ",{\"key\":\"zz\"}]") != NULL,
			      "%s -> %s", x.req, XBODY(&x));
		call("POST", xfmt("/v1.0/state/%s/transaction", stores[i]), NULL,
		     "{\"metadata\":{},\"operations\":[{\"operation\":\"delete\",\"request\":{\"key\":\"a\"}},"
		     "{\"request\":{\"value\": { \"t\" : 7.0e0 },\"key\":\"t\"},\"operation\":\"upsert\"}]}");
		ck_status(&x, 204);
		expect_value(stores[i], "t", "{\"t\":7.0e0}");
	}
}
END_TEST

/* Issue 11 item 23: daprd lists ACTOR for every store with both ETAG and TRANSACTIONAL. */
START_TEST(metadata_lists_actor_for_etag_and_transactional_stores)
{
	json_t *meta, *c, *cap;
	size_t i, k;
	int seen = 0;

	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	meta = xjson(&x);
	json_array_foreach(json_object_get(meta, "components"), i, c)
	{
		bool etag = false, tx = false, actor = false;

		json_array_foreach(json_object_get(c, "capabilities"), k, cap)
		{
			etag |= strcmp(jstr(cap), "ETAG") == 0;
			tx |= strcmp(jstr(cap), "TRANSACTIONAL") == 0;
			actor |= strcmp(jstr(cap), "ACTOR") == 0;
		}
		ck_assert_msg(actor == (etag && tx), "%s: ACTOR must be listed exactly when ETAG and "
						     "TRANSACTIONAL are: %s",
			      jstr(json_object_get(c, "name")), XBODY(&x));
		seen += actor;
	}
	ck_assert_msg(seen == 2, "both stores are transactional with etags: %s", XBODY(&x));
	json_decref(meta);
}
END_TEST

/* Issue 11 item 18: store messages name the key as the app did, not "myapp||key". */
START_TEST(store_errors_name_the_apps_key)
{
	call("POST", "/v1.0/state/memstore", NULL, "[{\"key\":\"k\",\"value\":1}]");
	ck_status(&x, 204);
	call("POST", "/v1.0/state/memstore", NULL, "[{\"key\":\"k\",\"value\":2,\"etag\":\"99\"}]");
	ck_error(&x, 409, "ERR_STATE_SAVE");
	ck_assert_msg(strstr(XBODY(&x), "||") == NULL, "%s -> %s", x.req, XBODY(&x));
	call("DELETE", "/v1.0/state/memstore/k", "If-Match: 99\r\n", NULL);
	ck_error(&x, 409, "ERR_STATE_DELETE");
	ck_assert_msg(strstr(XBODY(&x), "||") == NULL, "%s -> %s", x.req, XBODY(&x));
	call("POST", "/v1.0/state/memstore/transaction", NULL,
	     "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"k\",\"value\":3,\"etag\":\"99\"}}]}");
	ck_error(&x, 500, "ERR_STATE_TRANSACTION");
	ck_assert_msg(strstr(XBODY(&x), "||") == NULL, "%s -> %s", x.req, XBODY(&x));
	ck_assert_msg(strstr(XBODY(&x), "\\\"k\\\"") != NULL, "the key should be named: %s", XBODY(&x));
}
END_TEST

/* open, then n items pre<i>post separated by commas, then close. Ownership: caller frees. */
static char *many(const char *open, const char *pre, const char *post, const char *close, size_t n)
{
	size_t cap = strlen(open) + strlen(close) + n * (strlen(pre) + strlen(post) + 24) + 1, len = 0;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	len += (size_t)snprintf(s + len, cap - len, "%s", open);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%s%zu%s", i > 0 ? "," : "", pre, i, post);
	snprintf(s + len, cap - len, "%s", close);
	return s;
}

/* Issue 11 item 17: 400k keys took RSS to 230 MB; a bulk get is bounded, and says so. */
START_TEST(bulk_get_is_bounded)
{
	char *body = many("{\"keys\":[", "\"k", "\"", "]}", 10001);
	json_t *got;

	call("POST", "/v1.0/state/memstore/bulk", NULL, body);
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	ck_assert_msg(strstr(XBODY(&x), "10000") != NULL, "the limit should be named: %s", XBODY(&x));
	free(body);
	call("POST", "/v1.0/state/memstore", NULL, "[{\"key\":\"k9999\",\"value\":7}]");
	ck_status(&x, 204);
	body = many("{\"keys\":[", "\"k", "\"", "]}", 10000);
	call("POST", "/v1.0/state/memstore/bulk", NULL, body);
	ck_status(&x, 200);
	got = xjson(&x);
	ck_assert_uint_eq(json_array_size(got), 10000);
	ck_assert_str_eq(jstr(json_object_get(json_array_get(got, 9999), "key")), "k9999");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(got, 9999), "data")), 7);
	json_decref(got);
	free(body);
}
END_TEST

/* Sends a POST of body on a new connection and returns the socket without reading the answer. */
static int post_unread(int port, const char *path, const char *body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char head[256];
	size_t len = strlen(body), off = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(head, sizeof(head),
		 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 path, len);
	ck_assert_int_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	while (off < len) {
		ssize_t n = write(fd, body + off, len - off);

		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
	return fd;
}

/*
 * Issue 11 item 9: while one 100k-item save runs (about 30 s on SQLite), a GET on the same
 * store waited for all of it.
 */
START_TEST(big_save_lets_other_requests_through)
{
	char *body = many("[", "{\"key\":\"item", "\",\"value\":1}", "]", 100000);
	long took;
	int fd;

	call("POST", "/v1.0/state/statestore", NULL, "[{\"key\":\"probe\",\"value\":1}]");
	ck_status(&x, 204);
	fd = post_unread(dmn.port, "/v1.0/state/statestore", body);
	/* Once the first item is stored, the save is under way on the store's worker. */
	for (long deadline = xnow_ms() + 60000; xnow_ms() < deadline; xsleep_ms(20)) {
		call("GET", "/v1.0/state/statestore/item0", NULL, NULL);
		if (x.r.status == 200)
			break;
	}
	ck_status(&x, 200);
	took = xnow_ms();
	expect_value("statestore", "probe", "1");
	took = xnow_ms() - took;
	fprintf(stderr, "big save: a GET on the same store took %ld ms\n", took);
	/* Still in flight: the GET came between its items, not after all of them. */
	call("GET", "/v1.0/state/statestore/item99999", NULL, NULL);
	ck_status(&x, 204);
	ck_assert_msg(took < 1000, "a GET waited %ld ms behind a 100k-item save", took);
	/* The saver goes away: the rest of its items are not worth a store's time. */
	close(fd);
	free(body);
}
END_TEST

/* Sends a 100k-item save to statestore and returns once it is under way; the socket is returned. */
static int big_save_under_way(char **body)
{
	int fd;

	*body = many("[", "{\"key\":\"item", "\",\"value\":1}", "]", 100000);
	fd = post_unread(dmn.port, "/v1.0/state/statestore", *body);
	for (long deadline = xnow_ms() + 60000; xnow_ms() < deadline; xsleep_ms(20)) {
		call("GET", "/v1.0/state/statestore/item0", NULL, NULL);
		if (x.r.status == 200)
			break;
	}
	ck_status(&x, 200);
	return fd;
}

/* Stopping does not wait out a long save (graceful shutdown is 5 s): it ends at the next turn. */
START_TEST(stopping_ends_a_big_save_at_its_next_turn)
{
	char *body;
	int fd = big_save_under_way(&body);
	long t0 = xnow_ms(), took;
	int code;

	kill(dmn.pid, SIGTERM);
	code = daemon_wait_exit(&dmn, 20000);
	took = xnow_ms() - t0;
	fprintf(stderr, "big save: outrigd stopped in %ld ms\n", took);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(took < 2000, "outrigd took %ld ms to stop during a 100k-item save", took);
	close(fd);
	free(body);
}
END_TEST

/*
 * What the transport-free state block kept from the HTTP API's old order of checks: a
 * transaction's operation name is checked before its request is decoded, operation after
 * operation, and a delete reads no ttlInSeconds (only a transaction's does).
 */
START_TEST(checks_keep_their_http_order)
{
	call("POST", "/v1.0/state/memstore/transaction", NULL, "{\"operations\":[{\"operation\":\"bogus\"}]}");
	ck_error(&x, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION");
	ck_assert_msg(strstr(XBODY(&x), "bogus") != NULL, "the error does not name the operation: %s", XBODY(&x));
	/* The first operation's bad request wins over the second one's bad name. */
	call("POST", "/v1.0/state/memstore/transaction", NULL,
	     "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"a\",\"etag\":true}},"
	     "{\"operation\":\"bogus\"}]}");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	call("DELETE", "/v1.0/state/memstore/k?metadata.ttlInSeconds=abc", NULL, NULL);
	ck_status(&x, 204);
}
END_TEST

static Suite *hardening_suite(void)
{
	Suite *s = suite_create("state_hardening");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, nul_in_json_names_is_refused);
	tcase_add_test(tc, values_are_stored_as_written);
	tcase_add_test(tc, metadata_lists_actor_for_etag_and_transactional_stores);
	tcase_add_test(tc, store_errors_name_the_apps_key);
	tcase_add_test(tc, bulk_get_is_bounded);
	tcase_add_test(tc, big_save_lets_other_requests_through);
	tcase_add_test(tc, stopping_ends_a_big_save_at_its_next_turn);
	tcase_add_test(tc, checks_keep_their_http_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hardening_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
