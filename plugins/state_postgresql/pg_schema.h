/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's state.postgresql v1 tables: naming them safely, creating and migrating them like daprd. */
#ifndef OUTRIG_STATE_POSTGRESQL_SCHEMA_H
#define OUTRIG_STATE_POSTGRESQL_SCHEMA_H

#include <libpq-fe.h>

#include <outrig/status.h>

#include "pg_conn.h"

/* The migrations daprd's v1 store has: 1 creates the table, 2 adds expiredate. */
#define PGM_SCHEMA_VERSION 2

/*
 * Turns a tableName or metadataTableName ("table" or "schema.table") into SQL: each part
 * quoted with PQescapeIdentifier. Unquoted parts are folded to lower case, as PostgreSQL
 * folds the unquoted names daprd splices into its statements, so both open the same
 * table; a part in double quotes is taken as written. Returns 0 with *sql set, or
 * OUTRIG_EINVAL (err names the problem, field is the setting's name) or OUTRIG_ENOMEM.
 * Ownership: the caller frees *sql with free(). Thread: the one using pg.
 */
int pgm_quote_name(PGconn *pg, const char *field, const char *name, char **sql, struct outrig_error *err);

/* What pgm_migrate found. */
struct pgm_report {
	int from_version;    /* the migration level before: 0 on an empty database */
	int to_version;	     /* after (PGM_SCHEMA_VERSION, or the higher level a newer daprd left) */
	int created_missing; /* the level said done but the state table was missing: created */
};

/*
 * Brings table (quoted, from pgm_quote_name) to daprd's v1 layout and records it in
 * meta_table's "migrations" row, as daprd does, so that each accepts what the other
 * made. Runs in one transaction holding daprd's locks (advisory lock 42, which older
 * daprd takes, and the "lock" row newer daprd takes) and reads the level only once it
 * holds them, so sidecars starting together migrate once. Refuses a table that exists
 * without the v1 columns. Returns 0, or a negative outrig_status with err saying what
 * failed (without the component's name; the caller adds it).
 * Ownership: arguments stay the caller's. Thread: the one that acquired conn.
 */
int pgm_migrate(struct pgc_pool *pool, struct pgc_conn *conn, const struct pgc_deadline *deadline,
		const char *table, const char *meta_table, struct pgm_report *report,
		struct outrig_error *err);

#endif /* OUTRIG_STATE_POSTGRESQL_SCHEMA_H */
