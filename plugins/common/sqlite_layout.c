/* SPDX-License-Identifier: Apache-2.0 */
/* Creating and recognising a plugin's own table in a SQLite file (see sqlite_layout.h). */
#include "sqlite_layout.h"

#include <stdlib.h>

static const char layout_meta_ddl[] =
	"CREATE TABLE IF NOT EXISTS \"%w\" (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)";

static int layout_fail(sqlite3 *db, const struct sqlite_layout *l, int rc, const char *doing,
		       struct outrig_error *err)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return outrig_err(err, OUTRIG_ETIMEDOUT,
				  "another connection kept the database locked for longer than %s while %s; "
				  "stop the other process or raise %s",
				  l->busy_settings, doing, l->busy_settings);
	case SQLITE_INTERRUPT:
		return outrig_err(err, OUTRIG_ETIMEDOUT, "%s took longer than timeout; raise timeout", doing);
	case SQLITE_NOMEM: return outrig_err(err, OUTRIG_ENOMEM, "out of memory while %s", doing);
	}
	return outrig_err(err, OUTRIG_EUNAVAIL,
			  "%s failed: %s; check the file is a SQLite database you may write to", doing,
			  sqlite3_errmsg(db));
}

/* Runs sql, a template whose every %w is name; returns an SQLite code. */
static int layout_exec(sqlite3 *db, const char *sql, const char *name)
{
	char *text = sqlite3_mprintf(sql, name, name, name, name, name, name, name);
	int rc;

	if (text == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_exec(db, text, NULL, NULL, NULL);
	sqlite3_free(text);
	return rc;
}

/* Prepares sql (a template whose %w, if any, is name) and binds text to ?1; returns an SQLite code. */
static int layout_query(sqlite3 *db, const char *sql, const char *name, const char *text, sqlite3_stmt **st)
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

/* Whether a table called name exists in the main database; returns an SQLite code. */
static int layout_table_exists(sqlite3 *db, const char *name, bool *exists)
{
	sqlite3_stmt *st;
	int rc = layout_query(db, "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?1", NULL,
			      name, &st);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc;
}

/* The layout version recorded under marker, or 0 if none; returns an SQLite code. */
static int layout_version(sqlite3 *db, const struct sqlite_layout *l, const char *meta_table,
			  const char *marker, long *version)
{
	sqlite3_stmt *st;
	int rc = layout_query(db, "SELECT value FROM \"%w\" WHERE key = ?1", meta_table, marker, &st);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	*version = 0;
	if (rc == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);

		*version = text != NULL ? strtol(text, NULL, 10) : 0;
		/* A value we cannot read is no version we wrote: call it newer than ours. */
		if (*version <= 0)
			*version = l->version + 1;
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int layout_record_version(sqlite3 *db, const struct sqlite_layout *l, const char *meta_table,
				 const char *marker)
{
	char *sql = sqlite3_mprintf("INSERT OR REPLACE INTO \"%w\" (key, value) VALUES (?1, '%d')",
				    meta_table, l->version);
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
static int layout_check(sqlite3 *db, const struct sqlite_layout *l, const char *table, const char *meta_table,
			bool readonly, struct outrig_error *err)
{
	char *marker = sqlite3_mprintf("%s%s", l->marker, table);
	char *creating = NULL;
	bool meta_exists = false, exists = false;
	long version = 0;
	int rc;

	if (marker == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	rc = readonly ? SQLITE_OK : layout_exec(db, layout_meta_ddl, meta_table);
	if (rc != SQLITE_OK) {
		rc = layout_fail(db, l, rc, "creating the metadata table", err);
		goto out;
	}
	rc = layout_table_exists(db, meta_table, &meta_exists);
	if (rc == SQLITE_OK && meta_exists)
		rc = layout_version(db, l, meta_table, marker, &version);
	if (rc == SQLITE_OK)
		rc = layout_table_exists(db, table, &exists);
	if (rc != SQLITE_OK) {
		rc = layout_fail(db, l, rc, "reading the schema", err);
		goto out;
	}

	if (version > l->version) {
		rc = outrig_err(err, OUTRIG_EINVAL,
				"table \"%s\" has layout version %ld, newer than this plugin's %d; "
				"upgrade outrigd, or set tableName to another table",
				table, version, l->version);
	} else if (exists && version == l->version) {
		rc = OUTRIG_OK;
	} else if (exists) {
		rc = outrig_err(err, OUTRIG_EINVAL, "table \"%s\" exists but was not created by outrig (%s",
				table, l->foreign_hint);
	} else if (readonly) {
		rc = outrig_err(err, OUTRIG_EUNAVAIL,
				"the database is read-only and has no table \"%s\"; open it read-write "
				"once so the table can be created",
				table);
	} else {
		/* First start, or the table was dropped since: there is nothing to lose. */
		rc = layout_exec(db, l->ddl, table);
		if (rc == SQLITE_OK)
			rc = layout_record_version(db, l, meta_table, marker);
		creating = sqlite3_mprintf("creating %s", l->what);
		rc = rc == SQLITE_OK
			     ? OUTRIG_OK
			     : layout_fail(db, l, rc, creating != NULL ? creating : "creating a table", err);
	}
out:
	sqlite3_free(creating);
	sqlite3_free(marker);
	return rc;
}

int sqlite_layout_ensure(sqlite3 *db, const struct sqlite_layout *l, const char *table,
			 const char *meta_table, bool readonly, struct outrig_error *err)
{
	int rc;

	if (readonly)
		return layout_check(db, l, table, meta_table, true, err);

	/* One write transaction, so two sidecars starting on one file cannot both create. */
	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return layout_fail(db, l, rc, "locking the database to check its tables", err);
	rc = layout_check(db, l, table, meta_table, false, err);
	if (rc == OUTRIG_OK) {
		int src = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

		if (src != SQLITE_OK)
			rc = layout_fail(db, l, src, "committing the new tables", err);
	}
	if (rc != OUTRIG_OK && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
