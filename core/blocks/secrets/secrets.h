/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secrets building block, transport-free (API.md §5): store lookup and its failure rules,
 * secret scopes, and reading a store on a worker. Both front ends call it and only render.
 */
#ifndef OUTRIG_CORE_BLOCKS_SECRETS_H
#define OUTRIG_CORE_BLOCKS_SECRETS_H

#include <jansson.h>

#include "base/kv.h"
#include "blocks/errors.h"

struct server;

/*
 * How a secrets operation ended: err is NULL on success. secrets is then, for a get, an object
 * name -> string value (NULL when the store had no data, which daprd answers with 204 over HTTP),
 * and for a bulk read an object secret -> {name -> string value}, without the secrets that the
 * scopes deny or that the store put ungrouped.
 * Ownership: secrets is the block's, valid during the call; take a reference to keep it.
 * Thread: the loop, exactly once per operation, possibly before the operation call returns.
 */
typedef void (*secrets_done_fn)(void *arg, const struct block_error *err, json_t *secrets);

/*
 * Reads secret key of store, with metadata for the store (copied). Failures, as daprd: no
 * secret store at all, an unknown store, one that failed at start-up under ignoreErrors, a key
 * the scopes of the --config files deny, the store's own error.
 * Thread: the loop.
 */
void secrets_get(struct server *srv, const char *store, const char *key, const struct kv_list *metadata,
		 secrets_done_fn done, void *arg);

/* Reads every secret of store the scopes allow (see secrets_done_fn). Thread: the loop. */
void secrets_bulk(struct server *srv, const char *store, const struct kv_list *metadata, secrets_done_fn done,
		  void *arg);

#endif /* OUTRIG_CORE_BLOCKS_SECRETS_H */
