/* SPDX-License-Identifier: Apache-2.0 */
/* nameresolution.sqlite: sidecars on one host announce themselves in, and find each other through, one SQLite file. */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sqlite3.h>

#include <outrig/plugin.h>

#include "nrs_schema.h"

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

/* A UUID in text form, plus the terminator. */
#define NRS_ID_LEN 37
/* VM steps between two looks at the clock: cheap, and a few ms apart at most. */
#define NRS_PROGRESS_STEPS 1000
/* A row is live for this many updateIntervals (plus timeout) after its last heartbeat. */
#define NRS_STALE_BEATS 3
/* Round-robin positions kept, one per (app id, namespace) resolved; past this they start over. */
#define NRS_RR_MAX 1024
/* The default database, in host->data_dir, shared by every sidecar of the user. */
#define NRS_DEFAULT_FILE "nameresolution.db"

/*
 * The statements, prepared once in create(). Parameters: ?1 registration id, ?2 app id,
 * ?3 namespace, ?4 host, ?5 port, ?6 app port, ?7 pid, ?8 now (Unix ms), ?9 expiration (Unix ms),
 * ?10 round-robin position.
 */
enum nrs_stmt { NRS_REGISTER, NRS_HEARTBEAT, NRS_RESOLVE, NRS_UNREGISTER, NRS_CLEANUP, NRS_NSTMT };

/* Templates for sqlite3_mprintf(); %w is the table name, quoted as an identifier. */
static const char *const nrs_sql[NRS_NSTMT] = {
	/* REPLACE also drops the row of a dead sidecar that listened on the same address. */
	[NRS_REGISTER] =
		"INSERT OR REPLACE INTO \"%w\" (registration_id, app_id, namespace, host, port, "
		"app_port, pid, last_update, expiration_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[NRS_HEARTBEAT] =
		"UPDATE \"%w\" SET last_update = ?8, expiration_time = ?9 WHERE registration_id = ?1",
	/*
	 * The live rows of one app id, in a fixed order (by address), and the one at the caller's
	 * round-robin position modulo their number: one statement, so one consistent snapshot.
	 */
	[NRS_RESOLVE] = "SELECT host, port FROM (SELECT host, port, "
			"row_number() OVER (ORDER BY host, port) - 1 AS i, count(*) OVER () AS n "
			"FROM \"%w\" WHERE app_id = ?2 AND namespace = ?3 AND expiration_time > ?8) "
			"WHERE i = ?10 %% n",
	[NRS_UNREGISTER] = "DELETE FROM \"%w\" WHERE registration_id = ?1",
	[NRS_CLEANUP] = "DELETE FROM \"%w\" WHERE expiration_time <= ?8",
};

/* The next round-robin position for one app id in one namespace. */
struct nrs_rr {
	char *app_id;
	char *ns;
	uint32_t next;
	struct nrs_rr *link;
};

struct nrs {
	const struct outrig_host *host;
	struct outrig_handle *self;
	char *component;
	char *path; /* connectionString, for messages */
	char *table;
	sqlite3 *db;
	sqlite3_stmt *stmt[NRS_NSTMT];
	int64_t timeout_ms; /* per statement, busy waits included */
	int64_t busy_ms;
	int64_t update_ms;
	int64_t stale_ms; /* how long a row lives after a heartbeat */

	/* mu guards everything below, and the connection: calls come from workers and the timers. */
	pthread_mutex_t mu;
	int64_t deadline_ms; /* monotonic; 0 when no statement runs */
	int64_t busy_since_ms;
	char id[NRS_ID_LEN]; /* this instance's registration id */
	bool announced;	     /* register_self was called and unregister_self was not */
	char *app_id, *ns, *addr_host;
	int port, app_port;
	int64_t pid;
	struct nrs_rr *rr;
	size_t nrr;
};

static const struct outrig_field nrs_fields[] = {
	{ "connectionString", OUTRIG_FIELD_STRING, NULL, false,
	  "database file shared by the sidecars of one host (default: <data dir>/" NRS_DEFAULT_FILE ")" },
	{ "updateInterval", OUTRIG_FIELD_DURATION, "5s", false,
	  "how often this sidecar refreshes its row (heartbeat); it is stale after 3 intervals plus timeout" },
	{ "timeout", OUTRIG_FIELD_DURATION, "1s", false, "time limit for each database operation",
	  "timeoutInSeconds" },
	{ "tableName", OUTRIG_FIELD_STRING, "hosts", false, "table that holds the sidecars' addresses" },
	{ "metadataTableName", OUTRIG_FIELD_STRING, "metadata", false,
	  "table that records the hosts table's layout version" },
	{ "cleanupInterval", OUTRIG_FIELD_DURATION, "1h", false,
	  "how often stale rows are deleted; 0 or negative disables", "cleanupIntervalInSeconds" },
	{ "busyTimeout", OUTRIG_FIELD_DURATION, "800ms", false,
	  "how long to wait for a lock another sidecar holds (never longer than timeout)" },
	{ "disableWAL", OUTRIG_FIELD_BOOL, "false", false,
	  "use a rollback journal instead of WAL (for databases on network file systems)" },
	{ .name = NULL },
};

/* ---- bounding every statement by timeout ---- */

static void nrs_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Aborts a statement that runs past its deadline (SQLITE_INTERRUPT). */
static int nrs_progress(void *arg)
{
	struct nrs *s = arg;

	return s->deadline_ms != 0 && s->host->now_mono_ms() > s->deadline_ms;
}

/*
 * Waits for another connection's lock, up to busyTimeout and never past the statement's
 * deadline: SQLite's own busy timeout would sleep without looking at the deadline.
 */
static int nrs_busy(void *arg, int count)
{
	static const int delays_ms[] = { 1, 2, 5, 10, 15, 20, 25 };
	struct nrs *s = arg;
	int64_t now = s->host->now_mono_ms(), wait;

	if (count == 0)
		s->busy_since_ms = now;
	wait = delays_ms[count < 7 ? count : 6];
	if (now - s->busy_since_ms >= s->busy_ms || (s->deadline_ms != 0 && now >= s->deadline_ms))
		return 0;
	if (s->busy_since_ms + s->busy_ms - now < wait)
		wait = s->busy_since_ms + s->busy_ms - now;
	if (s->deadline_ms != 0 && s->deadline_ms - now < wait)
		wait = s->deadline_ms - now;
	nrs_sleep_ms(wait);
	return 1;
}

static void nrs_start(struct nrs *s)
{
	s->deadline_ms = s->host->now_mono_ms() + s->timeout_ms;
}

static void nrs_stop(struct nrs *s)
{
	s->deadline_ms = 0;
}

/*
 * Turns a failed SQLite call into a status and a message naming the component and what was
 * being done (a gerund phrase). The message reaches callers of service invocation, so it does
 * not carry the database's path: outrigd logs that at start-up ("registered app id ...").
 */
static int nrs_fail(const struct nrs *s, int rc, const char *doing, struct outrig_error *err)
{
	const char *detail = sqlite3_errmsg(s->db);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return outrig_err(err, OUTRIG_ETIMEDOUT,
				  "component \"%s\": its SQLite database stayed locked by another "
				  "connection for longer than busyTimeout (%" PRId64 " ms) or timeout "
				  "(%" PRId64 " ms) while %s; raise them, or find the process that holds "
				  "the lock",
				  s->component, s->busy_ms, s->timeout_ms, doing);
	case SQLITE_INTERRUPT:
		return outrig_err(err, OUTRIG_ETIMEDOUT,
				  "component \"%s\": %s took longer than timeout (%" PRId64 " ms) on SQLite "
				  "database; raise timeout, or check the disk is not overloaded",
				  s->component, doing, s->timeout_ms);
	case SQLITE_NOMEM:
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory while %s",
				  s->component, doing);
	case SQLITE_READONLY:
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": its SQLite database is read-only (%s) while %s; "
				  "every sidecar writes its own row: check the permissions of the file and "
				  "its folder",
				  s->component, detail, doing);
	case SQLITE_FULL:
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": the disk holding its SQLite database is full while %s; "
				  "free some space",
				  s->component, doing);
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": I/O error on its SQLite database while %s: %s; "
				  "check the disk and the file's permissions",
				  s->component, doing, detail);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return outrig_err(
			err, OUTRIG_EUNAVAIL,
			"component \"%s\": its database file is damaged or not a SQLite database (%s) while %s; "
			"delete it (sidecars register again) or point connectionString at another file",
			s->component, detail, doing);
	}
	return outrig_err(
		err, OUTRIG_EINTERNAL,
		"component \"%s\": SQLite error while %s on its database: %s (code %d); please report "
		"it with this message",
		s->component, doing, detail, rc);
}

/* Resets a statement for its next use, dropping pointers into the caller's strings. */
static void nrs_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows, under a fresh deadline; SQLITE_DONE becomes 0. */
static int nrs_exec(struct nrs *s, sqlite3_stmt *st, int bind_rc, const char *doing, struct outrig_error *err)
{
	int rc = bind_rc;

	nrs_start(s);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	nrs_stop(s);
	rc = rc == SQLITE_DONE ? OUTRIG_OK : nrs_fail(s, rc, doing, err);
	nrs_done(st);
	return rc;
}

/* ---- announcing this sidecar ---- */

/* A random (version 4) UUID: never the same for two sidecars, even at one address. */
static void nrs_new_id(char out[NRS_ID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	char *p = out;

	/* Reseeds from the OS first: a process forked after using SQLite would repeat its parent's ids. */
	sqlite3_randomness(0, NULL);
	sqlite3_randomness(sizeof(b), b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 0x0f];
	}
	*p = '\0';
}

/* Binds ?8 now and ?9 the expiration of a row written now. */
static int nrs_bind_times(struct nrs *s, sqlite3_stmt *st)
{
	int64_t now = s->host->now_unix_ms();
	int rc = sqlite3_bind_int64(st, 8, now);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, now + s->stale_ms);
	return rc;
}

/* Writes this sidecar's row from what register_self kept. Called with mu held. */
static int nrs_write_row(struct nrs *s, struct outrig_error *err)
{
	sqlite3_stmt *st = s->stmt[NRS_REGISTER];
	int rc = sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, s->app_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, s->ns, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, s->addr_host, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 5, s->port);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 6, s->app_port);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 7, s->pid);
	if (rc == SQLITE_OK)
		rc = nrs_bind_times(s, st);
	return nrs_exec(s, st, rc, "registering this sidecar", err);
}

static void nrs_forget_self(struct nrs *s)
{
	free(s->app_id);
	free(s->ns);
	free(s->addr_host);
	s->app_id = s->ns = s->addr_host = NULL;
	s->announced = false;
}

static int nrs_register_self(void *instance, const struct outrig_nr_self *me, struct outrig_error *err)
{
	struct nrs *s = instance;
	int rc;

	if (me == NULL || me->app_id == NULL || me->app_id[0] == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": this sidecar has no app id to announce; start it with "
				  "--app-id",
				  s->component);
	if (me->host == NULL || me->host[0] == '\0' ||
	    strlen(me->host) >= sizeof(((struct outrig_nr_address *)0)->host))
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": app id \"%s\" has no usable host address to announce",
				  s->component, me->app_id);
	if (me->port <= 0 || me->port > 65535)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": app id \"%s\": internal port %d is not a TCP port",
				  s->component, me->app_id, me->port);

	pthread_mutex_lock(&s->mu);
	nrs_forget_self(s);
	s->app_id = strdup(me->app_id);
	s->ns = strdup(me->ns != NULL ? me->ns : "");
	s->addr_host = strdup(me->host);
	s->port = me->port;
	s->app_port = me->app_port;
	s->pid = me->pid;
	if (s->app_id == NULL || s->ns == NULL || s->addr_host == NULL) {
		nrs_forget_self(s);
		pthread_mutex_unlock(&s->mu);
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", s->component);
	}
	/* Announced even if this first write fails: the next heartbeat writes the row again. */
	s->announced = true;
	rc = nrs_write_row(s, err);
	if (rc == OUTRIG_OK)
		s->host->log(
			s->self, OUTRIG_LOG_INFO,
			"registered app id \"%s\"%s%s%s at %s:%d in SQLite database \"%s\" (table \"%s\")",
			s->app_id, s->ns[0] != '\0' ? " (namespace \"" : "", s->ns,
			s->ns[0] != '\0' ? "\")" : "", s->addr_host, s->port, s->path, s->table);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/*
 * Every updateInterval: pushes this sidecar's expiration forward. A row that is gone (deleted as
 * stale by another sidecar's cleanup after this process stalled, or by hand) is written again.
 */
static void nrs_heartbeat(void *instance)
{
	struct nrs *s = instance;
	sqlite3_stmt *st = s->stmt[NRS_HEARTBEAT];
	struct outrig_error err;
	int rc;

	pthread_mutex_lock(&s->mu);
	if (!s->announced) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	rc = sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = nrs_bind_times(s, st);
	rc = nrs_exec(s, st, rc, "refreshing this sidecar's registration", &err);
	if (rc == OUTRIG_OK && sqlite3_changes(s->db) == 0) {
		s->host->log(s->self, OUTRIG_LOG_WARN,
			     "the registration of app id \"%s\" at %s:%d was missing from table \"%s\" "
			     "(deleted as stale, or taken over by another sidecar at the same address); "
			     "registering again",
			     s->app_id, s->addr_host, s->port, s->table);
		rc = nrs_write_row(s, &err);
	}
	if (rc != OUTRIG_OK)
		s->host->log(s->self, OUTRIG_LOG_WARN,
			     "%s; will retry in updateInterval (%" PRId64 " ms); other sidecars stop "
			     "finding this one %" PRId64 " ms after its last successful refresh",
			     err.message, s->update_ms, s->stale_ms);
	pthread_mutex_unlock(&s->mu);
}

/* Deletes this sidecar's row; called with mu held. */
static void nrs_withdraw(struct nrs *s)
{
	sqlite3_stmt *st = s->stmt[NRS_UNREGISTER];
	struct outrig_error err;
	int rc;

	if (!s->announced)
		return;
	rc = sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	rc = nrs_exec(s, st, rc, "unregistering this sidecar", &err);
	if (rc != OUTRIG_OK)
		s->host->log(s->self, OUTRIG_LOG_WARN,
			     "%s; other sidecars stop finding app id \"%s\" here once its row is stale "
			     "(%" PRId64 " ms)",
			     err.message, s->app_id, s->stale_ms);
	else
		s->host->log(s->self, OUTRIG_LOG_DEBUG, "unregistered app id \"%s\" at %s:%d", s->app_id,
			     s->addr_host, s->port);
	nrs_forget_self(s);
}

static void nrs_unregister_self(void *instance)
{
	struct nrs *s = instance;

	pthread_mutex_lock(&s->mu);
	nrs_withdraw(s);
	pthread_mutex_unlock(&s->mu);
}

/* ---- finding others ---- */

/* The round-robin position of one app id in one namespace, made on first use. Called with mu held. */
static struct nrs_rr *nrs_rr_of(struct nrs *s, const char *app_id, const char *ns)
{
	struct nrs_rr *r;

	for (r = s->rr; r != NULL; r = r->link)
		if (strcmp(r->app_id, app_id) == 0 && strcmp(r->ns, ns) == 0)
			return r;
	/* Only a client resolving ever more app ids fills it: starting over is harmless. */
	if (s->nrr >= NRS_RR_MAX) {
		while (s->rr != NULL) {
			r = s->rr;
			s->rr = r->link;
			free(r->app_id);
			free(r->ns);
			free(r);
		}
		s->nrr = 0;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->app_id = strdup(app_id);
	r->ns = strdup(ns);
	if (r->app_id == NULL || r->ns == NULL) {
		free(r->app_id);
		free(r->ns);
		free(r);
		return NULL;
	}
	r->link = s->rr;
	s->rr = r;
	s->nrr++;
	return r;
}

static int nrs_resolve(void *instance, const struct outrig_nr_query *query, struct outrig_nr_address *out,
		       struct outrig_error *err)
{
	struct nrs *s = instance;
	sqlite3_stmt *st = s->stmt[NRS_RESOLVE];
	const char *ns;
	struct nrs_rr *r;
	int rc, ret = OUTRIG_OK;

	if (query == NULL || query->app_id == NULL || query->app_id[0] == '\0')
		return outrig_err(err, OUTRIG_EINVAL, "component \"%s\": no app id to resolve", s->component);

	pthread_mutex_lock(&s->mu);
	/* "" is the caller's own namespace: this sidecar's, once it announced one. */
	ns = query->ns != NULL && query->ns[0] != '\0' ? query->ns : s->ns != NULL ? s->ns : "";
	r = nrs_rr_of(s, query->app_id, ns);
	if (r == NULL) {
		pthread_mutex_unlock(&s->mu);
		return outrig_err(err, OUTRIG_ENOMEM,
				  "component \"%s\": out of memory resolving app id \"%s\"", s->component,
				  query->app_id);
	}
	rc = sqlite3_bind_text(st, 2, query->app_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, ns, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, s->host->now_unix_ms());
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 10, (sqlite3_int64)r->next);
	nrs_start(s);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	nrs_stop(s);
	if (rc == SQLITE_ROW) {
		const char *host = (const char *)sqlite3_column_text(st, 0);

		if (host == NULL || strlen(host) >= sizeof(out->host)) {
			ret = outrig_err(err, OUTRIG_EINTERNAL,
					 "component \"%s\": the row of app id \"%s\" in table \"%s\" has no "
					 "usable host; delete it, or wait for its sidecar to refresh it",
					 s->component, query->app_id, s->table);
		} else {
			memcpy(out->host, host, strlen(host) + 1);
			out->port = sqlite3_column_int(st, 1);
			r->next++;
		}
	} else if (rc == SQLITE_DONE) {
		ret = outrig_err(err, OUTRIG_ENOTFOUND,
				 "component \"%s\": no live sidecar of app id \"%s\"%s%s%s is registered in "
				 "its SQLite database (table \"%s\"); is that app running, with a sidecar "
				 "that uses the same connectionString for name resolution?",
				 s->component, query->app_id, ns[0] != '\0' ? " in namespace \"" : "", ns,
				 ns[0] != '\0' ? "\"" : "", s->table);
	} else {
		char doing[300];

		snprintf(doing, sizeof(doing), "resolving app id \"%s\"", query->app_id);
		ret = nrs_fail(s, rc, doing, err);
	}
	nrs_done(st);
	pthread_mutex_unlock(&s->mu);
	return ret;
}

/* Every cleanupInterval: deletes the rows resolve already skips, those of sidecars that died. */
static void nrs_cleanup(void *instance)
{
	struct nrs *s = instance;
	sqlite3_stmt *st = s->stmt[NRS_CLEANUP];
	struct outrig_error err;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = sqlite3_bind_int64(st, 8, s->host->now_unix_ms());
	rc = nrs_exec(s, st, rc, "deleting stale rows", &err);
	if (rc != OUTRIG_OK)
		s->host->log(s->self, OUTRIG_LOG_WARN, "%s; will retry at the next cleanupInterval",
			     err.message);
	else if (sqlite3_changes(s->db) > 0)
		s->host->log(s->self, OUTRIG_LOG_DEBUG, "deleted %d stale rows from table \"%s\"",
			     sqlite3_changes(s->db), s->table);
	pthread_mutex_unlock(&s->mu);
}

/* ---- the instance ---- */

/* WAL lets one sidecar resolve while another writes its heartbeat; disableWAL is for NFS/SMB. */
static int nrs_journal(struct nrs *s, bool wal, struct outrig_error *err)
{
	const char *want = wal ? "wal" : "delete";
	char *sql = sqlite3_mprintf("PRAGMA journal_mode = %s", want);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sql == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", s->component);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	nrs_start(s);
	/*
	 * Changing the journal mode needs the file to itself, and SQLite answers SQLITE_BUSY at once,
	 * without its busy handler, when another sidecar is starting on it too: retry until timeout.
	 */
	while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		rc = sqlite3_step(st);
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || s->host->now_mono_ms() >= s->deadline_ms)
			break;
		sqlite3_reset(st);
		nrs_sleep_ms(5);
	}
	nrs_stop(s);
	if (rc == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(st, 0);

		if (got == NULL || strcasecmp(got, want) != 0)
			s->host->log(s->self, OUTRIG_LOG_WARN,
				     "SQLite database \"%s\" stays in journal mode \"%s\" instead of \"%s\"",
				     s->path, got != NULL ? got : "?", want);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		rc = nrs_fail(s, rc, wal ? "switching to WAL mode" : "leaving WAL mode", err);
	else
		rc = OUTRIG_OK;
	sqlite3_finalize(st);
	return rc;
}

static int nrs_prepare(struct nrs *s, struct outrig_error *err)
{
	for (int i = 0; i < NRS_NSTMT; i++) {
		char *sql = sqlite3_mprintf(nrs_sql[i], s->table);
		int rc;

		if (sql == NULL)
			return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory",
					  s->component);
		rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			return nrs_fail(s, rc, "preparing statements", err);
	}
	return OUTRIG_OK;
}

static int nrs_open(struct nrs *s, bool disable_wal, const char *meta_table, struct outrig_error *err)
{
	const char *file;
	int rc;

	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
			     NULL);
	if (rc != SQLITE_OK) {
		rc = outrig_err(
			err, OUTRIG_EUNAVAIL,
			"component \"%s\": cannot open SQLite database \"%s\" (connectionString): %s; "
			"check the folder exists and is writable",
			s->component, s->path, s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		sqlite3_close(s->db);
		s->db = NULL;
		return rc;
	}
	sqlite3_busy_handler(s->db, nrs_busy, s);
	sqlite3_progress_handler(s->db, NRS_PROGRESS_STEPS, nrs_progress, s);

	file = sqlite3_db_filename(s->db, "main");
	if (file == NULL || file[0] == '\0')
		s->host->log(s->self, OUTRIG_LOG_WARN,
			     "SQLite database \"%s\" is in memory: no other sidecar can find this one, nor "
			     "this one any other; give connectionString a file path",
			     s->path);
	else
		rc = nrs_journal(s, !disable_wal, err);
	if (rc == OUTRIG_OK) {
		struct outrig_error why = { "" };

		/* Schema creation is several statements: bounded together by one timeout. */
		nrs_start(s);
		rc = nrs_schema_ensure(s->db, s->table, meta_table, &why);
		nrs_stop(s);
		if (rc != OUTRIG_OK)
			outrig_err(err, rc, "component \"%s\": SQLite database \"%s\": %s", s->component,
				   s->path, why.message);
	}
	if (rc == OUTRIG_OK)
		rc = nrs_prepare(s, err);
	return rc;
}

static void nrs_free(struct nrs *s)
{
	for (int i = 0; i < NRS_NSTMT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		s->host->log(s->self, OUTRIG_LOG_ERROR, "cannot close SQLite database \"%s\": %s", s->path,
			     sqlite3_errmsg(s->db));
	while (s->rr != NULL) {
		struct nrs_rr *r = s->rr;

		s->rr = r->link;
		free(r->app_id);
		free(r->ns);
		free(r);
	}
	nrs_forget_self(s);
	pthread_mutex_destroy(&s->mu);
	free(s->component);
	free(s->path);
	free(s->table);
	free(s);
}

/* connectionString, or the shared file in the host's data folder; malloc'd, NULL when out of memory. */
static char *nrs_path(const struct outrig_host *host, const struct outrig_config *cfg, bool *no_default)
{
	const char *given = outrig_config_string(cfg, "connectionString", NULL);
	const char *dir;
	size_t len;
	char *path;

	*no_default = false;
	if (given != NULL && given[0] != '\0')
		return strdup(given);
	dir = offsetof(struct outrig_host, data_dir) < host->struct_size ? host->data_dir : NULL;
	if (dir == NULL || dir[0] == '\0') {
		*no_default = true;
		return NULL;
	}
	len = strlen(dir) + 1 + sizeof(NRS_DEFAULT_FILE);
	path = malloc(len);
	if (path != NULL)
		snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", NRS_DEFAULT_FILE);
	return path;
}

static int nrs_check_config(const char *component, const char *table, const char *meta_table,
			    int64_t timeout_ms, int64_t update_ms, int64_t busy_ms, struct outrig_error *err)
{
	if (table[0] == '\0' || meta_table[0] == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": %s is empty; set a table name or remove the field",
				  component, table[0] == '\0' ? "tableName" : "metadataTableName");
	if (strcmp(table, meta_table) == 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": tableName and metadataTableName are both \"%s\"; give "
				  "them different names",
				  component, table);
	if (timeout_ms <= 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": timeout must be positive, or a locked database could "
				  "stall the sidecar; use e.g. \"1s\"",
				  component);
	if (update_ms <= 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": updateInterval must be positive: it is how often this "
				  "sidecar refreshes its row; use e.g. \"5s\"",
				  component);
	if (busy_ms < 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": busyTimeout must not be negative; use e.g. \"800ms\"",
				  component);
	if (update_ms > (INT64_MAX / 4) || timeout_ms > (INT64_MAX / 4))
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": updateInterval or timeout is too long; use a duration "
				  "of seconds or minutes",
				  component);
	return OUTRIG_OK;
}

static int nrs_create(const struct outrig_host *host, struct outrig_handle *self,
		      const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	const char *component = cfg->component != NULL ? cfg->component : "";
	const char *table = outrig_config_string(cfg, "tableName", "hosts");
	const char *meta_table = outrig_config_string(cfg, "metadataTableName", "metadata");
	int64_t timeout_ms = outrig_config_int(cfg, "timeout", 1000);
	int64_t update_ms = outrig_config_int(cfg, "updateInterval", 5000);
	int64_t busy_ms = outrig_config_int(cfg, "busyTimeout", 800);
	int64_t cleanup_ms = outrig_config_int(cfg, "cleanupInterval", 3600000);
	bool no_default;
	struct nrs *s;
	int rc;

	rc = nrs_check_config(component, table, meta_table, timeout_ms, update_ms, busy_ms, err);
	if (rc != OUTRIG_OK)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	pthread_mutex_init(&s->mu, NULL);
	s->host = host;
	s->self = self;
	s->timeout_ms = timeout_ms;
	s->busy_ms = busy_ms;
	s->update_ms = update_ms;
	s->stale_ms = NRS_STALE_BEATS * update_ms + timeout_ms;
	nrs_new_id(s->id);
	s->component = strdup(component);
	s->path = nrs_path(host, cfg, &no_default);
	s->table = strdup(table);
	if (no_default) {
		nrs_free(s);
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": connectionString is not set and this outrigd gives "
				  "plugins no data folder; set connectionString to a database file that "
				  "all sidecars of this host share",
				  component);
	}
	if (s->component == NULL || s->path == NULL || s->table == NULL) {
		nrs_free(s);
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	}

	rc = nrs_open(s, outrig_config_int(cfg, "disableWAL", 0) != 0, meta_table, err);
	if (rc == OUTRIG_OK && host->every(self, update_ms, nrs_heartbeat) != 0)
		rc = outrig_err(err, OUTRIG_EINVAL,
				"component \"%s\": the sidecar refused an updateInterval of %" PRId64
				" ms; use a positive duration such as \"5s\"",
				component, update_ms);
	if (rc == OUTRIG_OK && cleanup_ms > 0 && host->every(self, cleanup_ms, nrs_cleanup) != 0)
		rc = outrig_err(err, OUTRIG_EINVAL,
				"component \"%s\": the sidecar refused a cleanupInterval of %" PRId64
				" ms; use a shorter positive duration, or 0 to disable the cleanup",
				component, cleanup_ms);
	if (rc != OUTRIG_OK) {
		nrs_free(s);
		return rc;
	}
	host->log(self, OUTRIG_LOG_INFO,
		  "using SQLite %s database \"%s\", table \"%s\"; rows are stale %" PRId64
		  " ms after their last refresh",
		  sqlite3_libversion(), s->path, s->table, s->stale_ms);
	*instance = s;
	return OUTRIG_OK;
}

/* The core stopped the timers; a sidecar that did not unregister withdraws now, as daprd does on close. */
static void nrs_destroy(void *instance)
{
	struct nrs *s = instance;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	nrs_withdraw(s);
	pthread_mutex_unlock(&s->mu);
	nrs_free(s);
}

static const struct outrig_nr_ops nrs_ops = {
	.struct_size = sizeof(struct outrig_nr_ops),
	.register_self = nrs_register_self,
	.resolve = nrs_resolve,
	.unregister_self = nrs_unregister_self,
};

static const char *const nrs_versions[] = { "v1", NULL };

static const struct outrig_plugin nrs_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "nameresolution.sqlite",
	.versions = nrs_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "SQLite name resolution: the sidecars of one host share one database file",
	.fields = nrs_fields,
	/* Not serial: a mutex guards the one connection, so unregister_self may come from any thread. */
	.create = nrs_create,
	.destroy = nrs_destroy,
	.nameresolution = &nrs_ops,
};

OUTRIG_PLUGIN(nrs_plugin)
