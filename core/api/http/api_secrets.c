/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's secrets API over HTTP (API.md §5): scopes checked on the loop, the store read on a worker. */
#include "config.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "api/http/api.h"
#include "resources/configuration.h"
#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "base/kv.h"
#include "base/kv_sink.h"
#include "base/log.h"
#include "runtime.h"

/* Scopes come from the --config files, read once at start-up (main), never on a request. */
static bool secrets_allowed(struct server *srv, const char *store, const char *key)
{
	return configuration_secret_allowed(&srv->config, store, key);
}

/* One secrets request in flight. */
struct secret_call {
	struct http_call base;
	struct component *comp;
	char *key; /* NULL for bulk */
	struct kv_list metadata;
	struct outrig_kv_sink out;
	int rc;
	struct outrig_error err;
};

static void secret_call_release(struct http_call *base)
{
	struct secret_call *call = (struct secret_call *)base;

	json_decref(call->out.root);
	kv_free(&call->metadata);
	free(call->key);
	free(call);
}

/* s as Go's %q would quote it, for daprd's permission message. Ownership: the result is buf. */
static const char *secrets_quote(const char *s, char *buf, size_t size)
{
	json_t *j = json_string(s);
	char *text = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	snprintf(buf, size, text != NULL ? "%s" : "\"%s\"", text != NULL ? text : s);
	free(text);
	json_decref(j);
	return buf;
}

/*
 * The secret store named in the URL, or NULL after replying with daprd's error. key is NULL
 * for bulk. A store whose initialisation failed under ignoreErrors answers 500 with the cause.
 */
static struct component *secrets_store(struct server *srv, struct evhttp_request *req, const char *name,
				       const char *key)
{
	struct component *c = components_find(srv->components, name);

	if (components_count_kind(srv->components, "secretstores.") == 0) {
		api_error_reply(req, API_ERR_SECRET_STORES_NOT_CONFIGURED, 0, NULL,
				"secret store is not configured");
		return NULL;
	}
	if (c == NULL || strncmp(c->type, "secretstores.", 13) != 0) {
		api_error_reply(req, API_ERR_SECRET_STORE_NOT_FOUND, 0, NULL,
				"failed finding secret store with key %s", name);
		return NULL;
	}
	if (c->failure == NULL)
		return c;
	if (key != NULL)
		api_error_reply(
			req, API_ERR_SECRET_GET, 0, NULL,
			"failed getting secret with key %s from secret store %s: it failed to initialise "
			"(ignoreErrors kept outrigd up): %s",
			key, name, c->failure);
	else
		api_error_reply(req, API_ERR_SECRET_GET, 0, NULL,
				"failed getting secrets from secret store %s: it failed to initialise "
				"(ignoreErrors kept outrigd up): %s",
				name, c->failure);
	return NULL;
}

static struct secret_call *secret_call_new(struct evhttp_request *req, struct component *c, const char *key)
{
	struct secret_call *call = calloc(1, sizeof(*call));
	struct evkeyvalq q;
	int rc;

	if (call == NULL)
		return NULL;
	call->base.req = req;
	call->base.release = secret_call_release;
	call->comp = c;
	if (key != NULL && (call->key = strdup(key)) == NULL) {
		free(call);
		return NULL;
	}
	http_query(req, &q);
	rc = kv_add_query_metadata(&call->metadata, &q);
	evhttp_clear_headers(&q);
	if (rc != 0) {
		secret_call_release(&call->base);
		return NULL;
	}
	return call;
}

/* ---- GET /v1.0/secrets/{store}/{key} ---- */

static void secret_get_run(struct work *w)
{
	struct secret_call *call = (struct secret_call *)w;
	struct outrig_secret_request r = { .key = call->key, .metadata = kv_view(&call->metadata) };

	call->rc =
		call->comp->plugin->desc.secretstore->get(call->comp->instance, &r, &call->out, &call->err);
}

static void secret_get_reply(struct http_call *base)
{
	struct secret_call *call = (struct secret_call *)base;

	if (call->rc != 0) {
		api_error_reply(base->req, API_ERR_SECRET_GET, 0, NULL,
				"failed getting secret with key %s from secret store %s: %s", call->key,
				call->comp->name,
				call->err.message[0] ? call->err.message : outrig_status_name(call->rc));
		return;
	}
	/* daprd answers a store's nil data with 204. */
	if (call->out.root == NULL) {
		http_reply_empty(base->req);
		return;
	}
	http_reply_json(base->req, 200, call->out.root);
	call->out.root = NULL;
}

void api_secrets_get(struct server *srv, struct evhttp_request *req, const char *store, const char *key)
{
	struct component *c = secrets_store(srv, req, store, key);
	struct secret_call *call;
	char qk[600], qs[600];

	if (c == NULL)
		return;
	if (!secrets_allowed(srv, store, key)) {
		api_error_reply(req, API_ERR_SECRET_PERMISSION_DENIED, 0, NULL,
				"access denied by policy to get %s from %s",
				secrets_quote(key, qk, sizeof(qk)), secrets_quote(store, qs, sizeof(qs)));
		return;
	}
	if ((call = secret_call_new(req, c, key)) == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	call->base.work.run = secret_get_run;
	call->base.reply = secret_get_reply;
	http_call_submit(srv, &call->base, component_lane(c));
}

/* ---- GET /v1.0/secrets/{store}/bulk ---- */

static void secret_bulk_run(struct work *w)
{
	struct secret_call *call = (struct secret_call *)w;
	struct outrig_metadata md = kv_view(&call->metadata);

	call->rc = call->comp->plugin->desc.secretstore->bulk_get(call->comp->instance, &md, &call->out,
								  &call->err);
}

static void secret_bulk_reply(struct http_call *base)
{
	struct secret_call *call = (struct secret_call *)base;
	json_t *all = call->out.root != NULL ? call->out.root : json_object();
	const char *key;
	json_t *secret;
	void *tmp;

	call->out.root = NULL;
	if (call->rc != 0) {
		json_decref(all);
		api_error_reply(base->req, API_ERR_SECRET_GET, 0, NULL,
				"failed getting secrets from secret store %s: %s", call->comp->name,
				call->err.message[0] ? call->err.message : outrig_status_name(call->rc));
		return;
	}
	/* As daprd: secrets the scopes deny are left out without a word; so are values put ungrouped. */
	json_object_foreach_safe(all, tmp, key, secret)
	{
		if (!json_is_object(secret) || !secrets_allowed(call->base.srv, call->comp->name, key))
			json_object_del(all, key);
	}
	http_reply_json(base->req, 200, all);
}

void api_secrets_bulk(struct server *srv, struct evhttp_request *req, const char *store)
{
	struct component *c = secrets_store(srv, req, store, NULL);
	struct secret_call *call;

	if (c == NULL)
		return;
	if ((call = secret_call_new(req, c, NULL)) == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	call->base.work.run = secret_bulk_run;
	call->base.reply = secret_bulk_reply;
	http_call_submit(srv, &call->base, component_lane(c));
}
