/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding the JSON bodies of Dapr's HTTP state requests into the state block's inputs. */
#ifndef OUTRIG_CORE_API_STATE_BODY_H
#define OUTRIG_CORE_API_STATE_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/kv.h"
#include "blocks/errors.h"
#include "blocks/state/state.h"

/* One StateItem object decoded: the block's input, and the storage it points into. */
struct state_body_item {
	struct state_write w; /* its strings point here or into the JSON document */
	char *value;	      /* the value's JSON text */
	char *etag;	      /* an etag given as a number, as text */
	struct kv_list metadata;
};

/*
 * Decodes one StateItem object ({"key","value","etag","metadata","options"}) into out; url_md
 * (the query's metadata.*) is merged into its metadata and wins on conflict. text..end is the
 * object's own JSON text (NULL: unknown), so "value" is stored as the client wrote it, less
 * whitespace; else jansson's encoding is. An absent value is stored as null, as daprd does.
 * out->w points into obj: obj must outlive it. 0, or -1 with err filled (free out all the same).
 */
int state_body_item(json_t *obj, const char *text, const char *end, bool is_delete,
		    const struct kv_list *url_md, struct state_body_item *out, struct block_error *err);

void state_body_item_free(struct state_body_item *item);

/*
 * A bulk get's keys[] as C strings into *out (pointing into keys; a key that is not a string is
 * NULL, which the block refuses as missing). 0, or -1 with err filled. Ownership: free *out.
 */
int state_body_keys(json_t *keys, const char ***out, struct block_error *err);

/* Whether v is a JSON string holding a NUL (C strings would cut it short). */
bool state_json_has_nul(const json_t *v);

/* Refuses an object of metadata whose string values hold a NUL. 0, or -1 with err filled. */
int state_body_metadata_check(json_t *md, struct block_error *err);

#endif /* OUTRIG_CORE_API_STATE_BODY_H */
