/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request metadata of 100,000 keys, through both front ends, into the blocks that copy it (state
 * save, transaction and get; secrets): each copy once looked every key up in all earlier ones
 * (kv_set in a loop), which held the loop for seconds. The loop must stay free: healthz answers
 * within RESPONSIVE_MS while outrigd works on the request.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon.h"
#include "exchange.h"
#include "grpc_client.h"
#include "http_client.h"
#include "probe.h"

#define APP "myapp"
#define KEYS 100000
#define RESPONSIVE_MS 3000

static struct daemon dmn;

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "mem", "state.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "env", "secretstores.local.env", NULL), 0);
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start (log above)");
}

static void teardown(void)
{
	int code = dmn.pid > 0 ? daemon_stop(&dmn) : 0;

	if (code != 0)
		daemon_dump_log(&dmn);
	daemon_cleanup(&dmn);
	ck_assert_msg(code == 0, "outrigd exited with %d after SIGTERM, expected 0", code);
}

static void expect_responsive(long worst, const char *what)
{
	ck_assert_msg(worst >= 0, "GET /v1.0/healthz failed while outrigd worked on %s", what);
	ck_assert_msg(worst < RESPONSIVE_MS, "GET /v1.0/healthz took %ld ms while outrigd worked on %s: the loop was blocked",
		      worst, what);
}

/* {"k0":"v","k1":"v",...} into buf at len; returns the new length. */
static size_t json_metadata(char *buf, size_t len)
{
	len += (size_t)sprintf(buf + len, "{");
	for (size_t i = 0; i < KEYS; i++)
		len += (size_t)sprintf(buf + len, "%s\"k%zu\":\"v\"", i > 0 ? "," : "", i);
	return len + (size_t)sprintf(buf + len, "}");
}

START_TEST(http_save_with_many_metadata_keys)
{
	char *body = malloc(KEYS * 16 + 256), *answer = NULL;
	size_t len = (size_t)sprintf(body, "[{\"key\":\"big\",\"value\":1,\"metadata\":");
	int status;
	long worst;

	len = json_metadata(body, len);
	len += (size_t)sprintf(body + len, "}]");
	worst = probe_post(dmn.port, "/v1.0/state/mem", body, len, &status, &answer);
	ck_assert_msg(status == 204, "the save answered %d: %s", status, answer);
	expect_responsive(worst, "a save whose item has 100,000 metadata keys");
	free(answer);
	free(body);
}
END_TEST

START_TEST(http_transaction_with_many_metadata_keys)
{
	char *body = malloc(2 * KEYS * 16 + 256), *answer = NULL;
	size_t len = (size_t)sprintf(body, "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"t\",\"value\":1,\"metadata\":");
	int status;
	long worst;

	len = json_metadata(body, len);
	len += (size_t)sprintf(body + len, "}}],\"metadata\":");
	len = json_metadata(body, len);
	len += (size_t)sprintf(body + len, "}");
	worst = probe_post(dmn.port, "/v1.0/state/mem/transaction", body, len, &status, &answer);
	ck_assert_msg(status == 204, "the transaction answered %d: %s", status, answer);
	expect_responsive(worst, "a transaction with 100,000 metadata keys");
	free(answer);
	free(body);
}
END_TEST

/* ---- gRPC: protobuf written by hand, so the test needs no generated code ---- */

static size_t pb_varint(uint8_t *p, size_t v)
{
	size_t n = 0;

	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return n;
}

static size_t pb_string(uint8_t *p, unsigned field, const char *s)
{
	size_t n = pb_varint(p, field << 3 | 2), len = strlen(s);

	n += pb_varint(p + n, len);
	memcpy(p + n, s, len);
	return n + len;
}

/* field 1 and field 2 as strings, then KEYS entries of the map<string,string> at map_field. */
static size_t pb_request(uint8_t *p, const char *one, const char *two, unsigned map_field)
{
	size_t n = pb_string(p, 1, one);

	n += pb_string(p + n, 2, two);
	for (size_t i = 0; i < KEYS; i++) {
		uint8_t entry[64];
		char key[32];
		size_t e;

		snprintf(key, sizeof(key), "k%zu", i);
		e = pb_string(entry, 1, key);
		e += pb_string(entry + e, 2, "v");
		n += pb_varint(p + n, map_field << 3 | 2);
		n += pb_varint(p + n, e);
		memcpy(p + n, entry, e);
		n += e;
	}
	return n;
}

struct grpc_job {
	const char *path;
	const uint8_t *msg;
	size_t len;
	int rc;
	struct grpc_result r;
};

static void grpc_job_send(void *arg)
{
	struct grpc_job *j = arg;
	struct grpc_client *c = grpc_client_connect(dmn.grpc_port);

	j->rc = c != NULL ? grpc_client_call(c, j->path, NULL, j->msg, j->len, 60000, &j->r) : -1;
	if (c != NULL)
		grpc_client_close(c);
}

static void grpc_with_many_metadata_keys(const char *path, const char *one, const char *two, unsigned map_field,
					 int want)
{
	uint8_t *msg = malloc(KEYS * 24 + 256);
	struct grpc_job j = { path, msg, 0, 0, { 0 } };
	long worst;

	j.len = pb_request(msg, one, two, map_field);
	worst = probe_while(dmn.port, grpc_job_send, &j);
	ck_assert_msg(j.rc == 0, "%s with 100,000 metadata entries got no answer", path);
	ck_assert_msg(j.r.status == want, "%s answered grpc-status %d (%s), expected %d", path, j.r.status,
		      j.r.message, want);
	expect_responsive(worst, xfmt("%s with 100,000 metadata entries", path));
	grpc_result_free(&j.r);
	free(msg);
}

/* GetStateRequest{store_name=1, key=2, metadata=4}: a missing key is OK with no data. */
START_TEST(grpc_get_state_with_many_metadata_keys)
{
	grpc_with_many_metadata_keys("/dapr.proto.runtime.v1.Dapr/GetState", "mem", "nokey", 4, 0);
}
END_TEST

/* GetSecretRequest{store_name=1, key=2, metadata=3}: PATH is in outrigd's environment. */
START_TEST(grpc_get_secret_with_many_metadata_keys)
{
	grpc_with_many_metadata_keys("/dapr.proto.runtime.v1.Dapr/GetSecret", "env", "PATH", 3, 0);
}
END_TEST

/*
 * GetBulkStateRequest{store_name=1, keys=2 (repeated), metadata=4}: 10,000 keys and 3,000 entries,
 * 100 KB, once made keys x entries copies (2.4 GB, the loop held 98 s). One copy serves every key.
 */
START_TEST(grpc_bulk_get_keys_times_metadata)
{
	size_t nkeys = 10000, nmd = 3000, n = 0;
	uint8_t *msg = malloc(nkeys * 16 + nmd * 24 + 64);
	struct grpc_job j = { "/dapr.proto.runtime.v1.Dapr/GetBulkState", msg, 0, 0, { 0 } };
	long worst;

	n += pb_string(msg + n, 1, "mem");
	for (size_t i = 0; i < nkeys; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k%zu", i);
		n += pb_string(msg + n, 2, key);
	}
	for (size_t i = 0; i < nmd; i++) {
		uint8_t entry[64];
		char key[32];
		size_t e;

		snprintf(key, sizeof(key), "m%zu", i);
		e = pb_string(entry, 1, key);
		e += pb_string(entry + e, 2, "v");
		n += pb_varint(msg + n, 4 << 3 | 2);
		n += pb_varint(msg + n, e);
		memcpy(msg + n, entry, e);
		n += e;
	}
	j.len = n;
	worst = probe_while(dmn.port, grpc_job_send, &j);
	ck_assert_msg(j.rc == 0 && j.r.status == 0, "GetBulkState answered %d (%s)", j.r.status, j.r.message);
	expect_responsive(worst, "GetBulkState of 10,000 keys with 3,000 metadata entries");
	grpc_result_free(&j.r);
	free(msg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hostile_metadata");
	TCase *tc = tcase_create("metadata");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, http_save_with_many_metadata_keys);
	tcase_add_test(tc, http_transaction_with_many_metadata_keys);
	tcase_add_test(tc, grpc_get_state_with_many_metadata_keys);
	tcase_add_test(tc, grpc_get_secret_with_many_metadata_keys);
	tcase_add_test(tc, grpc_bulk_get_keys_times_metadata);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
