/* SPDX-License-Identifier: Apache-2.0 */
/* nameresolution.sqlite, loaded by the real loader: several sidecars (instances) sharing one temporary database. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "components/host.h"
#include "plugin_host.h"

#define TYPE "nameresolution.sqlite"

static const struct outrig_host *test_host;
static const struct outrig_plugin *plugin;
static char default_db[256];

/* ---- sidecars: one plugin instance each, as one outrigd per app would have ---- */

struct sidecar {
	struct outrig_handle handle;
	char name[32];
	void *inst;
};

static int try_start(struct sidecar *sc, const char *name, const char *const *overrides,
		     struct outrig_error *err)
{
	struct plugin_host_config tc;

	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "%s", name);
	sc->handle.name = sc->name;
	plugin_host_config(&tc, plugin, NULL, "sqlite", NULL, overrides);
	err->message[0] = '\0';
	return plugin->create(test_host, &sc->handle, &tc.config, &sc->inst, err);
}

static void start(struct sidecar *sc, const char *name, const char *const *overrides)
{
	struct outrig_error err;
	int rc = try_start(sc, name, overrides, &err);

	ck_assert_msg(rc == OUTRIG_OK, "%s: create: %s: %s", name, outrig_status_name(rc), err.message);
	ck_assert_ptr_nonnull(sc->inst);
}

static void stop(struct sidecar *sc)
{
	plugin->destroy(sc->inst);
	sc->inst = NULL;
}

static void announce(struct sidecar *sc, const char *app_id, const char *ns, int port)
{
	struct outrig_nr_self me = { app_id, ns, "127.0.0.1", port, port + 1000, (int64_t)getpid() };
	struct outrig_error err = { "" };
	int rc = plugin->nameresolution->register_self(sc->inst, &me, &err);

	ck_assert_msg(rc == OUTRIG_OK, "%s: register_self: %s: %s", sc->name, outrig_status_name(rc),
		      err.message);
}

static int resolve(struct sidecar *sc, const char *app_id, const char *ns, int *port,
		   struct outrig_error *err)
{
	struct outrig_nr_query q = { .app_id = app_id, .ns = ns };
	struct outrig_nr_address addr;
	int rc;

	memset(&addr, 0, sizeof(addr));
	err->message[0] = '\0';
	rc = plugin->nameresolution->resolve(sc->inst, &q, &addr, err);
	*port = rc == OUTRIG_OK ? addr.port : -1;
	if (rc == OUTRIG_OK)
		ck_assert_str_eq(addr.host, "127.0.0.1");
	return rc;
}

/* The port of the one instance app_id must resolve to. */
static int resolve_ok(struct sidecar *sc, const char *app_id, const char *ns)
{
	struct outrig_error err;
	int port;
	int rc = resolve(sc, app_id, ns, &port, &err);

	ck_assert_msg(rc == OUTRIG_OK, "%s: resolve %s: %s: %s", sc->name, app_id, outrig_status_name(rc),
		      err.message);
	return port;
}

static void resolve_not_found(struct sidecar *sc, const char *app_id, const char *ns)
{
	struct outrig_error err;
	int port;
	int rc = resolve(sc, app_id, ns, &port, &err);

	ck_assert_msg(rc == OUTRIG_ENOTFOUND, "%s: resolve %s: want ENOTFOUND, got %s (port %d): %s",
		      sc->name, app_id, outrig_status_name(rc), port, err.message);
}

/* Fires the sidecar's timers of this interval, as the core would when it is due. */
static void fire(struct sidecar *sc, int64_t interval_ms)
{
	size_t fired = plugin_host_fire(&sc->handle, interval_ms, sc->inst);

	ck_assert_msg(fired == 1, "%s: %zu timers of %lld ms", sc->name, fired, (long long)interval_ms);
}

/* ---- looking into the database from outside, as another process would ---- */

static sqlite3 *db_open(const char *path)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
			 SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	return db;
}

static void db_exec(const char *path, const char *sql)
{
	sqlite3 *db = db_open(path);
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
	sqlite3_close(db);
}

static long long db_int(const char *path, const char *sql)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *st = NULL;
	long long v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void setup(void)
{
	/* The test fires the timers a create() asks for by hand, so heartbeats stop when it stops. */
	static const struct plugin_host_options options = {
		.temp_dir = "outrig-nrs",
		.timers = PLUGIN_HOST_TIMERS_RECORD,
	};

	test_host = plugin_host_start(&options);
	snprintf(default_db, sizeof(default_db), "%s/nameresolution.db", test_host->data_dir);
	plugin = plugin_host_load(TYPE);
	ck_assert_ptr_nonnull(plugin->nameresolution);
	ck_assert_ptr_nonnull(plugin->nameresolution->unregister_self);
}

static void teardown(void)
{
	plugin_host_stop();
}

/* ---- the tests ---- */

START_TEST(two_sidecars_find_each_other_in_the_default_file)
{
	struct sidecar a, b;
	struct stat st;

	start(&a, "orders", NULL);
	start(&b, "billing", NULL);
	/* No connectionString: both share <data dir>/nameresolution.db, in WAL mode. */
	ck_assert_int_eq(stat(default_db, &st), 0);
	ck_assert(plugin_host_log_has(default_db));
	announce(&a, "orders", "", 50001);
	announce(&b, "billing", "", 50002);
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50002);
	ck_assert_int_eq(resolve_ok(&b, "orders", ""), 50001);
	ck_assert_int_eq(resolve_ok(&a, "orders", ""), 50001);
	ck_assert_int_eq(db_int(default_db, "SELECT count(*) FROM hosts"), 2);
	ck_assert_int_eq(db_int(default_db, "SELECT app_port FROM hosts WHERE app_id = 'billing'"), 51002);
	ck_assert_int_eq(db_int(default_db, "SELECT pid FROM hosts WHERE app_id = 'billing'"), getpid());
	/* Two instances, two registration ids. */
	ck_assert_int_eq(db_int(default_db, "SELECT count(DISTINCT registration_id) FROM hosts"), 2);
	{
		sqlite3 *db = db_open(default_db);
		sqlite3_stmt *q = NULL;

		ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
	stop(&a);
	stop(&b);
}
END_TEST

START_TEST(round_robin_over_two_instances_of_one_app_id)
{
	struct sidecar a, b1, b2, c;
	int seen[4];

	start(&a, "orders", NULL);
	start(&b1, "billing-1", NULL);
	start(&b2, "billing-2", NULL);
	start(&c, "stock", NULL);
	announce(&a, "orders", "", 50001);
	announce(&b1, "billing", "", 50011);
	announce(&b2, "billing", "", 50012);
	announce(&c, "stock", "", 50021);
	/* Calls for another app id in between do not disturb billing's rotation. */
	for (int i = 0; i < 4; i++) {
		seen[i] = resolve_ok(&a, "billing", "");
		ck_assert_int_eq(resolve_ok(&a, "stock", ""), 50021);
	}
	ck_assert_msg(seen[0] != seen[1] && seen[0] == seen[2] && seen[1] == seen[3], "%d %d %d %d", seen[0],
		      seen[1], seen[2], seen[3]);
	ck_assert(seen[0] == 50011 || seen[0] == 50012);
	ck_assert(seen[1] == 50011 || seen[1] == 50012);
	/* Each sidecar keeps its own position, and also spreads. */
	ck_assert_int_ne(resolve_ok(&c, "billing", ""), resolve_ok(&c, "billing", ""));
	stop(&a);
	stop(&b1);
	stop(&b2);
	stop(&c);
}
END_TEST

START_TEST(unregister_removes_the_row)
{
	struct sidecar a, b1, b2;

	start(&a, "orders", NULL);
	start(&b1, "billing-1", NULL);
	start(&b2, "billing-2", NULL);
	announce(&a, "orders", "", 50001);
	announce(&b1, "billing", "", 50011);
	announce(&b2, "billing", "", 50012);
	plugin->nameresolution->unregister_self(b1.inst);
	ck_assert_int_eq(db_int(default_db, "SELECT count(*) FROM hosts WHERE app_id = 'billing'"), 1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50012);
	/* Its heartbeat does not bring it back. */
	fire(&b1, 5000);
	ck_assert_int_eq(db_int(default_db, "SELECT count(*) FROM hosts WHERE app_id = 'billing'"), 1);
	plugin->nameresolution->unregister_self(b2.inst);
	resolve_not_found(&a, "billing", "");
	/* A sidecar destroyed without unregistering withdraws too. */
	stop(&a);
	ck_assert_int_eq(db_int(default_db, "SELECT count(*) FROM hosts"), 0);
	stop(&b1);
	stop(&b2);
}
END_TEST

START_TEST(a_stale_row_is_not_returned_and_heartbeats_bring_it_back)
{
	struct sidecar a, b;

	start(&a, "orders", NULL);
	start(&b, "billing", NULL);
	announce(&a, "orders", "", 50001);
	announce(&b, "billing", "", 50002);
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50002);

	/* As if billing's heartbeats had stopped a minute ago. */
	db_exec(default_db, "UPDATE hosts SET last_update = last_update - 60000, "
			    "expiration_time = expiration_time - 60000 WHERE app_id = 'billing'");
	resolve_not_found(&a, "billing", "");
	fire(&b, 5000); /* one heartbeat: live again */
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50002);

	/* Stale again: orders' cleanup deletes the row, and billing's heartbeat writes it again. */
	db_exec(default_db, "UPDATE hosts SET last_update = last_update - 60000, "
			    "expiration_time = expiration_time - 60000 WHERE app_id = 'billing'");
	fire(&a, 3600000);
	ck_assert_int_eq(db_int(default_db, "SELECT count(*) FROM hosts WHERE app_id = 'billing'"), 0);
	ck_assert_int_eq(db_int(default_db, "SELECT count(*) FROM hosts"), 1);
	resolve_not_found(&a, "billing", "");
	fire(&b, 5000);
	ck_assert(plugin_host_log_has("registering again"));
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50002);
	stop(&a);
	stop(&b);
}
END_TEST

/* updateInterval 200ms, timeout 100ms: a row is live for 3 x 200 + 100 = 700 ms after a heartbeat. */
START_TEST(without_heartbeats_a_row_goes_stale_in_time)
{
	const char *fast[] = { "updateInterval", "200ms", "timeout", "100ms", NULL };
	struct sidecar a, b;
	struct outrig_error err;
	int64_t before, after, at;
	int port, rc;

	start(&a, "orders", fast);
	start(&b, "billing", fast);
	/* The row expires 700 ms after some moment between before and after (wall and monotonic agree here). */
	before = test_host->now_mono_ms();
	announce(&b, "billing", "", 50002);
	after = test_host->now_mono_ms();
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50002);
	sleep_ms(300);
	at = test_host->now_mono_ms();
	rc = resolve(&a, "billing", "", &port, &err);
	/* A loaded machine may have slept past the bound: then there is nothing to check here. */
	if (test_host->now_mono_ms() < before + 690)
		ck_assert_msg(rc == OUTRIG_OK && port == 50002, "stale after %lld ms: %s",
			      (long long)(at - before), err.message);
	while (test_host->now_mono_ms() <= after + 760)
		sleep_ms(50);
	resolve_not_found(&a, "billing", "");
	fire(&b, 200);
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50002);
	stop(&a);
	stop(&b);
}
END_TEST

START_TEST(not_found_names_the_app_id)
{
	struct sidecar a;
	struct outrig_error err;
	int port;

	start(&a, "orders", NULL);
	announce(&a, "orders", "", 50001);
	ck_assert_int_eq(resolve(&a, "no-such-app", "", &port, &err), OUTRIG_ENOTFOUND);
	ck_assert_msg(strstr(err.message, "app id \"no-such-app\"") != NULL, "%s", err.message);
	/* Callers of service invocation see this: it names the component, not the file's path. */
	ck_assert_msg(strstr(err.message, default_db) == NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "connectionString") != NULL, "%s", err.message);
	ck_assert_int_eq(resolve(&a, "no-such-app", "prod", &port, &err), OUTRIG_ENOTFOUND);
	ck_assert_msg(strstr(err.message, "app id \"no-such-app\" in namespace \"prod\"") != NULL, "%s",
		      err.message);
	ck_assert_int_eq(resolve(&a, "", "", &port, &err), OUTRIG_EINVAL);
	stop(&a);
}
END_TEST

START_TEST(namespaces_are_kept_apart)
{
	struct sidecar a, b;

	start(&a, "orders", NULL);
	start(&b, "billing", NULL);
	announce(&a, "orders", "prod", 50001);
	announce(&b, "billing", "dev", 50002);
	/* "" is the caller's own namespace. */
	resolve_not_found(&a, "billing", "");
	resolve_not_found(&a, "billing", "prod");
	ck_assert_int_eq(resolve_ok(&a, "billing", "dev"), 50002);
	ck_assert_int_eq(resolve_ok(&b, "orders", "prod"), 50001);
	ck_assert_int_eq(resolve_ok(&a, "orders", ""), 50001);
	stop(&a);
	stop(&b);
}
END_TEST

START_TEST(registering_again_moves_the_row)
{
	struct sidecar a, b, late;

	start(&a, "orders", NULL);
	start(&b, "billing", NULL);
	announce(&a, "orders", "", 50001);
	announce(&b, "billing", "", 50002);
	announce(&b, "billing", "", 50003);
	ck_assert_int_eq(db_int(default_db, "SELECT count(*) FROM hosts WHERE app_id = 'billing'"), 1);
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50003);
	/* A sidecar that starts on the address of one that died takes its row over. */
	start(&late, "billing-new", NULL);
	announce(&late, "billing", "", 50003);
	ck_assert_int_eq(db_int(default_db, "SELECT count(*) FROM hosts WHERE app_id = 'billing'"), 1);
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50003);
	stop(&late);
	stop(&a);
	stop(&b);
}
END_TEST

START_TEST(bad_connection_string_fails_create)
{
	const char *bad[] = { "connectionString", "/nonexistent-outrig-dir/sub/nr.db", NULL };
	struct sidecar a;
	struct outrig_error err;
	int rc = try_start(&a, "orders", bad, &err);

	ck_assert_int_eq(rc, OUTRIG_EUNAVAIL);
	ck_assert_ptr_null(a.inst);
	ck_assert_msg(strstr(err.message,
			     "cannot open SQLite database \"/nonexistent-outrig-dir/sub/nr.db\"") != NULL,
		      "%s", err.message);
	ck_assert_msg(strstr(err.message, "component \"sqlite\"") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "check the folder exists") != NULL, "%s", err.message);
}
END_TEST

START_TEST(bad_settings_fail_create)
{
	const char *no_timeout[] = { "timeout", "0s", NULL };
	const char *same_tables[] = { "tableName", "t", "metadataTableName", "t", NULL };
	struct sidecar a;
	struct outrig_error err;

	ck_assert_int_eq(try_start(&a, "orders", no_timeout, &err), OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "timeout must be positive") != NULL, "%s", err.message);
	ck_assert_int_eq(try_start(&a, "orders", same_tables, &err), OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "tableName and metadataTableName are both \"t\"") != NULL, "%s",
		      err.message);
}
END_TEST

START_TEST(a_table_of_another_layout_is_refused)
{
	struct sidecar a;
	struct outrig_error err;

	/* daprd's own SQLite resolver's table. */
	db_exec(default_db,
		"CREATE TABLE hosts (registration_id TEXT NOT NULL PRIMARY KEY, address TEXT NOT "
		"NULL, app_id TEXT NOT NULL, namespace TEXT NOT NULL, last_update INTEGER NOT NULL)");
	ck_assert_int_eq(try_start(&a, "orders", NULL, &err), OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "table \"hosts\" exists but was not created by outrig") != NULL,
		      "%s", err.message);
	ck_assert_msg(strstr(err.message, "set tableName") != NULL, "%s", err.message);
	/* Another table in the same file works. */
	{
		const char *other[] = { "tableName", "outrig_hosts", NULL };

		start(&a, "orders", other);
		announce(&a, "orders", "", 50001);
		ck_assert_int_eq(resolve_ok(&a, "orders", ""), 50001);
		stop(&a);
	}
}
END_TEST

/* Another process holds the write lock: writes give up after timeout, reads go on (WAL). */
START_TEST(a_locked_database_never_blocks_past_timeout)
{
	const char *slow_lock[] = { "timeout", "300ms", "busyTimeout", "30s", NULL };
	struct outrig_nr_self me = { "billing", "", "127.0.0.1", 50002, 0, 1 };
	struct sidecar a, b;
	struct outrig_error err = { "" };
	sqlite3 *holder;
	int64_t t0, took;
	int rc;

	start(&a, "orders", slow_lock);
	start(&b, "billing", slow_lock);
	announce(&a, "orders", "", 50001);
	holder = db_open(default_db);
	ck_assert_int_eq(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

	t0 = test_host->now_mono_ms();
	rc = plugin->nameresolution->register_self(b.inst, &me, &err);
	took = test_host->now_mono_ms() - t0;
	ck_assert_msg(rc == OUTRIG_ETIMEDOUT, "%s: %s", outrig_status_name(rc), err.message);
	ck_assert_msg(took >= 250 && took < 2000, "register_self took %lld ms", (long long)took);
	ck_assert_msg(strstr(err.message, "timeout (300 ms)") != NULL, "%s", err.message);
	ck_assert_int_eq(resolve_ok(&b, "orders", ""), 50001);

	/* Once the lock is gone, the next heartbeat writes the row register_self could not. */
	ck_assert_int_eq(sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(holder);
	resolve_not_found(&a, "billing", "");
	fire(&b, 5000);
	ck_assert_int_eq(resolve_ok(&a, "billing", ""), 50002);
	stop(&a);
	stop(&b);
}
END_TEST

/* Three processes create the tables and register at once on a new file. */
START_TEST(three_processes_start_together)
{
	unsigned char used[16];
	pid_t pids[3];
	struct sidecar a;

	/* The children inherit SQLite's random generator, already seeded: their ids must differ anyway. */
	sqlite3_randomness(sizeof(used), used);
	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct sidecar sc;
			struct outrig_error err;
			char app[16];
			int rc = try_start(&sc, "child", NULL, &err);

			if (rc != OUTRIG_OK) {
				fprintf(stderr, "child %d: %s\n", i, err.message);
				_exit(1);
			}
			snprintf(app, sizeof(app), "app-%d", i);
			{
				struct outrig_nr_self me = { app, "", "127.0.0.1", 50100 + i, 0, getpid() };

				rc = plugin->nameresolution->register_self(sc.inst, &me, &err);
			}
			if (rc != OUTRIG_OK) {
				fprintf(stderr, "child %d: %s\n", i, err.message);
				_exit(2);
			}
			/* Exits without unregistering, as a crashed sidecar would: the row stays. */
			_exit(0);
		}
	}
	for (int i = 0; i < 3; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
	}
	start(&a, "orders", NULL);
	for (int i = 0; i < 3; i++) {
		char app[16];

		snprintf(app, sizeof(app), "app-%d", i);
		ck_assert_int_eq(resolve_ok(&a, app, ""), 50100 + i);
	}
	stop(&a);
}
END_TEST

static Suite *nr_sqlite_suite(void)
{
	Suite *s = suite_create(TYPE);
	TCase *tc = tcase_create("plugin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, two_sidecars_find_each_other_in_the_default_file);
	tcase_add_test(tc, round_robin_over_two_instances_of_one_app_id);
	tcase_add_test(tc, unregister_removes_the_row);
	tcase_add_test(tc, a_stale_row_is_not_returned_and_heartbeats_bring_it_back);
	tcase_add_test(tc, without_heartbeats_a_row_goes_stale_in_time);
	tcase_add_test(tc, not_found_names_the_app_id);
	tcase_add_test(tc, namespaces_are_kept_apart);
	tcase_add_test(tc, registering_again_moves_the_row);
	tcase_add_test(tc, bad_connection_string_fails_create);
	tcase_add_test(tc, bad_settings_fail_create);
	tcase_add_test(tc, a_table_of_another_layout_is_refused);
	tcase_add_test(tc, a_locked_database_never_blocks_past_timeout);
	tcase_add_test(tc, three_processes_start_together);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nr_sqlite_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
