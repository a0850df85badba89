/* SPDX-License-Identifier: Apache-2.0 */
/* blocks/pubsub/pubsub_entry.c: one event made ready for the broker (metadata merged and read, payload made). */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "blocks/pubsub/pubsub_entry.h"
#include "components/component.h"
#include "components/loader.h"

static struct plugin plugin; /* no pubsub ops: the broker has no TTL of its own */
static struct component comp = { .name = "pubsub", .type = "pubsub.in-memory", .plugin = &plugin };

static struct kv_list list_of(const char *const *pairs)
{
	struct kv_list l = { 0 };

	for (size_t i = 0; pairs[i] != NULL; i += 2)
		ck_assert_int_eq(kv_set(&l, pairs[i], pairs[i + 1]), 0);
	return l;
}

/* Prepares one entry against the request metadata request; returns make()'s result. */
static int prepare(struct pubsub_prepared *p, const char *data, const char *ct, const char *const *own,
		   const char *const *request, struct block_error *err)
{
	struct kv_list own_md = list_of(own), req_md = list_of(request);
	const struct pubsub_entry e = { "id-1", data, strlen(data), ct, &own_md };
	const struct pubsub_prepare_ctx ctx = { &comp, "orders", "myapp", NULL, NULL, &req_md };
	int rc;

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(pubsub_prepared_init(p, &e), 0);
	kv_free(&own_md);
	rc = pubsub_prepared_make(p, &ctx, err);
	kv_free(&req_md);
	return rc;
}

START_TEST(entry_metadata_wins_and_keeps_its_order)
{
	static const char *const own[] = { "b", "entry", "z", "1", NULL };
	static const char *const request[] = { "a", "request", "b", "request", NULL };
	struct pubsub_prepared p;
	struct block_error err;

	ck_assert_int_eq(prepare(&p, "x", NULL, own, request, &err), 0);
	ck_assert_uint_eq(p.metadata.count, 3);
	ck_assert_str_eq(p.metadata.items[0].key, "b");
	ck_assert_str_eq(p.metadata.items[0].value, "entry");
	ck_assert_str_eq(p.metadata.items[1].key, "z");
	ck_assert_str_eq(p.metadata.items[2].key, "a");
	ck_assert_str_eq(p.metadata.items[2].value, "request");
	pubsub_prepared_clear(&p);
}
END_TEST

START_TEST(cloudevent_by_default)
{
	static const char *const none[] = { NULL };
	struct pubsub_prepared p;
	struct block_error err;
	json_t *ce;

	ck_assert_int_eq(prepare(&p, "hello", NULL, none, none, &err), 0);
	ck_assert_str_eq(p.payload_type, "application/cloudevents+json");
	ce = json_loadb(p.payload, p.payload_len, 0, NULL);
	ck_assert_ptr_nonnull(ce);
	ck_assert_str_eq(json_string_value(json_object_get(ce, "data")), "hello");
	ck_assert_str_eq(json_string_value(json_object_get(ce, "datacontenttype")), PUBSUB_DEFAULT_CONTENT_TYPE);
	ck_assert_str_eq(json_string_value(json_object_get(ce, "source")), "myapp");
	ck_assert_str_eq(json_string_value(json_object_get(ce, "pubsubname")), "pubsub");
	json_decref(ce);
	pubsub_prepared_clear(&p);
}
END_TEST

START_TEST(raw_payload_goes_as_it_is)
{
	static const char *const raw[] = { "rawPayload", "True", NULL };
	static const char *const none[] = { NULL };
	struct pubsub_prepared p;
	struct block_error err;

	/* From the request's metadata, which the entry does not override. */
	ck_assert_int_eq(prepare(&p, "{\"a\":1}", "application/json", none, raw, &err), 0);
	ck_assert_uint_eq(p.payload_len, 7);
	ck_assert_mem_eq(p.payload, "{\"a\":1}", 7);
	ck_assert_str_eq(p.payload_type, "application/json");
	pubsub_prepared_clear(&p);
}
END_TEST

START_TEST(bad_metadata_is_refused)
{
	static const char *const maybe[] = { "rawPayload", "maybe", NULL };
	static const char *const soon[] = { "ttlInSeconds", "soon", NULL };
	static const char *const none[] = { NULL };
	struct pubsub_prepared p;
	struct block_error err;

	ck_assert_int_eq(prepare(&p, "x", NULL, maybe, none, &err), -1);
	ck_assert_int_eq(err.error, API_ERR_PUBSUB_REQUEST_METADATA);
	ck_assert_ptr_nonnull(strstr(err.message, "'maybe'"));
	pubsub_prepared_clear(&p);
	ck_assert_int_eq(prepare(&p, "x", NULL, none, soon, &err), -1);
	ck_assert_int_eq(err.error, API_ERR_PUBSUB_REQUEST_METADATA);
	pubsub_prepared_clear(&p);
	ck_assert_int_eq(prepare(&p, "{broken", "application/cloudevents+json", none, none, &err), -1);
	ck_assert_int_eq(err.error, API_ERR_PUBSUB_CLOUD_EVENTS_SER);
	ck_assert_ptr_nonnull(strstr(err.message, "topic orders in pubsub pubsub"));
	pubsub_prepared_clear(&p);
}
END_TEST

START_TEST(booleans_as_go_reads_them)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	bool v;

	for (size_t i = 0; i < 6; i++) {
		ck_assert(pubsub_parse_bool(yes[i], &v) && v);
		ck_assert(pubsub_parse_bool(no[i], &v) && !v);
	}
	ck_assert(!pubsub_parse_bool("yes", &v));
	ck_assert(!pubsub_parse_bool("tRUE", &v));
	ck_assert(!pubsub_parse_bool("", &v));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pubsub_entry");
	TCase *tc = tcase_create("prepare");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, entry_metadata_wins_and_keeps_its_order);
	tcase_add_test(tc, cloudevent_by_default);
	tcase_add_test(tc, raw_payload_goes_as_it_is);
	tcase_add_test(tc, bad_metadata_is_refused);
	tcase_add_test(tc, booleans_as_go_reads_them);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
