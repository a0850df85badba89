/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's metadata, health and shutdown endpoints over HTTP (API.md §6): healthz here, the rest rendered from blocks/metadata. */
#include "config.h"

#include "api/http/api.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "blocks/metadata/metadata.h"
#include "runtime.h"

void api_healthz(struct server *srv, struct evhttp_request *req, bool outbound)
{
	struct evkeyvalq q;
	const char *appid;

	http_query(req, &q);
	appid = evhttp_find_header(&q, "appid");
	if (appid != NULL && strcmp(appid, srv->opts->app_id) != 0) {
		api_error_reply(req, API_ERR_HEALTH_APPID_NOT_MATCH, 0, NULL,
				"dapr app-id does not match: asked for %s, this sidecar serves %s", appid,
				srv->opts->app_id);
	} else if (!srv->ready) {
		api_error_reply(req, outbound ? API_ERR_OUTBOUND_HEALTH_NOT_READY : API_ERR_HEALTH_NOT_READY,
				0, NULL, "dapr is not ready: [components]");
	} else {
		http_reply_empty(req);
	}
	evhttp_clear_headers(&q);
}

/* The metadata document as daprd's JSON. */
static json_t *api_metadata_json(const struct metadata_doc *doc)
{
	json_t *body = json_pack("{s:s, s:s, s:[], s:{s:s, s:b, s:s}}", "id", doc->id, "runtimeVersion",
				 doc->runtime_version, "enabledFeatures", "actorRuntime", "runtimeStatus",
				 "DISABLED", "hostReady", 0, "placement", "");
	json_t *components = json_array();

	for (size_t i = 0; i < doc->ncomponents; i++) {
		const struct metadata_component *mc = &doc->components[i];
		json_t *caps = json_array();

		for (size_t k = 0; k < mc->ncapabilities; k++)
			json_array_append_new(caps, json_string(mc->capabilities[k]));
		json_array_append_new(components,
				      json_pack("{s:s, s:s, s:s, s:o}", "name", mc->name, "type", mc->type,
						"version", mc->version, "capabilities", caps));
	}
	if (json_array_size(components) > 0)
		json_object_set(body, "components", components);
	json_decref(components);
	if (json_array_size(doc->subscriptions) > 0)
		json_object_set(body, "subscriptions", doc->subscriptions);
	json_object_set(body, "extended", doc->extended);
	if (doc->has_app) {
		json_t *app = json_pack("{s:i, s:s, s:s}", "port", doc->app.port, "protocol",
					doc->app.protocol, "channelAddress", doc->app.channel_address);

		if (doc->app.has_health)
			json_object_set_new(app, "health",
					    json_pack("{s:s, s:s, s:s, s:i}", "healthCheckPath",
						      doc->app.health.path, "healthProbeInterval",
						      doc->app.health.interval, "healthProbeTimeout",
						      doc->app.health.timeout, "healthThreshold",
						      doc->app.health.threshold));
		json_object_set_new(body, "appConnectionProperties", app);
	}
	/* outrig's own fields, under a key of its own so that no Dapr client mistakes them. */
	json_object_set_new(body, "outrig",
			    json_pack("{s:{s:I, s:I, s:s?, s:s?}}", "reload", "applied",
				      (json_int_t)doc->reloads, "refused", (json_int_t)doc->reloads_refused,
				      "lastError", doc->reload_error, "lastAt", doc->reload_last_at));
	return body;
}

void api_metadata_get(struct server *srv, struct evhttp_request *req)
{
	struct metadata_doc doc;

	if (metadata_describe(srv, &doc) != 0) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	http_reply_json(req, 200, api_metadata_json(&doc));
	metadata_doc_free(&doc);
}

void api_metadata_put(struct server *srv, struct evhttp_request *req, const char *key)
{
	struct block_error err;
	size_t len;
	const char *body = http_body(req, &len);

	if (metadata_set(srv, key, body, len, &err) != 0) {
		api_error_reply_block(req, &err);
		return;
	}
	http_reply_empty(req);
}

void api_shutdown(struct server *srv, struct evhttp_request *req)
{
	const char *force = evhttp_find_header(evhttp_request_get_input_headers(req), "dapr-force-shutdown");

	http_reply_empty(req);
	metadata_shutdown(srv, force != NULL && strcasecmp(force, "true") == 0);
}
