/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's secrets API over HTTP (API.md §5): the query's metadata in, the block's answer out as JSON. */
#include "config.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdlib.h>

#include "api/http/api.h"
#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "api/http/http_wait.h"
#include "base/kv.h"
#include "blocks/secrets/secrets.h"
#include "runtime.h"

/* One secrets request waiting for the block. */
struct secrets_http {
	struct http_wait wait;
	bool bulk;
};

static void secrets_http_done(void *arg, const struct block_error *err, json_t *secrets)
{
	struct secrets_http *h = arg;
	struct evhttp_request *req = http_wait_end(&h->wait);

	if (req == NULL) {
		/* The client went away: nothing to answer. */
	} else if (err != NULL) {
		api_error_reply_block(req, err);
	} else if (secrets == NULL && !h->bulk) {
		/* daprd answers a store's nil data with 204. */
		http_reply_empty(req);
	} else {
		http_reply_json(req, 200, json_incref(secrets));
	}
	free(h);
}

/* The request's metadata.X query parameters; false after replying when out of memory. */
static bool secrets_http_metadata(struct evhttp_request *req, struct kv_list *md)
{
	struct evkeyvalq q;
	int rc;

	http_query(req, &q);
	rc = kv_add_query_metadata(md, &q);
	evhttp_clear_headers(&q);
	if (rc != 0) {
		kv_free(md);
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return false;
	}
	return true;
}

static void secrets_http_start(struct server *srv, struct evhttp_request *req, const char *store,
			       const char *key)
{
	struct secrets_http *h;
	struct kv_list md = { 0 };

	if (!secrets_http_metadata(req, &md))
		return;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		kv_free(&md);
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	h->bulk = key == NULL;
	http_wait_begin(&h->wait, req);
	if (key != NULL)
		secrets_get(srv, store, key, &md, secrets_http_done, h);
	else
		secrets_bulk(srv, store, &md, secrets_http_done, h);
	kv_free(&md);
}

/* ---- GET /v1.0/secrets/{store}/{key} ---- */

void api_secrets_get(struct server *srv, struct evhttp_request *req, const char *store, const char *key)
{
	secrets_http_start(srv, req, store, key);
}

/* ---- GET /v1.0/secrets/{store}/bulk ---- */

void api_secrets_bulk(struct server *srv, struct evhttp_request *req, const char *store)
{
	secrets_http_start(srv, req, store, NULL);
}
