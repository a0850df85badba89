/* SPDX-License-Identifier: Apache-2.0 */
/* The state kind: requests the core hands a state plugin, and the operations table it implements. */
#ifndef OUTRIG_STATE_H
#define OUTRIG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <outrig/host.h>
#include <outrig/metadata.h>
#include <outrig/status.h>

/* Capabilities, reported in GET /v1.0/metadata with Dapr's names. */
#define OUTRIG_STATE_ETAG (1u << 0)	     /* "ETAG": etags and first-write are honoured */
#define OUTRIG_STATE_TRANSACTIONAL (1u << 1) /* "TRANSACTIONAL": transact() is atomic */
#define OUTRIG_STATE_TTL (1u << 2)	     /* "TTL": ttl_seconds is honoured */

enum outrig_concurrency {
	OUTRIG_LAST_WRITE = 0,	/* Dapr's default: the etag, if given, must still match */
	OUTRIG_FIRST_WRITE = 1, /* without an etag: only create, never overwrite */
};

enum outrig_consistency {
	OUTRIG_EVENTUAL = 0,
	OUTRIG_STRONG = 1,
};

/*
 * Keys reach the plugin already prefixed by the core (`appid||key` by default, per
 * Dapr's keyPrefix rules): store them as given.
 */
struct outrig_state_get {
	const char *key;
	enum outrig_consistency consistency;
	struct outrig_metadata metadata;
};

/* What get() fills in; the core owns every buffer. */
struct outrig_state_value {
	bool found;
	struct outrig_bytes data; /* fill with host->bytes_set() */
	struct outrig_bytes etag; /* fill with host->bytes_set(); leave empty for no etag */
	int64_t expire_unix_ms;	  /* 0 = no expiry; reported as metadata.ttlExpireTime */
};

struct outrig_state_set {
	const char *key;
	/*
	 * The bytes to store, verbatim: for the HTTP API, the JSON text of the request's "value"
	 * exactly as the client wrote it, less whitespace outside strings (numbers, escapes and
	 * member order untouched: 2.5e3 stays 2.5e3; daprd would store Go's 2500). An absent value
	 * is "null". Hand the same bytes back from get(); the core neither parses nor re-encodes.
	 */
	const void *value;
	size_t value_len;
	const char *etag; /* NULL = no etag (the core turns Dapr's empty etag into NULL) */
	enum outrig_concurrency concurrency;
	enum outrig_consistency consistency;
	/*
	 * > 0: expire after this many seconds; <= 0: never expire (Dapr's -1). Never above
	 * OUTRIG_STATE_MAX_TTL_SECONDS: the core refuses larger ones (HTTP 500, as daprd's stores do).
	 */
	int64_t ttl_seconds;
	bool has_ttl; /* false: no ttlInSeconds in the request */
	struct outrig_metadata metadata;
};

struct outrig_state_delete {
	const char *key;
	const char *etag; /* NULL = no If-Match (an empty one is none too) */
	enum outrig_concurrency concurrency;
	enum outrig_consistency consistency;
	struct outrig_metadata metadata;
};

/* The largest ttlInSeconds Dapr accepts; the core refuses larger ones (HTTP 500, as daprd). */
#define OUTRIG_STATE_MAX_TTL_SECONDS 2147483647LL

/*
 * When a value written by req expires, in Unix milliseconds: 0 for never (no TTL, or
 * Dapr's -1). now_unix_ms is host->now_unix_ms(). Cannot overflow: the core bounds the TTL.
 * Ownership: none. Thread: any.
 */
static inline int64_t outrig_state_expiry(const struct outrig_state_set *req, int64_t now_unix_ms)
{
	return req->has_ttl && req->ttl_seconds > 0 ? now_unix_ms + req->ttl_seconds * 1000 : 0;
}

enum outrig_state_op_kind {
	OUTRIG_STATE_UPSERT = 0,
	OUTRIG_STATE_DELETE = 1,
};

struct outrig_state_op {
	enum outrig_state_op_kind kind;
	union {
		struct outrig_state_set set;	   /* when kind is UPSERT */
		struct outrig_state_delete delete; /* when kind is DELETE */
	} u;
};

/*
 * A state store. Every operation is called on a worker thread and may block; the core
 * never calls them on its event loop. Unless the plugin sets OUTRIG_PLUGIN_SERIAL, two
 * operations on one instance may run at the same time.
 * Results: 0 on success; OUTRIG_ECONFLICT for an etag mismatch (HTTP 409);
 * OUTRIG_EBADETAG for a malformed etag (400); OUTRIG_EUNAVAIL/ETIMEDOUT when the backend
 * is down or slow; details in err.
 */
struct outrig_state_ops {
	uint32_t struct_size;
	uint32_t features; /* OUTRIG_STATE_* */

	/*
	 * Reads one key. A missing or expired key is success with out->found = false.
	 * Ownership: req is the core's for the call; out's buffers are the core's.
	 * Thread: a worker.
	 */
	int (*get)(void *instance, const struct outrig_state_get *req, struct outrig_state_value *out,
		   struct outrig_error *err);

	/*
	 * Writes one key: with an etag, only if the stored etag matches (else ECONFLICT);
	 * with FIRST_WRITE and no etag, only if the key does not exist (else ECONFLICT).
	 * Ownership: req is the core's for the call. Thread: a worker.
	 */
	int (*set)(void *instance, const struct outrig_state_set *req, struct outrig_error *err);

	/*
	 * Deletes one key; deleting a missing key without an etag is success. With an etag
	 * that does not match (or a missing key), ECONFLICT.
	 * Ownership: req is the core's for the call. Thread: a worker.
	 */
	int (*delete)(void *instance, const struct outrig_state_delete *req, struct outrig_error *err);

	/*
	 * Applies ops in order, all or nothing. Optional (NULL when the store is not
	 * transactional; then OUTRIG_STATE_TRANSACTIONAL must be clear).
	 * Ownership: ops and metadata are the core's for the call. Thread: a worker.
	 */
	int (*transact)(void *instance, const struct outrig_state_op *ops, size_t count,
			const struct outrig_metadata *metadata, struct outrig_error *err);
};

#endif /* OUTRIG_STATE_H */
