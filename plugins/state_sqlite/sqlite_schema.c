/* SPDX-License-Identifier: Apache-2.0 */
/* Creating and checking the tables of state.sqlite, kept apart from the per-request code. */
#include <stdlib.h>
#include <string.h>

#include "sqlite_schema.h"

/*
 * value holds the bytes verbatim (a BLOB); is_binary is always 1 and is kept so the
 * columns read like daprd's. Times are Unix milliseconds from the sidecar's clock.
 */
static const char sqls_state_ddl[] = "CREATE TABLE \"%w\" ("
				     "key TEXT NOT NULL PRIMARY KEY, "
				     "value BLOB NOT NULL, "
				     "is_binary INTEGER NOT NULL DEFAULT 1, "
				     "etag TEXT NOT NULL, "
				     "expiration_time INTEGER DEFAULT NULL, "
				     "update_time INTEGER NOT NULL)";

static const char sqls_meta_ddl[] =
	"CREATE TABLE IF NOT EXISTS \"%w\" (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)";

static int sqls_schema_fail(sqlite3 *db, int rc, const char *doing, struct outrig_error *err)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return outrig_err(err, OUTRIG_ETIMEDOUT,
				  "another connection kept the database locked for longer than "
				  "busyTimeout while %s; stop the other process or raise busyTimeout",
				  doing);
	case SQLITE_INTERRUPT:
		return outrig_err(err, OUTRIG_ETIMEDOUT, "%s took longer than timeout; raise timeout", doing);
	case SQLITE_NOMEM: return outrig_err(err, OUTRIG_ENOMEM, "out of memory while %s", doing);
	}
	return outrig_err(err, OUTRIG_EUNAVAIL,
			  "%s failed: %s; check the file is a SQLite database you may write to", doing,
			  sqlite3_errmsg(db));
}

/* Runs sql (a template whose %w, if any, is name); returns an SQLite code. */
static int sqls_schema_exec(sqlite3 *db, const char *sql, const char *name)
{
	char *text = sqlite3_mprintf(sql, name);
	int rc;

	if (text == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_exec(db, text, NULL, NULL, NULL);
	sqlite3_free(text);
	return rc;
}

/* Whether a table called name exists in the main database; returns an SQLite code. */
static int sqls_table_exists(sqlite3 *db, const char *name, bool *exists)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?1", -1,
				&st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc;
}

/* The schema version recorded for table, or 0 if none; returns an SQLite code. */
static int sqls_version(sqlite3 *db, const char *meta_table, const char *marker, long *version)
{
	char *sql = sqlite3_mprintf("SELECT value FROM \"%w\" WHERE key = ?1", meta_table);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sql == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, marker, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	*version = 0;
	if (rc == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);

		*version = text != NULL ? strtol(text, NULL, 10) : 0;
		/* A value we cannot read is no version we wrote: call it newer than ours. */
		if (*version <= 0)
			*version = SQLS_SCHEMA_VERSION + 1;
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int sqls_record_version(sqlite3 *db, const char *meta_table, const char *marker)
{
	char *sql = sqlite3_mprintf("INSERT OR REPLACE INTO \"%w\" (key, value) VALUES (?1, '%d')",
				    meta_table, SQLS_SCHEMA_VERSION);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sql == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, marker, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc;
}

/* The checks and changes, inside the caller's transaction when there is one. */
static int sqls_schema_check(sqlite3 *db, const char *table, const char *meta_table, bool readonly,
			     struct outrig_error *err)
{
	char *marker = sqlite3_mprintf("outrig-schema-%s", table);
	bool meta_exists = false, exists = false;
	long version = 0;
	int rc;

	if (marker == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	rc = readonly ? SQLITE_OK : sqls_schema_exec(db, sqls_meta_ddl, meta_table);
	if (rc != SQLITE_OK) {
		rc = sqls_schema_fail(db, rc, "creating the metadata table", err);
		goto out;
	}
	rc = sqls_table_exists(db, meta_table, &meta_exists);
	if (rc == SQLITE_OK && meta_exists)
		rc = sqls_version(db, meta_table, marker, &version);
	if (rc == SQLITE_OK)
		rc = sqls_table_exists(db, table, &exists);
	if (rc != SQLITE_OK) {
		rc = sqls_schema_fail(db, rc, "reading the schema", err);
		goto out;
	}

	if (version > SQLS_SCHEMA_VERSION) {
		rc = outrig_err(err, OUTRIG_EINVAL,
				"table \"%s\" has layout version %ld, newer than this plugin's %d; "
				"upgrade outrigd, or set tableName to another table",
				table, version, SQLS_SCHEMA_VERSION);
	} else if (exists && version == SQLS_SCHEMA_VERSION) {
		rc = OUTRIG_OK;
	} else if (exists) {
		rc = outrig_err(err, OUTRIG_EINVAL,
				"table \"%s\" exists but was not created by outrig (daprd's own SQLite "
				"store, for one, keeps rows in another format); set tableName to a new "
				"table",
				table);
	} else if (readonly) {
		rc = outrig_err(err, OUTRIG_EUNAVAIL,
				"the database is read-only and has no table \"%s\"; open it read-write "
				"once so the table can be created",
				table);
	} else {
		/* First start, or the table was dropped since: there is nothing to lose. */
		rc = sqls_schema_exec(db, sqls_state_ddl, table);
		if (rc == SQLITE_OK)
			rc = sqls_record_version(db, meta_table, marker);
		rc = rc == SQLITE_OK ? OUTRIG_OK : sqls_schema_fail(db, rc, "creating the state table", err);
	}
out:
	sqlite3_free(marker);
	return rc;
}

int sqls_schema_ensure(sqlite3 *db, const char *table, const char *meta_table, bool readonly,
		       struct outrig_error *err)
{
	int rc;

	if (readonly)
		return sqls_schema_check(db, table, meta_table, true, err);

	/* One write transaction, so two sidecars starting on one file cannot both create. */
	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sqls_schema_fail(db, rc, "locking the database to check its tables", err);
	rc = sqls_schema_check(db, table, meta_table, false, err);
	if (rc == OUTRIG_OK) {
		int src = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

		if (src != SQLITE_OK)
			rc = sqls_schema_fail(db, src, "committing the new tables", err);
	}
	if (rc != OUTRIG_OK && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
