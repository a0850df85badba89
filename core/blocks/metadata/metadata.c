/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata building block: the sidecar's self-description, extended metadata and shutdown. */
#include "config.h"

#include "blocks/metadata/metadata.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <outrig/plugin.h>

#include "base/log.h"
#include "blocks/bindings/binding_runtime.h"
#include "blocks/pubsub/pubsub_runtime.h"
#include "channels/app_health.h"
#include "components/component.h"
#include "components/reload.h"
#include "runtime.h"

static void metadata_cap(struct metadata_component *mc, const char *cap)
{
	if (mc->ncapabilities < METADATA_MAX_CAPABILITIES)
		mc->capabilities[mc->ncapabilities++] = cap;
}

static void metadata_capabilities(const struct server *srv, const struct component *c,
				  struct metadata_component *mc)
{
	const struct outrig_state_ops *ops = c->plugin->desc.state;
	const struct outrig_pubsub_ops *pubsub = c->plugin->desc.pubsub;

	if (pubsub != NULL && strncmp(c->type, "pubsub.", 7) == 0) {
		if (pubsub->capabilities & OUTRIG_PUBSUB_WILDCARDS)
			metadata_cap(mc, "SUBSCRIBE_WILDCARDS");
		if (pubsub->capabilities & OUTRIG_PUBSUB_MESSAGE_TTL)
			metadata_cap(mc, "MESSAGE_TTL");
	}
	if (ops != NULL && strncmp(c->type, "state.", 6) == 0) {
		if (ops->features & OUTRIG_STATE_ETAG)
			metadata_cap(mc, "ETAG");
		if (ops->features & OUTRIG_STATE_TRANSACTIONAL)
			metadata_cap(mc, "TRANSACTIONAL");
		if (ops->features & OUTRIG_STATE_TTL)
			metadata_cap(mc, "TTL");
		/* daprd lists ACTOR for every store that can hold actor state: etags and transactions. */
		if ((ops->features & (OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL)) ==
		    (OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL))
			metadata_cap(mc, "ACTOR");
	}
	if (strncmp(c->type, "bindings.", 9) == 0)
		mc->ncapabilities +=
			binding_runtime_capabilities(&srv->bindings, c, mc->capabilities + mc->ncapabilities,
						     METADATA_MAX_CAPABILITIES - mc->ncapabilities);
}

/* The health part from the channel's own description, so that both say the same. */
static void metadata_app_health(struct server *srv, struct metadata_app *app)
{
	json_t *health = app_health_describe(srv);

	if (health == NULL)
		return;
	app->has_health = true;
	app->health.path = srv->opts->app_health_path;
	snprintf(app->health.interval, sizeof(app->health.interval), "%s",
		 json_string_value(json_object_get(health, "healthProbeInterval")));
	snprintf(app->health.timeout, sizeof(app->health.timeout), "%s",
		 json_string_value(json_object_get(health, "healthProbeTimeout")));
	app->health.threshold = (int)json_integer_value(json_object_get(health, "healthThreshold"));
	json_decref(health);
}

int metadata_describe(struct server *srv, struct metadata_doc *doc)
{
	memset(doc, 0, sizeof(*doc));
	doc->id = srv->opts->app_id;
	doc->runtime_version = PACKAGE_VERSION;
	doc->components =
		calloc(srv->components->count > 0 ? srv->components->count : 1, sizeof(*doc->components));
	doc->subscriptions = pubsub_runtime_describe(&srv->pubsub);
	doc->extended = json_deep_copy(srv->extended);
	if (doc->components == NULL || doc->subscriptions == NULL || doc->extended == NULL ||
	    json_object_set_new(doc->extended, "daprRuntimeVersion", json_string(PACKAGE_VERSION)) != 0) {
		metadata_doc_free(doc);
		return -1;
	}
	for (size_t i = 0; i < srv->components->count; i++) {
		const struct component *c = srv->components->items[i];
		struct metadata_component *mc = &doc->components[doc->ncomponents];

		/* daprd lists only the components it initialised. */
		if (c->failure != NULL)
			continue;
		mc->name = c->name;
		mc->type = c->type;
		mc->version = c->version;
		metadata_capabilities(srv, c, mc);
		doc->ncomponents++;
	}
	if (srv->reload != NULL) {
		doc->reloads = srv->reload->applied;
		doc->reloads_refused = srv->reload->refused;
		doc->reload_error = srv->reload->last_error;
		doc->reload_last_at = srv->reload->last_at[0] != '\0' ? srv->reload->last_at : NULL;
	}
	if (srv->opts->app_port > 0) {
		doc->has_app = true;
		doc->app.port = srv->opts->app_port;
		doc->app.protocol = srv->opts->app_protocol;
		doc->app.channel_address = srv->opts->app_channel_address;
		metadata_app_health(srv, &doc->app);
	}
	return 0;
}

void metadata_doc_free(struct metadata_doc *doc)
{
	free(doc->components);
	json_decref(doc->subscriptions);
	json_decref(doc->extended);
	memset(doc, 0, sizeof(*doc));
}

int metadata_set(struct server *srv, const char *key, const char *value, size_t len, struct block_error *err)
{
	json_t *v = json_stringn(value, len);

	/* The document is also JSON, so only text that JSON can carry is kept. */
	if (v == NULL)
		return block_fail(err, API_ERR_MALFORMED_REQUEST, NULL,
				  "metadata value for %s is not UTF-8 text; send a text value", key);
	json_object_set_new(srv->extended, key, v);
	return 0;
}

static void metadata_force_exit(evutil_socket_t fd, short what, void *arg)
{
	log_warn("runtime", "forced shutdown requested through the API: exiting now");
	_exit(1);
}

void metadata_shutdown(struct server *srv, bool force)
{
	/* Long enough for the answer to leave, as daprd waits ~100 ms before os.Exit(1). */
	struct timeval delay = { 0, 100 * 1000 };

	if (force)
		event_base_once(srv->base, -1, EV_TIMEOUT, metadata_force_exit, NULL, &delay);
	else
		runtime_begin_stop(srv, "shutdown requested through the API");
}
