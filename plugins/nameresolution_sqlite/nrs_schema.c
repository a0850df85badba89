/* SPDX-License-Identifier: Apache-2.0 */
/* Creating and checking the hosts table of nameresolution.sqlite, kept apart from the per-call code. */
#include <stdlib.h>

#include "nrs_schema.h"

/*
 * One row per announced sidecar. (host, port) is unique: a sidecar that starts on the address of
 * one that died takes its row over. Times are Unix milliseconds of the writer's clock; a row is
 * live while expiration_time is in the future, a bound its own writer derived from its
 * updateInterval, so sidecars with different settings can share the file.
 */
static const char nrs_hosts_ddl[] =
	"CREATE TABLE \"%w\" ("
	"registration_id TEXT NOT NULL PRIMARY KEY, "
	"app_id TEXT NOT NULL, "
	"namespace TEXT NOT NULL, "
	"host TEXT NOT NULL, "
	"port INTEGER NOT NULL, "
	"app_port INTEGER NOT NULL, "
	"pid INTEGER NOT NULL, "
	"last_update INTEGER NOT NULL, "
	"expiration_time INTEGER NOT NULL); "
	"CREATE UNIQUE INDEX \"%w_address_idx\" ON \"%w\" (host, port); "
	"CREATE INDEX \"%w_app_idx\" ON \"%w\" (app_id, namespace, expiration_time); "
	"CREATE INDEX \"%w_expiration_idx\" ON \"%w\" (expiration_time)";

/* The same two columns as daprd's metadata table, so both can share one. */
static const char nrs_meta_ddl[] =
	"CREATE TABLE IF NOT EXISTS \"%w\" (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)";

static int nrs_schema_fail(sqlite3 *db, int rc, const char *doing, struct outrig_error *err)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return outrig_err(
			err, OUTRIG_ETIMEDOUT,
			"another connection kept the database locked for longer than busyTimeout or "
			"timeout while %s; stop the other process or raise them",
			doing);
	case SQLITE_INTERRUPT:
		return outrig_err(err, OUTRIG_ETIMEDOUT, "%s took longer than timeout; raise timeout", doing);
	case SQLITE_NOMEM: return outrig_err(err, OUTRIG_ENOMEM, "out of memory while %s", doing);
	}
	return outrig_err(err, OUTRIG_EUNAVAIL,
			  "%s failed: %s; check the file is a SQLite database you may write to", doing,
			  sqlite3_errmsg(db));
}

/* Runs sql, a template whose every %w is name; returns an SQLite code. */
static int nrs_schema_exec(sqlite3 *db, const char *sql, const char *name)
{
	char *text = sqlite3_mprintf(sql, name, name, name, name, name, name, name);
	int rc;

	if (text == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_exec(db, text, NULL, NULL, NULL);
	sqlite3_free(text);
	return rc;
}

/* Prepares sql (a template whose %w is name) and binds text to ?1; returns an SQLite code. */
static int nrs_schema_query(sqlite3 *db, const char *sql, const char *name, const char *text,
			    sqlite3_stmt **st)
{
	char *q = sqlite3_mprintf(sql, name);
	int rc;

	*st = NULL;
	if (q == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, q, -1, st, NULL);
	sqlite3_free(q);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(*st, 1, text, -1, SQLITE_STATIC);
	return rc;
}

static int nrs_table_exists(sqlite3 *db, const char *name, bool *exists)
{
	sqlite3_stmt *st;
	int rc = nrs_schema_query(db, "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?1",
				  NULL, name, &st);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc;
}

/* The layout version recorded under marker, or 0 if none. */
static int nrs_version(sqlite3 *db, const char *meta_table, const char *marker, long *version)
{
	sqlite3_stmt *st;
	int rc = nrs_schema_query(db, "SELECT value FROM \"%w\" WHERE key = ?1", meta_table, marker, &st);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	*version = 0;
	if (rc == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);

		*version = text != NULL ? strtol(text, NULL, 10) : 0;
		/* A value we cannot read is no version we wrote: call it newer than ours. */
		if (*version <= 0)
			*version = NRS_SCHEMA_VERSION + 1;
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int nrs_record_version(sqlite3 *db, const char *meta_table, const char *marker)
{
	char *sql = sqlite3_mprintf("INSERT OR REPLACE INTO \"%w\" (key, value) VALUES (?1, '%d')",
				    meta_table, NRS_SCHEMA_VERSION);
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

static int nrs_schema_check(sqlite3 *db, const char *table, const char *meta_table, struct outrig_error *err)
{
	char *marker = sqlite3_mprintf("outrig-nr-schema-%s", table);
	bool exists = false;
	long version = 0;
	int rc;

	if (marker == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	rc = nrs_schema_exec(db, nrs_meta_ddl, meta_table);
	if (rc != SQLITE_OK) {
		rc = nrs_schema_fail(db, rc, "creating the metadata table", err);
		goto out;
	}
	rc = nrs_version(db, meta_table, marker, &version);
	if (rc == SQLITE_OK)
		rc = nrs_table_exists(db, table, &exists);
	if (rc != SQLITE_OK) {
		rc = nrs_schema_fail(db, rc, "reading the schema", err);
		goto out;
	}

	if (version > NRS_SCHEMA_VERSION) {
		rc = outrig_err(err, OUTRIG_EINVAL,
				"table \"%s\" has layout version %ld, newer than this plugin's %d; upgrade "
				"outrigd, or set tableName to another table",
				table, version, NRS_SCHEMA_VERSION);
	} else if (exists && version == NRS_SCHEMA_VERSION) {
		rc = OUTRIG_OK;
	} else if (exists) {
		rc = outrig_err(err, OUTRIG_EINVAL,
				"table \"%s\" exists but was not created by outrig (daprd's SQLite name "
				"resolver, for one, keeps hosts in another layout); set tableName to a new "
				"table, or connectionString to another file",
				table);
	} else {
		rc = nrs_schema_exec(db, nrs_hosts_ddl, table);
		if (rc == SQLITE_OK)
			rc = nrs_record_version(db, meta_table, marker);
		rc = rc == SQLITE_OK ? OUTRIG_OK : nrs_schema_fail(db, rc, "creating the hosts table", err);
	}
out:
	sqlite3_free(marker);
	return rc;
}

int nrs_schema_ensure(sqlite3 *db, const char *table, const char *meta_table, struct outrig_error *err)
{
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return nrs_schema_fail(db, rc, "locking the database to check its tables", err);
	rc = nrs_schema_check(db, table, meta_table, err);
	if (rc == OUTRIG_OK) {
		int src = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

		if (src != SQLITE_OK)
			rc = nrs_schema_fail(db, src, "committing the new tables", err);
	}
	if (rc != OUTRIG_OK && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
