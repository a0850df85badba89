/* SPDX-License-Identifier: Apache-2.0 */
/* Creating and checking the hosts table of nameresolution.sqlite. */
#ifndef NRS_SCHEMA_H
#define NRS_SCHEMA_H

#include <stdbool.h>

#include <sqlite3.h>

#include <outrig/status.h>

/* Bumped when the hosts table's layout changes; recorded in the metadata table. */
#define NRS_SCHEMA_VERSION 1

/*
 * Makes sure table (and meta_table) exist with this plugin's layout, creating them on first use,
 * in one write transaction so that sidecars starting together on one file do not both create them.
 * Fails, without touching it, on a table of another layout (daprd's own SQLite resolver, for one).
 * err gets the cause without the component or file, which the caller adds. Returns 0 or OUTRIG_E*.
 * Ownership: all arguments stay the caller's. Thread: the connection's.
 */
int nrs_schema_ensure(sqlite3 *db, const char *table, const char *meta_table, struct outrig_error *err);

#endif /* NRS_SCHEMA_H */
