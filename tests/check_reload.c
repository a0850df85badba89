/* SPDX-License-Identifier: Apache-2.0 */
/* Reload on SIGHUP against a real outrigd (keep the old set, swap, under load) and its sd_notify messages. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#ifdef RELOAD_TEST_SQLITE
#include <sqlite3.h>
#endif
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "test_app.h"

#define APP "reloadapp"

static struct daemon dmn;
static struct exchange x;

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
}

static void start_with(const char *const *args)
{
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
}

static void start(void)
{
	start_with(NULL);
}

static void add_store(const char *name, const char *metadata_lines)
{
	ck_assert_int_eq(daemon_write_component(&dmn, name, "state.in-memory", metadata_lines), 0);
}

static void remove_resource(const char *file)
{
	ck_assert_int_eq(unlink(xfmt("%s/%s", dmn.resources, file)), 0);
}

/* The "outrig" part of GET /v1.0/metadata, with the components' names joined by ','. */
struct meta {
	long applied, refused;
	char error[1024];
	char components[256];
};

static struct meta metadata(void)
{
	struct meta m = { -1, -1, "", "" };
	json_t *doc, *reload, *comps, *c;
	size_t i;

	xreq(&x, dmn.port, "GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	doc = xjson(&x);
	ck_assert_ptr_nonnull(doc);
	reload = json_object_get(json_object_get(doc, "outrig"), "reload");
	ck_assert_msg(json_is_object(reload), "no outrig.reload in %s", XBODY(&x));
	m.applied = (long)json_integer_value(json_object_get(reload, "applied"));
	m.refused = (long)json_integer_value(json_object_get(reload, "refused"));
	snprintf(m.error, sizeof(m.error), "%s", jstr(json_object_get(reload, "lastError")));
	comps = json_object_get(doc, "components");
	json_array_foreach(comps, i, c)
	{
		size_t n = strlen(m.components);

		snprintf(m.components + n, sizeof(m.components) - n, "%s%s", n > 0 ? "," : "",
			 jstr(json_object_get(c, "name")));
	}
	json_decref(doc);
	return m;
}

/* SIGHUP, then waits until the metadata counts one more reload; returns the metadata then. */
static struct meta reload(void)
{
	struct meta before = metadata(), now;
	long deadline = xnow_ms() + 10000;

	ck_assert_int_eq(kill(dmn.pid, SIGHUP), 0);
	do {
		xsleep_ms(20);
		now = metadata();
	} while (now.applied + now.refused == before.applied + before.refused && xnow_ms() < deadline);
	ck_assert_msg(now.applied + now.refused == before.applied + before.refused + 1,
		      "no reload counted within 10 s (applied %ld, refused %ld)", now.applied, now.refused);
	return now;
}

static void save(const char *store, const char *key, const char *value)
{
	xreq(&x, dmn.port, "POST", xfmt("/v1.0/state/%s", store), NULL,
	     xfmt("[{\"key\":\"%s\",\"value\":\"%s\"}]", key, value));
	ck_status(&x, 204);
}

/* GET of key in store: the status, and the body in x. */
static int get(const char *store, const char *key)
{
	return xreq(&x, dmn.port, "GET", xfmt("/v1.0/state/%s/%s", store, key), NULL, NULL);
}

/* How many times text is in the log. */
static int log_count(const char *text)
{
	char *log = xslurp(dmn.log);
	int n = 0;

	for (const char *p = log; p != NULL && (p = strstr(p, text)) != NULL; p += strlen(text))
		n++;
	free(log);
	return n;
}

static bool log_has(const char *text)
{
	char *log = xslurp(dmn.log);
	bool found = log != NULL && strstr(log, text) != NULL;

	free(log);
	return found;
}

START_TEST(test_broken_file_keeps_old_set)
{
	struct meta m;

	add_store("store1", NULL);
	start();
	save("store1", "k", "v1");
	m = metadata();
	ck_assert_int_eq(m.applied, 0);
	ck_assert_int_eq(m.refused, 0);
	ck_assert_str_eq(m.error, "");
	/* A second component of a type no plugin provides, on line 6 of its file. */
	ck_assert_int_eq(daemon_write_component(&dmn, "broken", "state.nosuchstore", NULL), 0);
	add_store("store2", NULL);
	m = reload();
	ck_assert_int_eq(m.applied, 0);
	ck_assert_int_eq(m.refused, 1);
	ck_assert_msg(strstr(m.error, "broken.yaml:6:") != NULL && strstr(m.error, "spec.type") != NULL,
		      "lastError does not name broken.yaml:6 and spec.type: %s", m.error);
	/* The old set serves on: store1 with its data, and not the store2 the refused set added. */
	ck_assert_str_eq(m.components, "store1");
	ck_assert_int_eq(get("store1", "k"), 200);
	ck_assert_str_eq(XBODY(&x), "\"v1\"");
	ck_assert_int_eq(get("store2", "k"), 400);
	ck_assert_msg(
		log_has("reload refused: 1 error in the new resources; still serving the previous 1 component"),
		"no refusal in the log");
	/* Fixed, the next reload applies, and the error is gone from the metadata. */
	remove_resource("broken.yaml");
	m = reload();
	ck_assert_int_eq(m.applied, 1);
	ck_assert_int_eq(m.refused, 1);
	ck_assert_str_eq(m.error, "");
	ck_assert_str_eq(m.components, "store1,store2");
	ck_assert_int_eq(get("store1", "k"), 200);
	ck_assert_str_eq(XBODY(&x), "\"v1\"");
}
END_TEST

/*
 * A set that passes --check but whose create() fails keeps the old set too, and the instances the
 * reload made before the failure are destroyed: here a secretKeyRef that the new secret store
 * cannot resolve (--check reads no secrets). Then a component --check refuses.
 */
START_TEST(test_failed_create_keeps_old_set)
{
	struct meta m;

	add_store("store1", NULL);
	start();
	save("store1", "k", "v1");
	ck_assert_int_eq(daemon_write_component(&dmn, "envstore", "secretstores.local.env", NULL), 0);
	ck_assert_int_eq(daemon_write_resource(
				 &dmn, "withsecret.yaml",
				 "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n"
				 "  name: withsecret\nspec:\n  type: state.in-memory\n  version: v1\n"
				 "  metadata:\n  - name: cleanupInterval\n    secretKeyRef:\n"
				 "      name: OUTRIG_RELOAD_TEST_UNSET\n      key: OUTRIG_RELOAD_TEST_UNSET\n"
				 "auth:\n  secretStore: envstore\n"),
			 0);
	m = reload();
	ck_assert_int_eq(m.refused, 1);
	ck_assert_msg(strstr(m.error, "withsecret.yaml:") != NULL &&
			      strstr(m.error, "OUTRIG_RELOAD_TEST_UNSET") != NULL,
		      "lastError does not name withsecret.yaml and the secret: %s", m.error);
	ck_assert_str_eq(m.components, "store1");
	ck_assert_int_eq(get("store1", "k"), 200);
	ck_assert_str_eq(XBODY(&x), "\"v1\"");
	remove_resource("withsecret.yaml");
	remove_resource("envstore.yaml");
	ck_assert_int_eq(daemon_write_resource(&dmn, "bad.yaml",
					       "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n"
					       "  name: bad\nspec:\n  type: state.sqlite\n  version: v1\n"
					       "  metadata:\n  - name: connectionString\n"
					       "    value: \"/nonexistent-dir/x/y.db\"\n"),
			 0);
	m = reload();
	ck_assert_int_eq(m.refused, 2);
	ck_assert_msg(strstr(m.error, "bad.yaml:") != NULL && strstr(m.error, "component bad") != NULL,
		      "lastError does not name bad.yaml and the component: %s", m.error);
	ck_assert_str_eq(m.components, "store1");
	ck_assert_int_eq(get("store1", "k"), 200);
	ck_assert_str_eq(XBODY(&x), "\"v1\"");
}
END_TEST

START_TEST(test_add_change_remove)
{
	struct meta m;

	add_store("same", NULL);
	add_store("changed", NULL);
	add_store("gone", NULL);
	start();
	save("same", "k", "s");
	save("changed", "k", "c");
	save("gone", "k", "g");
	/* in-memory stores keep data in their instance: what survives tells which were made afresh. */
	add_store("changed", "  - name: keyPrefix\n    value: \"name\"\n");
	remove_resource("gone.yaml");
	add_store("added", NULL);
	m = reload();
	ck_assert_int_eq(m.applied, 1);
	ck_assert_int_eq(m.refused, 0);
	ck_assert_str_eq(m.components, "added,changed,same");
	ck_assert_int_eq(get("same", "k"), 200);
	ck_assert_str_eq(XBODY(&x), "\"s\"");
	ck_assert_int_eq(get("changed", "k"), 204);
	ck_assert_int_eq(get("gone", "k"), 400);
	ck_assert_msg(strstr(XBODY(&x), "ERR_STATE_STORE_NOT_FOUND") != NULL, "%s", XBODY(&x));
	save("added", "k", "a");
	ck_assert_int_eq(get("added", "k"), 200);
	ck_assert_str_eq(XBODY(&x), "\"a\"");
	save("changed", "k", "c2");
	ck_assert_int_eq(get("changed", "k"), 200);
	ck_assert_str_eq(XBODY(&x), "\"c2\"");
	ck_assert_msg(log_has("reload 1 applied: 1 added, 1 changed, 1 removed, 1 unchanged"),
		      "no summary in the log");
	/* A reload with nothing changed touches nothing. */
	m = reload();
	ck_assert_int_eq(m.applied, 2);
	ck_assert_int_eq(get("changed", "k"), 200);
	ck_assert_str_eq(XBODY(&x), "\"c2\"");
	ck_assert_msg(log_has("reload 2 applied: 0 added, 0 changed, 0 removed, 3 unchanged"),
		      "no summary in the log");
}
END_TEST

#ifdef RELOAD_TEST_SQLITE
struct pending_save {
	int port;
	struct http_response r;
	int rc;
	atomic_bool finished;
};

static void *pending_save_run(void *arg)
{
	struct pending_save *p = arg;
	static const char body[] = "[{\"key\":\"late\",\"value\":\"written\"}]";

	p->rc = http_request(p->port, "POST", "/v1.0/state/slow", NULL, body, strlen(body), &p->r);
	atomic_store(&p->finished, true);
	return NULL;
}

/*
 * A save in flight on a component that a reload removes finishes on the instance it started on,
 * which is destroyed only afterwards. The save waits on a lock this test holds.
 */
START_TEST(test_in_flight_finishes_on_removed_instance)
{
	static const char *const args[] = { "--log-level", "debug", NULL };
	char *db = xfmt("%s/slow.db", dmn.dir);
	struct pending_save p = { 0 };
	pthread_t t;
	sqlite3 *lock;
	struct meta m;

	add_store("store1", NULL);
	ck_assert_int_eq(daemon_write_component(&dmn, "slow", "state.sqlite",
						xfmt("  - name: connectionString\n    value: \"%s\"\n"
						     "  - name: busyTimeout\n    value: \"20s\"\n",
						     db)),
			 0);
	start_with(args);
	save("slow", "k", "v");
	ck_assert_int_eq(sqlite3_open(db, &lock), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	xsleep_ms(300);
	p.port = dmn.port;
	ck_assert_int_eq(pthread_create(&t, NULL, pending_save_run, &p), 0);
	xsleep_ms(300);
	remove_resource("slow.yaml");
	m = reload();
	ck_assert_int_eq(m.applied, 1);
	ck_assert_str_eq(m.components, "store1");
	xsleep_ms(300);
	ck_assert_msg(!atomic_load(&p.finished), "the save did not wait for the lock");
	ck_assert_msg(!log_has("component slow (state.sqlite) drained and destroyed"),
		      "the removed instance was destroyed with a save in flight");
	ck_assert_int_eq(sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	pthread_join(t, NULL);
	ck_assert_int_eq(p.rc, 0);
	ck_assert_msg(p.r.status == 204, "the save in flight got %d: %s", p.r.status,
		      p.r.body ? p.r.body : "");
	http_response_free(&p.r);
	xsleep_ms(300);
	ck_assert_msg(log_has("previous instance of component slow (state.sqlite) drained and destroyed"),
		      "the removed instance was not destroyed once its save was done");
	ck_assert_int_eq(get("slow", "k"), 400);
}
END_TEST
#endif

/* The real plugins and bindings.test, the test binding (tests/plugins). */
static void use_test_plugins(void)
{
	const char *plugins = getenv("OUTRIG_PLUGIN_PATH"), *test_plugins = getenv("OUTRIG_TEST_PLUGIN_DIR");

	ck_assert_int_eq(daemon_setenv(&dmn, "OUTRIG_PLUGIN_PATH",
				       xfmt("%s:%s", plugins != NULL ? plugins : "plugins/.libs",
					    test_plugins != NULL ? test_plugins : "tests/plugins/.libs")),
			 0);
}

/* POST /v1.0/bindings/name with operation create: bindings.test echoes the data. */
static int invoke_binding(const char *name)
{
	return xreq(&x, dmn.port, "POST", xfmt("/v1.0/bindings/%s", name), NULL,
		    "{\"operation\":\"create\",\"data\":\"hello\"}");
}

/*
 * Output bindings are swapped like stores: added, changed (made afresh) and removed; a started
 * input binding is stopped on its old instance and started on the new one.
 */
START_TEST(test_bindings)
{
	struct test_app *app = test_app_start();
	char port[16];
	const char *const args[] = { "--app-port", port, NULL };
	struct meta m;

	ck_assert_ptr_nonnull(app);
	snprintf(port, sizeof(port), "%d", test_app_port(app));
	use_test_plugins();
	ck_assert_int_eq(daemon_write_component(&dmn, "out", "bindings.test",
						"  - name: direction\n    value: \"output\"\n"),
			 0);
	ck_assert_int_eq(daemon_write_component(&dmn, "tick", "bindings.cron",
						"  - name: schedule\n    value: \"@every 1h\"\n"),
			 0);
	start_with(args);
	for (int tries = 0; tries < 200 && !log_has("input binding tick started"); tries++)
		xsleep_ms(50);
	ck_assert_msg(log_has("input binding tick started"), "the cron input never started");
	ck_assert_int_eq(invoke_binding("out"), 200);

	/* Changed and added output bindings: made afresh and served. */
	ck_assert_int_eq(daemon_write_component(&dmn, "out", "bindings.test",
						"  - name: direction\n    value: \"output\"\n"
						"  - name: route\n    value: \"/elsewhere\"\n"),
			 0);
	ck_assert_int_eq(daemon_write_component(&dmn, "out2", "bindings.test",
						"  - name: direction\n    value: \"output\"\n"),
			 0);
	m = reload();
	ck_assert_int_eq(m.applied, 1);
	ck_assert_str_eq(m.components, "out,out2,tick");
	ck_assert_int_eq(invoke_binding("out"), 200);
	ck_assert_int_eq(invoke_binding("out2"), 200);
	ck_assert_msg(log_has("reload 1 applied: 1 added, 1 changed, 0 removed, 1 unchanged"),
		      "no summary in the log");

	/* Removed. */
	remove_resource("out2.yaml");
	m = reload();
	ck_assert_int_eq(m.applied, 2);
	ck_assert_str_eq(m.components, "out,tick");
	ck_assert_int_ne(invoke_binding("out2"), 200);
	ck_assert_int_eq(invoke_binding("out"), 200);

	/* A started input is swapped too: stopped on the old instance, started on the new. */
	ck_assert_int_eq(daemon_write_component(&dmn, "tick", "bindings.cron",
						"  - name: schedule\n    value: \"@every 2h\"\n"),
			 0);
	m = reload();
	ck_assert_int_eq(m.applied, 3);
	ck_assert_msg(log_has("input binding tick stopped: the component changed, its new instance starts by "
			      "a reload"),
		      "the old input was not stopped");
	for (int tries = 0; tries < 200 && log_count("input binding tick started") < 2; tries++)
		xsleep_ms(50);
	ck_assert_int_eq(log_count("input binding tick started"), 2);
	ck_assert_int_eq(invoke_binding("out"), 200);
	daemon_stop(&dmn);
	test_app_destroy(app);
}
END_TEST

static void write_subscription(const char *topic)
{
	ck_assert_int_eq(daemon_add_subscription(&dmn, "s1", "ps", topic, "/in"), 0);
}

/* Subscription documents are read at start-up only: a reload applies the components and says so. */
START_TEST(test_subscription_change_needs_restart)
{
	struct meta m;

	ck_assert_int_eq(daemon_write_component(&dmn, "ps", "pubsub.in-memory", NULL), 0);
	write_subscription("a");
	start();
	add_store("store1", NULL);
	m = reload();
	ck_assert_int_eq(m.applied, 1);
	ck_assert_msg(!log_has("Subscription or Resiliency documents differ"), "warned with nothing changed");
	write_subscription("b");
	m = reload();
	ck_assert_int_eq(m.applied, 2);
	ck_assert_str_eq(m.components, "ps,store1");
	ck_assert_msg(
		log_has("reload: Subscription or Resiliency documents differ from those read at start-up; a "
			"reload applies only components: restart outrigd to apply them"),
		"no warning that the subscription change needs a restart");
}
END_TEST

/* How many subscriptions /v1.0/metadata lists. */
static size_t live_subscriptions(void)
{
	json_t *doc;
	size_t n;

	xreq(&x, dmn.port, "GET", "/v1.0/metadata", NULL, NULL);
	doc = xjson(&x);
	n = json_array_size(json_object_get(doc, "subscriptions"));
	json_decref(doc);
	return n;
}

static void publish(const char *pubsub, const char *topic, int want)
{
	xreq(&x, dmn.port, "POST", xfmt("/v1.0/publish/%s/%s", pubsub, topic), NULL, "{\"n\":1}");
	ck_status(&x, want);
}

/*
 * Pub/sub: a new component can be published to at once; one that no subscription holds is
 * swapped and removed like a store; the subscriptions of a changed one move to its new instance,
 * those of a removed one end, and those naming an added one are made; an added input binding
 * starts.
 */
START_TEST(test_pubsub_and_bindings)
{
	struct test_app *app = test_app_start();
	char port[16];
	const char *const args[] = { "--app-port", port, NULL };
	struct meta m;

	ck_assert_ptr_nonnull(app);
	snprintf(port, sizeof(port), "%d", test_app_port(app));
	test_app_set_subscribe(app, "[{\"pubsubname\":\"ps\",\"topic\":\"orders\",\"route\":\"/orders\"}]");
	ck_assert_int_eq(daemon_write_component(&dmn, "ps", "pubsub.in-memory", NULL), 0);
	start_with(args);
	for (int tries = 0; tries < 200 && live_subscriptions() == 0; tries++)
		xsleep_ms(50);
	ck_assert_int_eq(live_subscriptions(), 1);

	ck_assert_int_eq(daemon_write_component(&dmn, "ps2", "pubsub.in-memory", NULL), 0);
	m = reload();
	ck_assert_int_eq(m.applied, 1);
	ck_assert_str_eq(m.components, "ps,ps2");
	publish("ps2", "other", 204);

	ck_assert_int_eq(daemon_write_component(&dmn, "ps2", "pubsub.in-memory",
						"  - name: outrigReloadTest\n    value: \"1\"\n"),
			 0);
	m = reload();
	ck_assert_int_eq(m.applied, 2);
	publish("ps2", "other", 204);
	remove_resource("ps2.yaml");
	m = reload();
	ck_assert_int_eq(m.applied, 3);
	ck_assert_str_eq(m.components, "ps");
	publish("ps2", "other", 404);

	/* The subscription moves to the new instance of a changed component. */
	ck_assert_int_eq(daemon_write_component(&dmn, "ps", "pubsub.in-memory",
						"  - name: outrigReloadTest\n    value: \"1\"\n"),
			 0);
	m = reload();
	ck_assert_int_eq(m.applied, 4);
	ck_assert_msg(log_has("moves to the component's new instance"),
		      "no log line for the moved subscription");
	for (int tries = 0; tries < 200 && log_count("subscribed to topic orders of pubsub ps") < 2; tries++)
		xsleep_ms(50);
	ck_assert_int_eq(live_subscriptions(), 1);
	publish("ps", "orders", 204);
	ck_assert(test_app_wait_count(app, "/orders", 1, 5000));

	/* A removed one ends its subscriptions; added back, they are made again. */
	remove_resource("ps.yaml");
	m = reload();
	ck_assert_int_eq(m.applied, 5);
	ck_assert_msg(log_has("ends: the component was removed by a reload"),
		      "no log line for the ended subscription");
	ck_assert_int_eq(live_subscriptions(), 0);
	ck_assert_int_eq(daemon_write_component(&dmn, "ps", "pubsub.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_write_component(&dmn, "tick", "bindings.cron",
						"  - name: schedule\n    value: \"@every 1h\"\n"),
			 0);
	m = reload();
	ck_assert_int_eq(m.applied, 6);
	ck_assert_str_eq(m.components, "ps,tick");
	for (int tries = 0; tries < 200 && live_subscriptions() == 0; tries++)
		xsleep_ms(50);
	ck_assert_int_eq(live_subscriptions(), 1);
	for (int tries = 0; tries < 200 && !log_has("input binding tick started"); tries++)
		xsleep_ms(50);
	ck_assert_msg(log_has("input binding tick started"), "a new input binding was not started");
	publish("ps", "orders", 204);
	ck_assert(test_app_wait_count(app, "/orders", 2, 5000));
	daemon_stop(&dmn);
	test_app_destroy(app);
}
END_TEST

/* A client saving and reading in a loop while reloads of unchanged components go on. */
struct load {
	int port;
	const char *store;
	bool swapped; /* store is made afresh by the reloads: data may go, requests may not fail */
	atomic_bool stop;
	atomic_long done, failed;
	char first_failure[512];
};

static void *load_run(void *arg)
{
	struct load *l = arg;

	for (long i = 0; !atomic_load(&l->stop); i++) {
		struct http_response r = { 0 };
		char body[128], path[64];
		int rc;
		bool ok;

		snprintf(body, sizeof(body), "[{\"key\":\"k%ld\",\"value\":%ld}]", i % 50, i);
		snprintf(path, sizeof(path), "/v1.0/state/%s", l->store);
		rc = http_request(l->port, "POST", path, NULL, body, strlen(body), &r);
		ok = rc == 0 && r.status == 204;
		if (ok) {
			http_response_free(&r);
			snprintf(path, sizeof(path), "/v1.0/state/%s/k%ld", l->store, i % 50);
			rc = http_request(l->port, "GET", path, NULL, NULL, 0, &r);
			ok = rc == 0 && (l->swapped ? r.status == 200 || r.status == 204
						    : r.status == 200 && atol(r.body) == i);
		}
		if (!ok && atomic_fetch_add(&l->failed, 1) == 0)
			snprintf(l->first_failure, sizeof(l->first_failure),
				 "%s request %ld: rc %d status %d body %.300s", l->store, i, rc, r.status,
				 r.body != NULL ? r.body : "");
		http_response_free(&r);
		atomic_fetch_add(&l->done, 1);
	}
	return NULL;
}

START_TEST(test_reload_under_load)
{
	struct load l[2] = { { .store = "store1" }, { .store = "store2", .swapped = true } };
	pthread_t t[2];
	struct meta m;
	long before[2];

	add_store("store1", NULL);
	add_store("store2", NULL);
	start();
	for (int k = 0; k < 2; k++) {
		l[k].port = dmn.port;
		ck_assert_int_eq(pthread_create(&t[k], NULL, load_run, &l[k]), 0);
	}
	for (int i = 0; i < 8; i++) {
		before[0] = atomic_load(&l[0].done);
		before[1] = atomic_load(&l[1].done);
		/*
		 * store1, under load, is never changed; store2, under load too, is changed every other
		 * time; another store comes and goes.
		 */
		if (i % 2 == 1) {
			add_store(xfmt("extra%d", i), NULL);
			add_store("store2", xfmt("  - name: keyPrefix\n    value: \"p%d\"\n", i));
		} else if (i > 0) {
			remove_resource(xfmt("extra%d.yaml", i - 1));
		}
		m = reload();
		ck_assert_int_eq(m.applied, i + 1);
		/* Each client gets requests through between reloads. */
		while (atomic_load(&l[0].done) < before[0] + 20 || atomic_load(&l[1].done) < before[1] + 20)
			xsleep_ms(5);
	}
	for (int k = 0; k < 2; k++) {
		atomic_store(&l[k].stop, true);
		pthread_join(t[k], NULL);
		ck_assert_msg(atomic_load(&l[k].failed) == 0, "%ld of %ld requests failed; first: %s",
			      atomic_load(&l[k].failed), atomic_load(&l[k].done), l[k].first_failure);
		ck_assert_int_gt(atomic_load(&l[k].done), 160);
	}
	ck_assert_int_eq(metadata().refused, 0);
	ck_assert_msg(log_has("reload 8 applied: 1 added, 1 changed, 0 removed, 1 unchanged"),
		      "no summary in the log");
}
END_TEST

/* A datagram socket bound where NOTIFY_SOCKET says: a path, or an abstract name written with '@'. */
static int notify_socket(const char *where)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { 10, 0 };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(where) + 1);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	memcpy(addr.sun_path, where, strlen(where));
	if (where[0] == '@') {
		addr.sun_path[0] = '\0';
		len--;
	}
	ck_assert_msg(bind(fd, (struct sockaddr *)&addr, len) == 0, "bind %s: %s", where, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(daemon_setenv(&dmn, "NOTIFY_SOCKET", where), 0);
	return fd;
}

/* The next datagram (one message each), NUL-terminated in buf. */
static const char *notify_next(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, 0);

	ck_assert_msg(n >= 0, "no sd_notify message within 10 s: %s", strerror(errno));
	buf[n] = '\0';
	return buf;
}

static unsigned long long monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
}

static void notify_sequence(const char *where)
{
	char buf[512];
	unsigned long long before, after, stamp;
	int fd;

	add_store("store1", NULL);
	fd = notify_socket(where);
	start();
	ck_assert_str_eq(notify_next(fd, buf, sizeof(buf)), "READY=1");
	before = monotonic_usec();
	reload();
	after = monotonic_usec();
	notify_next(fd, buf, sizeof(buf));
	ck_assert_msg(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu", &stamp) == 1, "got %s", buf);
	ck_assert_msg(stamp >= before && stamp <= after, "MONOTONIC_USEC %llu not within [%llu, %llu]", stamp,
		      before, after);
	ck_assert_str_eq(notify_next(fd, buf, sizeof(buf)), "READY=1\nSTATUS=reload applied");
	/* A refused reload is followed by READY=1 too: the old set still serves. */
	ck_assert_int_eq(daemon_write_component(&dmn, "broken", "state.nosuchstore", NULL), 0);
	reload();
	ck_assert_msg(strncmp(notify_next(fd, buf, sizeof(buf)), "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
		      "got %s", buf);
	ck_assert_str_eq(notify_next(fd, buf, sizeof(buf)),
			 "READY=1\nSTATUS=reload refused: still serving the previous components");
	ck_assert_int_eq(daemon_stop(&dmn), 0);
	ck_assert_str_eq(notify_next(fd, buf, sizeof(buf)), "STOPPING=1");
	close(fd);
}

START_TEST(test_notify_path)
{
	notify_sequence(xfmt("%s/notify", dmn.dir));
}
END_TEST

START_TEST(test_notify_abstract)
{
	notify_sequence(xfmt("@outrig-test-notify-%d", (int)getpid()));
}
END_TEST

static Suite *reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("sighup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_broken_file_keeps_old_set);
	tcase_add_test(tc, test_failed_create_keeps_old_set);
	tcase_add_test(tc, test_add_change_remove);
#ifdef RELOAD_TEST_SQLITE
	tcase_add_test(tc, test_in_flight_finishes_on_removed_instance);
#endif
	tcase_add_test(tc, test_pubsub_and_bindings);
	tcase_add_test(tc, test_bindings);
	tcase_add_test(tc, test_subscription_change_needs_restart);
	tcase_add_test(tc, test_reload_under_load);
	tcase_add_test(tc, test_notify_path);
	tcase_add_test(tc, test_notify_abstract);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reload_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
