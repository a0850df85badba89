/* SPDX-License-Identifier: Apache-2.0 */
/* Connections to Redis: a pool of blocking hiredis contexts, opened when first needed and replaced when broken. */
#ifndef OUTRIG_STATE_REDIS_POOL_H
#define OUTRIG_STATE_REDIS_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

#include <outrig/plugin.h>

#include "redis_options.h"

/* One slot of the pool; a caller holds it between rds_pool_acquire() and rds_pool_release(). */
struct rds_conn {
	redisContext *ctx;		/* connected, authenticated, database selected */
	const struct rds_options *opts; /* for messages: where the server is, which timeouts */
	bool fresh;			/* opened by this acquire, so a failure on it is no stale socket */
	bool busy;			/* lent out; guarded by the pool's lock */
};

struct rds_pool;

/*
 * A pool of at most opts->pool_size connections; none is opened yet.
 * Ownership: opts and host must outlive the pool; free it with rds_pool_free(). NULL: no memory.
 * Thread: any.
 */
struct rds_pool *rds_pool_new(const struct rds_options *opts, const struct outrig_host *host,
			      struct outrig_handle *self);

/* Closes every connection. No connection may be lent out. Thread: any, once. */
void rds_pool_free(struct rds_pool *pool);

/*
 * Lends a connected slot, waiting at most poolTimeout for one to be free. An idle connection
 * the server has closed meanwhile (a restart) is reopened first, so it costs no failed request.
 * Returns 0, OUTRIG_ETIMEDOUT (pool exhausted), OUTRIG_EUNAVAIL (cannot connect) or
 * OUTRIG_EINVAL (AUTH or SELECT refused), with err set.
 * Ownership: give *out back with rds_pool_release(). Thread: any.
 */
int rds_pool_acquire(struct rds_pool *pool, struct rds_conn **out, struct outrig_error *err);

/*
 * The first connection, for create(): retries every 200 ms while the server cannot be reached,
 * until wait_ms have passed. Refusals (a wrong password) fail at once.
 * Ownership and return values: as rds_pool_acquire(). Thread: the main thread (create).
 */
int rds_pool_acquire_first(struct rds_pool *pool, int64_t wait_ms, struct rds_conn **out,
			   struct outrig_error *err);

/* Gives a slot back; a connection with an error is closed and reopened by a later acquire. Thread: any. */
void rds_pool_release(struct rds_pool *pool, struct rds_conn *conn);

/*
 * Sends one command and reads its answer. doing is a gerund for messages ("saving key \"k\"");
 * writes says the command changes data, so that a failure after sending it can warn that it
 * may have been applied. Returns 0 with *reply set (possibly a Redis error reply, which the
 * caller inspects), or OUTRIG_ETIMEDOUT / OUTRIG_EUNAVAIL / OUTRIG_ENOMEM / OUTRIG_EINTERNAL
 * when the connection failed (it is then closed on release; never resend a write on it).
 * Ownership: *reply is the caller's to freeReplyObject(). Thread: the one holding conn.
 */
int rds_conn_command(struct rds_conn *conn, int argc, const char **argv, const size_t *lens,
		     const char *doing, bool writes, redisReply **reply, struct outrig_error *err);

/* True when the connection broke during the last command (not merely an error reply). Thread: the holder. */
bool rds_conn_broken(const struct rds_conn *conn);

#endif /* OUTRIG_STATE_REDIS_POOL_H */
