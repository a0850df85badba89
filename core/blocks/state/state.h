/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dapr's state building block without a transport: store lookup and its failure rules, keys and
 * their prefixes, etags, options and TTLs, and the plugin calls. The HTTP and gRPC front ends
 * decode their wire format into these structs, call one operation, and encode what its
 * completion hands back; no rule of the block is written in a front end.
 *
 * Every operation finishes through its done() exactly once, on the loop thread, with err NULL on
 * success or a row of Dapr's error table. done() may run before the operation returns (a refused
 * request, an empty one); ctx must stay valid until it has run.
 * Ownership: the inputs are borrowed for the duration of the call (the block copies what it keeps);
 * what done() is handed is valid only during done().
 * Thread: the loop, for every function here.
 */
#ifndef OUTRIG_CORE_BLOCKS_STATE_H
#define OUTRIG_CORE_BLOCKS_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include <outrig/state.h>

#include "blocks/errors.h"

struct kv_list;
struct server;

/* Keys per bulk get: each costs memory for its request and its answer until the reply is sent. */
#define STATE_BULK_MAX_KEYS 10000

/* The operations, for state_store_check(). */
enum state_op {
	STATE_OP_GET,
	STATE_OP_BULK_GET,
	STATE_OP_SAVE,
	STATE_OP_DELETE,
	STATE_OP_TRANSACTION,
	STATE_OP_QUERY,
};

/*
 * One key to save or delete, as the app sent it. Strings are C strings: a front end whose wire
 * format can carry a NUL inside one refuses it first (state_refuse_nul), never cuts it short.
 */
struct state_write {
	const char *key;   /* as the app names it, without any prefix */
	const void *value; /* saves: the bytes to store, kept verbatim */
	size_t value_len;
	const char *etag;		/* NULL or "": none (last write wins) */
	const char *concurrency;	/* NULL or "": last-write; else "first-write" or "last-write" */
	const char *consistency;	/* NULL or "": eventual; else "strong" or "eventual" */
	const struct kv_list *metadata; /* NULL: none; ttlInSeconds is read from it */
	const char *operation;		/* transactions only: "upsert" or "delete" */
};

/* A get: key as the app names it; consistency as in state_write; metadata may be NULL. */
struct state_get_req {
	const char *key;
	const char *consistency;
	const struct kv_list *metadata;
};

/* A bulk get: n app keys, each read with metadata (may be NULL). Answers keep the keys' order. */
struct state_bulk_req {
	const char *const *keys;
	size_t n;
	const struct kv_list *metadata;
};

/* One key's answer in a bulk get. */
struct state_bulk_item {
	const char *key;			/* as the app named it */
	const char *error;			/* NULL, or why this key could not be read */
	const struct outrig_state_value *value; /* when error is NULL: found, data, etag, expiry */
};

typedef void (*state_done_fn)(void *ctx, const struct block_error *err);
/* v->found is false for a key the store does not hold. v is NULL when err is set. */
typedef void (*state_get_done_fn)(void *ctx, const struct block_error *err,
				  const struct outrig_state_value *v);
/* items is NULL when err is set (the whole request failed); per-key failures are in items. */
typedef void (*state_bulk_done_fn)(void *ctx, const struct block_error *err,
				   const struct state_bulk_item *items, size_t n);

/*
 * Whether the one who asked still waits. Long operations (saves and bulk gets of many keys) stop
 * between turns once it answers false, and report the rest as not done. NULL: always waits.
 */
typedef bool (*state_waiting_fn)(void *ctx);

/*
 * Store lookup alone, with the error op would finish with: unknown store, no state store at all,
 * a store that failed to start (ignoreErrors), and for STATE_OP_TRANSACTION one that is not
 * transactional. Every operation checks this itself; a front end calls it first when it wants
 * these errors to win over a malformed request, as daprd's do. 0, or -1 with err filled.
 */
int state_store_check(struct server *srv, const char *store, enum state_op op, struct block_error *err);

void state_get(struct server *srv, const char *store, const struct state_get_req *req, state_get_done_fn done,
	       void *ctx);

/* Saves n items (every one is tried; the first failure is reported, as daprd's bulk set). */
void state_save(struct server *srv, const char *store, const struct state_write *items, size_t n,
		state_waiting_fn waiting, state_done_fn done, void *ctx);

void state_delete(struct server *srv, const char *store, const struct state_write *item, state_done_fn done,
		  void *ctx);

/* Deletes n items (every one is tried; the first failure is reported). Values are not read. */
void state_delete_bulk(struct server *srv, const char *store, const struct state_write *items, size_t n,
		       state_waiting_fn waiting, state_done_fn done, void *ctx);

/*
 * Reads req->n keys. A key that fails does not fail the request: its item carries the error.
 * More than STATE_BULK_MAX_KEYS keys is a bad request.
 */
void state_bulk_get(struct server *srv, const char *store, const struct state_bulk_req *req,
		    state_waiting_fn waiting, state_bulk_done_fn done, void *ctx);

/*
 * A transaction operation's name: "upsert" or "delete" (*is_delete), else Dapr's
 * ERR_NOT_SUPPORTED_STATE_OPERATION naming operations[i]. For front ends that check each
 * operation's name before decoding its request, as daprd does. 0, or -1 with err filled.
 */
int state_operation_check(const char *kind, size_t i, bool *is_delete, struct block_error *err);

/* Applies n operations (each with its operation set) all or nothing; metadata may be NULL. */
void state_transact(struct server *srv, const char *store, const struct state_write *ops, size_t n,
		    const struct kv_list *metadata, state_done_fn done, void *ctx);

/* Queries are not supported by any store outrigd has: always finishes with Dapr's error. */
void state_query(struct server *srv, const char *store, state_done_fn done, void *ctx);

/* v's expiry as Dapr's ttlExpireTime (RFC 3339, UTC) into buf; false when v has none. */
bool state_expire_text(const struct outrig_state_value *v, char *buf, size_t size);

#endif /* OUTRIG_CORE_BLOCKS_STATE_H */
