/* SPDX-License-Identifier: Apache-2.0 */
/* The publish HTTP API (single and bulk) of a running outrigd and its errors, as a Dapr client sees them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
#include "test_app.h"

#define APP "pubapp"
#define JSON_CT "Content-Type: application/json\r\n"

/* Every test runs in its own forked process with its own daemon and scratch directory. */
static struct daemon dmn;
static struct exchange x;

static int call(const char *method, const char *path, const char *headers, const char *body)
{
	return xreq(&x, dmn.port, method, path, headers, body);
}

/* A body that may hold NUL bytes, which xreq's strings cannot. */
static int call_bytes(const char *path, const char *headers, const void *body, size_t len)
{
	int rc;

	xfree(&x);
	snprintf(x.req, sizeof(x.req), "POST %s (%zu bytes)", path, len);
	rc = http_request(dmn.port, "POST", path, headers, body, len, &x.r);
	if (rc < 0)
		x.r.status = rc;
	return x.r.status;
}

#define PUBLISHED(method, path, headers, body)                                                               \
	do {                                                                                                 \
		call(method, path, headers, body);                                                           \
		ck_status(&x, 204);                                                                          \
		ck_assert_uint_eq(x.r.body_len, 0);                                                          \
	} while (0)

static void start_daemon(void)
{
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start (log above)");
}

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	/* A component that is not a pub/sub: publishing to it must say "not found". */
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	start_daemon();
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
}

START_TEST(publish_text_json_and_binary)
{
	static const unsigned char binary[] = { 0x00, 0xff, 0x10, 0x00, 0x80 };

	PUBLISHED("POST", "/v1.0/publish/pubsub/orders", NULL, "plain text, no Content-Type");
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders", "Content-Type: text/plain\r\n", "hello");
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders", JSON_CT,
		  "{\"orderId\":12345678901234567890,\"p\":0.1}");
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders", JSON_CT, "not json after all");
	PUBLISHED("PUT", "/v1.0/publish/pubsub/orders", JSON_CT, "[1,2,3]");
	call_bytes("/v1.0/publish/pubsub/orders", "Content-Type: application/octet-stream\r\n", binary,
		   sizeof(binary));
	ck_status(&x, 204);
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders", "Content-Type: application/cloudevents+json\r\n",
		  "{\"id\":\"1\",\"source\":\"me\",\"type\":\"t\",\"specversion\":\"1.0\",\"data\":{}}");
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders",
		  "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n", "traced");
	/* The topic is the rest of the path, slashes and escapes included. */
	PUBLISHED("POST", "/v1.0/publish/pubsub/a/b/c%20d", NULL, "nested");
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders", NULL, "");
}
END_TEST

START_TEST(publish_metadata)
{
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders?metadata.rawPayload=true", JSON_CT, "{\"raw\":true}");
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders?metadata.rawPayload=false", NULL, "wrapped");
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders?metadata.rawPayload=True", NULL, "raw");
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders?metadata.ttlInSeconds=10&metadata.custom=x", NULL,
		  "ttl");
	PUBLISHED("POST",
		  "/v1.0/publish/pubsub/orders?metadata.cloudevent.id=my-id&metadata.cloudevent.subject=s"
		  "&metadata.cloudevent.type=my.type&metadata.cloudevent.source=src",
		  NULL, "overridden");
	/* Parameters without the metadata. prefix are not metadata, so this one is ignored. */
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders?rawPayload=maybe", NULL, "x");
}
END_TEST

START_TEST(publish_errors)
{
	call("POST", "/v1.0/publish/nosuch/orders", NULL, "x");
	ck_error(&x, 404, "ERR_PUBSUB_NOT_FOUND");
	ck_reason(&x, "DAPR_PUBSUB_NOT_FOUND");
	ck_assert_msg(strstr(XBODY(&x), "nosuch") != NULL, "message does not name the pubsub: %s", XBODY(&x));

	/* A component of another kind is not a pub/sub. */
	call("POST", "/v1.0/publish/statestore/orders", NULL, "x");
	ck_error(&x, 404, "ERR_PUBSUB_NOT_FOUND");

	call("POST", "/v1.0/publish/pubsub", NULL, "x");
	ck_error(&x, 404, "ERR_TOPIC_NAME_EMPTY");
	call("POST", "/v1.0/publish/pubsub/", NULL, "x");
	ck_error(&x, 404, "ERR_TOPIC_NAME_EMPTY");
	call("POST", "/v1.0/publish", NULL, "x");
	ck_error(&x, 404, "ERR_PUBSUB_EMPTY");

	call("POST", "/v1.0/publish/pubsub/orders?metadata.rawPayload=maybe", NULL, "x");
	ck_error(&x, 400, "ERR_PUBSUB_REQUEST_METADATA");
	ck_assert_msg(strstr(XBODY(&x), "rawPayload") != NULL, "message does not name rawPayload: %s",
		      XBODY(&x));
	call("POST", "/v1.0/publish/pubsub/orders?metadata.ttlInSeconds=soon", NULL, "x");
	ck_error(&x, 400, "ERR_PUBSUB_REQUEST_METADATA");
	call("POST", "/v1.0/publish/pubsub/orders?metadata.ttlInSeconds=-5", NULL, "x");
	ck_error(&x, 400, "ERR_PUBSUB_REQUEST_METADATA");
	/* Same rule with a raw payload: the broker gets the TTL, so it must make sense. */
	call("POST", "/v1.0/publish/pubsub/orders?metadata.rawPayload=true&metadata.ttlInSeconds=0", NULL,
	     "x");
	ck_error(&x, 400, "ERR_PUBSUB_REQUEST_METADATA");

	call("POST", "/v1.0/publish/pubsub/orders", "Content-Type: application/cloudevents+json\r\n",
	     "{broken");
	ck_error(&x, 500, "ERR_PUBSUB_CLOUD_EVENTS_SER");
	call("POST", "/v1.0/publish/pubsub/orders", "Content-Type: application/cloudevents+json\r\n",
	     "\"a string\"");
	ck_error(&x, 500, "ERR_PUBSUB_CLOUD_EVENTS_SER");
}
END_TEST

START_TEST(publish_one_megabyte)
{
	size_t n = 1024 * 1024;
	char *body = malloc(n + 3);

	ck_assert_ptr_nonnull(body);
	memset(body, 'x', n + 2);
	body[n + 2] = '\0';
	PUBLISHED("POST", "/v1.0/publish/pubsub/big", NULL, body);
	/* The same megabyte as one JSON string. */
	body[0] = '"';
	body[n + 1] = '"';
	PUBLISHED("POST", "/v1.0/publish/pubsub/big", JSON_CT, body);
	free(body);
}
END_TEST

static const char *const bulk_paths[] = { "/v1.0-alpha1/publish/bulk/pubsub/orders",
					  "/v1.0/publish/bulk/pubsub/orders" };

START_TEST(bulk_publish)
{
	const char *path = bulk_paths[_i];

	PUBLISHED(
		"POST", path, JSON_CT,
		"[{\"entryId\":\"1\",\"event\":{\"n\":1},\"contentType\":\"application/json\"},"
		"{\"entryId\":\"2\",\"event\":\"text\",\"contentType\":\"text/plain\"},"
		"{\"entryId\":\"3\",\"event\":\"AAEC/w==\",\"contentType\":\"application/octet-stream\"},"
		"{\"entryId\":\"4\",\"event\":{\"id\":\"x\",\"source\":\"s\",\"type\":\"t\",\"specversion\":\"1.0\"},"
		"\"contentType\":\"application/cloudevents+json\"},"
		"{\"entryId\":\"5\",\"event\":[1,2],\"metadata\":{\"ttlInSeconds\":\"30\",\"rawPayload\":\"true\"}},"
		"{\"entryId\":\"6\",\"event\":\"no contentType\"}]");
	PUBLISHED("PUT", path, JSON_CT, "[]");
	/* The JS SDK spells it entryID; daprd's JSON decoder matches keys without case. */
	PUBLISHED("POST", path, JSON_CT,
		  "[{\"entryID\":\"1\",\"event\":{\"n\":1},\"contentType\":\"application/json\"},"
		  "{\"EntryId\":\"2\",\"Event\":\"text\",\"ContentType\":\"text/plain\"}]");
	PUBLISHED("POST", xfmt("%s?metadata.rawPayload=true", path), JSON_CT,
		  "[{\"entryId\":\"a\",\"event\":\"raw\",\"contentType\":\"text/plain\"}]");
}
END_TEST

START_TEST(bulk_publish_rejects_bad_bodies)
{
	const char *path = bulk_paths[_i];

	call("POST", path, JSON_CT, "{\"entryId\":\"1\",\"event\":1}");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
	call("POST", path, JSON_CT, "[{\"entryId\":\"1\"");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
	call("POST", path, JSON_CT, "[{\"event\":1,\"contentType\":\"application/json\"}]");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
	ck_assert_msg(strstr(XBODY(&x), "entryId") != NULL, "message does not name entryId: %s", XBODY(&x));
	call("POST", path, JSON_CT, "[{\"entryId\":\"\",\"event\":1}]");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
	call("POST", path, JSON_CT, "[{\"entryId\":\"1\",\"event\":1},{\"entryId\":\"1\",\"event\":2}]");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
	ck_assert_msg(strstr(XBODY(&x), "unique") != NULL, "message does not explain the duplicate: %s",
		      XBODY(&x));
	call("POST", path, JSON_CT, "[1]");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
	/* An event that does not fit its content type. */
	call("POST", path, JSON_CT,
	     "[{\"entryId\":\"1\",\"event\":\"*not base64*\",\"contentType\":\"application/octet-stream\"}]");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
	call("POST", path, JSON_CT,
	     "[{\"entryId\":\"1\",\"event\":{\"a\":1},\"contentType\":\"text/plain\"}]");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
	call("POST", path, JSON_CT,
	     "[{\"entryId\":\"1\",\"event\":1,\"metadata\":{\"rawPayload\":\"perhaps\"}}]");
	ck_error(&x, 400, "ERR_PUBSUB_REQUEST_METADATA");
	call("POST", xfmt("%s?metadata.ttlInSeconds=x", path), JSON_CT, "[{\"entryId\":\"1\",\"event\":1}]");
	ck_error(&x, 400, "ERR_PUBSUB_REQUEST_METADATA");
}
END_TEST

START_TEST(bulk_publish_not_found)
{
	const char *version = _i == 0 ? "v1.0-alpha1" : "v1.0";

	call("POST", xfmt("/%s/publish/bulk/nosuch/orders", version), JSON_CT, "[]");
	ck_error(&x, 404, "ERR_PUBSUB_NOT_FOUND");
	ck_reason(&x, "DAPR_PUBSUB_NOT_FOUND");
	call("POST", xfmt("/%s/publish/bulk/statestore/orders", version), JSON_CT, "[]");
	ck_error(&x, 404, "ERR_PUBSUB_NOT_FOUND");
	call("POST", xfmt("/%s/publish/bulk/pubsub/", version), JSON_CT, "[]");
	ck_error(&x, 404, "ERR_TOPIC_NAME_EMPTY");
}
END_TEST

START_TEST(no_pubsub_configured)
{
	daemon_stop(&dmn);
	unlink(xfmt("%s/pubsub.yaml", dmn.resources));
	start_daemon();
	call("POST", "/v1.0/publish/pubsub/orders", NULL, "x");
	ck_error(&x, 400, "ERR_PUBSUB_NOT_CONFIGURED");
	call("POST", "/v1.0/publish/bulk/pubsub/orders", JSON_CT, "[]");
	ck_error(&x, 400, "ERR_PUBSUB_NOT_CONFIGURED");
	call("POST", "/v1.0-alpha1/publish/bulk/pubsub/orders", JSON_CT, "[]");
	ck_error(&x, 400, "ERR_PUBSUB_NOT_CONFIGURED");
}
END_TEST

/* Without --resources-path outrigd serves `dapr init`'s names: statestore, and pubsub. */
START_TEST(embedded_default_pubsub)
{
	json_t *meta, *c;
	size_t i;
	bool found = false;

	daemon_stop(&dmn);
	dmn.use_resources = false;
	start_daemon();
	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	meta = xjson(&x);
	json_array_foreach(json_object_get(meta, "components"), i, c)
	{
		if (strcmp(jstr(json_object_get(c, "name")), "pubsub") == 0) {
			ck_assert_str_eq(jstr(json_object_get(c, "type")), "pubsub.in-memory");
			found = true;
		}
	}
	json_decref(meta);
	ck_assert_msg(found, "no embedded pubsub component: %s", XBODY(&x));
	PUBLISHED("POST", "/v1.0/publish/pubsub/orders", JSON_CT, "{\"embedded\":true}");
}
END_TEST

/* ---- topic scoping (publishingScopes, subscriptionScopes, allowedTopics, protectedTopics) ---- */

static void ck_log_has(const char *needle, bool want)
{
	char *log = xslurp(dmn.log);
	bool has = log != NULL && strstr(log, needle) != NULL;

	if (has != want)
		daemon_dump_log(&dmn);
	ck_assert_msg(has == want, "the log %s \"%s\" (log above)", want ? "lacks" : "has", needle);
	free(log);
}

static void forbidden(const char *path, const char *headers, const char *body, const char *topic)
{
	json_t *error;

	call("POST", path, headers, body);
	ck_error(&x, 403, "ERR_PUBSUB_FORBIDDEN");
	error = xjson(&x);
	ck_assert_str_eq(jstr(json_object_get(error, "message")),
			 xfmt("topic %s is not allowed for app id " APP, topic));
	json_decref(error);
}

/*
 * "scoped": this app may publish orders and the protected secret only; another app may publish
 * vault. "limited": only topics a and b exist for anyone.
 */
static void scoped_setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "scoped", "pubsub.in-memory", "publishingScopes",
					      "other=vault,free; " APP "=orders, secret", "protectedTopics",
					      "secret,vault", NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "limited", "pubsub.in-memory", "allowedTopics", "a,b",
					      "protectedTopics", "b", NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "open", "pubsub.in-memory", NULL), 0);
	start_daemon();
}

START_TEST(scoped_publish)
{
	PUBLISHED("POST", "/v1.0/publish/scoped/orders", NULL, "granted");
	PUBLISHED("PUT", "/v1.0/publish/scoped/secret", NULL, "protected but granted");
	forbidden("/v1.0/publish/scoped/free", NULL, "granted to another app only", "free");
	forbidden("/v1.0/publish/scoped/vault", NULL, "protected, granted to another app", "vault");
	forbidden("/v1.0/publish/scoped/orders/2", JSON_CT, "{}", "orders/2");

	PUBLISHED("POST", "/v1.0/publish/limited/a", NULL, "allowed topic");
	forbidden("/v1.0/publish/limited/c", NULL, "not in allowedTopics", "c");
	forbidden("/v1.0/publish/limited/b", NULL, "allowed but protected and not granted", "b");

	/* Components without scoping, and the checks daprd makes before scoping, are unchanged. */
	PUBLISHED("POST", "/v1.0/publish/open/free", NULL, "no scoping");
	call("POST", "/v1.0/publish/scoped/free?metadata.rawPayload=maybe", NULL, "x");
	ck_error(&x, 400, "ERR_PUBSUB_REQUEST_METADATA");
	call("POST", "/v1.0/publish/nosuch/free", NULL, "x");
	ck_error(&x, 404, "ERR_PUBSUB_NOT_FOUND");

	/* The runtime reads these keys: the in-memory plugin is not told it ignores them. */
	ck_log_has("publishingScopes", false);
	ck_log_has("protectedTopics", false);
	ck_log_has("allowedTopics", false);
}
END_TEST

START_TEST(scoped_bulk_publish)
{
	const char *version = _i == 0 ? "v1.0-alpha1" : "v1.0";
	const char *entries = "[{\"entryId\":\"1\",\"event\":{\"n\":1},\"contentType\":\"application/json\"},"
			      "{\"entryId\":\"2\",\"event\":\"text\",\"contentType\":\"text/plain\"}]";

	PUBLISHED("POST", xfmt("/%s/publish/bulk/scoped/orders", version), JSON_CT, entries);
	PUBLISHED("POST", xfmt("/%s/publish/bulk/limited/a", version), JSON_CT, entries);
	forbidden(xfmt("/%s/publish/bulk/scoped/free", version), JSON_CT, entries, "free");
	forbidden(xfmt("/%s/publish/bulk/scoped/vault", version), JSON_CT, "[]", "vault");
	forbidden(xfmt("/%s/publish/bulk/limited/c", version), JSON_CT, entries, "c");
	/* A body that is not a bulk is still a 400 first, as in daprd. */
	call("POST", xfmt("/%s/publish/bulk/scoped/free", version), JSON_CT, "{}");
	ck_error(&x, 400, "ERR_PUBSUB_EVENTS_SER");
}
END_TEST

/* A malformed scope stops start-up, naming the file, the component and the entry. */
START_TEST(malformed_scope_stops_startup)
{
	daemon_stop(&dmn);
	ck_assert_int_eq(daemon_add_component(&dmn, "broken", "pubsub.in-memory", "subscriptionScopes",
					      APP "=a;" APP, NULL),
			 0);
	ck_assert_msg(daemon_start(&dmn, NULL) != 0, "outrigd started with a malformed subscriptionScopes");
	ck_log_has("broken.yaml:", true);
	/* The log shows double quotes as single ones. */
	ck_log_has("component broken: spec.metadata subscriptionScopes: entry '" APP "' has no '='", true);
}
END_TEST

/* The app's subscriptions listed by GET /v1.0/metadata, as "pubsub/topic" lines. */
static char *listed_subscriptions(void)
{
	json_t *meta, *sub;
	char *text = NULL;
	size_t size = 0, i;
	FILE *out = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(out);
	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	meta = xjson(&x);
	json_array_foreach(json_object_get(meta, "subscriptions"), i, sub)
		fprintf(out, "%s/%s\n", jstr(json_object_get(sub, "pubsubname")),
			jstr(json_object_get(sub, "topic")));
	json_decref(meta);
	fclose(out);
	return text;
}

START_TEST(scoped_subscriptions_are_not_made)
{
	struct test_app *app = test_app_start();
	char port[16];
	const char *const args[] = { "--app-port", port, NULL };
	char *listed = NULL;

	ck_assert_ptr_nonnull(app);
	snprintf(port, sizeof(port), "%d", test_app_port(app));
	daemon_stop(&dmn);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", "subscriptionScopes",
					      APP "=orders,declared-ok;other=denied", "allowedTopics",
					      "orders,denied,declared-ok,declared", NULL),
			 0);
	ck_assert_int_eq(daemon_write_resource(
				 &dmn, "subs.yaml",
				 "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n"
				 "  name: declared\nspec:\n  pubsubname: pubsub\n  topic: declared\n"
				 "  routes:\n    default: /declared\n---\n"
				 "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n"
				 "  name: declared-ok\nspec:\n  pubsubname: pubsub\n  topic: declared-ok\n"
				 "  routes:\n    default: /declared-ok\n"),
			 0);
	test_app_set_subscribe(app, "[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"route\":\"/orders\"},"
				    "{\"pubsubname\":\"pubsub\",\"topic\":\"denied\",\"route\":\"/denied\"},"
				    "{\"pubsubname\":\"pubsub\",\"topic\":\"elsewhere\",\"route\":\"/e\"},"
				    "{\"pubsubname\":\"open\",\"topic\":\"denied\",\"route\":\"/open\"}]");
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
	for (int tries = 0; tries < 200; tries++) {
		struct timespec pause = { 0, 50 * 1000 * 1000 };

		free(listed);
		listed = listed_subscriptions();
		if (strstr(listed, "pubsub/orders\n") != NULL &&
		    strstr(listed, "pubsub/declared-ok\n") != NULL && strstr(listed, "open/denied\n") != NULL)
			break;
		nanosleep(&pause, NULL);
	}
	ck_assert_msg(strstr(listed, "pubsub/orders\n") != NULL &&
			      strstr(listed, "pubsub/declared-ok\n") != NULL,
		      "the granted subscriptions were never listed: %s", listed);
	/* Another component's topic of the same name is not scoped. */
	ck_assert_msg(strstr(listed, "open/denied\n") != NULL, "open/denied is missing: %s", listed);
	ck_assert_msg(strstr(listed, "pubsub/denied\n") == NULL, "a refused subscription is listed: %s",
		      listed);
	ck_assert_msg(strstr(listed, "pubsub/declared\n") == NULL, "a refused subscription is listed: %s",
		      listed);
	ck_assert_msg(strstr(listed, "pubsub/elsewhere\n") == NULL, "a refused subscription is listed: %s",
		      listed);
	free(listed);
	ck_log_has("subscription to topic denied of pubsub pubsub (the app's GET /dapr/subscribe answer, "
		   "element 1) is not made: the component's subscriptionScopes does not grant topic denied "
		   "to app id " APP,
		   true);
	ck_log_has("subscription to topic declared of pubsub pubsub (", true);
	ck_log_has("subs.yaml", true);
	ck_log_has("subscription to topic elsewhere of pubsub pubsub (the app's GET /dapr/subscribe answer, "
		   "element 2) is not made: topic elsewhere is not in the component's allowedTopics",
		   true);
	daemon_stop(&dmn);
	test_app_destroy(app);
}
END_TEST

static Suite *pubsub_suite(void)
{
	Suite *s = suite_create("api_pubsub");
	TCase *tc = tcase_create("publish");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, publish_text_json_and_binary);
	tcase_add_test(tc, publish_metadata);
	tcase_add_test(tc, publish_errors);
	tcase_add_test(tc, publish_one_megabyte);
	tcase_add_loop_test(tc, bulk_publish, 0, 2);
	tcase_add_loop_test(tc, bulk_publish_rejects_bad_bodies, 0, 2);
	tcase_add_loop_test(tc, bulk_publish_not_found, 0, 2);
	tcase_add_test(tc, no_pubsub_configured);
	tcase_add_test(tc, embedded_default_pubsub);
	suite_add_tcase(s, tc);

	tc = tcase_create("scopes");
	tcase_add_checked_fixture(tc, scoped_setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, scoped_publish);
	tcase_add_loop_test(tc, scoped_bulk_publish, 0, 2);
	tcase_add_test(tc, malformed_scope_stops_startup);
	tcase_add_test(tc, scoped_subscriptions_are_not_made);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pubsub_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
