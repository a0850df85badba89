/* SPDX-License-Identifier: Apache-2.0 */
/* String key/value lists: request metadata as handed to plugins. */
#include "kv.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct outrig_kv *kv_find(const struct kv_list *l, const char *key)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return &l->items[i];
	return NULL;
}

int kv_set(struct kv_list *l, const char *key, const char *value)
{
	struct outrig_kv *kv = kv_find(l, key);
	char *v = strdup(value);

	if (v == NULL)
		return -1;
	if (kv != NULL) {
		free((char *)kv->value);
		kv->value = v;
		return 0;
	}
	kv = realloc(l->items, (l->count + 1) * sizeof(*kv));
	if (kv == NULL) {
		free(v);
		return -1;
	}
	l->items = kv;
	kv = &l->items[l->count];
	kv->key = strdup(key);
	kv->value = v;
	if (kv->key == NULL) {
		free(v);
		return -1;
	}
	l->count++;
	return 0;
}

const char *kv_get(const struct kv_list *l, const char *key)
{
	const struct outrig_kv *kv = kv_find(l, key);

	return kv != NULL ? kv->value : NULL;
}

int kv_add_query_metadata(struct kv_list *l, const struct evkeyvalq *q)
{
	const struct evkeyval *h;

	TAILQ_FOREACH(h, q, next)
	{
		if (strncmp(h->key, "metadata.", 9) != 0 || kv_find(l, h->key + 9) != NULL)
			continue;
		if (kv_set(l, h->key + 9, h->value) != 0)
			return -1;
	}
	return 0;
}

int kv_add_json(struct kv_list *l, json_t *obj, bool replace, char *err, size_t errlen)
{
	const char *key;
	json_t *value;

	if (obj == NULL || json_is_null(obj))
		return 0;
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "metadata must be an object of strings");
		return -1;
	}
	json_object_foreach(obj, key, value)
	{
		char *text;
		int rc;

		if (!replace && kv_find(l, key) != NULL)
			continue;
		if (json_is_string(value)) {
			rc = kv_set(l, key, json_string_value(value));
		} else if (json_is_number(value) || json_is_boolean(value)) {
			text = json_dumps(value, JSON_ENCODE_ANY);
			rc = text != NULL ? kv_set(l, key, text) : -1;
			free(text);
		} else {
			snprintf(err, errlen, "metadata.%s must be a string", key);
			return -1;
		}
		if (rc != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

struct outrig_metadata kv_view(const struct kv_list *l)
{
	struct outrig_metadata md = { l->count, l->items };

	return md;
}

void kv_free(struct kv_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free((char *)l->items[i].key);
		free((char *)l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}
