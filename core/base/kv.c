/* SPDX-License-Identifier: Apache-2.0 */
/* String key/value lists: request metadata as handed to plugins. */
#include "base/kv.h"

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

int kv_add(struct kv_list *l, const char *key, const char *value)
{
	struct outrig_kv *grown = realloc(l->items, (l->count + 1) * sizeof(*grown));
	char *k, *v;

	if (grown == NULL)
		return -1;
	l->items = grown;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return -1;
	}
	l->items[l->count].key = k;
	l->items[l->count].value = v;
	l->count++;
	return 0;
}

const char *kv_get(const struct kv_list *l, const char *key)
{
	const struct outrig_kv *kv = kv_find(l, key);

	return kv != NULL ? kv->value : NULL;
}

/*
 * Sets items[i] (existing) or appends key=text; items has room. Returns 0 or -1 (out of memory).
 */
static int kv_put_at(struct kv_list *l, json_t *index, const char *key, const char *text, bool replace)
{
	json_t *at = json_object_get(index, key);
	struct outrig_kv *kv;
	char *v;

	if (at != NULL && !replace)
		return 0;
	if ((v = strdup(text)) == NULL)
		return -1;
	if (at != NULL) {
		kv = &l->items[json_integer_value(at)];
		free((char *)kv->value);
		kv->value = v;
		return 0;
	}
	kv = &l->items[l->count];
	if ((kv->key = strdup(key)) == NULL) {
		free(v);
		return -1;
	}
	kv->value = v;
	l->count++;
	if (index != NULL && json_object_set_new(index, key, json_integer((json_int_t)(l->count - 1))) != 0)
		return -1;
	return 0;
}

/* Linear through a hash index of the keys, as kv_add_json (kv_set in a loop is quadratic). */
int kv_set_all(struct kv_list *l, const struct outrig_kv *items, size_t n)
{
	json_t *index = json_object();
	struct outrig_kv *grown;

	if (n == 0) {
		json_decref(index);
		return 0;
	}
	if (index == NULL || (grown = realloc(l->items, (l->count + n + 1) * sizeof(*grown))) == NULL) {
		json_decref(index);
		return -1;
	}
	l->items = grown;
	for (size_t i = 0; i < l->count; i++)
		if (json_object_set_new(index, l->items[i].key, json_integer((json_int_t)i)) != 0)
			goto oom;
	for (size_t i = 0; i < n; i++)
		if (kv_put_at(l, index, items[i].key, items[i].value, true) != 0)
			goto oom;
	json_decref(index);
	return 0;
oom:
	json_decref(index);
	return -1;
}

/*
 * Linear in the object's size: JSON keys are unique, so only the items l held before need a
 * lookup, through a hash index (kv_set's scan made an object of 50,000 keys take seconds on the
 * loop). A value holding a NUL byte is refused: it would reach the plugin cut short.
 */
int kv_add_json(struct kv_list *l, json_t *obj, bool replace, char *err, size_t errlen)
{
	json_t *index = NULL, *value;
	struct outrig_kv *grown;
	const char *key;
	int rc = 0;

	if (obj == NULL || json_is_null(obj))
		return 0;
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "metadata must be an object of strings");
		return -1;
	}
	grown = realloc(l->items, (l->count + json_object_size(obj) + 1) * sizeof(*grown));
	if (grown == NULL)
		goto oom;
	l->items = grown;
	if (l->count > 0) {
		if ((index = json_object()) == NULL)
			goto oom;
		for (size_t i = 0; i < l->count; i++)
			if (json_object_set_new(index, l->items[i].key, json_integer((json_int_t)i)) != 0)
				goto oom;
	}
	json_object_foreach(obj, key, value)
	{
		char *text;

		if (json_is_string(value)) {
			if (strlen(json_string_value(value)) != json_string_length(value)) {
				snprintf(err, errlen, "metadata.%s holds a NUL byte (\\u0000); remove it",
					 key);
				json_decref(index);
				return -1;
			}
			rc = kv_put_at(l, index, key, json_string_value(value), replace);
		} else if (json_is_number(value) || json_is_boolean(value)) {
			text = json_dumps(value, JSON_ENCODE_ANY);
			rc = text != NULL ? kv_put_at(l, index, key, text, replace) : -1;
			free(text);
		} else {
			snprintf(err, errlen, "metadata.%s must be a string", key);
			json_decref(index);
			return -1;
		}
		if (rc != 0)
			goto oom;
	}
	json_decref(index);
	return 0;
oom:
	json_decref(index);
	snprintf(err, errlen, "out of memory");
	return -1;
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
