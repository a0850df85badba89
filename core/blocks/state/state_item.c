/* SPDX-License-Identifier: Apache-2.0 */
/* One key of a state request as the block hands it to a plugin: prefixed key, checked options and TTL. */
#include "blocks/state/state_item.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int state_key_prepare(const struct key_prefix *kp, const char *key, char **stored, struct block_error *err)
{
	if (key == NULL || *key == '\0')
		return block_fail(err, API_ERR_MALFORMED_REQUEST, "key", "\"key\" is a required field");
	if (!state_key_valid(key))
		return block_fail(err, API_ERR_ILLEGAL_KEY, "key",
				  "input key/keyPrefix '%s' can't contain '||'", key);
	*stored = state_key_make(kp, key);
	if (*stored == NULL)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	return 0;
}

int state_options_parse(const char *concurrency, const char *consistency, enum api_error op,
			struct state_item *item, struct block_error *err)
{
	if (concurrency == NULL || *concurrency == '\0' || strcmp(concurrency, "last-write") == 0)
		item->concurrency = OUTRIG_LAST_WRITE;
	else if (strcmp(concurrency, "first-write") == 0)
		item->concurrency = OUTRIG_FIRST_WRITE;
	else
		return block_fail(
			err, op, NULL,
			"options.concurrency \"%s\" is not valid; use \"first-write\" or \"last-write\"",
			concurrency);
	if (consistency == NULL || *consistency == '\0' || strcmp(consistency, "eventual") == 0)
		item->consistency = OUTRIG_EVENTUAL;
	else if (strcmp(consistency, "strong") == 0)
		item->consistency = OUTRIG_STRONG;
	else
		return block_fail(err, op, NULL,
				  "options.consistency \"%s\" is not valid; use \"strong\" or \"eventual\"",
				  consistency);
	return 0;
}

int state_ttl_parse(struct state_item *item, enum api_error op, struct block_error *err)
{
	const char *text = kv_get(&item->metadata, "ttlInSeconds");
	char *end;
	long long ttl;

	item->has_ttl = false;
	if (text == NULL)
		return 0;
	errno = 0;
	ttl = strtoll(text, &end, 10);
	if (end == text || *end != '\0' || errno != 0)
		return block_fail(
			err, op, NULL,
			"metadata.ttlInSeconds \"%s\" is not a whole number of seconds; use e.g. 60, or -1 for no expiry",
			text);
	if (ttl > OUTRIG_STATE_MAX_TTL_SECONDS)
		return block_fail(
			err, op, NULL,
			"metadata.ttlInSeconds %lld is too large; use at most %lld seconds, or -1 for no expiry",
			ttl, OUTRIG_STATE_MAX_TTL_SECONDS);
	item->ttl_seconds = ttl;
	item->has_ttl = true;
	return 0;
}

int state_item_make(const struct key_prefix *kp, const struct state_write *w, bool is_delete,
		    enum api_error op, struct state_item *out, struct block_error *err)
{
	memset(out, 0, sizeof(*out));
	out->is_delete = is_delete;
	if (state_key_prepare(kp, w->key, &out->key, err) != 0)
		return -1;
	if (!is_delete) {
		/* One byte more, so a store may read the value as a C string. */
		out->value = malloc(w->value_len + 1);
		if (out->value == NULL)
			return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
		if (w->value_len > 0)
			memcpy(out->value, w->value, w->value_len);
		out->value[w->value_len] = '\0';
		out->value_len = w->value_len;
	}
	/* An empty etag means last-write-wins, as in daprd. */
	if (w->etag != NULL && *w->etag != '\0' && (out->etag = strdup(w->etag)) == NULL)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	if (w->metadata != NULL && kv_set_all(&out->metadata, w->metadata->items, w->metadata->count) != 0)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	if (state_options_parse(w->concurrency, w->consistency, op, out, err) != 0)
		return -1;
	/* A delete reads no ttlInSeconds, but in a transaction, where outrig always checked it. */
	if (is_delete && op != API_ERR_STATE_TRANSACTION)
		return 0;
	return state_ttl_parse(out, op, err);
}

void state_item_to_set(const struct state_item *item, struct outrig_state_set *set)
{
	memset(set, 0, sizeof(*set));
	set->key = item->key;
	set->value = item->value;
	set->value_len = item->value_len;
	set->etag = item->etag;
	set->concurrency = item->concurrency;
	set->consistency = item->consistency;
	set->ttl_seconds = item->ttl_seconds;
	set->has_ttl = item->has_ttl;
	set->metadata = kv_view(&item->metadata);
}

void state_item_to_delete(const struct state_item *item, struct outrig_state_delete *del)
{
	memset(del, 0, sizeof(*del));
	del->key = item->key;
	del->etag = item->etag;
	del->concurrency = item->concurrency;
	del->consistency = item->consistency;
	del->metadata = kv_view(&item->metadata);
}

void state_item_free(struct state_item *item)
{
	free(item->key);
	free(item->value);
	free(item->etag);
	kv_free(&item->metadata);
	memset(item, 0, sizeof(*item));
}

int state_refuse_nul(struct block_error *err, const char *field)
{
	return block_fail(err, API_ERR_MALFORMED_REQUEST, field,
			  "%s holds a NUL character (\\u0000), which state keys, etags, options and metadata "
			  "cannot carry; remove it",
			  field);
}
