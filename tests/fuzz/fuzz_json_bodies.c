/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the JSON bodies a client or an app sends, through outrig's own parsers of them. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/http/bindings_body.h"
#include "blocks/pubsub/cloudevent.h"
#include "base/diag.h"
#include "base/kv.h"
#include "blocks/state/state_keys.h"
#include "api/http/api_state_body.h"
#include "blocks/state/state_item.h"
#include "blocks/pubsub/subscriptions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One StateItem, as a save (is_delete false) or a delete, with and without a key prefix. */
static void fuzz_state_item(json_t *obj, bool is_delete, const struct kv_list *url_md,
			    const struct key_prefix *kp)
{
	struct state_body_item body = { 0 };
	struct state_item item = { 0 };
	struct block_error err;
	struct outrig_state_set set;
	struct outrig_state_delete del;

	/* The HTTP front end's decoding, then the block's rules, as a save or delete goes. */
	if (state_body_item(obj, NULL, NULL, is_delete, url_md, &body, &err) == 0 &&
	    state_item_make(kp, &body.w, is_delete, API_ERR_STATE_SAVE, &item, &err) == 0) {
		if (is_delete)
			state_item_to_delete(&item, &del);
		else
			state_item_to_set(&item, &set);
	}
	state_item_free(&item);
	state_body_item_free(&body);
}

/* POST /v1.0/state/{store} (an array of items) and .../transaction ({"operations": [...]}). */
static void fuzz_state(json_t *doc, const struct key_prefix *kp)
{
	struct kv_list url_md = { 0 };
	json_t *v, *ops = json_object_get(doc, "operations");
	size_t i;

	kv_set(&url_md, "ttlInSeconds", "5");
	if (json_is_array(doc))
		json_array_foreach(doc, i, v)
		{
			fuzz_state_item(v, false, &url_md, kp);
			fuzz_state_item(v, true, NULL, kp);
		}
	else
		fuzz_state_item(doc, false, NULL, kp);
	json_array_foreach(ops, i, v)
	{
		const char *kind = json_string_value(json_object_get(v, "operation"));

		fuzz_state_item(json_object_get(v, "request"), kind != NULL && strcmp(kind, "delete") == 0,
				&url_md, kp);
	}
	kv_free(&url_md);
}

/* Metadata objects, as in a transaction's or a binding request's "metadata". */
static void fuzz_metadata(json_t *doc)
{
	struct kv_list l = { 0 };
	char err[256];

	kv_add_json(&l, json_object_get(doc, "metadata"), true, err, sizeof(err));
	kv_add_json(&l, doc, false, err, sizeof(err));
	kv_free(&l);
}

/* POST /v1.0/bindings/{name}: the scanner that hands `data` on as the client wrote it. */
static void fuzz_bindings(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, JSON_ALLOW_NUL, NULL);
	char *out = NULL;
	size_t out_len = 0;

	if (json_is_object(root)) {
		json_t *d = json_object_get(root, "data");

		if (bindings_body_data(body, len, d, &out, &out_len) == 0 && out != NULL && d != NULL) {
			/* The compacted text must still be the same JSON value. */
			json_t *back = json_loadb(out, out_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

			if (back == NULL || !json_equal(back, d))
				abort();
			json_decref(back);
		}
		free(out);
	}
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct key_prefix none = { .prefix = "" }, app = { .prefix = "app" };
	json_t *doc = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	struct sub_list subs = { 0 };
	struct diag d = { 0 };

	if (doc != NULL) {
		fuzz_state(doc, &none);
		fuzz_state(doc, &app);
		fuzz_metadata(doc);
		json_decref(doc);
	}
	fuzz_bindings(text, size);
	json_decref(cloudevent_json_parse(data, size));
	/* The app's answer to GET /dapr/subscribe. */
	subscriptions_parse_app(text, size, &subs, &d);
	subscriptions_free(&subs);
	diag_clear(&d);
	return 0;
}
