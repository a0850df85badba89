/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Faults of a state store's real server: down at start, down with ignoreErrors, hung, stopped
 * and restarted while serving. Each case runs against Redis and PostgreSQL alike.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
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

/* The store's own timeout (readTimeout, timeout): a request to a hung server ends by then. */
#define STORE_TIMEOUT_MS 1000
/* What a loaded CI machine may add to it: scheduling, the reply, the test's own client. */
#define SLACK_MS 1500

struct backend {
	const char *name; /* the TCase: CK_RUN_CASE=redis */
	const char *type;
	int (*start)(struct test_server *s);
	/* spec.metadata lines; ${PORT} is the server's port. */
	const char *metadata;
};

#define MD(name, value) "  - name: " name "\n    value: \"" value "\"\n"

static const struct backend backends[] = {
	{ "redis", "state.redis", server_redis_start,
	  MD("redisHost", "127.0.0.1:${PORT}") MD("dialTimeout", "1s") MD("readTimeout", "1s") },
	{ "postgresql", "state.postgresql", server_postgres_start,
	  MD("connectionString",
	     "host=127.0.0.1 port=${PORT} user=postgres dbname=postgres sslmode=disable connect_timeout=1")
		  MD("timeout", "1s") },
};

static const struct backend *cur;
static struct test_server srv;
static struct daemon dmn;
static struct exchange x;

/*
 * Writes resources/store.yaml for the backend at port, with the given spec lines
 * (initTimeout, ignoreErrors) and resources/mem.yaml: an in-memory store that must keep
 * serving whatever happens to the other.
 */
static void write_components(int port, const char *spec_extra)
{
	char md[1024], yaml[2048];

	const char *at = strstr(cur->metadata, "${PORT}");

	ck_assert_ptr_nonnull(at);
	snprintf(md, sizeof(md), "%.*s%d%s", (int)(at - cur->metadata), cur->metadata, port, at + 7);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\nspec:\n"
		 "  type: %s\n  version: v1\n%s  metadata:\n%s",
		 cur->type, spec_extra, md);
	ck_assert_int_eq(daemon_write_resource(&dmn, "store.yaml", yaml), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "mem", "state.in-memory", NULL), 0);
}

static int call(const char *method, const char *path, const char *body)
{
	return xreq(&x, dmn.port, method, path, NULL, body);
}

/* Skips the test (returning true) when the server is not installed here. */
static bool start_server(void)
{
	int rc = cur->start(&srv);

	if (rc == SERVER_UNAVAILABLE) {
		/* CI installs every server: there, a missing one is a failure, not a skip. */
		ck_assert_msg(getenv("OUTRIG_REQUIRE_SERVERS") == NULL,
			      "%s is not installed and OUTRIG_REQUIRE_SERVERS is set", cur->name);
		fprintf(stderr, "faults %s: SKIPPED, the server is not installed here\n", cur->name);
		return true;
	}
	ck_assert_msg(rc == 0, "%s did not start", cur->name);
	return false;
}

static void setup(void)
{
	memset(&srv, 0, sizeof(srv));
	ck_assert_int_eq(daemon_init(&dmn, "faults"), 0);
}

static void teardown(void)
{
	xfree(&x);
	daemon_stop(&dmn);
	server_destroy(&srv);
	daemon_cleanup(&dmn);
}

/*
 * The mem store answers before the other store's timeout: proof the loop and the workers are not
 * held by it. A held loop answers after STORE_TIMEOUT_MS at the soonest; the margin below it is
 * for a busy CI machine running two suites at once (500 ms was once too little there).
 */
static void mem_serves(const char *key)
{
	char path[128];
	long t0 = xnow_ms();

	snprintf(path, sizeof(path), "[{\"key\":\"%s\",\"value\":\"ok\"}]", key);
	call("POST", "/v1.0/state/mem", path);
	ck_status(&x, 204);
	snprintf(path, sizeof(path), "/v1.0/state/mem/%s", key);
	call("GET", path, NULL);
	ck_status(&x, 200);
	ck_body(&x, "\"ok\"");
	ck_assert_msg(xnow_ms() - t0 < STORE_TIMEOUT_MS - 100, "the in-memory store took %ld ms while %s was down",
		      xnow_ms() - t0, cur->name);
}

START_TEST(down_at_start)
{
	int port = daemon_free_port();
	long t0, waited;
	char *log;

	/* Nothing listens on port: the plugin retries until initTimeout, then the start fails. */
	write_components(port, "  initTimeout: 2s\n");
	t0 = xnow_ms();
	ck_assert_msg(daemon_start(&dmn, NULL) != 0, "outrigd started with %s down", cur->name);
	waited = xnow_ms() - t0;
	log = xslurp(dmn.log);
	ck_assert_msg(strstr(log, "component store (") != NULL && strstr(log, cur->type) != NULL,
		      "the failure should name the component and its type:\n%s", log);
	ck_assert_msg(strstr(log, "initTimeout") != NULL && strstr(log, "refused") != NULL,
		      "the failure should say it gave up after initTimeout, and why:\n%s", log);
	/* It waited for the server, but not much longer than it was told to. */
	ck_assert_msg(waited >= 1800 && waited < 2000 + 3 * SLACK_MS,
		      "start failed after %ld ms, initTimeout 2s", waited);
	free(log);
}
END_TEST

START_TEST(down_with_ignore_errors)
{
	char code[64];

	write_components(daemon_free_port(), "  initTimeout: 1s\n  ignoreErrors: true\n");
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd should start despite ignoreErrors");
	call("GET", "/v1.0/state/store/k", NULL);
	ck_error(&x, 500, "ERR_STATE_GET");
	ck_assert_msg(strstr(XBODY(&x), "refused") != NULL && strstr(XBODY(&x), "store") != NULL,
		      "the error should give the cause: %s", XBODY(&x));
	call("POST", "/v1.0/state/store", "[{\"key\":\"k\",\"value\":1}]");
	ck_error(&x, 500, "ERR_STATE_SAVE");
	call("DELETE", "/v1.0/state/store/k", NULL);
	ck_error(&x, 500, "ERR_STATE_DELETE");
	call("POST", "/v1.0/state/store/transaction", "{\"operations\":[]}");
	ck_assert(xerror(&x, code, sizeof(code)) && strcmp(code, "ERR_STATE_TRANSACTION") == 0);
	mem_serves("alive");
	/* Dapr lists only the components it initialised. */
	call("GET", "/v1.0/metadata", NULL);
	ck_status(&x, 200);
	ck_assert_msg(strstr(XBODY(&x), "\"mem\"") != NULL && strstr(XBODY(&x), "\"store\"") == NULL,
		      "metadata: %s", XBODY(&x));
}
END_TEST

/* Starts the server and outrigd with store (timeouts of STORE_TIMEOUT_MS) and mem. */
static bool serving(void)
{
	if (start_server())
		return false;
	write_components(srv.port, "");
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start");
	return true;
}

/* Saves n keys "<prefix>-<i>" = i, each acknowledged with 204. */
static void save_acked(const char *prefix, int n)
{
	for (int i = 0; i < n; i++) {
		char body[128];

		snprintf(body, sizeof(body), "[{\"key\":\"%s-%d\",\"value\":%d}]", prefix, i, i);
		call("POST", "/v1.0/state/store", body);
		ck_status(&x, 204);
	}
}

static void check_saved(const char *prefix, int n)
{
	for (int i = 0; i < n; i++) {
		char path[128], want[32];

		snprintf(path, sizeof(path), "/v1.0/state/store/%s-%d", prefix, i);
		snprintf(want, sizeof(want), "%d", i);
		call("GET", path, NULL);
		ck_status(&x, 200);
		ck_body(&x, want);
	}
}

struct hung_call {
	pthread_t thread;
	int status;
	long took_ms;
	char code[64];
};

static void *hung_get(void *arg)
{
	struct hung_call *h = arg;
	struct exchange t = { 0 };
	long t0 = xnow_ms();

	h->status = xreq(&t, dmn.port, "GET", "/v1.0/state/store/acked-0", NULL, NULL);
	h->took_ms = xnow_ms() - t0;
	if (!xerror(&t, h->code, sizeof(h->code)))
		h->code[0] = '\0';
	xfree(&t);
	return NULL;
}

START_TEST(hung_server)
{
	/* As many as the store may run at once with the default 4 workers: none waits in line. */
	struct hung_call calls[3];

	if (!serving())
		return;
	save_acked("acked", 20);
	server_freeze(&srv);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_create(&calls[i].thread, NULL, hung_get, &calls[i]), 0);
	/* While those wait on the hung server, the other store and the loop keep serving. */
	usleep(200 * 1000);
	mem_serves("during-hang");
	for (int i = 0; i < 3; i++)
		pthread_join(calls[i].thread, NULL);
	server_thaw(&srv);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(calls[i].status == 500 && strcmp(calls[i].code, "ERR_STATE_GET") == 0,
			      "GET on a hung %s: status %d, errorCode '%s'", cur->name, calls[i].status,
			      calls[i].code);
		ck_assert_msg(calls[i].took_ms < STORE_TIMEOUT_MS + SLACK_MS,
			      "GET on a hung %s took %ld ms; the store's timeout is %d ms", cur->name,
			      calls[i].took_ms, STORE_TIMEOUT_MS);
	}
	/* Thawed, it serves again without an outrigd restart, and lost nothing. */
	check_saved("acked", 20);
}
END_TEST

/* A writer that keeps saving fresh keys through the outage and remembers what was acknowledged. */
struct writer {
	pthread_t thread;
	atomic_bool stop;
	int attempts;
	bool acked[4096];
	int unexpected; /* a status other than 204 or 500 */
};

static void *write_through(void *arg)
{
	struct writer *w = arg;
	struct exchange t = { 0 };

	while (!atomic_load(&w->stop) && w->attempts < 4096) {
		char body[128];
		int i = w->attempts++, status;

		snprintf(body, sizeof(body), "[{\"key\":\"w-%d\",\"value\":%d}]", i, i);
		status = xreq(&t, dmn.port, "POST", "/v1.0/state/store", NULL, body);
		w->acked[i] = status == 204;
		if (status != 204 && status != 500)
			w->unexpected = status;
		usleep(20 * 1000);
	}
	xfree(&t);
	return NULL;
}

START_TEST(stopped_and_restarted)
{
	static struct writer w;
	int acked = 0, refused = 0, first_ok = -1;
	long t0, took;

	if (!serving())
		return;
	save_acked("acked", 50);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(pthread_create(&w.thread, NULL, write_through, &w), 0);
	usleep(300 * 1000);
	ck_assert_int_eq(server_halt(&srv), 0);

	/* Down: every call fails fast with the operation's error, the other store serves. */
	t0 = xnow_ms();
	call("GET", "/v1.0/state/store/acked-1", NULL);
	took = xnow_ms() - t0;
	ck_error(&x, 500, "ERR_STATE_GET");
	ck_assert_msg(took < STORE_TIMEOUT_MS + SLACK_MS, "GET with %s down took %ld ms", cur->name, took);
	call("POST", "/v1.0/state/store", "[{\"key\":\"while-down\",\"value\":1}]");
	ck_error(&x, 500, "ERR_STATE_SAVE");
	mem_serves("during-outage");
	usleep(500 * 1000);

	/* Back on the same port: outrig reconnects by itself. */
	ck_assert_int_eq(server_restart(&srv), 0);
	for (int i = 0; i < 100 && first_ok < 0; i++) {
		if (call("GET", "/v1.0/state/store/acked-2", NULL) == 200)
			first_ok = i;
		else
			usleep(100 * 1000);
	}
	ck_assert_msg(first_ok >= 0, "%s is back but outrigd still fails: %d %s", cur->name, x.r.status,
		      XBODY(&x));
	fprintf(stderr, "faults %s: served again after %d failed attempts once the server was back\n",
		cur->name, first_ok);
	usleep(300 * 1000);
	atomic_store(&w.stop, true);
	pthread_join(w.thread, NULL);
	ck_assert_msg(w.unexpected == 0, "the writer got status %d (only 204 or 500 are right)",
		      w.unexpected);

	/* Nothing acknowledged is lost: before the outage, and while it came and went. */
	check_saved("acked", 50);
	for (int i = 0; i < w.attempts; i++) {
		char path[64], want[16];

		if (!w.acked[i]) {
			refused++;
			continue;
		}
		acked++;
		snprintf(path, sizeof(path), "/v1.0/state/store/w-%d", i);
		snprintf(want, sizeof(want), "%d", i);
		call("GET", path, NULL);
		ck_status(&x, 200);
		ck_body(&x, want);
	}
	fprintf(stderr, "faults %s: writer had %d saves acknowledged and %d refused across the outage\n",
		cur->name, acked, refused);
	/* The writer really saw both sides of the outage, or the check above proved little. */
	ck_assert_msg(acked > 5 && refused > 0, "acked %d, refused %d", acked, refused);
}
END_TEST

/* True when configure built the backend's plugin (it is skipped without its client library). */
static bool plugin_built(const struct backend *b)
{
	char path[1024], file[64];
	const char *dir = getenv("OUTRIG_PLUGIN_PATH");

	snprintf(file, sizeof(file), "%s", b->type);
	for (char *p = file; *p != '\0'; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	snprintf(path, sizeof(path), "%s/%s.so", dir != NULL ? dir : ".", file);
	return access(path, R_OK) == 0;
}

int main(void)
{
	int failed = 0, ran = 0;

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		Suite *s;
		TCase *tc;
		SRunner *sr;

		cur = &backends[i];
		if (!plugin_built(cur)) {
			fprintf(stderr,
				"faults %s: SKIPPED, %s was not built (configure found no client library)\n",
				cur->name, cur->type);
			continue;
		}
		s = suite_create("state faults");
		tc = tcase_create(cur->name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, down_at_start);
		tcase_add_test(tc, down_with_ignore_errors);
		tcase_add_test(tc, hung_server);
		tcase_add_test(tc, stopped_and_restarted);
		suite_add_tcase(s, tc);
		sr = srunner_create(s);
		srunner_run_all(sr, CK_ENV);
		failed += srunner_ntests_failed(sr);
		srunner_free(sr);
		ran++;
	}
	/* 77 is automake's SKIP: nothing here could run. */
	if (failed == 0 && ran == 0)
		return 77;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
