/* SPDX-License-Identifier: Apache-2.0 */
/* What state.postgresql's files share: one component instance, and its statements. */
#ifndef OUTRIG_STATE_POSTGRESQL_STORE_H
#define OUTRIG_STATE_POSTGRESQL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <outrig/plugin.h>

#include "pg_conn.h"

/*
 * Every statement the store runs, made once in create() with the quoted table names.
 * Parameters: $1 key, $2 value (JSON text), $3 isbinary, $4 TTL in seconds (NULL: none),
 * $5 the etag the caller sent (a row's xmin). Rows whose expiredate has passed count as
 * absent, whether or not the cleanup has deleted them yet. Times are the server's, as
 * daprd's are, so both agree on what has expired.
 */
enum pgs_stmt {
	PGS_GET,
	PGS_UPSERT,
	PGS_INSERT_NEW,
	PGS_UPDATE_ETAG,
	PGS_DELETE,
	PGS_DELETE_ETAG,
	PGS_CLEANUP_MARK,
	PGS_CLEANUP_DELETE,
	PGS_NSTMT
};

struct pgs_store {
	const struct outrig_host *host;
	struct outrig_handle *self;
	char *component;
	char *table;	  /* quoted, for SQL and messages */
	char *meta_table; /* quoted */
	char *sql[PGS_NSTMT];
	/*
	 * What each statement is prepared as: "outrig_get_" and a hash of its SQL, so that one
	 * name never means two statements, even to sessions a pooler shares between components
	 * of other tables. "" for statements never prepared.
	 */
	char name[PGS_NSTMT][48];
	/*
	 * Whether the hot statements run as named prepared statements (queryExecMode unset
	 * or cache_statement), or unnamed on every call, which poolers in transaction mode
	 * need (the other modes).
	 */
	bool prepare;
	struct pgc_pool *pool;
	int64_t timeout_ms;
	int64_t cleanup_ms;
};

/*
 * Writes s->sql[] and s->name[] from the quoted table names in s. Returns 0 or OUTRIG_ENOMEM.
 * Ownership: s->sql[] is freed with s. Thread: create()'s.
 */
int pgs_prepare_statements(struct pgs_store *s);

/* The state operations (see outrig/state.h). Thread: any worker; each takes its own connection. */
int pgs_get(void *instance, const struct outrig_state_get *req, struct outrig_state_value *out,
	    struct outrig_error *err);
int pgs_set(void *instance, const struct outrig_state_set *req, struct outrig_error *err);
int pgs_delete(void *instance, const struct outrig_state_delete *req, struct outrig_error *err);
int pgs_transact(void *instance, const struct outrig_state_op *ops, size_t count,
		 const struct outrig_metadata *metadata, struct outrig_error *err);

/*
 * Deletes expired rows, at most once per cleanupInterval across every sidecar sharing
 * the metadata table. Failures are logged. Thread: the component's timer.
 */
void pgs_cleanup(void *instance);

#endif /* OUTRIG_STATE_POSTGRESQL_STORE_H */
