/* SPDX-License-Identifier: Apache-2.0 */
/* Creating and checking the tables of state.sqlite, kept apart from the per-request code. */
#include "sqlite_schema.h"

#include "../common/sqlite_layout.h"

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

static const struct sqlite_layout sqls_layout = {
	.what = "the state table",
	.ddl = sqls_state_ddl,
	.version = SQLS_SCHEMA_VERSION,
	.marker = "outrig-schema-",
	.foreign_hint = "daprd's own SQLite store, for one, keeps rows in another format); set tableName to a "
			"new table",
	.busy_settings = "busyTimeout",
};

int sqls_schema_ensure(sqlite3 *db, const char *table, const char *meta_table, bool readonly,
		       struct outrig_error *err)
{
	return sqlite_layout_ensure(db, &sqls_layout, table, meta_table, readonly, err);
}
