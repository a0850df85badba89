/* SPDX-License-Identifier: Apache-2.0 */
/* Creating and checking the tables of state.sqlite, kept apart from the per-request code. */
#ifndef OUTRIG_STATE_SQLITE_SCHEMA_H
#define OUTRIG_STATE_SQLITE_SCHEMA_H

#include <stdbool.h>

#include <sqlite3.h>

#include <outrig/status.h>

/* The layout of the state table this plugin writes; recorded in the metadata table. */
#define SQLS_SCHEMA_VERSION 1

/*
 * Makes sure table exists in this plugin's layout: creates it and meta_table (which
 * records the layout's version under key "outrig-schema-<table>") when absent, and
 * refuses a table it did not create or a newer layout. A read-only database must
 * already hold both. Returns 0 or a negative outrig_status; err then says what is
 * wrong and what to do, without naming the component or file (the caller adds them).
 * Ownership: all arguments stay the caller's. Thread: the one using db.
 */
int sqls_schema_ensure(sqlite3 *db, const char *table, const char *meta_table, bool readonly,
		       struct outrig_error *err);

#endif /* OUTRIG_STATE_SQLITE_SCHEMA_H */
