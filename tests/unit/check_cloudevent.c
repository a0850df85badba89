/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/cloudevent.c: the envelope of API.md §2.2, raw wrapping (§2.6) and expiry. */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/pubsub/cloudevent.h"

/* 2024-05-01T10:00:00Z */
#define NOW_MS INT64_C(1714557600000)

static struct outrig_kv kv[8];
static struct outrig_metadata md;
static struct cloudevent_input in;
static char err[512];
static bool bad;

static void reset(const char *content_type, const char *body)
{
	memset(&in, 0, sizeof(in));
	md.count = 0;
	md.items = kv;
	in.pubsub = "pubsub";
	in.topic = "orders";
	in.app_id = "myapp";
	in.content_type = content_type;
	in.data = body;
	in.data_len = strlen(body);
	in.metadata = &md;
	in.now_unix_ms = NOW_MS;
	err[0] = '\0';
}

static void meta(const char *key, const char *value)
{
	kv[md.count].key = key;
	kv[md.count].value = value;
	md.count++;
}

static json_t *build(void)
{
	json_t *ev = cloudevent_build(&in, &bad, err, sizeof(err));

	ck_assert_msg(ev != NULL, "cloudevent_build failed: %s", err);
	return ev;
}

static const char *field(json_t *ev, const char *name)
{
	const char *v = json_string_value(json_object_get(ev, name));

	return v != NULL ? v : "(not a string)";
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_traceparent(const char *tp)
{
	return strlen(tp) == 55 && strncmp(tp, "00-", 3) == 0 && is_hex(tp + 3, 32) && tp[35] == '-' &&
	       is_hex(tp + 36, 16) && strcmp(tp + 52, "-01") == 0;
}

static bool is_uuid4(const char *u)
{
	return strlen(u) == 36 && is_hex(u, 8) && u[8] == '-' && is_hex(u + 9, 4) && u[13] == '-' &&
	       u[14] == '4' && is_hex(u + 15, 3) && u[18] == '-' && strchr("89ab", u[19]) != NULL &&
	       is_hex(u + 20, 3) && u[23] == '-' && is_hex(u + 24, 12);
}

START_TEST(text_is_wrapped_with_every_field)
{
	json_t *ev;

	reset(NULL, "hello");
	ev = build();
	ck_assert_str_eq(field(ev, "data"), "hello");
	ck_assert_str_eq(field(ev, "datacontenttype"), "text/plain");
	ck_assert_str_eq(field(ev, "source"), "myapp");
	ck_assert_str_eq(field(ev, "type"), "com.dapr.event.sent");
	ck_assert_str_eq(field(ev, "specversion"), "1.0");
	ck_assert_str_eq(field(ev, "topic"), "orders");
	ck_assert_str_eq(field(ev, "pubsubname"), "pubsub");
	ck_assert_str_eq(field(ev, "time"), "2024-05-01T10:00:00Z");
	ck_assert_str_eq(field(ev, "tracestate"), "");
	ck_assert_msg(is_uuid4(field(ev, "id")), "id %s is not a UUIDv4", field(ev, "id"));
	ck_assert_msg(is_traceparent(field(ev, "traceparent")), "traceparent %s", field(ev, "traceparent"));
	ck_assert_str_eq(field(ev, "traceid"), field(ev, "traceparent"));
	ck_assert_ptr_null(json_object_get(ev, "subject"));
	ck_assert_ptr_null(json_object_get(ev, "expiration"));
	ck_assert_ptr_null(json_object_get(ev, "data_base64"));
	json_decref(ev);

	/* An empty app id gives the constant source; an explicit type is kept as given. */
	reset("text/csv; charset=utf-8", "a,b");
	in.app_id = "";
	ev = build();
	ck_assert_str_eq(field(ev, "source"), "Dapr");
	ck_assert_str_eq(field(ev, "datacontenttype"), "text/csv; charset=utf-8");
	ck_assert_str_eq(field(ev, "data"), "a,b");
	json_decref(ev);
}
END_TEST

START_TEST(json_is_parsed_only_for_application_json)
{
	json_t *ev;

	reset("application/json", "{\"a\":[1,true,null]}");
	ev = build();
	ck_assert_int_eq(
		json_integer_value(json_array_get(json_object_get(json_object_get(ev, "data"), "a"), 0)), 1);
	json_decref(ev);

	reset("Application/JSON; charset=utf-8", "42");
	ev = build();
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "data")), 42);
	json_decref(ev);

	/* +json types are not application/json: the body stays a string. */
	reset("application/vnd.api+json", "{\"a\":1}");
	ev = build();
	ck_assert_str_eq(field(ev, "data"), "{\"a\":1}");
	json_decref(ev);

	/* Invalid JSON falls back to the body as a string. */
	reset("application/json", "{not json");
	ev = build();
	ck_assert_str_eq(field(ev, "data"), "{not json");
	json_decref(ev);
}
END_TEST

START_TEST(json_numbers_are_published_exactly)
{
	const char *body =
		" {\"big\":123456789012345678901234567890,\"r\":0.1,\"pi\":3.14159265358979323846}\n";
	size_t len;
	char *text;
	json_t *ev;

	reset("application/json", body);
	text = cloudevent_build_text(&in, &len, &bad, err, sizeof(err));
	ck_assert_msg(text != NULL, "%s", err);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_msg(strstr(text, "\"data\":{\"big\":123456789012345678901234567890,\"r\":0.1,"
				   "\"pi\":3.14159265358979323846}}") != NULL,
		      "numbers changed: %s", text);
	/* The result is one JSON object that still holds every other field. */
	ev = json_loads(text, JSON_DECODE_INT_AS_REAL, NULL);
	ck_assert_msg(json_is_object(ev), "not a JSON object: %s", text);
	ck_assert_str_eq(field(ev, "topic"), "orders");
	json_decref(ev);
	free(text);

	/* The tree form can only hold a big integer as a double, but it keeps the document. */
	reset("application/json", "{\"big\":123456789012345678901234567890}");
	ev = build();
	ck_assert_msg(json_is_real(json_object_get(json_object_get(ev, "data"), "big")), "big integer lost");
	json_decref(ev);
}
END_TEST

START_TEST(binary_types_go_to_data_base64)
{
	static const char *const types[] = { "application/octet-stream", "application/cloudevents+protobuf",
					     "application/x-protobuf", NULL };
	static const unsigned char bytes[] = { 0, 1, 2, 0xff };

	for (int i = 0; types[i] != NULL; i++) {
		json_t *ev;

		reset(types[i], "");
		in.data = bytes;
		in.data_len = sizeof(bytes);
		ev = build();
		ck_assert_str_eq(field(ev, "data_base64"), "AAEC/w==");
		ck_assert_ptr_null(json_object_get(ev, "data"));
		ck_assert_str_eq(field(ev, "datacontenttype"), types[i]);
		json_decref(ev);
	}
}
END_TEST

START_TEST(text_that_is_not_utf8_is_repaired)
{
	json_t *ev;

	reset("text/plain", "a\xff"
			    "b");
	ev = build();
	ck_assert_str_eq(field(ev, "data"), "a\xEF\xBF\xBD"
					    "b");
	json_decref(ev);
}
END_TEST

START_TEST(cloudevent_bodies_are_augmented)
{
	json_t *ev;

	reset("application/cloudevents+json",
	      "{\"id\":\"e1\",\"source\":\"mine\",\"topic\":\"wrong\",\"pubsubname\":\"wrong\",\"ext\":7,"
	      "\"time\":\"2020-01-01T00:00:00Z\",\"data\":{\"x\":1}}");
	in.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	in.tracestate = "k=v";
	ev = build();
	ck_assert_str_eq(field(ev, "id"), "e1");
	ck_assert_str_eq(field(ev, "source"), "mine");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "ext")), 7);
	ck_assert_str_eq(field(ev, "time"), "2020-01-01T00:00:00Z");
	ck_assert_str_eq(field(ev, "topic"), "orders");
	ck_assert_str_eq(field(ev, "pubsubname"), "pubsub");
	ck_assert_str_eq(field(ev, "type"), "com.dapr.event.sent");
	ck_assert_str_eq(field(ev, "specversion"), "1.0");
	ck_assert_str_eq(field(ev, "traceid"), in.traceparent);
	ck_assert_str_eq(field(ev, "traceparent"), in.traceparent);
	ck_assert_str_eq(field(ev, "tracestate"), "k=v");
	ck_assert_ptr_null(json_object_get(ev, "datacontenttype"));
	json_decref(ev);

	/* Missing time is added; the sender's trace fields are kept. */
	reset("application/cloudevents+json", "{\"traceid\":\"t\",\"tracestate\":\"s\"}");
	ev = build();
	ck_assert_str_eq(field(ev, "time"), "2024-05-01T10:00:00Z");
	ck_assert_str_eq(field(ev, "traceid"), "t");
	ck_assert_str_eq(field(ev, "tracestate"), "s");
	json_decref(ev);

	/* Not a JSON object: the envelope cannot be made (500, not the caller's metadata). */
	reset("application/cloudevents+json", "[1]");
	ck_assert_ptr_null(cloudevent_build(&in, &bad, err, sizeof(err)));
	ck_assert(!bad);
	ck_assert_msg(strstr(err, "not a JSON object") != NULL, "%s", err);
}
END_TEST

START_TEST(metadata_overrides_the_envelope)
{
	json_t *ev;

	reset("text/plain", "x");
	meta("cloudevent.id", "my-id");
	meta("cloudevent.source", "my-source");
	meta("cloudevent.type", "my.type");
	meta("cloudevent.subject", "my-subject");
	meta("cloudevent.traceparent", "00-11111111111111111111111111111111-2222222222222222-01");
	meta("cloudevent.tracestate", "a=b");
	in.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	ev = build();
	ck_assert_str_eq(field(ev, "id"), "my-id");
	ck_assert_str_eq(field(ev, "source"), "my-source");
	ck_assert_str_eq(field(ev, "type"), "my.type");
	ck_assert_str_eq(field(ev, "subject"), "my-subject");
	ck_assert_str_eq(field(ev, "traceparent"), "00-11111111111111111111111111111111-2222222222222222-01");
	ck_assert_str_eq(field(ev, "traceid"), field(ev, "traceparent"));
	ck_assert_str_eq(field(ev, "tracestate"), "a=b");
	json_decref(ev);

	/* cloudevent.traceid counts as the traceparent; an empty override is no override. */
	reset("text/plain", "x");
	meta("cloudevent.traceid", "00-33333333333333333333333333333333-4444444444444444-01");
	meta("cloudevent.id", "");
	ev = build();
	ck_assert_str_eq(field(ev, "traceparent"), "00-33333333333333333333333333333333-4444444444444444-01");
	ck_assert_msg(is_uuid4(field(ev, "id")), "id %s", field(ev, "id"));
	json_decref(ev);
}
END_TEST

START_TEST(traceparent_comes_from_the_request_or_is_new)
{
	json_t *ev;
	char first[64];

	reset("text/plain", "x");
	in.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	ev = build();
	ck_assert_str_eq(field(ev, "traceparent"), in.traceparent);
	json_decref(ev);

	/* A malformed header starts a new trace rather than propagating garbage. */
	reset("text/plain", "x");
	in.traceparent = "garbage";
	ev = build();
	ck_assert_msg(is_traceparent(field(ev, "traceparent")), "%s", field(ev, "traceparent"));
	strcpy(first, field(ev, "traceparent"));
	json_decref(ev);
	ev = build();
	ck_assert_str_ne(field(ev, "traceparent"), first);
	json_decref(ev);
}
END_TEST

START_TEST(ttl_sets_expiration)
{
	json_t *ev;
	int64_t secs;

	reset("text/plain", "x");
	meta("ttlInSeconds", "90");
	ev = build();
	ck_assert_str_eq(field(ev, "expiration"), "2024-05-01T10:01:30Z");
	json_decref(ev);

	/* A broker that expires messages itself gets no expiration field. */
	in.broker_ttl = true;
	ev = build();
	ck_assert_ptr_null(json_object_get(ev, "expiration"));
	json_decref(ev);

	/* A huge TTL stops at the last RFC 3339 second instead of overflowing. */
	reset("application/cloudevents+json", "{}");
	meta("ttlInSeconds", "9223372036854775807");
	ev = build();
	ck_assert_str_eq(field(ev, "expiration"), "9999-12-31T23:59:59Z");
	json_decref(ev);

	/* Empty is none. */
	reset("text/plain", "x");
	meta("ttlInSeconds", "");
	ck_assert_int_eq(cloudevent_ttl(&md, &secs, err, sizeof(err)), 0);
	ev = build();
	ck_assert_ptr_null(json_object_get(ev, "expiration"));
	json_decref(ev);
}
END_TEST

START_TEST(bad_ttl_is_the_callers_fault)
{
	static const char *const bad_values[] = {
		"soon", "1.5", "-1", "0", " 5", "5s", "99999999999999999999", NULL
	};

	for (int i = 0; bad_values[i] != NULL; i++) {
		reset("text/plain", "x");
		meta("ttlInSeconds", bad_values[i]);
		ck_assert_msg(cloudevent_build(&in, &bad, err, sizeof(err)) == NULL, "ttl %s accepted",
			      bad_values[i]);
		ck_assert_msg(bad, "ttl %s: not reported as a bad request", bad_values[i]);
		ck_assert_msg(strstr(err, "ttlInSeconds") != NULL, "%s", err);
	}
}
END_TEST

START_TEST(raw_payloads_are_wrapped_on_delivery)
{
	json_t *ev = cloudevent_wrap_raw("pubsub", "orders", "hi", 2);

	ck_assert_ptr_nonnull(ev);
	ck_assert_msg(is_uuid4(field(ev, "id")), "id %s", field(ev, "id"));
	ck_assert_str_eq(field(ev, "specversion"), "1.0");
	ck_assert_str_eq(field(ev, "datacontenttype"), "application/octet-stream");
	ck_assert_str_eq(field(ev, "source"), "Dapr");
	ck_assert_str_eq(field(ev, "type"), "com.dapr.event.sent");
	ck_assert_str_eq(field(ev, "topic"), "orders");
	ck_assert_str_eq(field(ev, "pubsubname"), "pubsub");
	ck_assert_str_eq(field(ev, "data_base64"), "aGk=");
	ck_assert_ptr_null(json_object_get(ev, "data"));
	json_decref(ev);
}
END_TEST

START_TEST(expiration_is_checked_against_now)
{
	json_t *ev = json_object();

	ck_assert(!cloudevent_expired(ev, NOW_MS));
	json_object_set_new(ev, "expiration", json_string("2024-05-01T10:00:00Z"));
	ck_assert(cloudevent_expired(ev, NOW_MS));
	ck_assert(!cloudevent_expired(ev, NOW_MS - 1));
	json_object_set_new(ev, "expiration", json_string("2024-05-01T12:00:00.500+02:00"));
	ck_assert(cloudevent_expired(ev, NOW_MS + 500));
	ck_assert(!cloudevent_expired(ev, NOW_MS + 499));
	json_object_set_new(ev, "expiration", json_string("2024-05-01 10:00:00"));
	ck_assert(!cloudevent_expired(ev, NOW_MS * 2));
	json_object_set_new(ev, "expiration", json_integer(1));
	ck_assert(!cloudevent_expired(ev, NOW_MS));
	json_decref(ev);
}
END_TEST

START_TEST(uuids_are_random_v4)
{
	char a[37], b[37];

	cloudevent_uuid(a);
	cloudevent_uuid(b);
	ck_assert_msg(is_uuid4(a), "%s", a);
	ck_assert_msg(is_uuid4(b), "%s", b);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(base64_decodes)
{
	size_t len;
	unsigned char *bytes = cloudevent_base64_decode("AAEC/w==", &len);

	ck_assert_ptr_nonnull(bytes);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(memcmp(bytes, "\x00\x01\x02\xff", 4), 0);
	free(bytes);
	bytes = cloudevent_base64_decode("aGk", &len);
	ck_assert_ptr_nonnull(bytes);
	ck_assert_str_eq((char *)bytes, "hi");
	free(bytes);
	ck_assert_ptr_null(cloudevent_base64_decode("a*b=", &len));
	ck_assert_ptr_null(cloudevent_base64_decode("a", &len));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cloudevent");
	TCase *tc = tcase_create("envelope");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, text_is_wrapped_with_every_field);
	tcase_add_test(tc, json_is_parsed_only_for_application_json);
	tcase_add_test(tc, json_numbers_are_published_exactly);
	tcase_add_test(tc, binary_types_go_to_data_base64);
	tcase_add_test(tc, text_that_is_not_utf8_is_repaired);
	tcase_add_test(tc, cloudevent_bodies_are_augmented);
	tcase_add_test(tc, metadata_overrides_the_envelope);
	tcase_add_test(tc, traceparent_comes_from_the_request_or_is_new);
	tcase_add_test(tc, ttl_sets_expiration);
	tcase_add_test(tc, bad_ttl_is_the_callers_fault);
	tcase_add_test(tc, raw_payloads_are_wrapped_on_delivery);
	tcase_add_test(tc, expiration_is_checked_against_now);
	tcase_add_test(tc, uuids_are_random_v4);
	tcase_add_test(tc, base64_decodes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
