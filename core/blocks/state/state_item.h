/* SPDX-License-Identifier: Apache-2.0 */
/* One key of a state request as the block hands it to a plugin: prefixed key, checked options and TTL. */
#ifndef OUTRIG_CORE_STATE_ITEM_H
#define OUTRIG_CORE_STATE_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <outrig/state.h>

#include "base/kv.h"
#include "blocks/errors.h"
#include "blocks/state/state.h"
#include "blocks/state/state_keys.h"

/* One key to read, save or delete, ready for the store. */
struct state_item {
	char *key;   /* the stored form (prefixed) */
	char *value; /* the bytes to store; NULL for deletes and gets */
	size_t value_len;
	char *etag; /* NULL when none was given */
	enum outrig_concurrency concurrency;
	enum outrig_consistency consistency;
	int64_t ttl_seconds;
	bool has_ttl;
	bool is_delete;
	struct kv_list metadata;
};

/*
 * Builds out from what the app sent: checks and prefixes the key, copies the value (unless
 * is_delete), the etag (an empty one means none, as in daprd) and the metadata, then reads the
 * options and ttlInSeconds. op is the operation's own error row: daprd leaves options and TTLs
 * to the store, so they fail as the operation (500), not as a bad request. 0, or -1 with err
 * filled (out is then to be freed all the same).
 */
int state_item_make(const struct key_prefix *kp, const struct state_write *w, bool is_delete,
		    enum api_error op, struct state_item *out, struct block_error *err);

/* Reads "first-write"/"last-write" and "strong"/"eventual" (NULL or "" = default). 0 or -1 with err filled. */
int state_options_parse(const char *concurrency, const char *consistency, enum api_error op,
			struct state_item *item, struct block_error *err);

/* Reads metadata ttlInSeconds into item. 0 or -1 with err filled. */
int state_ttl_parse(struct state_item *item, enum api_error op, struct block_error *err);

/* Checks and prefixes an app's key into *stored. 0 or -1 with err filled. */
int state_key_prepare(const struct key_prefix *kp, const char *key, char **stored, struct block_error *err);

void state_item_to_set(const struct state_item *item, struct outrig_state_set *set);
void state_item_to_delete(const struct state_item *item, struct outrig_state_delete *del);

void state_item_free(struct state_item *item);

/*
 * The error for a NUL inside field of a request, for a front end whose wire format can carry one
 * (a C string would cut "acct\0evil" to "acct" and touch another key): refused, never shortened.
 * Returns -1.
 */
int state_refuse_nul(struct block_error *err, const char *field);

#endif /* OUTRIG_CORE_STATE_ITEM_H */
