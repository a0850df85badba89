/* SPDX-License-Identifier: Apache-2.0 */
/* Turning the JSON of Dapr state requests into what state plugins are handed. */
#ifndef OUTRIG_CORE_STATE_REQUEST_H
#define OUTRIG_CORE_STATE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <outrig/state.h>

#include "blocks/errors.h"
#include "base/kv.h"
#include "blocks/state/state_keys.h"

/* One key to save or delete, as parsed from a request. */
struct state_item {
	char *key;   /* the stored form (prefixed) */
	char *value; /* JSON text of "value"; NULL for deletes */
	size_t value_len;
	char *etag; /* NULL when none was given */
	enum outrig_concurrency concurrency;
	enum outrig_consistency consistency;
	int64_t ttl_seconds;
	bool has_ttl;
	bool is_delete;
	struct kv_list metadata;
};

/* Why a request was refused: the Dapr error, the field, and a sentence. */
struct state_problem {
	enum api_error error;
	/*
	 * daprd leaves this to the store: report it as the operation's own error (500),
	 * not as a bad request.
	 */
	bool store_rejects;
	char field[64];
	char message[512];
};

/*
 * Parses one StateItem object ({"key","value","etag","metadata","options"}); url_md
 * is merged into its metadata and wins on conflict. Returns 0, or -1 with p filled.
 */
int state_item_parse(json_t *obj, bool is_delete, const struct kv_list *url_md, const struct key_prefix *kp,
		     struct state_item *out, struct state_problem *p);

/* Reads "first-write"/"last-write" and "strong"/"eventual" (NULL = default). 0 or -1 with p filled. */
int state_options_parse(const char *concurrency, const char *consistency, struct state_item *item,
			struct state_problem *p);

/* Reads metadata ttlInSeconds into item. 0 or -1 with p filled. */
int state_ttl_parse(struct state_item *item, struct state_problem *p);

/* Checks and prefixes an app's key into *stored. 0 or -1 with p filled. */
int state_key_prepare(const struct key_prefix *kp, const char *key, char **stored, struct state_problem *p);

/* Whether v is a JSON string holding a NUL (C strings would cut it short). */
bool state_json_has_nul(const json_t *v);

/* Refuses an object of metadata whose string values hold a NUL. 0, or -1 with p filled. */
int state_metadata_check(json_t *md, struct state_problem *p);

void state_item_to_set(const struct state_item *item, struct outrig_state_set *set);
void state_item_to_delete(const struct state_item *item, struct outrig_state_delete *del);

void state_item_free(struct state_item *item);

#endif /* OUTRIG_CORE_STATE_REQUEST_H */
