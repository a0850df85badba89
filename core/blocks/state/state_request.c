/* SPDX-License-Identifier: Apache-2.0 */
/* Turning the JSON of Dapr state requests into what state plugins are handed. */
#include "blocks/state/state_request.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int state_vrefuse(struct state_problem *p, enum api_error e, bool store_rejects, const char *field,
			 const char *fmt, va_list ap)
{
	p->error = e;
	p->store_rejects = store_rejects;
	snprintf(p->field, sizeof(p->field), "%s", field != NULL ? field : "");
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	return -1;
}

__attribute__((format(printf, 4, 5))) static int state_refuse(struct state_problem *p, enum api_error e,
							      const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	state_vrefuse(p, e, false, field, fmt, ap);
	va_end(ap);
	return -1;
}

/* Options and TTLs are checked here, once, but daprd reports them as the store's error (500). */
__attribute__((format(printf, 3, 4))) static int state_store_rejects(struct state_problem *p,
								     const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	state_vrefuse(p, API_ERR_MALFORMED_REQUEST, true, field, fmt, ap);
	va_end(ap);
	return -1;
}

int state_key_prepare(const struct key_prefix *kp, const char *key, char **stored, struct state_problem *p)
{
	if (key == NULL || *key == '\0')
		return state_refuse(p, API_ERR_MALFORMED_REQUEST, "key", "\"key\" is a required field");
	if (!state_key_valid(key))
		return state_refuse(p, API_ERR_ILLEGAL_KEY, "key",
				    "input key/keyPrefix '%s' can't contain '||'", key);
	*stored = state_key_make(kp, key);
	if (*stored == NULL)
		return state_refuse(p, API_ERR_INTERNAL, NULL, "out of memory");
	return 0;
}

int state_options_parse(const char *concurrency, const char *consistency, struct state_item *item,
			struct state_problem *p)
{
	if (concurrency == NULL || *concurrency == '\0' || strcmp(concurrency, "last-write") == 0)
		item->concurrency = OUTRIG_LAST_WRITE;
	else if (strcmp(concurrency, "first-write") == 0)
		item->concurrency = OUTRIG_FIRST_WRITE;
	else
		return state_store_rejects(
			p, "options.concurrency",
			"options.concurrency \"%s\" is not valid; use \"first-write\" or \"last-write\"",
			concurrency);
	if (consistency == NULL || *consistency == '\0' || strcmp(consistency, "eventual") == 0)
		item->consistency = OUTRIG_EVENTUAL;
	else if (strcmp(consistency, "strong") == 0)
		item->consistency = OUTRIG_STRONG;
	else
		return state_store_rejects(
			p, "options.consistency",
			"options.consistency \"%s\" is not valid; use \"strong\" or \"eventual\"",
			consistency);
	return 0;
}

int state_ttl_parse(struct state_item *item, struct state_problem *p)
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
		return state_store_rejects(
			p, "metadata.ttlInSeconds",
			"metadata.ttlInSeconds \"%s\" is not a whole number of seconds; use e.g. 60, or -1 for no expiry",
			text);
	if (ttl > OUTRIG_STATE_MAX_TTL_SECONDS)
		return state_store_rejects(
			p, "metadata.ttlInSeconds",
			"metadata.ttlInSeconds %lld is too large; use at most %lld seconds, or -1 for no expiry",
			ttl, OUTRIG_STATE_MAX_TTL_SECONDS);
	item->ttl_seconds = ttl;
	item->has_ttl = true;
	return 0;
}

bool state_json_has_nul(const json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v);
}

/*
 * Names reach stores as C strings: a "\u0000" would cut "acct\u0000evil" to "acct" and touch
 * another key. Such strings are refused, never shortened. 0, or -1 with p filled.
 */
static int state_refuse_nul(const json_t *v, const char *field, struct state_problem *p)
{
	if (!state_json_has_nul(v))
		return 0;
	return state_refuse(p, API_ERR_MALFORMED_REQUEST, field,
			    "%s holds a NUL character (\\u0000), which state keys, etags, options and "
			    "metadata cannot carry; remove it",
			    field);
}

int state_metadata_check(json_t *md, struct state_problem *p)
{
	const char *name;
	json_t *v;
	char field[64];

	json_object_foreach(md, name, v)
	{
		snprintf(field, sizeof(field), "metadata.%s", name);
		if (state_refuse_nul(v, field, p) != 0)
			return -1;
	}
	return 0;
}

static const char *state_json_string(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Etags may arrive as strings or (from some clients) numbers. */
static int state_etag_parse(json_t *obj, struct state_item *item, struct state_problem *p)
{
	json_t *etag = json_object_get(obj, "etag");

	if (etag == NULL || json_is_null(etag))
		return 0;
	if (state_refuse_nul(etag, "etag", p) != 0)
		return -1;
	if (json_is_string(etag))
		item->etag = strdup(json_string_value(etag));
	else if (json_is_integer(etag))
		item->etag = json_dumps(etag, JSON_ENCODE_ANY);
	else
		return state_refuse(p, API_ERR_MALFORMED_REQUEST, "etag", "\"etag\" must be a string");
	if (item->etag == NULL)
		return state_refuse(p, API_ERR_INTERNAL, NULL, "out of memory");
	/* An empty etag means last-write-wins, as in daprd. */
	if (item->etag[0] == '\0') {
		free(item->etag);
		item->etag = NULL;
	}
	return 0;
}

int state_item_parse(json_t *obj, bool is_delete, const struct kv_list *url_md, const struct key_prefix *kp,
		     struct state_item *out, struct state_problem *p)
{
	json_t *options;
	json_t *value;
	char err[256];

	memset(out, 0, sizeof(*out));
	out->is_delete = is_delete;
	if (!json_is_object(obj))
		return state_refuse(p, API_ERR_MALFORMED_REQUEST, NULL,
				    "each state item must be a JSON object with a \"key\"");
	if (state_refuse_nul(json_object_get(obj, "key"), "key", p) != 0 ||
	    state_key_prepare(kp, state_json_string(obj, "key"), &out->key, p) != 0)
		return -1;
	if (!is_delete) {
		value = json_object_get(obj, "value");
		/* daprd stores the JSON encoding of "value"; an absent value is stored as null. */
		out->value = json_dumps(value != NULL ? value : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		if (out->value == NULL)
			return state_refuse(p, API_ERR_INTERNAL, NULL, "out of memory");
		out->value_len = strlen(out->value);
	}
	if (state_etag_parse(obj, out, p) != 0)
		return -1;
	if (state_metadata_check(json_object_get(obj, "metadata"), p) != 0)
		return -1;
	if (kv_add_json(&out->metadata, json_object_get(obj, "metadata"), true, err, sizeof(err)) != 0)
		return state_refuse(p, API_ERR_MALFORMED_REQUEST, "metadata", "%s", err);
	for (size_t i = 0; url_md != NULL && i < url_md->count; i++)
		if (kv_set(&out->metadata, url_md->items[i].key, url_md->items[i].value) != 0)
			return state_refuse(p, API_ERR_INTERNAL, NULL, "out of memory");
	options = json_object_get(obj, "options");
	if (options != NULL && !json_is_null(options) && !json_is_object(options))
		return state_refuse(p, API_ERR_MALFORMED_REQUEST, "options", "\"options\" must be an object");
	if (state_refuse_nul(json_object_get(options, "concurrency"), "options.concurrency", p) != 0 ||
	    state_refuse_nul(json_object_get(options, "consistency"), "options.consistency", p) != 0)
		return -1;
	if (state_options_parse(state_json_string(options, "concurrency"),
				state_json_string(options, "consistency"), out, p) != 0)
		return -1;
	return state_ttl_parse(out, p);
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
