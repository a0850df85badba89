/* SPDX-License-Identifier: Apache-2.0 */
/* state.postgresql's connection pool, and statements that never run past a deadline. */
#ifndef OUTRIG_STATE_POSTGRESQL_CONN_H
#define OUTRIG_STATE_POSTGRESQL_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include <outrig/status.h>

/*
 * When a call must give up, and which setting said so, so that a timeout message can
 * name it ("within 20s (timeout)").
 */
struct pgc_deadline {
	int64_t at_ms;	     /* on pgc_now_ms()'s clock */
	int64_t limit_ms;    /* the configured span, for messages */
	const char *setting; /* "timeout", "initTimeout", ... */
};

/*
 * A statement a session prepares once and then runs by name, so the server parses and
 * plans it once per connection instead of on every call.
 */
struct pgc_stmt {
	const char *name; /* the server-side name; the same name must always mean the same sql */
	const char *sql;
	unsigned bit; /* its bit in pgc_conn.prepared: below PGC_MAX_STMTS, one per statement */
};

/* Most statements pgc_exec_prepared can track per connection: the bits of pgc_conn.prepared. */
#define PGC_MAX_STMTS 32

/* One pooled connection. Only the thread that acquired it touches it. */
struct pgc_conn {
	PGconn *pg;
	bool broken;	       /* set by pgc_exec on a timeout or a lost connection: never reuse */
	uint32_t prepared;     /* bit n: the pgc_stmt with bit n exists in this session */
	int64_t idle_since;    /* pgc_now_ms() when it was released */
	struct pgc_conn *next; /* in the pool's idle list */
};

struct pgc_pool;

/* How the pool connects. Strings are copied. */
struct pgc_options {
	/*
	 * connectionString (libpq keywords or a postgres:// URL), or NULL; its settings
	 * override the defaults the pool adds (keepalives, connect_timeout, application_name).
	 */
	const char *conninfo;
	/* Dapr's separate connection fields (host, port, ...) as libpq keywords, NULL-terminated. */
	const char *const *keywords;
	const char *const *values;
	int max_conns;
	int64_t max_idle_ms; /* close connections idle for longer; <= 0: keep them */
	int64_t timeout_ms;  /* default for connect_timeout and tcp_user_timeout */
};

/* Monotonic milliseconds, the clock of every deadline here. Thread: any. */
int64_t pgc_now_ms(void);

/* A deadline limit_ms from now, named after setting (a static string). Thread: any. */
struct pgc_deadline pgc_deadline_in(int64_t limit_ms, const char *setting);

/* "20s", "1500ms", "1m30s": how a duration reads in a message. Thread: any. */
const char *pgc_format_ms(int64_t ms, char *buf, size_t size);

/*
 * Checks the connection settings (without connecting) and makes an empty pool.
 * Returns 0, OUTRIG_EINVAL (err says what is wrong with connectionString) or OUTRIG_ENOMEM.
 * Ownership: the caller destroys *out with pgc_pool_destroy(). Thread: any.
 */
int pgc_pool_create(const struct pgc_options *opts, struct pgc_pool **out, struct outrig_error *err);

/*
 * Closes every idle connection and frees the pool; all connections must have been
 * released. Waits (a bounded time) for cancel requests still being sent.
 * Ownership: frees pool. Thread: any, with no other call on the pool running.
 */
void pgc_pool_destroy(struct pgc_pool *pool);

/* "host:port" of the server, as the last connection saw it, for messages. Thread: any. */
const char *pgc_pool_where(struct pgc_pool *pool, char *buf, size_t size);

/*
 * Hands out a connection: an idle one that still looks alive (one the server closed
 * meanwhile is dropped, so a server restart costs no request), else a new one if fewer
 * than max_conns exist, else waits for one to be released. Returns 0; OUTRIG_EUNAVAIL
 * when the server cannot be reached (err: "cannot reach PostgreSQL at h:p: reason",
 * without any password); OUTRIG_ETIMEDOUT when the deadline passes first; OUTRIG_ENOMEM.
 * Ownership: give it back with pgc_release(). Thread: any.
 */
int pgc_acquire(struct pgc_pool *pool, const struct pgc_deadline *deadline, struct pgc_conn **out,
		struct outrig_error *err);

/*
 * Returns a connection to the pool, or closes it when it is broken or was left inside
 * a transaction. Ownership: takes conn. Thread: any.
 */
void pgc_release(struct pgc_pool *pool, struct pgc_conn *conn);

/* Closes idle connections older than max_idle_ms. Thread: any. */
void pgc_pool_trim(struct pgc_pool *pool);

/*
 * Runs one statement with text parameters (values[i] NULL for SQL NULL) and waits for
 * its result until the deadline. When the server answered, returns 0 with *res set,
 * whatever the result's status (an error result carries its SQLSTATE). Otherwise marks
 * conn broken and returns OUTRIG_ETIMEDOUT (after asking the server to cancel the
 * statement) or OUTRIG_EUNAVAIL (the connection failed; the statement may or may not
 * have run), with err saying so; *res is then NULL.
 * Ownership: the caller PQclear()s *res. Thread: the one that acquired conn.
 */
int pgc_exec(struct pgc_pool *pool, struct pgc_conn *conn, const struct pgc_deadline *deadline,
	     const char *sql, int nparams, const char *const *values, PGresult **res,
	     struct outrig_error *err);

/*
 * As pgc_exec, but runs stmt by name, preparing it first if this session has not yet.
 * A refused prepare is returned as the answer (0, *res the error result). If the server
 * no longer has the statement (SQLSTATE 26000: a pooler's DISCARD ALL, a DEALLOCATE ALL),
 * every statement of the session counts as gone; outside a transaction nothing ran, so it
 * prepares and runs it again, once. Inside one the error has aborted the transaction, and
 * the 26000 answer is returned: the caller must roll back and start over.
 * Ownership: the caller PQclear()s *res. Thread: the one that acquired conn.
 */
int pgc_exec_prepared(struct pgc_pool *pool, struct pgc_conn *conn, const struct pgc_deadline *deadline,
		      const struct pgc_stmt *stmt, int nparams, const char *const *values, PGresult **res,
		      struct outrig_error *err);

#endif /* OUTRIG_STATE_POSTGRESQL_CONN_H */
