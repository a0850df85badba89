/* SPDX-License-Identifier: Apache-2.0 */
/* Creating and checking the hosts table of nameresolution.sqlite, kept apart from the per-call code. */
#include "nrs_schema.h"

#include "../common/sqlite_layout.h"

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

static const struct sqlite_layout nrs_layout = {
	.what = "the hosts table",
	.ddl = nrs_hosts_ddl,
	.version = NRS_SCHEMA_VERSION,
	.marker = "outrig-nr-schema-",
	.foreign_hint = "daprd's SQLite name resolver, for one, keeps hosts in another layout); set tableName "
			"to a new table, or connectionString to another file",
	.busy_settings = "busyTimeout or timeout",
};

int nrs_schema_ensure(sqlite3 *db, const char *table, const char *meta_table, struct outrig_error *err)
{
	return sqlite_layout_ensure(db, &nrs_layout, table, meta_table, false, err);
}
