/* SPDX-License-Identifier: Apache-2.0 */
/* String key/value lists: request metadata as handed to plugins. */
#ifndef OUTRIG_CORE_KV_H
#define OUTRIG_CORE_KV_H

#include <stdbool.h>

#include <jansson.h>
#include <outrig/state.h>

struct kv_list {
	struct outrig_kv *items;
	size_t count;
};

/* Sets key to value (both copied), replacing an existing entry of that key. 0 or -1 (ENOMEM). */
int kv_set(struct kv_list *l, const char *key, const char *value);

/* kv_set of every item, in order (a repeated key: the last wins), in linear time. 0 or -1 (ENOMEM). */
int kv_set_all(struct kv_list *l, const struct outrig_kv *items, size_t n);

const char *kv_get(const struct kv_list *l, const char *key);

/*
 * Appends key=value (both copied) even when key is there already: for lists where a key may
 * repeat, such as HTTP headers. 0 or -1 (ENOMEM).
 */
int kv_add(struct kv_list *l, const char *key, const char *value);

/*
 * Adds a JSON object's members; string values as they are, numbers and booleans as their
 * JSON text. Returns 0, or -1 with the offending member named in err.
 */
int kv_add_json(struct kv_list *l, json_t *obj, bool replace, char *err, size_t errlen);

/* As handed to plugins (valid while l lives). */
struct outrig_metadata kv_view(const struct kv_list *l);

void kv_free(struct kv_list *l);

#endif /* OUTRIG_CORE_KV_H */
