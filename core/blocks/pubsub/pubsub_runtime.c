/* SPDX-License-Identifier: Apache-2.0 */
/* The pub/sub side of a running sidecar: which subscriptions exist, and bringing them up once the app is. */
#include "config.h"

#include "blocks/pubsub/pubsub_runtime.h"

#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "components/component.h"
#include "components/component_call.h"
#include "base/diag.h"
#include "base/log.h"
#include "blocks/pubsub/grpc_subscriptions.h"
#include "blocks/pubsub/pubsub_delivery.h"
#include "blocks/pubsub/pubsub_scopes.h"
#include "resources/resiliency.h"
#include "resources/resources.h"
#include "runtime.h"

#define RUNTIME_SCOPE "pubsub"

/* daprd retries GET /dapr/subscribe a few times when the app is not quite ready. */
#define RUNTIME_SUBSCRIBE_TRIES 5
#define RUNTIME_SUBSCRIBE_RETRY_MS 500

struct pubsub_retry {
	char *component;
	struct retry_policy policy;
};

static bool runtime_is_pubsub(const struct component *c)
{
	return strncmp(c->type, "pubsub.", 7) == 0;
}

/* Copies each pub/sub component's inbound retry policy: rs does not outlive start-up. */
static int runtime_copy_retries(struct pubsub_runtime *rt, const struct res_set *rs)
{
	const struct components *cs = rt->srv->components;

	rt->retries = calloc(cs->count > 0 ? cs->count : 1, sizeof(*rt->retries));
	if (rt->retries == NULL)
		return -1;
	for (size_t i = 0; i < cs->count; i++) {
		const struct retry_policy *p;

		if (!runtime_is_pubsub(cs->items[i]))
			continue;
		p = resiliency_component_retry(rs, cs->items[i]->name, true);
		if (p == NULL)
			continue;
		rt->retries[rt->nretries].component = strdup(cs->items[i]->name);
		if (rt->retries[rt->nretries].component == NULL)
			return -1;
		rt->retries[rt->nretries++].policy = *p;
	}
	return 0;
}

static const struct retry_policy *runtime_retry_for(const struct pubsub_runtime *rt, const char *component)
{
	for (size_t i = 0; i < rt->nretries; i++)
		if (strcmp(rt->retries[i].component, component) == 0)
			return &rt->retries[i].policy;
	return NULL;
}

/* ---- subscribing through the plugins ---- */

static struct outrig_pubsub_sink *runtime_sink_of(struct work *w)
{
	return (struct outrig_pubsub_sink *)((char *)w - offsetof(struct outrig_pubsub_sink, work));
}

static void runtime_subscribe_run(struct work *w)
{
	struct outrig_pubsub_sink *sink = runtime_sink_of(w);
	const struct subscription *sub = sink->sub;
	struct outrig_pubsub_subscribe req = {
		.topic = sub->topic,
		.metadata = { sub->nmetadata, sub->metadata },
		.sink = sink,
	};
	struct outrig_error err = { 0 };
	int rc;

	rc = sink->component->plugin->desc.pubsub->subscribe(sink->component->instance, &req, &err);
	sink->subscribe_rc = rc;
	if (rc != 0)
		snprintf(sink->error, sizeof(sink->error), "%s",
			 err.message[0] ? err.message : "no reason given");
}

static void runtime_subscribe_done(struct work *w)
{
	struct outrig_pubsub_sink *sink = runtime_sink_of(w);
	const struct subscription *sub = sink->sub;

	/* Set here, on the loop, which is where the metadata API reads it. */
	sink->active = sink->subscribe_rc == 0;
	if (sink->active)
		log_info(RUNTIME_SCOPE, "subscribed to topic %s of pubsub %s (%s)", sub->topic, sub->pubsub,
			 sub->origin);
	else
		log_error(RUNTIME_SCOPE, "cannot subscribe to topic %s of pubsub %s (%s): %s", sub->topic,
			  sub->pubsub, sub->origin, sink->error);
}

/* Checks that sub names a working pub/sub component; the reason it cannot be served, or NULL. */
static const char *runtime_unservable(const struct pubsub_runtime *rt, const struct subscription *sub,
				      struct component **out)
{
	struct component *c = components_find(rt->srv->components, sub->pubsub);

	*out = c;
	if (c == NULL)
		return "there is no component of that name";
	if (!runtime_is_pubsub(c))
		return "that component is not a pub/sub";
	if (c->failure != NULL)
		return c->failure;
	return NULL;
}

static bool runtime_duplicate(const struct pubsub_runtime *rt, const struct subscription *sub)
{
	for (size_t i = 0; i < rt->nsinks; i++)
		if (strcmp(rt->sinks[i]->sub->pubsub, sub->pubsub) == 0 &&
		    strcmp(rt->sinks[i]->sub->topic, sub->topic) == 0)
			return true;
	return false;
}

/* Topic scoping (subscriptionScopes, allowedTopics, protectedTopics): daprd drops refused ones. */
static bool runtime_scoped_in(const struct pubsub_runtime *rt, const struct component *c,
			      const struct subscription *sub)
{
	const char *app_id = rt->srv->opts->app_id != NULL ? rt->srv->opts->app_id : "";
	char why[512];

	if (pubsub_scopes_allowed(&c->scopes, PUBSUB_SCOPE_SUBSCRIBE, sub->topic, app_id, why, sizeof(why)))
		return true;
	log_warn(RUNTIME_SCOPE, "subscription to topic %s of pubsub %s (%s) is not made: %s", sub->topic,
		 sub->pubsub, sub->origin, why);
	return false;
}

/* Appends sink to rt->sinks; false when out of memory. */
static bool runtime_add_sink(struct pubsub_runtime *rt, struct outrig_pubsub_sink *sink)
{
	struct outrig_pubsub_sink **grown = realloc(rt->sinks, (rt->nsinks + 1) * sizeof(*grown));

	if (grown == NULL)
		return false;
	rt->sinks = grown;
	rt->sinks[rt->nsinks++] = sink;
	return true;
}

/* Makes sub live on its component (subscribe() on a worker); false only when out of memory. */
static bool runtime_subscribe_one(struct pubsub_runtime *rt, const struct subscription *sub)
{
	struct outrig_pubsub_sink *sink;
	struct component *c;
	const char *why = runtime_unservable(rt, sub, &c);

	if (why != NULL) {
		log_warn(RUNTIME_SCOPE, "subscription to topic %s (%s) names pubsub \"%s\": %s; not subscribed",
			 sub->topic, sub->origin, sub->pubsub, why);
		return true;
	}
	if (!runtime_scoped_in(rt, c, sub))
		return true;
	/* daprd keeps one subscription per pubsub and topic; the declarative one comes first. */
	if (runtime_duplicate(rt, sub)) {
		log_warn(RUNTIME_SCOPE, "subscription to topic %s of pubsub %s (%s) repeats an earlier one; ignored",
			 sub->topic, sub->pubsub, sub->origin);
		return true;
	}
	sink = calloc(1, sizeof(*sink));
	if (sink == NULL || !runtime_add_sink(rt, sink)) {
		free(sink);
		log_error(RUNTIME_SCOPE, "out of memory making subscriptions");
		return false;
	}
	sink->rt = rt;
	sink->component = c;
	sink->sub = sub;
	sink->retry = runtime_retry_for(rt, c->name);
	sink->work.run = runtime_subscribe_run;
	sink->work.done = runtime_subscribe_done;
	component_call_submit(rt->srv, c, &sink->work);
	return true;
}

static void runtime_subscribe_all(struct pubsub_runtime *rt)
{
	rt->listed = true;
	for (size_t i = 0; i < rt->subs.count; i++)
		if (!runtime_subscribe_one(rt, &rt->subs.items[i]))
			return;
}

/* ---- asking the app ---- */

static void runtime_ask_app(struct pubsub_runtime *rt);

static void runtime_ask_again(evutil_socket_t fd, short what, void *arg)
{
	runtime_ask_app(arg);
}

static void runtime_log_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		log_write(strncmp(d->lines[i], "warning: ", 9) == 0 ? OUTRIG_LOG_WARN : OUTRIG_LOG_ERROR,
			  RUNTIME_SCOPE, "%s", d->lines[i]);
}

static void runtime_app_subscriptions(void *arg, const struct app_subscriptions *r)
{
	struct pubsub_runtime *rt = arg;

	if (r->outcome == APP_SUBSCRIPTIONS_UNREACHABLE && rt->subscribe_attempts < RUNTIME_SUBSCRIBE_TRIES) {
		struct timeval again = { 0, RUNTIME_SUBSCRIBE_RETRY_MS * 1000 };

		log_warn(RUNTIME_SCOPE, "%s failed: %s; trying again", r->call, r->detail);
		if (rt->subscribe_timer == NULL)
			rt->subscribe_timer = evtimer_new(rt->srv->base, runtime_ask_again, rt);
		if (rt->subscribe_timer != NULL && evtimer_add(rt->subscribe_timer, &again) == 0)
			return;
	}
	if (r->outcome == APP_SUBSCRIPTIONS_LISTED) {
		struct sub_list app = { 0 };
		struct diag d = { 0 };

		if (r->grpc != NULL)
			subscriptions_from_grpc(r->grpc, &app, &d);
		else
			subscriptions_parse_app(r->doc, r->len, &app, &d);
		runtime_log_diag(&d);
		diag_clear(&d);
		log_info(RUNTIME_SCOPE, "the app asks for %zu subscription%s", app.count,
			 app.count == 1 ? "" : "s");
		if (subscriptions_append(&rt->subs, &app) != 0)
			log_error(RUNTIME_SCOPE, "out of memory reading the app's subscriptions");
		subscriptions_free(&app);
	} else if (r->outcome == APP_SUBSCRIPTIONS_NONE) {
		log_info(RUNTIME_SCOPE, "the app has no programmatic subscriptions (%s: %s)", r->call, r->detail);
	} else if (r->outcome == APP_SUBSCRIPTIONS_REFUSED) {
		log_error(RUNTIME_SCOPE, "%s %s; the app's own subscriptions are not made", r->call, r->detail);
	} else {
		log_error(RUNTIME_SCOPE, "%s failed: %s; the app's own subscriptions are not made", r->call,
			  r->detail);
	}
	runtime_subscribe_all(rt);
}

static void runtime_ask_app(struct pubsub_runtime *rt)
{
	rt->subscribe_attempts++;
	if (app_pubsub_list_subscriptions(rt->app, rt->srv->opts->app_id, &rt->listing, runtime_app_subscriptions,
					  rt) != 0)
		log_error(RUNTIME_SCOPE, "out of memory asking the app for its subscriptions");
}

static void runtime_app_ready(void *arg)
{
	struct pubsub_runtime *rt = arg;

	rt->app_ready = true;
	if (components_count_kind(rt->srv->components, "pubsub.") == 0) {
		rt->unasked = true;
		log_info(RUNTIME_SCOPE, "no pub/sub component: not asking the app for subscriptions");
		return;
	}
	if (rt->srv->opts->no_subscribe_endpoint) {
		log_info(RUNTIME_SCOPE,
			 "not asking the app for subscriptions (--disable-init-endpoints subscribe); making the declarative ones");
		runtime_subscribe_all(rt);
		return;
	}
	runtime_ask_app(rt);
}

int pubsub_runtime_start(struct pubsub_runtime *rt, struct server *srv, struct res_set *rs)
{
	const struct options *opts = srv->opts;

	memset(rt, 0, sizeof(*rt));
	rt->srv = srv;
	if (subscriptions_append(&rt->subs, &rs->subscriptions) != 0 || runtime_copy_retries(rt, rs) != 0)
		return -1;
	if (srv->app == NULL && srv->app_grpc == NULL) {
		if (rt->subs.count > 0)
			log_warn(
				RUNTIME_SCOPE,
				"%zu declarative subscription%s not made: there is no app to deliver to (no --app-port)",
				rt->subs.count, rt->subs.count == 1 ? " is" : "s are");
		return 0;
	}
	rt->app = srv->app_grpc != NULL ? app_pubsub_new_grpc(srv->app_grpc) : app_pubsub_new_http(srv->app);
	rt->engine = rt->app != NULL ? delivery_engine_new(srv, rt->app, opts->app_max_concurrency) : NULL;
	if (rt->engine == NULL)
		return -1;
	app_pubsub_when_ready(rt->app, runtime_app_ready, rt);
	return 0;
}

/* ---- reloads ---- */

static bool runtime_was(struct component *const *before, size_t nbefore, const struct component *c)
{
	for (size_t i = 0; i < nbefore; i++)
		if (before[i] == c)
			return true;
	return false;
}

/* Moves rt->sinks[i] to the ended ones; false when out of memory (it then stays live). */
static bool runtime_end_sink(struct pubsub_runtime *rt, size_t i)
{
	struct outrig_pubsub_sink *sink = rt->sinks[i];
	struct outrig_pubsub_sink **grown = realloc(rt->retired, (rt->nretired + 1) * sizeof(*grown));
	const struct subscription *sub = sink->sub;

	if (grown == NULL)
		return false;
	rt->retired = grown;
	rt->retired[rt->nretired++] = sink;
	memmove(&rt->sinks[i], &rt->sinks[i + 1], (rt->nsinks - i - 1) * sizeof(*rt->sinks));
	rt->nsinks--;
	/* Messages the plugin has not handed over stay with it: the broker or its spool has them. */
	delivery_sink_close(sink);
	if (components_find(rt->srv->components, sub->pubsub) == NULL)
		log_info(RUNTIME_SCOPE,
			 "subscription to topic %s of pubsub %s (%s) ends: the component was removed by a "
			 "reload (messages already taken still go to the app)",
			 sub->topic, sub->pubsub, sub->origin);
	else
		log_info(RUNTIME_SCOPE,
			 "subscription to topic %s of pubsub %s (%s) moves to the component's new instance",
			 sub->topic, sub->pubsub, sub->origin);
	return true;
}

int pubsub_runtime_reload(struct pubsub_runtime *rt, struct component *const *before, size_t nbefore)
{
	const struct components *cs = rt->srv->components;
	bool fresh = false;

	for (size_t i = 0; i < rt->nsinks;) {
		struct outrig_pubsub_sink *sink = rt->sinks[i];

		if (components_find(cs, sink->component->name) == sink->component) {
			i++;
			continue;
		}
		if (!runtime_end_sink(rt, i))
			return -1;
	}
	for (size_t i = 0; i < cs->count; i++)
		fresh = fresh || (runtime_is_pubsub(cs->items[i]) && !runtime_was(before, nbefore, cs->items[i]));
	/* Without an app, or before it listens, the subscriptions are made later, on the new set. */
	if (!fresh || rt->app == NULL || rt->engine == NULL || !rt->app_ready)
		return 0;
	if (!rt->listed) {
		/* There was no pub/sub component when the app came up: its subscriptions were not asked for. */
		if (rt->unasked) {
			rt->unasked = false;
			runtime_app_ready(rt);
		}
		return 0;
	}
	for (size_t i = 0; i < rt->subs.count; i++) {
		const struct subscription *sub = &rt->subs.items[i];
		const struct component *c = components_find(cs, sub->pubsub);

		if (c == NULL || runtime_was(before, nbefore, c))
			continue;
		if (!runtime_subscribe_one(rt, sub))
			return -1;
	}
	return 0;
}

bool pubsub_runtime_busy(const struct pubsub_runtime *rt, const struct component *c)
{
	for (size_t i = 0; i < rt->nretired; i++)
		if (rt->retired[i]->component == c && !delivery_sink_idle(rt->retired[i]))
			return true;
	return false;
}

void pubsub_runtime_release(struct pubsub_runtime *rt, const struct component *c)
{
	size_t kept = 0;

	for (size_t i = 0; i < rt->nretired; i++) {
		if (rt->retired[i]->component == c)
			free(rt->retired[i]);
		else
			rt->retired[kept++] = rt->retired[i];
	}
	rt->nretired = kept;
}

/* ---- metadata ---- */

static json_t *runtime_describe_sub(const struct subscription *sub)
{
	json_t *o = json_object(), *rules = json_array(), *md = json_object();

	for (size_t i = 0; i < sub->nrules; i++)
		json_array_append_new(rules, json_pack("{s:s, s:s}", "match", sub->rules[i].match, "path",
						       sub->rules[i].path));
	for (size_t i = 0; i < sub->nmetadata; i++)
		json_object_set_new(md, sub->metadata[i].key, json_string(sub->metadata[i].value));
	json_object_set_new(o, "pubsubname", json_string(sub->pubsub));
	json_object_set_new(o, "topic", json_string(sub->topic));
	if (json_object_size(md) > 0)
		json_object_set(o, "metadata", md);
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "deadLetterTopic",
			    json_string(sub->dead_letter_topic ? sub->dead_letter_topic : ""));
	json_object_set_new(o, "type",
			    json_string(sub->type == SUB_DECLARATIVE ? "DECLARATIVE" : "PROGRAMMATIC"));
	json_decref(md);
	return o;
}

json_t *pubsub_runtime_describe(const struct pubsub_runtime *rt)
{
	json_t *list = json_array();

	/* Only live ones: clients poll this to know when publishing reaches the app. */
	for (size_t i = 0; i < rt->nsinks; i++)
		if (rt->sinks[i]->active)
			json_array_append_new(list, runtime_describe_sub(rt->sinks[i]->sub));
	return list;
}

void pubsub_runtime_stop(struct pubsub_runtime *rt)
{
	delivery_engine_stop(rt->engine);
	if (rt->subscribe_timer != NULL)
		event_free(rt->subscribe_timer);
	rt->subscribe_timer = NULL;
}

void pubsub_runtime_free(struct pubsub_runtime *rt)
{
	delivery_engine_free(rt->engine);
	rt->engine = NULL;
	app_pubsub_free(rt->app);
	rt->app = NULL;
	for (size_t i = 0; i < rt->nsinks; i++)
		free(rt->sinks[i]);
	free(rt->sinks);
	for (size_t i = 0; i < rt->nretired; i++)
		free(rt->retired[i]);
	free(rt->retired);
	for (size_t i = 0; i < rt->nretries; i++)
		free(rt->retries[i].component);
	free(rt->retries);
	subscriptions_free(&rt->subs);
	memset(rt, 0, sizeof(*rt));
}
