/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding the JSON bodies of Dapr's HTTP state requests into the state block's inputs. */
#include "api/http/api_state_body.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/state/state_item.h"
#include "blocks/state/state_json_text.h"

bool state_json_has_nul(const json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v);
}

/* JSON may carry "\u0000" where the block takes C strings: such strings are refused. */
static int state_body_nul(const json_t *v, const char *field, struct block_error *err)
{
	return state_json_has_nul(v) ? state_refuse_nul(err, field) : 0;
}

int state_body_metadata_check(json_t *md, struct block_error *err)
{
	const char *name;
	json_t *v;
	char field[64];

	json_object_foreach(md, name, v)
	{
		snprintf(field, sizeof(field), "metadata.%s", name);
		if (state_body_nul(v, field, err) != 0)
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
static int state_body_etag(json_t *obj, struct state_body_item *out, struct block_error *err)
{
	json_t *etag = json_object_get(obj, "etag");

	if (etag == NULL || json_is_null(etag))
		return 0;
	if (state_body_nul(etag, "etag", err) != 0)
		return -1;
	if (json_is_string(etag)) {
		out->w.etag = json_string_value(etag);
		return 0;
	}
	if (!json_is_integer(etag))
		return block_fail(err, API_ERR_MALFORMED_REQUEST, "etag", "\"etag\" must be a string");
	out->etag = json_dumps(etag, JSON_ENCODE_ANY);
	if (out->etag == NULL)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	out->w.etag = out->etag;
	return 0;
}

/*
 * The value's JSON text: as the client wrote it (whitespace outside strings dropped) when the
 * object's text is known, else jansson's encoding. Re-encoding would turn 2.5e3 into 2500.0.
 */
static int state_body_value(json_t *obj, const char *text, const char *end, struct state_body_item *out,
			    struct block_error *err)
{
	const char *vend = NULL, *v = text != NULL ? sjt_member(text, end, "value", &vend) : NULL;
	json_t *value = json_object_get(obj, "value");
	size_t len;

	if (v != NULL) {
		out->value = sjt_compact(v, vend, &len);
	} else {
		/* daprd stores the JSON encoding of "value"; an absent value is stored as null. */
		out->value = json_dumps(value != NULL ? value : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		len = out->value != NULL ? strlen(out->value) : 0;
	}
	if (out->value == NULL)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	out->w.value = out->value;
	out->w.value_len = len;
	return 0;
}

int state_body_item(json_t *obj, const char *text, const char *end, bool is_delete,
		    const struct kv_list *url_md, struct state_body_item *out, struct block_error *err)
{
	json_t *options;
	char msg[256];

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return block_fail(err, API_ERR_MALFORMED_REQUEST, NULL,
				  "each state item must be a JSON object with a \"key\"");
	if (state_body_nul(json_object_get(obj, "key"), "key", err) != 0)
		return -1;
	out->w.key = state_json_string(obj, "key");
	if (!is_delete && state_body_value(obj, text, end, out, err) != 0)
		return -1;
	if (state_body_etag(obj, out, err) != 0)
		return -1;
	if (state_body_metadata_check(json_object_get(obj, "metadata"), err) != 0)
		return -1;
	if (kv_add_json(&out->metadata, json_object_get(obj, "metadata"), true, msg, sizeof(msg)) != 0)
		return block_fail(err, API_ERR_MALFORMED_REQUEST, "metadata", "%s", msg);
	if (url_md != NULL && kv_set_all(&out->metadata, url_md->items, url_md->count) != 0)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	out->w.metadata = &out->metadata;
	options = json_object_get(obj, "options");
	if (options != NULL && !json_is_null(options) && !json_is_object(options))
		return block_fail(err, API_ERR_MALFORMED_REQUEST, "options", "\"options\" must be an object");
	if (state_body_nul(json_object_get(options, "concurrency"), "options.concurrency", err) != 0 ||
	    state_body_nul(json_object_get(options, "consistency"), "options.consistency", err) != 0)
		return -1;
	out->w.concurrency = state_json_string(options, "concurrency");
	out->w.consistency = state_json_string(options, "consistency");
	return 0;
}

/* keys[] as C strings into *out (pointing into the document). 0, or -1 with err filled. */
int state_body_keys(json_t *keys, const char ***out, struct block_error *err)
{
	size_t n = json_array_size(keys);
	const char **k = calloc(n > 0 ? n : 1, sizeof(*k));
	char field[32];

	*out = k;
	if (k == NULL)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *key = json_array_get(keys, i);

		if (state_json_has_nul(key)) {
			snprintf(field, sizeof(field), "keys[%zu]", i);
			return state_refuse_nul(err, field);
		}
		k[i] = json_string_value(key);
	}
	return 0;
}

void state_body_item_free(struct state_body_item *item)
{
	free(item->value);
	free(item->etag);
	kv_free(&item->metadata);
	memset(item, 0, sizeof(*item));
}
