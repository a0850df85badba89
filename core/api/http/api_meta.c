/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's metadata, health and shutdown endpoints (API.md §6). */
#include "config.h"

#include "api/http/api.h"

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "channels/app_health.h"
#include "api/http/http_call.h"
#include "api/http/http_errors.h"
#include "base/log.h"
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

static json_t *api_component_capabilities(const struct server *srv, const struct component *c)
{
	json_t *caps = json_array();
	const struct outrig_state_ops *ops = c->plugin->desc.state;
	const struct outrig_pubsub_ops *pubsub = c->plugin->desc.pubsub;

	if (pubsub != NULL && strncmp(c->type, "pubsub.", 7) == 0) {
		if (pubsub->capabilities & OUTRIG_PUBSUB_WILDCARDS)
			json_array_append_new(caps, json_string("SUBSCRIBE_WILDCARDS"));
		if (pubsub->capabilities & OUTRIG_PUBSUB_MESSAGE_TTL)
			json_array_append_new(caps, json_string("MESSAGE_TTL"));
	}
	if (ops != NULL && strncmp(c->type, "state.", 6) == 0) {
		if (ops->features & OUTRIG_STATE_ETAG)
			json_array_append_new(caps, json_string("ETAG"));
		if (ops->features & OUTRIG_STATE_TRANSACTIONAL)
			json_array_append_new(caps, json_string("TRANSACTIONAL"));
		if (ops->features & OUTRIG_STATE_TTL)
			json_array_append_new(caps, json_string("TTL"));
		/* daprd lists ACTOR for every store that can hold actor state: etags and transactions. */
		if ((ops->features & (OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL)) ==
		    (OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL))
			json_array_append_new(caps, json_string("ACTOR"));
	}
	if (strncmp(c->type, "bindings.", 9) == 0)
		binding_runtime_capabilities(&srv->bindings, c, caps);
	return caps;
}

void api_metadata_get(struct server *srv, struct evhttp_request *req)
{
	json_t *body = json_pack("{s:s, s:s, s:[], s:{s:s, s:b, s:s}}", "id", srv->opts->app_id,
				 "runtimeVersion", PACKAGE_VERSION, "enabledFeatures", "actorRuntime",
				 "runtimeStatus", "DISABLED", "hostReady", 0, "placement", "");
	json_t *components = json_array();
	json_t *extended = json_deep_copy(srv->extended);
	json_t *subscriptions;

	for (size_t i = 0; i < srv->components->count; i++) {
		const struct component *c = srv->components->items[i];

		/* daprd lists only the components it initialised. */
		if (c->failure != NULL)
			continue;
		json_array_append_new(components, json_pack("{s:s, s:s, s:s, s:o}", "name", c->name, "type",
							    c->type, "version", c->version, "capabilities",
							    api_component_capabilities(srv, c)));
	}
	if (json_array_size(components) > 0)
		json_object_set(body, "components", components);
	json_decref(components);
	subscriptions = pubsub_runtime_describe(&srv->pubsub);
	if (json_array_size(subscriptions) > 0)
		json_object_set(body, "subscriptions", subscriptions);
	json_decref(subscriptions);
	json_object_set_new(extended, "daprRuntimeVersion", json_string(PACKAGE_VERSION));
	json_object_set_new(body, "extended", extended);
	if (srv->opts->app_port > 0) {
		json_t *app =
			json_pack("{s:i, s:s, s:s}", "port", srv->opts->app_port, "protocol",
				  srv->opts->app_protocol, "channelAddress", srv->opts->app_channel_address);
		json_t *health = app_health_describe(srv);

		if (health != NULL)
			json_object_set_new(app, "health", health);
		json_object_set_new(body, "appConnectionProperties", app);
	}
	http_reply_json(req, 200, body);
}

void api_metadata_put(struct server *srv, struct evhttp_request *req, const char *key)
{
	size_t len;
	const char *body = http_body(req, &len);

	json_t *value = json_stringn(body, len);

	/* The metadata answer is JSON, so only text that JSON can carry is kept. */
	if (value == NULL) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, NULL,
				"metadata value for %s is not UTF-8 text; send a text value", key);
		return;
	}
	json_object_set_new(srv->extended, key, value);
	http_reply_empty(req);
}

static void api_force_exit(evutil_socket_t fd, short what, void *arg)
{
	log_warn("runtime", "forced shutdown requested through the API: exiting now");
	_exit(1);
}

void api_shutdown(struct server *srv, struct evhttp_request *req)
{
	const char *force = evhttp_find_header(evhttp_request_get_input_headers(req), "dapr-force-shutdown");
	/* Long enough for the 204 to leave, as daprd waits ~100 ms before os.Exit(1). */
	struct timeval delay = { 0, 100 * 1000 };

	http_reply_empty(req);
	if (force != NULL && strcasecmp(force, "true") == 0)
		event_base_once(srv->base, -1, EV_TIMEOUT, api_force_exit, NULL, &delay);
	else
		server_begin_stop(srv, "shutdown requested through the API");
}
