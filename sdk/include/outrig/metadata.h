/* SPDX-License-Identifier: Apache-2.0 */
/* Request and message metadata: the name/value pairs every building block passes along. */
#ifndef OUTRIG_METADATA_H
#define OUTRIG_METADATA_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Request metadata (query `metadata.*` and per-item metadata), already merged by the core. */
struct outrig_kv {
	const char *key;
	const char *value;
};

struct outrig_metadata {
	size_t count;
	const struct outrig_kv *items;
};

/*
 * The value of key (matched case-insensitively, as Dapr does), or NULL.
 * Ownership: points into md. Thread: any.
 */
static inline const char *outrig_metadata_get(const struct outrig_metadata *md, const char *key)
{
	for (size_t i = 0; i < md->count; i++)
		if (strcasecmp(md->items[i].key, key) == 0)
			return md->items[i].value;
	return NULL;
}

#endif /* OUTRIG_METADATA_H */
