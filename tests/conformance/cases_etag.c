/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance cases on etags and concurrency: mismatches, malformed etags, first-write, racing clients. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "http_client.h"

#define FIRST_WRITE "{\"concurrency\":\"first-write\"}"

START_TEST(etag)
{
	char e1[ETAG_MAX], e2[ETAG_MAX];

	REQUIRE_CAPS(CAP_ETAG);
	expect_saved(STORE, "etag", "1");
	etag_of(STORE, "etag", e1);
	call("POST", store_path(STORE), NULL, save_body("etag", "2", e1, NULL));
	ck_status(&x, 204);
	etag_of(STORE, "etag", e2);
	ck_assert_msg(value_matches(x.r.body, x.r.body_len, "2"), "%s -> %.100s", x.req, XBODY(&x));
	ck_assert_msg(strcmp(e1, e2) != 0, "ETag unchanged by an update: %s", e1);
	call("POST", store_path(STORE), NULL, save_body("etag", "3", e1, NULL));
	ck_fail(&x, 409, "ERR_STATE_SAVE");
	expect_value(STORE, "etag", "2");
	call("DELETE", key_path(STORE, "etag"), xfmt("If-Match: %s\r\n", e1), NULL);
	ck_fail(&x, 409, "ERR_STATE_DELETE");
	expect_value(STORE, "etag", "2");
	call("DELETE", key_path(STORE, "etag"), xfmt("If-Match: %s\r\n", e2), NULL);
	ck_status(&x, 204);
	expect_missing(STORE, "etag");
	/* An etag for a row that is gone matches nothing, except in daprd's state.redis. */
	call("POST", store_path(STORE), NULL, save_body("etag", "4", e2, NULL));
	if (ut.row->etag_creates_missing_key) {
		ck_status(&x, 204);
		expect_value(STORE, "etag", "4");
		/* Only a missing key is written: it starts again at version 1, so e2 ("2") mismatches. */
		call("POST", store_path(STORE), NULL, save_body("etag", "5", e2, NULL));
		ck_fail(&x, 409, "ERR_STATE_SAVE");
		expect_value(STORE, "etag", "4");
	} else {
		ck_fail(&x, 409, "ERR_STATE_SAVE");
		expect_missing(STORE, "etag");
	}
}
END_TEST

START_TEST(bad_etag)
{
	/* Neither is an etag any store issues; the second would also match everything if pasted into SQL. */
	static const char *const malformed[] = { "not-an-etag", "1' OR '1'='1" };
	int status = ut.row->bad_etag == BAD_ETAG_REFUSED ? 400 : 409;
	char before[ETAG_MAX], after[ETAG_MAX];

	REQUIRE_CAPS(CAP_ETAG);
	expect_saved(STORE, "bad-etag", "1");
	etag_of(STORE, "bad-etag", before);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		const char *m = malformed[i];

		call("POST", store_path(STORE), NULL, save_body("bad-etag", "2", m, NULL));
		ck_fail(&x, status, "ERR_STATE_SAVE");
		call("POST", store_path(STORE), NULL, save_body("bad-etag", "2", m, FIRST_WRITE));
		ck_fail(&x, status, "ERR_STATE_SAVE");
		call("DELETE", key_path(STORE, "bad-etag"), xfmt("If-Match: %s\r\n", m), NULL);
		ck_fail(&x, status, "ERR_STATE_DELETE");
		/* On a key that does not exist, too: no etag check may pass by default. */
		call("POST", store_path(STORE), NULL, save_body("bad-etag-none", "1", m, NULL));
		ck_fail(&x, status, "ERR_STATE_SAVE");
		expect_missing(STORE, "bad-etag-none");
	}
	expect_value(STORE, "bad-etag", "1");
	etag_of(STORE, "bad-etag", after);
	ck_assert_msg(strcmp(before, after) == 0, "a refused write changed the etag: %s -> %s", before,
		      after);

	if (!(ut.row->caps & CAP_TX))
		return;
	/* In a transaction any store failure is Dapr's 500, and the insert before it is undone. */
	transact(
		STORE,
		xfmt("[{\"operation\":\"upsert\",\"request\":{\"key\":\"bad-etag-tx\",\"value\":1}},"
		     "{\"operation\":\"upsert\",\"request\":{\"key\":\"bad-etag\",\"value\":3,\"etag\":\"%s\"}}]",
		     malformed[0]));
	ck_fail(&x, 500, "ERR_STATE_TRANSACTION");
	expect_missing(STORE, "bad-etag-tx");
	expect_value(STORE, "bad-etag", "1");
}
END_TEST

START_TEST(first_write)
{
	char e[ETAG_MAX];

	REQUIRE_CAPS(CAP_ETAG);
	call("POST", store_path(STORE), NULL, save_body("fw", "1", NULL, FIRST_WRITE));
	ck_status(&x, 204);
	call("POST", store_path(STORE), NULL, save_body("fw", "2", NULL, FIRST_WRITE));
	ck_fail(&x, 409, "ERR_STATE_SAVE");
	expect_value(STORE, "fw", "1");
	etag_of(STORE, "fw", e);
	call("POST", store_path(STORE), NULL, save_body("fw", "3", e, FIRST_WRITE));
	ck_status(&x, 204);
	expect_value(STORE, "fw", "3");
	call("POST", store_path(STORE), NULL, save_body("fw", "4", NULL, "{\"concurrency\":\"last-write\"}"));
	ck_status(&x, 204);
	expect_value(STORE, "fw", "4");
}
END_TEST

#define RACERS 50
#define RACE_ROUNDS 3

struct racer {
	pthread_t thread;
	pthread_barrier_t *start;
	char *body; /* the save request, built before the start so all requests leave together */
	int status;
	char error[512]; /* set when something other than 204 or 409 came back */
};

static void *race(void *arg)
{
	struct racer *me = arg;
	struct exchange t = { 0 };

	pthread_barrier_wait(me->start);
	me->status = sreq(&t, "POST", "/v1.0/state/" STORE, NULL, me->body);
	if (me->status != 204 && me->status != 409)
		snprintf(me->error, sizeof(me->error), "%s -> %d %.300s", t.req, me->status, XBODY(&t));
	xfree(&t);
	return NULL;
}

/* RACERS clients create one fresh key with first-write at the same instant: exactly one may win. */
START_TEST(first_write_race)
{
	REQUIRE_CAPS(CAP_ETAG);
	for (int round = 0; round < RACE_ROUNDS; round++) {
		struct racer r[RACERS] = { 0 };
		pthread_barrier_t start;
		char key[32];
		int winner = -1, losers = 0;

		snprintf(key, sizeof(key), "race-%d", round);

		ck_assert_int_eq(pthread_barrier_init(&start, NULL, RACERS), 0);
		for (int i = 0; i < RACERS; i++) {
			char *item = item_json(key, xfmt("\"racer %d\"", i), NULL, FIRST_WRITE);

			ck_assert_int_ge(asprintf(&r[i].body, "[%s]", item), 0);
			free(item);
			r[i].start = &start;
			ck_assert_int_eq(pthread_create(&r[i].thread, NULL, race, &r[i]), 0);
		}
		for (int i = 0; i < RACERS; i++)
			pthread_join(r[i].thread, NULL);
		pthread_barrier_destroy(&start);
		for (int i = 0; i < RACERS; i++) {
			ck_assert_msg(r[i].error[0] == '\0', "racer %d: %s", i, r[i].error);
			if (r[i].status == 409) {
				losers++;
				continue;
			}
			ck_assert_msg(winner < 0, "%s: racers %d and %d both created it", key, winner, i);
			winner = i;
		}
		ck_assert_msg(winner >= 0 && losers == RACERS - 1, "%s: %d won, %d lost, of %d", key,
			      winner >= 0, losers, RACERS);
		expect_value(STORE, key, xfmt("\"racer %d\"", winner));
		for (int i = 0; i < RACERS; i++)
			free(r[i].body);
	}
}
END_TEST

struct incrementer {
	pthread_t thread;
	pthread_barrier_t *start;
	const char *key;
	bool retry; /* true: until want writes succeeded; false: want attempts, whatever they give */
	int want;
	int attempts, done, conflicts;
	char error[512]; /* set when something other than success or 409 came back */
};

/* One read, +1, write guarded by the etag read. Returns the write's status, or -1 after setting error. */
static int increment_once(struct incrementer *me, struct exchange *t)
{
	char path[256], body[512];
	const char *e;
	json_t *v;
	json_int_t n;

	snprintf(path, sizeof(path), "/v1.0/state/%s/%s", STORE, me->key);
	if (sreq(t, "GET", path, NULL, NULL) != 200 || (e = http_header(&t->r, "ETag")) == NULL ||
	    strlen(e) > ETAG_MAX) {
		snprintf(me->error, sizeof(me->error), "%s -> %d %.200s (ETag %s)", t->req, t->r.status,
			 XBODY(t), xheader(t, "ETag"));
		return -1;
	}
	v = json_loadb(t->r.body, t->r.body_len, JSON_DECODE_ANY, NULL);
	if (!json_is_integer(v)) {
		snprintf(me->error, sizeof(me->error), "%s -> not a number: %.200s", t->req, XBODY(t));
		json_decref(v);
		return -1;
	}
	n = json_integer_value(v);
	json_decref(v);
	snprintf(body, sizeof(body), "[{\"key\":\"%s\",\"value\":%" JSON_INTEGER_FORMAT ",\"etag\":\"%s\"}]",
		 me->key, n + 1, e);
	switch (sreq(t, "POST", "/v1.0/state/" STORE, NULL, body)) {
	case 204: return 204;
	case 409: return 409;
	}
	snprintf(me->error, sizeof(me->error), "%s -> %d %.200s", t->req, t->r.status, XBODY(t));
	return -1;
}

static void *increment(void *arg)
{
	struct incrementer *me = arg;
	struct exchange t = { 0 };

	pthread_barrier_wait(me->start);
	while (me->retry ? me->done < me->want && me->conflicts < 100 * me->want : me->attempts < me->want) {
		int status = increment_once(me, &t);

		me->attempts++;
		if (status == 204)
			me->done++;
		else if (status == 409)
			me->conflicts++;
		else
			break;
	}
	xfree(&t);
	return NULL;
}

/* Runs n incrementers on key, which starts at 0; the counter must end at the writes that succeeded. */
static void run_incrementers(const char *key, int n, bool retry, int want, int *done, int *conflicts)
{
	struct incrementer *inc = calloc((size_t)n, sizeof(*inc));
	pthread_barrier_t start;

	ck_assert_ptr_nonnull(inc);
	expect_saved(STORE, key, "0");
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, (unsigned)n), 0);
	for (int i = 0; i < n; i++) {
		inc[i] = (struct incrementer){ .start = &start, .key = key, .retry = retry, .want = want };
		ck_assert_int_eq(pthread_create(&inc[i].thread, NULL, increment, &inc[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(inc[i].thread, NULL);
	pthread_barrier_destroy(&start);
	*done = *conflicts = 0;
	for (int i = 0; i < n; i++) {
		ck_assert_msg(inc[i].error[0] == '\0', "client %d: %s", i, inc[i].error);
		ck_assert_msg(inc[i].done + inc[i].conflicts == inc[i].attempts,
			      "client %d: %d attempts, %d writes, %d conflicts", i, inc[i].attempts,
			      inc[i].done, inc[i].conflicts);
		*done += inc[i].done;
		*conflicts += inc[i].conflicts;
	}
	free(inc);
	expect_value(STORE, key, xfmt("%d", *done));
	fprintf(stderr, "conformance %s: %s: %d writes, %d etag conflicts\n", ut.row->name, key, *done,
		*conflicts);
}

#define INCREMENTERS 4
#define INCREMENTS 20

/* A few clients retrying on conflict until each has added its share: no increment may be lost. */
START_TEST(concurrent_increments)
{
	int done, conflicts;

	REQUIRE_CAPS(CAP_ETAG);
	run_incrementers("counter", INCREMENTERS, true, INCREMENTS, &done, &conflicts);
	ck_assert_int_eq(done, INCREMENTERS * INCREMENTS);
}
END_TEST

#define RMW_CLIENTS 20
#define RMW_ATTEMPTS 10

/* Many clients, a fixed number of tries each, no retries: every 204 counts exactly once. */
START_TEST(etag_read_modify_write)
{
	int done, conflicts;

	REQUIRE_CAPS(CAP_ETAG);
	run_incrementers("rmw-counter", RMW_CLIENTS, false, RMW_ATTEMPTS, &done, &conflicts);
	ck_assert_msg(done > 0, "none of %d read-modify-writes succeeded", RMW_CLIENTS * RMW_ATTEMPTS);
	ck_assert_int_eq(done + conflicts, RMW_CLIENTS * RMW_ATTEMPTS);
}
END_TEST

void add_etag_cases(TCase *tc)
{
	tcase_add_test(tc, etag);
	tcase_add_test(tc, bad_etag);
	tcase_add_test(tc, first_write);
	tcase_add_test(tc, first_write_race);
	tcase_add_test(tc, concurrent_increments);
	tcase_add_test(tc, etag_read_modify_write);
}
