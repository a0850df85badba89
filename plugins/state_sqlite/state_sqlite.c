/* SPDX-License-Identifier: Apache-2.0 */
/* state.sqlite: a persistent state store in one SQLite database file, with etags, TTLs and transactions. */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include <outrig/plugin.h>

#include "sqlite_schema.h"

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

/* A UUID in text form, plus the terminator. */
#define SQLS_ETAG_LEN 37
/* VM steps between two looks at the clock: cheap, and a few ms apart at most. */
#define SQLS_PROGRESS_STEPS 1000

/*
 * Every statement the store runs, prepared once in create(). Parameters are numbered
 * the same way in all of them: ?1 key, ?2 value, ?3 new etag, ?4 expiration (Unix ms or
 * NULL), ?5 now (Unix ms), ?6 the etag the caller sent. A row whose expiration_time is
 * not after ?5 is treated as absent, whether or not the cleanup has deleted it yet.
 */
enum sqls_stmt {
	SQLS_GET,
	SQLS_UPSERT,
	SQLS_INSERT_NEW,
	SQLS_UPDATE_ETAG,
	SQLS_DELETE,
	SQLS_DELETE_ETAG,
	SQLS_BEGIN,
	SQLS_COMMIT,
	SQLS_ROLLBACK,
	SQLS_CLEANUP,
	SQLS_NSTMT
};

#define SQLS_LIVE "(expiration_time IS NULL OR expiration_time > ?5)"
#define SQLS_INSERT                                                                                          \
	"INSERT INTO \"%w\" (key, value, is_binary, etag, expiration_time, update_time) "                    \
	"VALUES (?1, ?2, 1, ?3, ?4, ?5) ON CONFLICT (key) DO UPDATE SET "                                    \
	"value = excluded.value, is_binary = excluded.is_binary, etag = excluded.etag, "                     \
	"expiration_time = excluded.expiration_time, update_time = excluded.update_time"

/* Templates for sqlite3_mprintf(); %w is the table name, quoted as an identifier. */
static const char *const sqls_sql[SQLS_NSTMT] = {
	[SQLS_GET] = "SELECT value, etag, expiration_time FROM \"%w\" WHERE key = ?1 AND " SQLS_LIVE,
	[SQLS_UPSERT] = SQLS_INSERT,
	/* First-write: the insert may only replace a row that has expired. */
	[SQLS_INSERT_NEW] = SQLS_INSERT " WHERE NOT " SQLS_LIVE,
	[SQLS_UPDATE_ETAG] =
		"UPDATE \"%w\" SET value = ?2, is_binary = 1, etag = ?3, "
		"expiration_time = ?4, update_time = ?5 WHERE key = ?1 AND etag = ?6 AND " SQLS_LIVE,
	[SQLS_DELETE] = "DELETE FROM \"%w\" WHERE key = ?1",
	[SQLS_DELETE_ETAG] = "DELETE FROM \"%w\" WHERE key = ?1 AND etag = ?6 AND " SQLS_LIVE,
	/* IMMEDIATE takes the write lock up front, so etag checks and writes see one state. */
	[SQLS_BEGIN] = "BEGIN IMMEDIATE",
	[SQLS_COMMIT] = "COMMIT",
	[SQLS_ROLLBACK] = "ROLLBACK",
	[SQLS_CLEANUP] = "DELETE FROM \"%w\" WHERE expiration_time IS NOT NULL AND "
			 "expiration_time <= ?5",
};

struct sqls_store {
	const struct outrig_host *host;
	struct outrig_handle *self;
	char *component;
	char *path; /* connectionString, for messages */
	char *table;
	sqlite3 *db;
	sqlite3_stmt *stmt[SQLS_NSTMT];
	int64_t timeout_ms; /* per operation; <= 0: none */
	int64_t busy_ms;
	int64_t deadline_ms; /* monotonic; 0 when no operation runs */
};

static const struct outrig_field sqls_fields[] = {
	{ "connectionString", OUTRIG_FIELD_STRING, NULL, true,
	  "database file path, \"file:\" URI with options, or \":memory:\"" },
	{ "tableName", OUTRIG_FIELD_STRING, "state", false, "table that holds the state" },
	{ "metadataTableName", OUTRIG_FIELD_STRING, "metadata", false,
	  "table that records the state table's schema version" },
	{ "timeout", OUTRIG_FIELD_DURATION, "20s", false, "time limit for each database operation",
	  "timeoutInSeconds" },
	{ "cleanupInterval", OUTRIG_FIELD_DURATION, "1h", false,
	  "how often expired rows are deleted; 0 or negative disables", "cleanupIntervalInSeconds" },
	{ "busyTimeout", OUTRIG_FIELD_DURATION, "2s", false,
	  "how long to wait for a lock another connection holds" },
	{ "disableWAL", OUTRIG_FIELD_BOOL, "false", false,
	  "use a rollback journal instead of WAL (for databases on network file systems)" },
	{ .name = NULL },
};

/* Aborts a statement that runs past the operation's deadline (SQLITE_INTERRUPT). */
static int sqls_progress(void *arg)
{
	struct sqls_store *s = arg;

	return s->deadline_ms != 0 && s->host->now_mono_ms() > s->deadline_ms;
}

static void sqls_start(struct sqls_store *s)
{
	s->deadline_ms = s->timeout_ms > 0 ? s->host->now_mono_ms() + s->timeout_ms : 0;
}

static void sqls_stop(struct sqls_store *s)
{
	s->deadline_ms = 0;
}

/*
 * Turns a failed SQLite call into a status and a message naming the component, the
 * database and what was being done. what is a gerund ("saving"); key may be NULL.
 */
static int sqls_fail(const struct sqls_store *s, int rc, const char *what, const char *key,
		     struct outrig_error *err)
{
	const char *detail = sqlite3_errmsg(s->db);
	char doing[160];

	if (key != NULL)
		snprintf(doing, sizeof(doing), "%s key \"%s\"", what, key);
	else
		snprintf(doing, sizeof(doing), "%s", what);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return outrig_err(err, OUTRIG_ETIMEDOUT,
				  "component \"%s\": SQLite database \"%s\" stayed locked by another "
				  "connection for longer than busyTimeout (%" PRId64 " ms) while %s; "
				  "raise busyTimeout, or find the process that holds the lock",
				  s->component, s->path, s->busy_ms, doing);
	case SQLITE_INTERRUPT:
		return outrig_err(
			err, OUTRIG_ETIMEDOUT,
			"component \"%s\": %s took longer than timeout (%" PRId64 " ms) on "
			"SQLite database \"%s\"; raise timeout, or check the disk is not overloaded",
			s->component, doing, s->timeout_ms, s->path);
	case SQLITE_NOMEM:
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory while %s",
				  s->component, doing);
	case SQLITE_TOOBIG:
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": the value is too large for SQLite (at most %d bytes) "
				  "while %s; store less",
				  s->component, sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, -1), doing);
	case SQLITE_READONLY:
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": SQLite database \"%s\" is read-only (%s) while %s; "
				  "check the permissions of the file and its folder, or drop mode=ro from "
				  "connectionString",
				  s->component, s->path, detail, doing);
	case SQLITE_FULL:
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": the disk holding SQLite database \"%s\" is full while "
				  "%s; free some space",
				  s->component, s->path, doing);
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": I/O error on SQLite database \"%s\" while %s: %s; "
				  "check the disk and the file's permissions",
				  s->component, s->path, doing, detail);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": \"%s\" is damaged or not a SQLite database (%s) while "
				  "%s; restore it from a backup or point connectionString at another file",
				  s->component, s->path, detail, doing);
	}
	return outrig_err(err, OUTRIG_EINTERNAL,
			  "component \"%s\": SQLite error while %s on \"%s\": %s (code %d); "
			  "please report it with this message",
			  s->component, doing, s->path, detail, rc);
}

/* Resets a statement for its next use, dropping pointers into the caller's request. */
static void sqls_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows; SQLITE_DONE becomes 0. */
static int sqls_exec(struct sqls_store *s, sqlite3_stmt *st, const char *what, const char *key,
		     struct outrig_error *err)
{
	int rc = sqlite3_step(st);
	int ret = rc == SQLITE_DONE ? OUTRIG_OK : sqls_fail(s, rc, what, key, err);

	sqls_done(st);
	return ret;
}

/* An empty etag counts as none, as in Dapr's stores (an empty If-Match sends one). */
static bool sqls_given(const char *etag)
{
	return etag != NULL && etag[0] != '\0';
}

/* A random (version 4) UUID: opaque, and never reissued for another write. */
static void sqls_new_etag(char out[SQLS_ETAG_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	char *p = out;

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

static int sqls_conflict(const struct sqls_store *s, const char *key, size_t index, size_t count,
			 bool first_write, struct outrig_error *err)
{
	char where[64] = "";

	if (count > 1)
		snprintf(where, sizeof(where), " (operation %zu of the transaction)", index + 1);
	if (first_write)
		return outrig_err(err, OUTRIG_ECONFLICT,
				  "component \"%s\": key \"%s\"%s already exists and first-write "
				  "concurrency does not overwrite it; send its etag to update it",
				  s->component, key, where);
	return outrig_err(err, OUTRIG_ECONFLICT,
			  "component \"%s\": key \"%s\"%s: the etag does not match: the key does not "
			  "exist, has expired, or changed since you read it; read it again for the "
			  "current etag",
			  s->component, key, where);
}

static int sqls_upsert(struct sqls_store *s, const struct outrig_state_set *req, int64_t now, size_t index,
		       size_t count, struct outrig_error *err)
{
	bool has_etag = sqls_given(req->etag);
	bool first_write = !has_etag && req->concurrency == OUTRIG_FIRST_WRITE;
	enum sqls_stmt id = has_etag ? SQLS_UPDATE_ETAG : first_write ? SQLS_INSERT_NEW : SQLS_UPSERT;
	sqlite3_stmt *st = s->stmt[id];
	char etag[SQLS_ETAG_LEN];
	int rc;

	if (req->value_len > 0 && req->value == NULL)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": key \"%s\" has a length but no value", s->component,
				  req->key);

	sqls_new_etag(etag);
	rc = sqlite3_bind_text(st, 1, req->key, -1, SQLITE_STATIC);
	/* A non-NULL pointer even for 0 bytes: NULL would bind SQL NULL, not an empty value. */
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob64(st, 2, req->value_len > 0 ? req->value : "", req->value_len,
					 SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, etag, -1, SQLITE_STATIC);
	/* No TTL, or Dapr's -1: the row never expires, whatever it had before. */
	if (rc == SQLITE_OK && outrig_state_expiry(req, now) > 0)
		rc = sqlite3_bind_int64(st, 4, outrig_state_expiry(req, now));
	else if (rc == SQLITE_OK)
		rc = sqlite3_bind_null(st, 4);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, now);
	if (rc == SQLITE_OK && has_etag)
		rc = sqlite3_bind_text(st, 6, req->etag, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		rc = sqls_fail(s, rc, "saving", req->key, err);
		sqls_done(st);
		return rc;
	}

	rc = sqls_exec(s, st, "saving", req->key, err);
	if (rc == OUTRIG_OK && id != SQLS_UPSERT && sqlite3_changes(s->db) == 0)
		return sqls_conflict(s, req->key, index, count, first_write, err);
	return rc;
}

static int sqls_remove(struct sqls_store *s, const struct outrig_state_delete *req, int64_t now, size_t index,
		       size_t count, struct outrig_error *err)
{
	bool has_etag = sqls_given(req->etag);
	sqlite3_stmt *st = s->stmt[has_etag ? SQLS_DELETE_ETAG : SQLS_DELETE];
	int rc;

	rc = sqlite3_bind_text(st, 1, req->key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && has_etag)
		rc = sqlite3_bind_int64(st, 5, now);
	if (rc == SQLITE_OK && has_etag)
		rc = sqlite3_bind_text(st, 6, req->etag, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		rc = sqls_fail(s, rc, "deleting", req->key, err);
		sqls_done(st);
		return rc;
	}
	rc = sqls_exec(s, st, "deleting", req->key, err);
	/* Without an etag, deleting a missing key is success, as in Dapr. */
	if (rc == OUTRIG_OK && has_etag && sqlite3_changes(s->db) == 0)
		return sqls_conflict(s, req->key, index, count, false, err);
	return rc;
}

static int sqls_get(void *instance, const struct outrig_state_get *req, struct outrig_state_value *out,
		    struct outrig_error *err)
{
	struct sqls_store *s = instance;
	sqlite3_stmt *st = s->stmt[SQLS_GET];
	int rc, ret = OUTRIG_OK;

	out->found = false;
	out->expire_unix_ms = 0;
	sqls_start(s);
	rc = sqlite3_bind_text(st, 1, req->key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, s->host->now_unix_ms());
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *value = sqlite3_column_blob(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		const unsigned char *etag = sqlite3_column_text(st, 1);

		if (s->host->bytes_set(&out->data, value != NULL ? value : "", len) != 0 ||
		    s->host->bytes_set(&out->etag, etag != NULL ? (const char *)etag : "",
				       etag != NULL ? strlen((const char *)etag) : 0) != 0) {
			ret = outrig_err(err, OUTRIG_ENOMEM,
					 "component \"%s\": out of memory copying %zu bytes of key \"%s\"; "
					 "give the sidecar more memory",
					 s->component, len, req->key);
		} else {
			out->found = true;
			if (sqlite3_column_type(st, 2) != SQLITE_NULL)
				out->expire_unix_ms = sqlite3_column_int64(st, 2);
		}
	} else if (rc != SQLITE_DONE) {
		ret = sqls_fail(s, rc, "reading", req->key, err);
	}
	sqls_done(st);
	sqls_stop(s);
	return ret;
}

static int sqls_set(void *instance, const struct outrig_state_set *req, struct outrig_error *err)
{
	struct sqls_store *s = instance;
	int rc;

	/* One statement is atomic on its own: no explicit transaction needed. */
	sqls_start(s);
	rc = sqls_upsert(s, req, s->host->now_unix_ms(), 0, 1, err);
	sqls_stop(s);
	return rc;
}

static int sqls_delete(void *instance, const struct outrig_state_delete *req, struct outrig_error *err)
{
	struct sqls_store *s = instance;
	int rc;

	sqls_start(s);
	rc = sqls_remove(s, req, s->host->now_unix_ms(), 0, 1, err);
	sqls_stop(s);
	return rc;
}

static int sqls_transact(void *instance, const struct outrig_state_op *ops, size_t count,
			 const struct outrig_metadata *metadata, struct outrig_error *err)
{
	struct sqls_store *s = instance;
	int64_t now = s->host->now_unix_ms();
	int rc;

	(void)metadata; /* nothing in Dapr's transaction metadata concerns SQLite */
	if (count == 0)
		return OUTRIG_OK;
	sqls_start(s);
	rc = sqls_exec(s, s->stmt[SQLS_BEGIN], "starting a transaction", NULL, err);
	for (size_t i = 0; i < count && rc == OUTRIG_OK; i++) {
		if (ops[i].kind == OUTRIG_STATE_UPSERT)
			rc = sqls_upsert(s, &ops[i].u.set, now, i, count, err);
		else
			rc = sqls_remove(s, &ops[i].u.delete, now, i, count, err);
	}
	if (rc == OUTRIG_OK)
		rc = sqls_exec(s, s->stmt[SQLS_COMMIT], "committing a transaction", NULL, err);
	/*
	 * An interrupted statement may already have rolled the transaction back; roll back
	 * whatever is left, without a deadline so that the rollback itself always completes.
	 */
	sqls_stop(s);
	if (rc != OUTRIG_OK && !sqlite3_get_autocommit(s->db)) {
		struct outrig_error ignored;

		if (sqls_exec(s, s->stmt[SQLS_ROLLBACK], "rolling back", NULL, &ignored) != OUTRIG_OK)
			s->host->log(s->self, OUTRIG_LOG_ERROR, "%s", ignored.message);
	}
	return rc;
}

/* Deletes expired rows, which reads already skip, so the file does not keep growing. */
static void sqls_cleanup(void *instance)
{
	struct sqls_store *s = instance;
	sqlite3_stmt *st = s->stmt[SQLS_CLEANUP];
	struct outrig_error err;
	int rc;

	sqls_start(s);
	rc = sqlite3_bind_int64(st, 5, s->host->now_unix_ms());
	if (rc != SQLITE_OK) {
		sqls_fail(s, rc, "deleting expired rows", NULL, &err);
		sqls_done(st);
	} else {
		rc = sqls_exec(s, st, "deleting expired rows", NULL, &err);
	}
	sqls_stop(s);
	if (rc != OUTRIG_OK)
		s->host->log(s->self, OUTRIG_LOG_WARN, "%s; will retry at the next cleanupInterval",
			     err.message);
	else if (sqlite3_changes(s->db) > 0)
		s->host->log(s->self, OUTRIG_LOG_DEBUG, "deleted %d expired rows from table \"%s\"",
			     sqlite3_changes(s->db), s->table);
}

/* WAL lets readers in other processes go on while we write; disableWAL is for NFS/SMB. */
static int sqls_journal(struct sqls_store *s, bool wal, struct outrig_error *err)
{
	const char *want = wal ? "wal" : "delete";
	char *sql = sqlite3_mprintf("PRAGMA journal_mode = %s", want);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sql == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", s->component);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(st, 0);

		if (got == NULL || strcasecmp(got, want) != 0)
			s->host->log(s->self, OUTRIG_LOG_WARN,
				     "SQLite database \"%s\" stays in journal mode \"%s\" instead of \"%s\"",
				     s->path, got != NULL ? got : "?", want);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		rc = sqls_fail(s, rc, wal ? "switching to WAL mode" : "leaving WAL mode", NULL, err);
	else
		rc = OUTRIG_OK;
	sqlite3_finalize(st);
	return rc;
}

static int sqls_prepare(struct sqls_store *s, struct outrig_error *err)
{
	for (int i = 0; i < SQLS_NSTMT; i++) {
		char *sql = sqlite3_mprintf(sqls_sql[i], s->table);
		int rc;

		if (sql == NULL)
			return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory",
					  s->component);
		rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			return sqls_fail(s, rc, "preparing statements", NULL, err);
	}
	return OUTRIG_OK;
}

static void sqls_free(struct sqls_store *s)
{
	for (int i = 0; i < SQLS_NSTMT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		s->host->log(s->self, OUTRIG_LOG_ERROR, "cannot close SQLite database \"%s\": %s", s->path,
			     sqlite3_errmsg(s->db));
	free(s->component);
	free(s->path);
	free(s->table);
	free(s);
}

/* A duration field that Dapr also accepts under an older name; the older one wins if given. */
static int sqls_open(struct sqls_store *s, bool disable_wal, const char *meta_table, struct outrig_error *err)
{
	const char *file;
	bool readonly, memory;
	int rc;

	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
			     NULL);
	if (rc != SQLITE_OK) {
		rc = outrig_err(err, OUTRIG_EUNAVAIL,
				"component \"%s\": cannot open SQLite database \"%s\": %s; check the "
				"folder exists and is writable",
				s->component, s->path,
				s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		sqlite3_close(s->db);
		s->db = NULL;
		return rc;
	}
	sqlite3_busy_timeout(s->db, s->busy_ms > INT_MAX ? INT_MAX : (int)(s->busy_ms > 0 ? s->busy_ms : 0));
	sqlite3_progress_handler(s->db, SQLS_PROGRESS_STEPS, sqls_progress, s);

	file = sqlite3_db_filename(s->db, "main");
	memory = file == NULL || file[0] == '\0';
	readonly = sqlite3_db_readonly(s->db, "main") == 1;
	if (readonly)
		s->host->log(s->self, OUTRIG_LOG_WARN,
			     "SQLite database \"%s\" is read-only: reads work, saves and deletes will fail",
			     s->path);

	sqls_start(s);
	rc = OUTRIG_OK;
	if (!memory && !readonly)
		rc = sqls_journal(s, !disable_wal, err);
	if (rc == OUTRIG_OK) {
		struct outrig_error why = { "" };

		/* The schema code knows what went wrong but not which component or file. */
		rc = sqls_schema_ensure(s->db, s->table, meta_table, readonly, &why);
		if (rc != OUTRIG_OK)
			outrig_err(err, rc, "component \"%s\": SQLite database \"%s\": %s", s->component,
				   s->path, why.message);
	}
	if (rc == OUTRIG_OK)
		rc = sqls_prepare(s, err);
	sqls_stop(s);
	return rc;
}

static int sqls_create(const struct outrig_host *host, struct outrig_handle *self,
		       const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	const char *component = cfg->component != NULL ? cfg->component : "";
	const char *path = outrig_config_string(cfg, "connectionString", NULL);
	const char *table = outrig_config_string(cfg, "tableName", "state");
	const char *meta_table = outrig_config_string(cfg, "metadataTableName", "metadata");
	int64_t cleanup_ms = outrig_config_int(cfg, "cleanupInterval", 3600000);
	struct sqls_store *s;
	int rc;

	if (path == NULL || path[0] == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": connectionString is empty; set it to a database file "
				  "path such as \"state.db\", or \":memory:\"",
				  component);
	if (table[0] == '\0' || meta_table[0] == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": %s is empty; set a table name or remove the field",
				  component, table[0] == '\0' ? "tableName" : "metadataTableName");
	if (strcmp(table, meta_table) == 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": tableName and metadataTableName are both \"%s\"; "
				  "give them different names",
				  component, table);

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	s->host = host;
	s->self = self;
	s->timeout_ms = outrig_config_int(cfg, "timeout", 20000);
	s->busy_ms = outrig_config_int(cfg, "busyTimeout", 2000);
	s->component = strdup(component);
	s->path = strdup(path);
	s->table = strdup(table);
	if (s->component == NULL || s->path == NULL || s->table == NULL) {
		sqls_free(s);
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	}

	rc = sqls_open(s, outrig_config_int(cfg, "disableWAL", 0) != 0, meta_table, err);
	if (rc == OUTRIG_OK && cleanup_ms > 0 && host->every(self, cleanup_ms, sqls_cleanup) != 0)
		rc = outrig_err(err, OUTRIG_EINVAL,
				"component \"%s\": the sidecar refused a cleanupInterval of %" PRId64
				" ms; use a shorter positive duration, or 0 to disable the cleanup",
				component, cleanup_ms);
	if (rc != OUTRIG_OK) {
		sqls_free(s);
		return rc;
	}
	host->log(self, OUTRIG_LOG_INFO, "using SQLite %s database \"%s\", table \"%s\"",
		  sqlite3_libversion(), s->path, s->table);
	*instance = s;
	return OUTRIG_OK;
}

static void sqls_destroy(void *instance)
{
	if (instance != NULL)
		sqls_free(instance);
}

static const struct outrig_state_ops sqls_ops = {
	.struct_size = sizeof(struct outrig_state_ops),
	.features = OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL | OUTRIG_STATE_TTL,
	.get = sqls_get,
	.set = sqls_set,
	.delete = sqls_delete,
	.transact = sqls_transact,
};

static const char *const sqls_versions[] = { "v1", NULL };

static const struct outrig_plugin sqls_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "state.sqlite",
	.versions = sqls_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "SQLite state store: one database file, with etags, TTLs and transactions",
	.fields = sqls_fields,
	/* One connection, used by one operation at a time: simpler than a pool, and SQLite
	 * serialises writers anyway. */
	.flags = OUTRIG_PLUGIN_SERIAL,
	.create = sqls_create,
	.destroy = sqls_destroy,
	.state = &sqls_ops,
};

OUTRIG_PLUGIN(sqls_plugin)
