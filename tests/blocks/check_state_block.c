/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state block's API without any front end: the real loader and state.in-memory plugin, the
 * real workers and lanes, and the completion callbacks checked for what both front ends rely on
 * (called exactly once, on the loop thread; bytes kept verbatim; errors with both statuses).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "base/diag.h"
#include "base/kv.h"
#include "blocks/errors.h"
#include "blocks/state/state.h"
#include "components/component.h"
#include "resources/resources.h"
#include "runtime.h"

#define APP_ID "blockapp"

static struct server srv;
static struct components cs;
static struct options opts;
static struct res_set rs;
static pthread_t loop_thread;

/* What one operation's completion saw. */
struct outcome {
	int calls;
	bool on_loop;
	bool failed;
	struct block_error err;
	bool found;
	char *data; /* get: the value, or bulk: key=value|error;... */
	size_t len;
	char etag[64];
	size_t n;
	size_t n_errors;
	bool still_waiting; /* what waiting() answers */
	int waiting_calls;
};

static void seen(struct outcome *o, const struct block_error *err)
{
	o->calls++;
	o->on_loop = pthread_equal(pthread_self(), loop_thread);
	o->failed = err != NULL;
	if (err != NULL)
		o->err = *err;
}

static void done_plain(void *ctx, const struct block_error *err)
{
	seen(ctx, err);
}

static void done_get(void *ctx, const struct block_error *err, const struct outrig_state_value *v)
{
	struct outcome *o = ctx;

	seen(o, err);
	if (v == NULL || !v->found)
		return;
	o->found = true;
	o->data = malloc(v->data.len + 1);
	memcpy(o->data, v->data.data, v->data.len);
	o->len = v->data.len;
	snprintf(o->etag, sizeof(o->etag), "%.*s", (int)v->etag.len, (const char *)v->etag.data);
}

static void done_bulk(void *ctx, const struct block_error *err, const struct state_bulk_item *items, size_t n)
{
	struct outcome *o = ctx;

	seen(o, err);
	o->n = n;
	for (size_t i = 0; i < n; i++)
		o->n_errors += items[i].error != NULL;
	/* The first key's answer, to check order and the unprefixed key. */
	if (n > 0 && asprintf(&o->data, "%s=%s", items[0].key,
			      items[0].error != NULL  ? items[0].error
			      : items[0].value->found ? "found"
						      : "missing") < 0)
		o->data = NULL;
}

static bool waiting(void *ctx)
{
	struct outcome *o = ctx;

	o->waiting_calls++;
	return o->still_waiting;
}

/* Runs the loop until o's completion came, then a little more to catch a second call. */
static void wait_for(struct outcome *o)
{
	struct timeval tick = { 0, 10000 };

	for (int i = 0; i < 500 && o->calls == 0; i++) {
		event_base_loopexit(srv.base, &tick);
		event_base_dispatch(srv.base);
	}
	event_base_loopexit(srv.base, &tick);
	event_base_dispatch(srv.base);
	ck_assert_msg(o->calls == 1, "the completion ran %d times, not once", o->calls);
	ck_assert_msg(o->on_loop, "the completion ran off the loop thread");
}

static void setup(void)
{
	char dir[] = "/tmp/check_state_block.XXXXXX", *path = NULL;
	const char *plugins = getenv("OUTRIG_PLUGIN_PATH");
	struct diag d = { 0 };
	FILE *f;

	ck_assert_msg(plugins != NULL, "OUTRIG_PLUGIN_PATH is not set; run through make check");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_ge(asprintf(&path, "%s/components.yaml", dir), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\n"
	      "spec:\n  type: state.in-memory\n  version: v1\n",
	      f);
	fclose(f);
	ck_assert_uint_eq(resources_load_file(path, APP_ID, &rs, &d), 0);
	unlink(path);
	rmdir(dir);
	free(path);
	memset(&cs, 0, sizeof(cs));
	ck_assert_msg(components_setup(&cs, &rs, plugins, APP_ID, true, &d) == 0, "%s",
		      d.count > 0 ? d.lines[0] : "?");
	diag_clear(&d);
	opts.app_id = APP_ID;
	srv.opts = &opts;
	srv.components = &cs;
	evthread_use_pthreads();
	srv.base = event_base_new();
	srv.workers = workers_start(srv.base, 2);
	ck_assert_ptr_nonnull(srv.workers);
	ck_assert_int_eq(components_start(&cs, srv.base, srv.workers), 0);
	loop_thread = pthread_self();
}

static void teardown(void)
{
	workers_stop(srv.workers);
	components_destroy(&cs);
	resources_free(&rs);
	event_base_free(srv.base);
	memset(&srv, 0, sizeof(srv));
}

static void save(const char *key, const void *value, size_t len)
{
	struct outcome o = { 0 };

	state_save(&srv, "store", &(struct state_write){ .key = key, .value = value, .value_len = len }, 1,
		   NULL, done_plain, &o);
	wait_for(&o);
	ck_assert_msg(!o.failed, "save %s: %s", key, o.err.message);
}

/* gRPC stores the bytes it is given: they come back as they went, NULs, non-JSON and all. */
START_TEST(test_bytes_verbatim)
{
	static const char value[] = { 'n', 'o', 't', '\0', 'j', 's', 'o', 'n', '\xff', '\x01' };
	struct outcome o = { 0 };

	save("bin", value, sizeof(value));
	state_get(&srv, "store", &(struct state_get_req){ .key = "bin" }, done_get, &o);
	wait_for(&o);
	ck_assert(!o.failed);
	ck_assert(o.found);
	ck_assert_uint_eq(o.len, sizeof(value));
	ck_assert_mem_eq(o.data, value, sizeof(value));
	ck_assert_str_ne(o.etag, "");
	free(o.data);
}
END_TEST

START_TEST(test_unknown_store)
{
	struct outcome o = { 0 };

	state_get(&srv, "nope", &(struct state_get_req){ .key = "k" }, done_get, &o);
	/* Refused before any work is queued: the completion has already run. */
	ck_assert_int_eq(o.calls, 1);
	wait_for(&o);
	ck_assert(o.failed);
	ck_assert_int_eq(o.err.error, API_ERR_STATE_STORE_NOT_FOUND);
	ck_assert_int_eq(block_error_http_status(&o.err), 400);
	ck_assert_int_eq(block_error_grpc_code(&o.err), GRPC_INVALID_ARGUMENT);
	ck_assert_str_eq(o.err.message, "state store nope is not found");
}
END_TEST

/* An etag mismatch is 409 over HTTP and ABORTED over gRPC, from the one error. */
START_TEST(test_etag_mismatch)
{
	struct outcome o = { 0 }, d = { 0 };

	save("guarded", "1", 1);
	state_save(&srv, "store",
		   &(struct state_write){ .key = "guarded", .value = "2", .value_len = 1, .etag = "999" }, 1,
		   NULL, done_plain, &o);
	wait_for(&o);
	ck_assert(o.failed);
	ck_assert_int_eq(o.err.error, API_ERR_STATE_SAVE);
	ck_assert_int_eq(block_error_http_status(&o.err), 409);
	ck_assert_int_eq(block_error_grpc_code(&o.err), GRPC_ABORTED);
	/* The key as the app named it, not "blockapp||guarded". */
	ck_assert_msg(strstr(o.err.message, "key guarded:") != NULL && strstr(o.err.message, "||") == NULL,
		      "%s", o.err.message);

	state_delete(&srv, "store", &(struct state_write){ .key = "guarded", .etag = "999" }, done_plain, &d);
	wait_for(&d);
	ck_assert_int_eq(d.err.error, API_ERR_STATE_DELETE);
	ck_assert_int_eq(block_error_grpc_code(&d.err), GRPC_ABORTED);
}
END_TEST

START_TEST(test_rules_before_the_store)
{
	struct outcome o = { 0 }, t = { 0 }, k = { 0 };
	struct kv_list md = { 0 };

	/* Options and TTLs fail as the operation itself (daprd leaves them to the store). */
	ck_assert_int_eq(kv_set(&md, "ttlInSeconds", "soon"), 0);
	state_save(&srv, "store",
		   &(struct state_write){ .key = "k", .value = "1", .value_len = 1, .metadata = &md }, 1,
		   NULL, done_plain, &o);
	wait_for(&o);
	ck_assert_int_eq(o.err.error, API_ERR_STATE_SAVE);
	ck_assert_int_eq(block_error_grpc_code(&o.err), GRPC_INTERNAL);
	kv_free(&md);

	state_transact(
		&srv, "store",
		(struct state_write[]){ { .key = "a", .value = "1", .value_len = 1, .operation = "upsert" },
					{ .key = "b", .operation = "patch" } },
		2, NULL, done_plain, &t);
	wait_for(&t);
	ck_assert_int_eq(t.err.error, API_ERR_STATE_OPERATION_NOT_SUPPORTED);
	ck_assert_str_eq(t.err.field, "operations[1].operation");
	ck_assert_int_eq(block_error_grpc_code(&t.err), GRPC_UNIMPLEMENTED);

	state_get(&srv, "store", &(struct state_get_req){ .key = "x||y" }, done_get, &k);
	wait_for(&k);
	ck_assert_int_eq(k.err.error, API_ERR_ILLEGAL_KEY);
	ck_assert_str_eq(k.err.field, "key");
}
END_TEST

START_TEST(test_bulk_keys_and_limit)
{
	static const char *const keys[] = { "b1", "missing", "b1" };
	const char **many = calloc(STATE_BULK_MAX_KEYS + 1, sizeof(*many));
	struct outcome o = { 0 }, big = { 0 };

	save("b1", "\"v\"", 3);
	state_bulk_get(&srv, "store", &(struct state_bulk_req){ .keys = keys, .n = 3 }, NULL, done_bulk, &o);
	wait_for(&o);
	ck_assert(!o.failed);
	ck_assert_uint_eq(o.n, 3);
	ck_assert_uint_eq(o.n_errors, 0);
	ck_assert_str_eq(o.data, "b1=found");
	free(o.data);

	ck_assert_ptr_nonnull(many);
	for (size_t i = 0; i <= STATE_BULK_MAX_KEYS; i++)
		many[i] = "k";
	state_bulk_get(&srv, "store", &(struct state_bulk_req){ .keys = many, .n = STATE_BULK_MAX_KEYS + 1 },
		       NULL, done_bulk, &big);
	wait_for(&big);
	ck_assert_int_eq(big.err.error, API_ERR_MALFORMED_REQUEST);
	ck_assert_str_eq(big.err.field, "keys");
	free(many);
}
END_TEST

/* Once nobody waits, a long bulk get stops between turns; the keys left are reported, not read. */
START_TEST(test_bulk_stops_when_nobody_waits)
{
	const char *keys[200];
	struct outcome o = { .still_waiting = false };

	for (size_t i = 0; i < 200; i++)
		keys[i] = "k";
	state_bulk_get(&srv, "store", &(struct state_bulk_req){ .keys = keys, .n = 200 }, waiting, done_bulk,
		       &o);
	wait_for(&o);
	ck_assert(!o.failed);
	ck_assert_int_ge(o.waiting_calls, 1);
	ck_assert_uint_eq(o.n, 200);
	/* One turn of 64 was read, the other 136 keys carry an error. */
	ck_assert_uint_eq(o.n_errors, 200 - 64);
	free(o.data);
}
END_TEST

START_TEST(test_query_not_supported)
{
	struct outcome o = { 0 };

	state_query(&srv, "store", done_plain, &o);
	wait_for(&o);
	ck_assert_int_eq(o.err.error, API_ERR_STATE_QUERY_NOT_SUPPORTED);
	ck_assert_str_eq(o.err.message, "state store store doesn't support query");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state_block");
	TCase *tc = tcase_create("state_block");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bytes_verbatim);
	tcase_add_test(tc, test_unknown_store);
	tcase_add_test(tc, test_etag_mismatch);
	tcase_add_test(tc, test_rules_before_the_store);
	tcase_add_test(tc, test_bulk_keys_and_limit);
	tcase_add_test(tc, test_bulk_stops_when_nobody_waits);
	tcase_add_test(tc, test_query_not_supported);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
