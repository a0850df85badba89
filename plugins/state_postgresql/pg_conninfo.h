/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a daprd connectionString, written for Go's pgx, with libpq. */
#ifndef OUTRIG_STATE_POSTGRESQL_CONNINFO_H
#define OUTRIG_STATE_POSTGRESQL_CONNINFO_H

#include <stddef.h>

/*
 * Rewrites a connectionString for libpq. daprd parses it with pgx, which also takes
 * "database" for libpq's "dbname" (Dapr's own examples write it) and pool settings
 * libpq refuses (pool_max_conns, statement_cache_capacity, ...): the first is renamed,
 * the others dropped and their names listed in dropped ("" if none, comma-separated,
 * cut to dropped_size). Both "key=value" text and postgres:// URLs are handled; text
 * libpq will not parse anyway is passed through for libpq to report.
 * Returns the rewritten string, or NULL when out of memory.
 * Ownership: the caller frees the result. Thread: any.
 */
char *pgci_normalize(const char *conninfo, char *dropped, size_t dropped_size);

#endif /* OUTRIG_STATE_POSTGRESQL_CONNINFO_H */
