/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pub/sub block's publish cases as ONE table, run through every front end of a real outrigd:
 * the same request (pubsub, topic, content type, data, metadata; or bulk entries) must end the same
 * way over each transport (Dapr's errorCode and HTTP status, or the gRPC code of the same row of
 * the error table) and, when published, reach the app as the same CloudEvent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "http_client.h"
#include "pubsub_helpers.h"
#include "pubsub_transport.h"
#include "test_app.h"

#define APP "blockapp"
#define SOON_MS 10000

/* The app subscribes to "orders" (CloudEvents) and "raw" (rawPayload) of pubsub. */
#define SUBSCRIBE                                                                                            \
	"[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"route\":\"/orders\"},"                             \
	"{\"pubsubname\":\"pubsub\",\"topic\":\"raw\",\"route\":\"/raw\",\"metadata\":{\"rawPayload\":\"true\"}}]"

/* What the app must receive for a case that publishes. */
struct want_event {
	const char *route;	 /* where it arrives; NULL: not checked (not subscribed) */
	size_t count;		 /* events it brings there (bulk: one per entry) */
	const char *content_type; /* the last event's datacontenttype */
	const char *data_json;	 /* its "data" as JSON text, or NULL */
	const char *data_base64; /* its "data_base64" decoded, or NULL */
	const char *id;		 /* its "id", or NULL */
};

struct publish_case {
	const char *name;
	struct pt_request req;
	/* Expected: success, or Dapr's error. */
	const char *code; /* errorCode; NULL when it publishes */
	int http_status;  /* with code */
	int grpc_code;	  /* with code */
	struct want_event want;
	/*
	 * A bulk the broker took only in part: HTTP answers 500 ERR_PUBSUB_PUBLISH_MESSAGE listing the
	 * failed entries, gRPC OK with the same list (as daprd).
	 */
	size_t want_failed;
	const char *reason; /* with code: the ErrorInfo reason of Dapr's rich error, over both transports */
};

#define MD(...)                                                                                              \
	{                                                                                                    \
		__VA_ARGS__, NULL                                                                            \
	}

static const struct pt_entry bulk_mixed[] = {
	{ "1", "{\"n\":1}", 0, "application/json", MD(NULL) },
	{ "2", "text", 0, "text/plain", MD(NULL) },
	{ "3", "\x00\x01\x02\xff", 4, "application/octet-stream", MD(NULL) },
	{ "4", "{\"id\":\"bulk-ce\",\"source\":\"s\",\"type\":\"t\",\"specversion\":\"1.0\",\"data\":\"in\"}", 0,
	  "application/cloudevents+json", MD(NULL) },
};
static const struct pt_entry bulk_dup[] = {
	{ "a", "1", 0, "application/json", MD(NULL) },
	{ "b", "2", 0, "application/json", MD(NULL) },
	{ "a", "3", 0, "application/json", MD(NULL) },
};
static const struct pt_entry bulk_no_id[] = {
	{ "", "1", 0, "application/json", MD(NULL) },
};
static const struct pt_entry bulk_bad_md[] = {
	{ "1", "1", 0, "application/json", MD("rawPayload", "perhaps") },
};
static const struct pt_entry bulk_entry_md[] = {
	{ "e1", "over", 0, "text/plain", MD("cloudevent.id", "from-entry") },
};
static const struct pt_entry bulk_partial[] = {
	{ "ok-1", "1", 0, "application/json", MD(NULL) },
	{ "bad", "2", 0, "application/json", MD("fail", "yes") },
	{ "ok-2", "3", 0, "application/json", MD(NULL) },
};
static const struct pt_entry bulk_raw[] = {
	{ "r1", "raw bytes", 0, "text/plain", MD("rawPayload", "true") },
};

static const struct publish_case cases[] = {
	/* ---- single publish: what reaches the app ---- */
	{ "text without a content type", { "pubsub", "orders", NULL, "hello", 0, MD(NULL) }, .want = { "/orders", 1, "text/plain", "\"hello\"", NULL, NULL } },
	{ "text/plain", { "pubsub", "orders", "text/plain", "{\"not\":\"json\"}", 0, MD(NULL) }, .want = { "/orders", 1, "text/plain", "\"{\\\"not\\\":\\\"json\\\"}\"", NULL, NULL } },
	{ "JSON", { "pubsub", "orders", "application/json", "{\"orderId\":12345678901234567890,\"p\":0.1}", 0, MD(NULL) }, .want = { "/orders", 1, "application/json", "{\"orderId\":12345678901234567890,\"p\":0.1}", NULL, NULL } },
	{ "JSON that is not", { "pubsub", "orders", "application/json", "not json", 0, MD(NULL) }, .want = { "/orders", 1, "application/json", "\"not json\"", NULL, NULL } },
	{ "binary", { "pubsub", "orders", "application/octet-stream", "\x00\xff\x10\x00\x80", 5, MD(NULL) }, .want = { "/orders", 1, "application/octet-stream", NULL, "\x00\xff\x10\x00\x80", NULL } },
	{ "a CloudEvent, augmented", { "pubsub", "orders", "application/cloudevents+json", "{\"id\":\"ce-1\",\"source\":\"me\",\"type\":\"t\",\"specversion\":\"1.0\",\"data\":{\"k\":2}}", 0, MD(NULL) }, .want = { "/orders", 1, NULL, "{\"k\":2}", NULL, "ce-1" } },
	{ "cloudevent.id and friends", { "pubsub", "orders", NULL, "overridden", 0, MD("cloudevent.id", "my-id", "cloudevent.type", "my.type") }, .want = { "/orders", 1, "text/plain", "\"overridden\"", NULL, "my-id" } },
	{ "ttlInSeconds", { "pubsub", "orders", NULL, "ttl", 0, MD("ttlInSeconds", "60", "custom", "x") }, .want = { "/orders", 1, "text/plain", "\"ttl\"", NULL, NULL } },
	{ "rawPayload", { "pubsub", "raw", "application/json", "{\"raw\":true}", 0, MD("rawPayload", "true") }, .want = { "/raw", 1, "application/octet-stream", NULL, "{\"raw\":true}", NULL } },
	{ "a topic nobody subscribes to", { "pubsub", "a/b/c d", NULL, "nested", 0, MD(NULL) } },
	{ "an empty event", { "pubsub", "orders", NULL, "", 0, MD(NULL) }, .want = { "/orders", 1, "text/plain", "\"\"", NULL, NULL } },
	/* ---- single publish: refused ---- */
	{ "unknown pubsub", { "nosuch", "orders", NULL, "x", 0, MD(NULL) }, "ERR_PUBSUB_NOT_FOUND", 404, 3, .reason = "DAPR_PUBSUB_NOT_FOUND" },
	{ "a component that is no pubsub", { "statestore", "orders", NULL, "x", 0, MD(NULL) }, "ERR_PUBSUB_NOT_FOUND", 404, 3, .reason = "DAPR_PUBSUB_NOT_FOUND" },
	{ "no pubsub name", { "", "", NULL, "x", 0, MD(NULL) }, "ERR_PUBSUB_EMPTY", 404, 3 },
	{ "no topic", { "pubsub", "", NULL, "x", 0, MD(NULL) }, "ERR_TOPIC_NAME_EMPTY", 404, 3 },
	{ "a topic that is not UTF-8", { "pubsub", "t\xffx", NULL, "x", 0, MD(NULL) }, "ERR_MALFORMED_REQUEST", 400, 3 },
	{ "rawPayload not a boolean", { "pubsub", "orders", NULL, "x", 0, MD("rawPayload", "maybe") }, "ERR_PUBSUB_REQUEST_METADATA", 400, 3 },
	{ "ttlInSeconds not a number", { "pubsub", "orders", NULL, "x", 0, MD("ttlInSeconds", "soon") }, "ERR_PUBSUB_REQUEST_METADATA", 400, 3 },
	{ "ttlInSeconds below one", { "pubsub", "orders", NULL, "x", 0, MD("rawPayload", "true", "ttlInSeconds", "0") }, "ERR_PUBSUB_REQUEST_METADATA", 400, 3 },
	{ "a CloudEvent that is not JSON", { "pubsub", "orders", "application/cloudevents+json", "{broken", 0, MD(NULL) }, "ERR_PUBSUB_CLOUD_EVENTS_SER", 500, 3 },
	{ "a CloudEvent that is no object", { "pubsub", "orders", "application/cloudevents+json", "\"a string\"", 0, MD(NULL) }, "ERR_PUBSUB_CLOUD_EVENTS_SER", 500, 3 },
	{ "a topic out of scope", { "scoped", "denied", NULL, "x", 0, MD(NULL) }, "ERR_PUBSUB_FORBIDDEN", 403, 7 },
	{ "a topic in scope", { "scoped", "allowed", NULL, "x", 0, MD(NULL) } },
	/* ---- the broker fails (pubsub.test) ---- */
	{ "the broker fails", { "failing", "broken", NULL, "x", 0, MD(NULL) }, "ERR_PUBSUB_PUBLISH_MESSAGE", 500, 13 },
	{ "the broker has no such topic", { "failing", "missing", NULL, "x", 0, MD(NULL) }, "ERR_PUBSUB_NOT_FOUND", 400, 5 },
	{ "bulk: the broker takes some entries", { "failing", "partial", .bulk = true, .entries = bulk_partial, .nentries = 3 }, .want_failed = 1 },
	{ "bulk: the broker takes none", { "failing", "broken", .bulk = true, .entries = bulk_partial, .nentries = 3 }, .want_failed = 3 },
	/* ---- bulk publish ---- */
	{ "bulk: every kind of event", { "pubsub", "orders", .bulk = true, .entries = bulk_mixed, .nentries = 4 }, .want = { "/orders", 4, NULL, NULL, NULL, NULL } },
	{ "bulk: no entries", { "pubsub", "orders", .bulk = true, .entries = NULL, .nentries = 0 } },
	{ "bulk: an entry's metadata over the request's", { "pubsub", "orders", .bulk = true, .md = MD("cloudevent.id", "from-request"), .entries = bulk_entry_md, .nentries = 1 }, .want = { "/orders", 1, "text/plain", "\"over\"", NULL, "from-entry" } },
	{ "bulk: rawPayload from the request", { "pubsub", "raw", .bulk = true, .md = MD("rawPayload", "true"), .entries = bulk_raw, .nentries = 1 }, .want = { "/raw", 1, "application/octet-stream", NULL, "raw bytes", NULL } },
	{ "bulk: duplicate entryId", { "pubsub", "orders", .bulk = true, .entries = bulk_dup, .nentries = 3 }, "ERR_PUBSUB_EVENTS_SER", 400, 3 },
	{ "bulk: empty entryId", { "pubsub", "orders", .bulk = true, .entries = bulk_no_id, .nentries = 1 }, "ERR_PUBSUB_EVENTS_SER", 400, 3 },
	{ "bulk: entry rawPayload not a boolean", { "pubsub", "orders", .bulk = true, .entries = bulk_bad_md, .nentries = 1 }, "ERR_PUBSUB_REQUEST_METADATA", 400, 3 },
	{ "bulk: ttlInSeconds of the request", { "pubsub", "orders", .bulk = true, .md = MD("ttlInSeconds", "x"), .entries = bulk_dup, .nentries = 2 }, "ERR_PUBSUB_REQUEST_METADATA", 400, 3 },
	{ "bulk: unknown pubsub", { "nosuch", "orders", .bulk = true, .entries = bulk_mixed, .nentries = 1 }, "ERR_PUBSUB_NOT_FOUND", 404, 3, .reason = "DAPR_PUBSUB_NOT_FOUND" },
	{ "bulk: no topic", { "pubsub", "", .bulk = true, .entries = bulk_mixed, .nentries = 1 }, "ERR_TOPIC_NAME_EMPTY", 404, 3 },
	{ "bulk: a topic out of scope", { "scoped", "denied", .bulk = true, .entries = bulk_mixed, .nentries = 1 }, "ERR_PUBSUB_FORBIDDEN", 403, 7 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct daemon dmn;
static struct test_app *app;

static void setup(void)
{
	char port[16], grpc_port[16];
	const char *args[] = { "--app-port", port, "--dapr-grpc-port", grpc_port, NULL };

	ck_assert_ptr_nonnull(app = test_app_start());
	test_app_set_subscribe(app, SUBSCRIBE);
	snprintf(port, sizeof(port), "%d", test_app_port(app));
	/* The gRPC transport listens here; the HTTP one on dmn.port. */
	pt_grpc_port = daemon_free_port();
	snprintf(grpc_port, sizeof(grpc_port), "%d", pt_grpc_port);
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "scoped", "pubsub.in-memory", "publishingScopes",
					      APP "=allowed", NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "failing", "pubsub.test", NULL), 0);
	ck_assert_int_eq(daemon_setenv(&dmn, "OUTRIG_PLUGIN_PATH",
				       xfmt("%s:%s", getenv("OUTRIG_PLUGIN_PATH"), getenv("OUTRIG_TEST_PLUGIN_DIR"))),
			 0);
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
}

static void teardown(void)
{
	daemon_cleanup(&dmn);
	test_app_destroy(app);
}

/* The last request the app got on route. */
static const struct delivery *last_on(const char *route)
{
	const struct delivery *last = NULL, *d;

	for (size_t i = 0; (d = test_app_delivery(app, i)) != NULL; i++)
		if (strcmp(d->path, route) == 0)
			last = d;
	return last;
}

static void check_event(const struct publish_case *c, const struct pt_transport *t, size_t before)
{
	const struct want_event *w = &c->want;
	const struct delivery *d;
	json_t *ev;

	ck_assert_msg(test_app_wait_count(app, w->route, before + w->count, SOON_MS),
		      "%s over %s: the app got %zu events on %s, not %zu", c->name, t->name,
		      test_app_count_path(app, w->route) - before, w->route, w->count);
	d = last_on(w->route);
	/* Read here, not by the app: integers past int64 (a case has one) become doubles on both sides. */
	ev = json_loadb(d->body, d->body_len, JSON_DECODE_INT_AS_REAL, NULL);
	ck_assert_msg(json_is_object(ev), "%s over %s: the delivery is not JSON: %.300s", c->name, t->name, d->body);
	ck_assert_str_eq(jstr(json_object_get(ev, "pubsubname")), c->req.pubsub);
	ck_assert_str_eq(jstr(json_object_get(ev, "topic")), c->req.topic);
	if (w->content_type != NULL)
		ck_assert_msg(strcmp(jstr(json_object_get(ev, "datacontenttype")), w->content_type) == 0,
			      "%s over %s: datacontenttype of %.300s", c->name, t->name, d->body);
	if (w->id != NULL)
		ck_assert_msg(strcmp(jstr(json_object_get(ev, "id")), w->id) == 0, "%s over %s: id of %.300s",
			      c->name, t->name, d->body);
	if (w->data_json != NULL) {
		json_t *want = json_loads(w->data_json, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);

		ck_assert_msg(want != NULL && json_equal(json_object_get(ev, "data"), want),
			      "%s over %s: data of %.300s is not %s", c->name, t->name, d->body, w->data_json);
		json_decref(want);
	}
	if (w->data_base64 != NULL) {
		size_t want_len = c->req.bulk ? strlen(w->data_base64) : pt_data_len(&c->req), len = 0;
		unsigned char *got = ps_base64_decode(jstr(json_object_get(ev, "data_base64")), &len);

		ck_assert_msg(got != NULL && len == want_len && memcmp(got, w->data_base64, len) == 0,
			      "%s over %s: data_base64 of %.300s", c->name, t->name, d->body);
		free(got);
	}
	json_decref(ev);
}

static void run_case(const struct publish_case *c, const struct pt_transport *t)
{
	struct pt_result r = { 0 };
	size_t before = c->want.route != NULL ? test_app_count_path(app, c->want.route) : 0;

	ck_assert_msg(t->publish(&dmn, &c->req, &r) == 0, "%s over %s: no answer", c->name, t->name);
	if (c->code == NULL) {
		ck_assert_msg(r.ok, "%s over %s: refused (%d %s): %s", c->name, t->name, r.status, r.code, r.message);
		ck_assert_msg(r.nfailed == c->want_failed, "%s over %s: %zu entries failed, expected %zu", c->name,
			      t->name, r.nfailed, c->want_failed);
		if (c->want_failed > 0 && !t->grpc)
			ck_assert_msg(r.status == 500 && strcmp(r.code, "ERR_PUBSUB_PUBLISH_MESSAGE") == 0,
				      "%s over %s: %d %s", c->name, t->name, r.status, r.code);
		if (c->want.route != NULL)
			check_event(c, t, before);
	} else {
		int want_status = t->grpc ? c->grpc_code : c->http_status;

		ck_assert_msg(!r.ok, "%s over %s: published, expected %s", c->name, t->name, c->code);
		ck_assert_msg(r.status == want_status, "%s over %s: status %d, expected %d (%s): %s", c->name,
			      t->name, r.status, want_status, c->code, r.message);
		/* gRPC carries no errorCode: its code and message stand for it. */
		if (!t->grpc)
			ck_assert_msg(strcmp(r.code, c->code) == 0, "%s over %s: errorCode %s, expected %s: %s",
				      c->name, t->name, r.code, c->code, r.message);
		ck_assert_msg(r.message[0] != '\0', "%s over %s: the error says nothing", c->name, t->name);
		if (c->reason != NULL)
			ck_assert_msg(strcmp(r.reason, c->reason) == 0, "%s over %s: ErrorInfo reason '%s', expected %s",
				      c->name, t->name, r.reason, c->reason);
	}
}

START_TEST(publish_table)
{
	const struct pt_transport *t = &pt_transports[_i];
	static const char *const topics[] = { "orders", "raw", NULL };

	json_t *subs = ps_wait_subscribed(dmn.port, "pubsub", topics, SOON_MS);

	ck_assert_msg(subs != NULL, "the app's subscriptions were not made");
	json_decref(subs);
	for (size_t i = 0; i < NCASES; i++)
		run_case(&cases[i], t);
}
END_TEST

/* ---- a big bulk over any transport must not hold up other clients ---- */

/*
 * How long a request may wait behind another client's bulk: generous, for a loaded CI machine;
 * preparing 30,000 entries at once held the loop well over a second.
 */
#define RESPONSIVE_MS 3000

struct big_bulk {
	const struct pt_transport *t;
	struct pt_request req;
	struct pt_result r;
	int rc;
};

static void *big_bulk_main(void *arg)
{
	struct big_bulk *b = arg;

	b->rc = b->t->publish(&dmn, &b->req, &b->r);
	return NULL;
}

START_TEST(big_bulk_keeps_loop_free)
{
	const size_t n = 30000;
	struct pt_entry *entries = calloc(n, sizeof(*entries));
	char (*ids)[16] = calloc(n, sizeof(*ids));
	struct big_bulk b = { .t = &pt_transports[_i] };
	struct http_response r = { 0 };
	long worst = 0;
	pthread_t thread;

	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "id-%zu", i);
		entries[i] = (struct pt_entry){ ids[i], "{\"n\":1}", 0, "application/json", { NULL } };
	}
	b.req = (struct pt_request){ "pubsub", "big", .bulk = true, .entries = entries, .nentries = n };
	ck_assert_int_eq(pthread_create(&thread, NULL, big_bulk_main, &b), 0);
	/* Several probes: one of them lands while the loop works on the bulk. */
	for (int i = 0; i < 10; i++) {
		long start, took;

		xsleep_ms(100);
		start = xnow_ms();
		ck_assert_int_eq(http_request(dmn.port, "GET", "/v1.0/healthz", NULL, NULL, 0, &r), 0);
		took = xnow_ms() - start;
		ck_assert_int_eq(r.status, 204);
		http_response_free(&r);
		if (took > worst)
			worst = took;
	}
	pthread_join(thread, NULL);
	ck_assert_msg(worst < RESPONSIVE_MS, "GET /v1.0/healthz took %ld ms while a bulk of %zu came over %s", worst, n,
		      b.t->name);
	ck_assert_msg(b.rc == 0 && b.r.ok && b.r.nfailed == 0, "the bulk of %zu over %s: %d %s", n, b.t->name,
		      b.r.status, b.r.message);
	free(ids);
	free(entries);
}
END_TEST

static Suite *publish_suite(void)
{
	Suite *s = suite_create("pubsub_publish");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, publish_table, 0, (int)pt_ntransports);
	tcase_add_loop_test(tc, big_bulk_keeps_loop_free, 0, (int)pt_ntransports);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(publish_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
