/* SPDX-License-Identifier: Apache-2.0 */
/* One event of a publish made ready for the broker: its metadata merged and checked, its CloudEvent made. */
#ifndef OUTRIG_CORE_BLOCKS_PUBSUB_ENTRY_H
#define OUTRIG_CORE_BLOCKS_PUBSUB_ENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/kv.h"
#include "blocks/errors.h"
#include "blocks/pubsub/pubsub.h"

struct component;
struct pubsub_op;

/* An entry of a publish in flight, from the client's event to the bytes the broker gets. */
struct pubsub_prepared {
	struct pubsub_op *op;
	char *entry_id; /* NULL for a single publish */
	/* As the client sent it, until prepared. */
	char *data;
	size_t len;
	char *content_type; /* defaulted to PUBSUB_DEFAULT_CONTENT_TYPE */
	struct kv_list own; /* the entry's own metadata */
	/* Prepared: what to publish (data as-is with rawPayload, else its CloudEvent). */
	char *payload;
	size_t payload_len;
	char *payload_type;
	struct kv_list metadata; /* the entry's over the request's */
	/* How its publish ended. */
	int rc;
	char *error;
};

/* What every entry of one request shares. */
struct pubsub_prepare_ctx {
	struct component *comp;
	const char *topic;
	const char *app_id;
	const char *traceparent;
	const char *tracestate;
	const struct kv_list *request_md;
};

/* Copies e into p (zeroed by the caller). Returns 0 or -1 (out of memory). Thread: any. */
int pubsub_prepared_init(struct pubsub_prepared *p, const struct pubsub_entry *e);

/*
 * Prepares p: merges its metadata over the request's (the entry's keys win, as in daprd),
 * reads rawPayload and checks ttlInSeconds (400 ERR_PUBSUB_REQUEST_METADATA), then makes the
 * payload (§2.2). Returns 0, or -1 with err filled. Thread: any.
 */
int pubsub_prepared_make(struct pubsub_prepared *p, const struct pubsub_prepare_ctx *ctx,
			 struct block_error *err);

/* Frees what p holds. */
void pubsub_prepared_clear(struct pubsub_prepared *p);

/* Copies src (NULL: none) into dst, which must be empty. Returns 0 or -1 (out of memory). */
int pubsub_kv_copy(struct kv_list *dst, const struct kv_list *src);

/* Go's strconv.ParseBool, which daprd reads rawPayload with. false when text is none of its spellings. */
bool pubsub_parse_bool(const char *text, bool *value);

#endif /* OUTRIG_CORE_BLOCKS_PUBSUB_ENTRY_H */
