/* SPDX-License-Identifier: Apache-2.0 */
/* One set of state-store cases run through outrigd's HTTP API against every state plugin. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
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
#include "server.h"

/* What a plugin's setup function prepares, and what its metadata template may refer to. */
struct store_env {
	char dir[DAEMON_PATH_MAX]; /* scratch directory, removed afterwards: ${DIR} */
	int port;		   /* a server the setup started, if any: ${PORT} */
	pid_t pid;		   /* that server's process, for the teardown */
	void *priv;
};

/* Returned by a setup function when the server it needs is not installed here. */
#define STORE_UNAVAILABLE 77

struct plugin_case {
	const char *name;		     /* names the TCase: CK_RUN_CASE=sqlite runs just that one */
	const char *type;		     /* spec.type of the component */
	const char *metadata;		     /* spec.metadata YAML lines; ${DIR}, ${PORT} expanded */
	int (*setup)(struct store_env *env); /* NULL, or starts a server: 0, STORE_UNAVAILABLE, <0 */
	void (*teardown)(struct store_env *env);
};

/* One spec.metadata entry, to write table rows on one line. */
#define MD(name, value) "  - name: " name "\n    value: \"" value "\"\n"

/*
 * Adding a plugin is one line here. One that needs a server gets setup/teardown functions:
 * setup picks env->port with daemon_free_port(), starts the server with server_spawn() (data
 * under env->dir), waits with server_wait_port(), and returns STORE_UNAVAILABLE when
 * !server_available("redis-server"); teardown calls server_stop(env->pid).
 */
static const struct plugin_case plugins[] = {
	{ "in_memory", "state.in-memory", NULL, NULL, NULL },
	{ "sqlite", "state.sqlite", MD("connectionString", "${DIR}/conformance.db"), NULL, NULL },
};

#define STORE "/v1.0/state/store"

/* The plugin under test; each plugin gets its own runner, so fixtures can read this. */
static const struct plugin_case *cur;
static struct store_env env;
static struct daemon dmn;
static bool skipped, has_etag, has_tx, has_ttl;

static struct exchange x;

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* printf into a small ring of buffers, so a call can take two formatted arguments. */
static char *fmt(const char *f, ...)
{
	static char ring[4][1024];
	static int next;
	char *b = ring[next++ % 4];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(ring[0]), f, ap);
	va_end(ap);
	return b;
}

static int call(const char *method, const char *path, const char *headers, const char *body)
{
	return xreq(&x, dmn.port, method, path, headers, body);
}

/* Copies s with every ${DIR} and ${PORT} replaced. Ownership: caller frees. */
static char *expand(const char *s)
{
	char port[16];
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	snprintf(port, sizeof(port), "%d", env.port);
	while (s != NULL && *s != '\0') {
		if (strncmp(s, "${DIR}", 6) == 0) {
			fputs(env.dir, f);
			s += 6;
		} else if (strncmp(s, "${PORT}", 7) == 0) {
			fputs(port, f);
			s += 7;
		} else {
			fputc(*s++, f);
		}
	}
	fclose(f);
	return out;
}

static void read_capabilities(void)
{
	json_t *meta, *c, *v;
	size_t i, k;

	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	meta = xjson(&x);
	json_array_foreach(json_object_get(meta, "components"), i, c)
	{
		if (strcmp(jstr(json_object_get(c, "name")), "store") != 0)
			continue;
		ck_assert_str_eq(jstr(json_object_get(c, "type")), cur->type);
		json_array_foreach(json_object_get(c, "capabilities"), k, v)
		{
			has_etag |= strcmp(jstr(v), "ETAG") == 0;
			has_tx |= strcmp(jstr(v), "TRANSACTIONAL") == 0;
			has_ttl |= strcmp(jstr(v), "TTL") == 0;
		}
	}
	json_decref(meta);
	fprintf(stderr, "conformance %s: ETAG %s, TRANSACTIONAL %s, TTL %s\n", cur->name,
		has_etag ? "yes" : "no", has_tx ? "yes" : "no", has_ttl ? "yes" : "no");
}

/* Unchecked: one server and one daemon per plugin, shared by its cases (which use distinct keys). */
static void plugin_up(void)
{
	char *lines;
	int rc;

	memset(&env, 0, sizeof(env));
	skipped = has_etag = has_tx = has_ttl = false;
	ck_assert_int_eq(daemon_init(&dmn, "conformance"), 0);
	snprintf(env.dir, sizeof(env.dir), "%s", dmn.dir);
	if (cur->setup != NULL) {
		rc = cur->setup(&env);
		if (rc == STORE_UNAVAILABLE) {
			fprintf(stderr, "conformance %s: SKIPPED, its server is not available here\n",
				cur->name);
			skipped = true;
			return;
		}
		ck_assert_msg(rc == 0, "setup of %s failed (%d)", cur->name, rc);
	}
	lines = expand(cur->metadata);
	ck_assert_int_eq(daemon_write_component(&dmn, "store", cur->type, lines), 0);
	free(lines);
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start with %s (log above)", cur->type);
	read_capabilities();
}

static void plugin_down(void)
{
	xfree(&x);
	/* Server before scratch directory: it may keep its data there. */
	daemon_stop(&dmn);
	if (cur->teardown != NULL && !skipped)
		cur->teardown(&env);
	daemon_cleanup(&dmn);
}

#define SKIP_UNLESS(cond)                                                                                    \
	do {                                                                                                 \
		if (skipped)                                                                                 \
			return;                                                                              \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "conformance %s: %s not run, store lacks %s\n", cur->name, __func__, \
				#cond);                                                                      \
			return;                                                                              \
		}                                                                                            \
	} while (0)

/* Saves one key with a value given as JSON text. */
#define SAVE1(key, json)                                                                                     \
	do {                                                                                                 \
		call("POST", STORE, NULL, save_body(key, json, NULL, NULL));                                 \
		ck_status(&x, 204);                                                                          \
	} while (0)

#define GET_BODY(key, want)                                                                                  \
	do {                                                                                                 \
		call("GET", key_path(key), NULL, NULL);                                                      \
		ck_status(&x, 200);                                                                          \
		ck_body(&x, want);                                                                           \
	} while (0)

#define GET_MISSING(key)                                                                                     \
	do {                                                                                                 \
		call("GET", key_path(key), NULL, NULL);                                                      \
		ck_status(&x, 204);                                                                          \
		ck_assert_uint_eq(x.r.body_len, 0);                                                          \
	} while (0)

/* "/v1.0/state/store/<escaped key>" in a ring buffer. */
static char *key_path(const char *key)
{
	char *e = http_escape(key);
	char *p = fmt(STORE "/%s", e);

	free(e);
	return p;
}

/*
 * A save request for one item whose value is the JSON text json; the key is encoded by jansson
 * so any key survives. etag and options (JSON text) may be NULL.
 * Ownership: the result lives until the next call.
 */
static const char *save_body(const char *key, const char *json, const char *etag, const char *options)
{
	static char *body;
	json_t *jk = json_string(key), *je = etag ? json_string(etag) : NULL;
	char *k = json_dumps(jk, JSON_ENCODE_ANY);
	char *e = je ? json_dumps(je, JSON_ENCODE_ANY) : NULL;

	json_decref(jk);
	json_decref(je);
	free(body);
	if (asprintf(&body, "[{\"key\":%s,\"value\":%s%s%s%s%s}]", k, json, e ? ",\"etag\":" : "", e ? e : "",
		     options ? ",\"options\":" : "", options ? options : "") < 0)
		body = NULL;
	ck_assert_ptr_nonnull(body);
	free(k);
	free(e);
	return body;
}

#define ETAG_MAX 256

static void etag_of(const char *key, char *out)
{
	const char *e;

	call("GET", key_path(key), NULL, NULL);
	ck_status(&x, 200);
	e = http_header(&x.r, "ETag");
	ck_assert_msg(e != NULL && *e != '\0' && strlen(e) < ETAG_MAX, "%s: no usable ETag", x.req);
	strcpy(out, e);
}

START_TEST(crud)
{
	if (skipped)
		return;
	GET_MISSING("crud");
	SAVE1("crud", "\"v1\"");
	GET_BODY("crud", "\"v1\"");
	SAVE1("crud", "\"v2\"");
	GET_BODY("crud", "\"v2\"");
	call("DELETE", key_path("crud"), NULL, NULL);
	ck_status(&x, 204);
	GET_MISSING("crud");
	call("DELETE", key_path("crud"), NULL, NULL);
	ck_status(&x, 204);
}
END_TEST

START_TEST(json_values)
{
	/* Canonical compact JSON: the same bytes whether a store keeps them or re-encodes them. */
	static const char *const values[] = {
		"\"plain\"",
		"\"\"",
		"0",
		"-7",
		"0.5",
		"12345678901234",
		"true",
		"false",
		"[]",
		"{}",
		"[1,\"two\",[3,[4,{\"five\":5}]]]",
		"{\"a\":{\"b\":{\"c\":[true,false,null]}},\"z\":\"last\"}",
		"\"h\xc3\xa9llo w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe2\x9c\x93 \xf0\x9f\x9a\x80\"",
		"\"line1\\nline2\\ttab\\r \\u0001 \\u0010 quote\\\" back\\\\slash\"",
		"\"AAECAwQF/+7/3q2+7w==\"",
	};

	if (skipped)
		return;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char key[32];

		snprintf(key, sizeof(key), "value-%zu", i);
		SAVE1(key, values[i]);
		GET_BODY(key, values[i]);
	}
}
END_TEST

START_TEST(nul_in_string_value)
{
	/* Valid JSON that Dapr (Go) accepts and hands back unchanged; C parsers often refuse it. */
	if (skipped)
		return;
	SAVE1("nul", "\"nul\\u0000inside\"");
	GET_BODY("nul", "\"nul\\u0000inside\"");
}
END_TEST

START_TEST(etag)
{
	char e1[ETAG_MAX], e2[ETAG_MAX];

	SKIP_UNLESS(has_etag);
	SAVE1("etag", "1");
	etag_of("etag", e1);
	call("POST", STORE, NULL, save_body("etag", "2", e1, NULL));
	ck_status(&x, 204);
	etag_of("etag", e2);
	ck_body(&x, "2");
	ck_assert_msg(strcmp(e1, e2) != 0, "ETag unchanged by an update: %s", e1);
	call("POST", STORE, NULL, save_body("etag", "3", e1, NULL));
	ck_error(&x, 409, "ERR_STATE_SAVE");
	GET_BODY("etag", "2");
	call("DELETE", key_path("etag"), fmt("If-Match: %s\r\n", e1), NULL);
	ck_error(&x, 409, "ERR_STATE_DELETE");
	GET_BODY("etag", "2");
	call("DELETE", key_path("etag"), fmt("If-Match: %s\r\n", e2), NULL);
	ck_status(&x, 204);
	GET_MISSING("etag");
	/* An etag for a row that is gone matches nothing. */
	call("POST", STORE, NULL, save_body("etag", "4", e2, NULL));
	ck_error(&x, 409, "ERR_STATE_SAVE");
	GET_MISSING("etag");
}
END_TEST

START_TEST(first_write)
{
	static const char fw[] = "{\"concurrency\":\"first-write\"}";
	char e[ETAG_MAX];

	SKIP_UNLESS(has_etag);
	call("POST", STORE, NULL, save_body("fw", "1", NULL, fw));
	ck_status(&x, 204);
	call("POST", STORE, NULL, save_body("fw", "2", NULL, fw));
	ck_error(&x, 409, "ERR_STATE_SAVE");
	GET_BODY("fw", "1");
	etag_of("fw", e);
	call("POST", STORE, NULL, save_body("fw", "3", e, fw));
	ck_status(&x, 204);
	GET_BODY("fw", "3");
	call("POST", STORE, NULL, save_body("fw", "4", NULL, "{\"concurrency\":\"last-write\"}"));
	ck_status(&x, 204);
	GET_BODY("fw", "4");
}
END_TEST

START_TEST(bulk)
{
	json_t *req = json_array(), *keys = json_array(), *ask, *arr, *e;
	char *body;
	size_t i;

	if (skipped)
		return;
	for (i = 0; i < 20; i++) {
		json_array_append_new(req, json_pack("{s:s,s:{s:I}}", "key", fmt("bulk-%zu", i), "value", "n",
						     (json_int_t)i));
		/* Every third asked-for key does not exist; order must be kept. */
		json_array_append_new(keys, json_string(fmt("bulk-%zu", i % 3 ? i : i + 100)));
	}
	body = json_dumps(req, JSON_COMPACT);
	call("POST", STORE, NULL, body);
	ck_status(&x, 204);
	free(body);
	ask = json_pack("{s:o,s:i}", "keys", keys, "parallelism", 4);
	body = json_dumps(ask, JSON_COMPACT);
	json_decref(ask);
	call("POST", STORE "/bulk", NULL, body);
	free(body);
	ck_status(&x, 200);
	arr = xjson(&x);
	ck_assert_msg(json_array_size(arr) == 20, "bulk: %.400s", x.r.body);
	json_array_foreach(arr, i, e)
	{
		const char *want = fmt("bulk-%zu", i % 3 ? i : i + 100);

		ck_assert_msg(strcmp(jstr(json_object_get(e, "key")), want) == 0,
			      "bulk[%zu] should be %s: %.400s", i, want, x.r.body);
		if (i % 3 == 0) {
			ck_assert_msg(json_object_size(e) == 1, "bulk[%zu] is missing, only its key: %s", i,
				      json_dumps(e, 0));
		} else {
			json_int_t n = json_integer_value(json_object_get(json_object_get(e, "data"), "n"));

			ck_assert_msg(n == (json_int_t)i, "bulk[%zu] data: %s", i, json_dumps(e, 0));
			ck_assert_msg(!has_etag || json_string_length(json_object_get(e, "etag")) > 0,
				      "bulk[%zu] has no etag: %s", i, json_dumps(e, 0));
		}
	}
	json_decref(arr);
	json_decref(req);
}
END_TEST

START_TEST(transaction)
{
	char e[ETAG_MAX];

	SKIP_UNLESS(has_tx);
	SAVE1("tx-old", "\"old\"");
	SAVE1("tx-guarded", "0");
	etag_of("tx-guarded", e);
	call("POST", STORE "/transaction", NULL,
	     fmt("{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"tx-new\",\"value\":\"new\"}},"
		 "{\"operation\":\"delete\",\"request\":{\"key\":\"tx-old\"}},"
		 "{\"operation\":\"upsert\",\"request\":{\"key\":\"tx-guarded\",\"value\":1,\"etag\":\"%s\"}}]}",
		 e));
	ck_status(&x, 204);
	GET_BODY("tx-new", "\"new\"");
	GET_MISSING("tx-old");
	GET_BODY("tx-guarded", "1");

	/* e is stale now: the whole transaction must fail and leave nothing behind. */
	call("POST", STORE "/transaction", NULL,
	     fmt("{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"tx-none\",\"value\":1}},"
		 "{\"operation\":\"delete\",\"request\":{\"key\":\"tx-new\"}},"
		 "{\"operation\":\"upsert\",\"request\":{\"key\":\"tx-guarded\",\"value\":2,\"etag\":\"%s\"}}]}",
		 e));
	ck_error(&x, 500, "ERR_STATE_TRANSACTION");
	GET_MISSING("tx-none");
	GET_BODY("tx-new", "\"new\"");
	GET_BODY("tx-guarded", "1");

	call("POST", STORE "/transaction", NULL,
	     "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"tx-bad\",\"value\":1}},"
	     "{\"operation\":\"patch\",\"request\":{\"key\":\"tx-bad\"}}]}");
	ck_error(&x, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION");
	GET_MISSING("tx-bad");
}
END_TEST

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

START_TEST(ttl)
{
	long deadline = now_ms() + 3500;

	SKIP_UNLESS(has_ttl);
	call("POST", STORE "?metadata.ttlInSeconds=1", NULL, save_body("ttl-q", "1", NULL, NULL));
	ck_status(&x, 204);
	call("POST", STORE, NULL,
	     "[{\"key\":\"ttl-item\",\"value\":2,\"metadata\":{\"ttlInSeconds\":\"1\"}},"
	     "{\"key\":\"ttl-none\",\"value\":3}]");
	ck_status(&x, 204);
	GET_BODY("ttl-q", "1");
	GET_BODY("ttl-item", "2");
	/* Poll rather than sleep: expiry may be lazy or swept, either is fine if it happens. */
	while (now_ms() < deadline && (call("GET", key_path("ttl-q"), NULL, NULL) != 204 ||
				       call("GET", key_path("ttl-item"), NULL, NULL) != 204))
		usleep(100 * 1000);
	GET_MISSING("ttl-q");
	GET_MISSING("ttl-item");
	GET_BODY("ttl-none", "3");
}
END_TEST

START_TEST(large_value)
{
	size_t n = 1 << 20;
	char *value = malloc(n + 3);

	if (skipped)
		return;
	ck_assert_ptr_nonnull(value);
	value[0] = '"';
	for (size_t i = 1; i <= n; i++)
		value[i] = (char)('a' + i % 26);
	strcpy(value + n + 1, "\"");
	SAVE1("large", value);
	GET_BODY("large", value);
	free(value);
}
END_TEST

START_TEST(key_encoding)
{
	static const char *const keys[] = {
		"with space",
		"a/b/c",
		"/leading-slash",
		"plus+sign",
		"100%",
		"q?uery#frag",
		"semi;colon:eq=amp&",
		"dot.dash-under_tilde~",
		"sq'dq\"bs\\",
		"\xc3\xbcn\xc3\xaf"
		"c\xc3\xb6"
		"d\xc3\xa9-\xe3\x82\xad\xe3\x83\xbc-\xf0\x9f\x9a\x80",
	};
	size_t i;

	if (skipped)
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *arr;
		char *body;

		call("POST", STORE, NULL, save_body(keys[i], fmt("%zu", i), NULL, NULL));
		ck_status(&x, 204);
		GET_BODY(keys[i], fmt("%zu", i));
		arr = json_pack("{s:[s]}", "keys", keys[i]);
		body = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		call("POST", STORE "/bulk", NULL, body);
		free(body);
		ck_status(&x, 200);
		arr = xjson(&x);
		ck_assert_msg(strcmp(jstr(json_object_get(json_array_get(arr, 0), "key")), keys[i]) == 0,
			      "bulk does not hand back key '%s': %s", keys[i], x.r.body);
		json_decref(arr);
		call("DELETE", key_path(keys[i]), NULL, NULL);
		ck_status(&x, 204);
		GET_MISSING(keys[i]);
	}
}
END_TEST

#define THREADS 4
#define INCREMENTS 20

struct incrementer {
	pthread_t thread;
	int done, conflicts;
	char error[512]; /* set when something other than success or 409 came back */
};

/* Read, add one, write back guarded by the etag; retry on 409 until INCREMENTS succeeded. */
static void *increment(void *arg)
{
	struct incrementer *me = arg;
	struct exchange t = { 0 };

	while (me->done < INCREMENTS && me->conflicts < 100 * INCREMENTS) {
		char body[512];
		const char *e;
		long v;

		if (xreq(&t, dmn.port, "GET", STORE "/counter", NULL, NULL) != 200 ||
		    (e = http_header(&t.r, "ETag")) == NULL || strlen(e) > 256) {
			snprintf(me->error, sizeof(me->error), "%s -> %d %.200s", t.req, t.r.status,
				 XBODY(&t));
			break;
		}
		v = strtol(t.r.body, NULL, 10);
		snprintf(body, sizeof(body), "[{\"key\":\"counter\",\"value\":%ld,\"etag\":\"%s\"}]", v + 1,
			 e);
		switch (xreq(&t, dmn.port, "POST", STORE, NULL, body)) {
		case 204: me->done++; break;
		case 409: me->conflicts++; break;
		default:
			snprintf(me->error, sizeof(me->error), "%s -> %d %.200s", t.req, t.r.status,
				 XBODY(&t));
			xfree(&t);
			return NULL;
		}
	}
	xfree(&t);
	return NULL;
}

START_TEST(concurrent_increments)
{
	struct incrementer inc[THREADS] = { 0 };
	int conflicts = 0;
	int i;

	SKIP_UNLESS(has_etag);
	SAVE1("counter", "0");
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&inc[i].thread, NULL, increment, &inc[i]), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(inc[i].thread, NULL);
	for (i = 0; i < THREADS; i++) {
		ck_assert_msg(inc[i].error[0] == '\0', "thread %d: %s", i, inc[i].error);
		ck_assert_int_eq(inc[i].done, INCREMENTS);
		conflicts += inc[i].conflicts;
	}
	GET_BODY("counter", fmt("%d", THREADS * INCREMENTS));
	fprintf(stderr, "conformance %s: %d increments, %d etag conflicts retried\n", cur->name,
		THREADS * INCREMENTS, conflicts);
}
END_TEST

static Suite *conformance_suite(const struct plugin_case *p)
{
	Suite *s = suite_create(p->type);
	TCase *tc = tcase_create(p->name);

	tcase_add_unchecked_fixture(tc, plugin_up, plugin_down);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, crud);
	tcase_add_test(tc, json_values);
	tcase_add_test(tc, nul_in_string_value);
	tcase_add_test(tc, etag);
	tcase_add_test(tc, first_write);
	tcase_add_test(tc, bulk);
	tcase_add_test(tc, transaction);
	tcase_add_test(tc, ttl);
	tcase_add_test(tc, large_value);
	tcase_add_test(tc, key_encoding);
	tcase_add_test(tc, concurrent_increments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = 0;

	for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		SRunner *sr;

		cur = &plugins[i];
		sr = srunner_create(conformance_suite(cur));
		srunner_run_all(sr, CK_ENV);
		failed += srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
