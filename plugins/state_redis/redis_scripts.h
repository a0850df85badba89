/* SPDX-License-Identifier: Apache-2.0 */
/* The Lua scripts that make each state operation one atomic step on the Redis server. */
#ifndef OUTRIG_STATE_REDIS_SCRIPTS_H
#define OUTRIG_STATE_REDIS_SCRIPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "redis_pool.h"

enum rds_script { RDS_SCRIPT_GET, RDS_SCRIPT_WRITE, RDS_NSCRIPTS };

/* The SHA1s SCRIPT LOAD returned, written once in create() and only read afterwards. */
struct rds_scripts {
	char sha[RDS_NSCRIPTS][41];
};

/* What a key holds, as the get script sees it. */
enum rds_kind {
	RDS_KIND_NONE = 0,   /* no such key (or expired) */
	RDS_KIND_HASH = 1,   /* Dapr's layout: fields data and version */
	RDS_KIND_STRING = 2, /* a legacy plain string: the value, no version */
	RDS_KIND_OTHER = 3,  /* a list, set, ...: not state */
};

/* One key read by rds_script_get(). The pointers point into reply. */
struct rds_got {
	enum rds_kind kind;
	const char *data; /* NULL: a hash without a data field */
	size_t data_len;
	const char *version; /* NULL: no version field (or a string) */
	size_t version_len;
	long long pttl_ms;     /* > 0: expires in that many ms */
	const char *type_name; /* RDS_KIND_OTHER: what Redis calls the type ("list") */
	redisReply *reply;     /* owns the above */
};

/* One save or delete for the write script. */
struct rds_write_op {
	const char *key;
	bool is_delete;
	const char *etag; /* canonical decimal version the key must have, or NULL */
	bool first_write; /* with no etag: only if the key does not exist */
	const void *value;
	size_t value_len;
	long long ttl_s; /* upsert: > 0 EXPIRE, else PERSIST */
};

/* Why the write script refused an operation; nothing was written. */
enum rds_check {
	RDS_CHECK_OK = 0,
	RDS_CHECK_MISSING = 1,	   /* an etag was given, the key does not exist */
	RDS_CHECK_MISMATCH = 2,	   /* the etag is not the stored version */
	RDS_CHECK_EXISTS = 3,	   /* first-write, and the key exists */
	RDS_CHECK_BAD_VERSION = 4, /* the hash's version field is not an integer: cannot be incremented */
};

/*
 * Loads both scripts into the server's script cache and keeps their SHA1s.
 * Returns 0 or a negative outrig_status with err set. Thread: the holder of conn.
 */
int rds_scripts_load(struct rds_scripts *s, struct rds_conn *conn, struct outrig_error *err);

/*
 * Reads key in one round trip: what it holds, its data and version, and its remaining TTL.
 * Returns 0 (also for a missing key) or a negative outrig_status with err set.
 * Ownership: free out with rds_got_free(). Thread: the holder of conn.
 */
int rds_script_get(const struct rds_scripts *s, struct rds_conn *conn, const char *key, const char *doing,
		   struct rds_got *out, struct outrig_error *err);

void rds_got_free(struct rds_got *got);

/*
 * Checks every operation's etag or first-write condition in order (a later operation on the
 * same key sees the earlier ones), and only if all pass applies them all, in one script.
 * Returns 0 with *check = RDS_CHECK_OK when applied, 0 with *check and *failed (the index of
 * the refused operation) when nothing was written, or a negative outrig_status with err set
 * when Redis could not be asked.
 * Ownership: ops stay the caller's. Thread: the holder of conn.
 */
int rds_script_write(const struct rds_scripts *s, struct rds_conn *conn, const struct rds_write_op *ops,
		     size_t count, const char *doing, size_t *failed, enum rds_check *check,
		     struct outrig_error *err);

#endif /* OUTRIG_STATE_REDIS_SCRIPTS_H */
