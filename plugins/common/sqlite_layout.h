/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A table of a plugin's own layout in a SQLite file, created on first use and recognised after:
 * what state.sqlite and nameresolution.sqlite share. Compiled into each plugin that uses it (plugins
 * share no library at run time).
 */
#ifndef OUTRIG_PLUGINS_SQLITE_LAYOUT_H
#define OUTRIG_PLUGINS_SQLITE_LAYOUT_H

#include <stdbool.h>

#include <sqlite3.h>

#include <outrig/status.h>

struct sqlite_layout {
	const char *what;	   /* for messages: "the state table" */
	const char *ddl;	   /* CREATE statements; every %w in them is the table's name (up to 7) */
	int version;		   /* the layout's version, recorded in the metadata table */
	const char *marker;	   /* the metadata key's prefix; the table's name follows it */
	const char *foreign_hint;  /* after "exists but was not created by outrig (": why, and what to do */
	const char *busy_settings; /* the settings that bound waiting for a lock: "busyTimeout" */
};

/*
 * Makes sure table exists with layout l: creates it and meta_table (two columns, key and value, as
 * daprd's metadata tables, so both can share one) when absent, recording l->version under
 * "<marker><table>"; refuses a table it did not create and a newer layout. Read-write, it runs in
 * one write transaction, so that sidecars starting together on one file do not both create; a
 * read-only database must already hold both. Returns 0 or OUTRIG_E*; err then says what is wrong
 * and what to do, without the component or file, which the caller adds.
 * Ownership: all arguments stay the caller's. Thread: the connection's.
 */
int sqlite_layout_ensure(sqlite3 *db, const struct sqlite_layout *l, const char *table, const char *meta_table,
			 bool readonly, struct outrig_error *err);

#endif /* OUTRIG_PLUGINS_SQLITE_LAYOUT_H */
