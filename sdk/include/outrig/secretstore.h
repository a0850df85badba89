/* SPDX-License-Identifier: Apache-2.0 */
/* The secret store kind (ABI 1.4): reading secrets by key, one or all. */
#ifndef OUTRIG_SECRETSTORE_H
#define OUTRIG_SECRETSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <outrig/host.h>
#include <outrig/metadata.h>
#include <outrig/status.h>

/* binding.h: a key/value list the core owns; plugins add with host->kv_put(). */
struct outrig_kv_sink;

struct outrig_secret_request {
	const char *key;		 /* only ever a name to look up: never a path to open */
	struct outrig_metadata metadata; /* the request's metadata.* query */
};

/*
 * A secret store. A secret is a map of names to values (most stores have one value, named like
 * the key); bulk_get returns every secret, each under its key.
 */
struct outrig_secretstore_ops {
	uint32_t struct_size;
	uint32_t reserved;

	/*
	 * Puts the secret's name/value pairs into out with host->kv_put(out, NULL, name, value).
	 * OUTRIG_ENOTFOUND when there is no such key.
	 * Ownership: req is the core's for the call; out is the core's. Thread: a worker; may block.
	 */
	int (*get)(void *instance, const struct outrig_secret_request *req, struct outrig_kv_sink *out,
		   struct outrig_error *err);

	/*
	 * Puts every secret into out with host->kv_put(out, key, name, value).
	 * Ownership: as get. Thread: a worker; may block.
	 */
	int (*bulk_get)(void *instance, const struct outrig_metadata *metadata, struct outrig_kv_sink *out,
			struct outrig_error *err);
};

#endif /* OUTRIG_SECRETSTORE_H */
