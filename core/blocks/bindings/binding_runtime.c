/* SPDX-License-Identifier: Apache-2.0 */
/* The bindings side of a running sidecar: each binding's route and direction, and starting inputs the app wants. */
#include "config.h"

#include "blocks/bindings/binding_runtime.h"

#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <outrig/plugin.h>

#include "channels/app_bindings.h"
#include "blocks/bindings/binding_delivery.h"
#include "components/component.h"
#include "components/component_call.h"
#include "base/log.h"
#include "resources/resources.h"
#include "runtime.h"

#define BRUNTIME_SCOPE "bindings"

static bool bruntime_is_binding(const struct component *c)
{
	return strncmp(c->type, "bindings.", 9) == 0;
}

static const struct res_component *bruntime_resource(const struct res_set *rs, const char *name)
{
	for (size_t i = 0; i < rs->count; i++)
		if (strcmp(rs->components[i].name, name) == 0)
			return &rs->components[i];
	return NULL;
}

static const char *bruntime_metadata(const struct res_component *rc, const char *key)
{
	for (size_t i = 0; rc != NULL && i < rc->metadata_count; i++)
		if (strcasecmp(rc->metadata[i].name, key) == 0)
			return rc->metadata[i].value;
	return NULL;
}

/* `direction`: "input", "output" or "input, output" (API.md §4.2); absent means both. */
static void bruntime_read_direction(struct outrig_binding_sink *sink, const char *direction)
{
	const char *p = direction;

	sink->input_ok = sink->output_ok = true;
	if (direction == NULL || direction[strspn(direction, " \t,")] == '\0')
		return;
	sink->input_ok = sink->output_ok = false;
	while (*p != '\0') {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 5 && strncasecmp(p, "input", 5) == 0)
			sink->input_ok = sink->input_only = true;
		else if (n == 6 && strncasecmp(p, "output", 6) == 0)
			sink->output_ok = true;
		else if (n > 0)
			log_warn(
				BRUNTIME_SCOPE,
				"binding %s: direction \"%s\" names \"%.*s\", which is neither input nor output; ignored",
				sink->component->name, direction, (int)n, p);
		p += n;
	}
}

static struct outrig_binding_sink *bruntime_sink_new(struct binding_runtime *rt, struct component *c,
						     const struct res_set *rs)
{
	const struct res_component *rc = bruntime_resource(rs, c->name);
	const char *route = bruntime_metadata(rc, "route");
	const struct retry_policy *p = rs != NULL ? resiliency_component_retry(rs, c->name, true) : NULL;
	struct outrig_binding_sink *sink = calloc(1, sizeof(*sink));
	size_t n;

	if (sink == NULL)
		return NULL;
	sink->rt = rt;
	sink->component = c;
	if (route == NULL || route[strspn(route, "/")] == '\0')
		route = c->name;
	/* daprd calls the app at "/" + route; a route written with its slash gets only one. */
	route += strspn(route, "/");
	n = strlen(route);
	sink->route = malloc(n + 2);
	if (sink->route == NULL) {
		free(sink);
		return NULL;
	}
	sink->route[0] = '/';
	memcpy(sink->route + 1, route, n + 1);
	bruntime_read_direction(sink, bruntime_metadata(rc, "direction"));
	if (p != NULL) {
		sink->has_retry = true;
		sink->retry = *p;
	}
	return sink;
}

/* ---- starting an input ---- */

static struct outrig_binding_sink *bruntime_sink_of(struct work *w)
{
	return (struct outrig_binding_sink *)((char *)w - offsetof(struct outrig_binding_sink, work));
}

static void bruntime_start_run(struct work *w)
{
	struct outrig_binding_sink *sink = bruntime_sink_of(w);
	struct outrig_error err = { 0 };

	sink->start_rc =
		sink->component->plugin->desc.bindings->start_input(sink->component->instance, sink, &err);
	if (sink->start_rc != 0)
		snprintf(sink->error, sizeof(sink->error), "%s",
			 err.message[0] ? err.message : "no reason given");
}

static void bruntime_start_done(struct work *w)
{
	struct outrig_binding_sink *sink = bruntime_sink_of(w);

	/* A reload ended it meanwhile: the plugin's own destroy() stops what it started. */
	if (atomic_load(&sink->closed))
		return;
	if (sink->start_rc == 0) {
		char call[300];

		sink->state = BINDING_INPUT_RUNNING;
		log_info(BRUNTIME_SCOPE, "input binding %s started: its events go to %s",
			 sink->component->name,
			 app_bindings_deliver_name(sink->rt->app, sink->route, call, sizeof(call)));
	} else {
		sink->state = BINDING_INPUT_FAILED;
		log_error(BRUNTIME_SCOPE, "input binding %s cannot start (%s): %s", sink->component->name,
			  outrig_status_name(sink->start_rc), sink->error);
	}
}

static void bruntime_start(struct outrig_binding_sink *sink)
{
	sink->state = BINDING_INPUT_STARTING;
	sink->work.run = bruntime_start_run;
	sink->work.done = bruntime_start_done;
	component_call_submit(sink->rt->srv, sink->component, &sink->work);
}

/* ---- asking the app (over HTTP: OPTIONS /{route}) ---- */

static void bruntime_answered(void *arg, enum app_binding_want want, const char *detail)
{
	struct outrig_binding_sink *sink = arg;
	const char *name = sink->component->name;

	sink->asking = false;
	/* Too late: the question timed out and the binding was left off already (or a reload ended it). */
	if (sink->state != BINDING_INPUT_ASKING)
		return;
	evtimer_del(sink->ask_timer);
	if (sink->rt->srv->stopping)
		return;
	if (want == APP_BINDING_WANTED) {
		bruntime_start(sink);
	} else if (want == APP_BINDING_DECLINED) {
		sink->state = BINDING_INPUT_NOT_WANTED;
		log_info(BRUNTIME_SCOPE, "input binding %s not started: %s", name, detail);
	} else {
		sink->state = BINDING_INPUT_NOT_WANTED;
		log_error(BRUNTIME_SCOPE, "input binding %s not started: %s", name, detail);
	}
}

static void bruntime_ask_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct outrig_binding_sink *sink = arg;
	char call[300];

	sink->state = BINDING_INPUT_NOT_WANTED;
	log_error(BRUNTIME_SCOPE, "input binding %s not started: the app did not answer %s within %lld ms",
		  sink->component->name,
		  app_bindings_ask_name(sink->rt->app, sink->route, call, sizeof(call)),
		  (long long)sink->rt->ask_timeout_ms);
}

static void bruntime_ask(struct outrig_binding_sink *sink)
{
	struct binding_runtime *rt = sink->rt;
	struct timeval tv = { (time_t)(rt->ask_timeout_ms / 1000),
			      (suseconds_t)(rt->ask_timeout_ms % 1000) * 1000 };

	sink->state = BINDING_INPUT_ASKING;
	sink->ask_timer = evtimer_new(rt->srv->base, bruntime_ask_timeout, sink);
	if (sink->ask_timer == NULL ||
	    app_bindings_ask(rt->app, sink->route, &sink->ask_call, bruntime_answered, sink) != 0) {
		sink->state = BINDING_INPUT_FAILED;
		log_error(BRUNTIME_SCOPE, "out of memory asking the app about input binding %s",
			  sink->component->name);
		return;
	}
	sink->asking = true;
	evtimer_add(sink->ask_timer, &tv);
}

static void bruntime_go(struct outrig_binding_sink *sink)
{
	/* API.md §4.2: a binding declared `direction: input` is started without asking. */
	if (sink->input_only)
		bruntime_start(sink);
	else
		bruntime_ask(sink);
}

static void bruntime_app_ready(void *arg)
{
	struct binding_runtime *rt = arg;

	rt->app_ready = true;
	for (size_t i = 0; i < rt->nsinks; i++)
		if (rt->sinks[i]->state == BINDING_INPUT_WAITING)
			bruntime_go(rt->sinks[i]);
}

/* Whether c can deliver events at all: a working instance whose plugin reads input. */
static bool bruntime_has_input(const struct outrig_binding_sink *sink)
{
	const struct component *c = sink->component;
	const struct outrig_binding_ops *ops = c->plugin->desc.bindings;

	return c->failure == NULL && c->instance != NULL && ops != NULL &&
	       ops->struct_size >=
		       offsetof(struct outrig_binding_ops, start_input) + sizeof(ops->start_input) &&
	       ops->start_input != NULL && sink->input_ok;
}

int binding_runtime_start(struct binding_runtime *rt, struct server *srv, const struct res_set *rs)
{
	const struct components *cs = srv->components;
	size_t inputs = 0;

	memset(rt, 0, sizeof(*rt));
	rt->srv = srv;
	/* --app-binding-options-timeout; daprd's default when not given. */
	rt->ask_timeout_ms = srv->opts->binding_options_timeout_ms > 0 ? srv->opts->binding_options_timeout_ms
								       : BINDING_ASK_TIMEOUT_MS;
	rt->sinks = calloc(cs->count > 0 ? cs->count : 1, sizeof(*rt->sinks));
	if (rt->sinks == NULL)
		return -1;
	for (size_t i = 0; i < cs->count; i++) {
		struct outrig_binding_sink *sink;

		if (!bruntime_is_binding(cs->items[i]))
			continue;
		sink = bruntime_sink_new(rt, cs->items[i], rs);
		if (sink == NULL)
			return -1;
		rt->sinks[rt->nsinks++] = sink;
		if (bruntime_has_input(sink)) {
			sink->state = BINDING_INPUT_WAITING;
			inputs++;
		}
	}
	if (inputs == 0)
		return 0;
	if (srv->app == NULL && srv->app_grpc == NULL) {
		/* Info, not a warning: most such bindings are used for output only (no direction set). */
		log_info(
			BRUNTIME_SCOPE,
			"%zu binding%s that can read input not started as input: there is no app to deliver to (no --app-port)",
			inputs, inputs == 1 ? "" : "s");
		for (size_t i = 0; i < rt->nsinks; i++)
			rt->sinks[i]->state = BINDING_INPUT_NONE;
		return 0;
	}
	rt->app = srv->app_grpc != NULL ? app_bindings_new_grpc(srv->app_grpc)
					: app_bindings_new_http(srv->app);
	if (rt->app == NULL)
		return -1;
	/* A gRPC app knows its bindings by name, an HTTP one by route. */
	for (size_t i = 0; i < rt->nsinks; i++)
		if (rt->sinks[i]->state == BINDING_INPUT_WAITING &&
		    app_bindings_name(rt->app, rt->sinks[i]->route, rt->sinks[i]->component->name) != 0)
			return -1;
	rt->engine = binding_engine_new(rt);
	if (rt->engine == NULL)
		return -1;
	app_bindings_when_ready(rt->app, bruntime_app_ready, rt);
	return 0;
}

const struct outrig_binding_sink *binding_runtime_find(const struct binding_runtime *rt, const char *name)
{
	for (size_t i = 0; i < rt->nsinks; i++)
		if (strcmp(rt->sinks[i]->component->name, name) == 0)
			return rt->sinks[i];
	return NULL;
}

size_t binding_runtime_capabilities(const struct binding_runtime *rt, const struct component *c,
				    const char **caps, size_t max)
{
	const struct outrig_binding_sink *sink = binding_runtime_find(rt, c->name);
	const struct outrig_binding_ops *ops = c->plugin->desc.bindings;
	size_t n = 0;

	if (sink == NULL || ops == NULL)
		return 0;
	if (bruntime_has_input(sink) && n < max)
		caps[n++] = "INPUT_BINDING";
	if (sink->output_ok && ops->invoke != NULL && n < max)
		caps[n++] = "OUTPUT_BINDING";
	return n;
}

/* ---- reloads ---- */

static struct outrig_binding_sink *bruntime_sink_for(const struct binding_runtime *rt,
						     const struct component *c)
{
	for (size_t i = 0; i < rt->nsinks; i++)
		if (rt->sinks[i]->component == c)
			return rt->sinks[i];
	return NULL;
}

static void bruntime_sink_free(struct outrig_binding_sink *sink)
{
	if (sink->ask_timer != NULL)
		event_free(sink->ask_timer);
	free(sink->route);
	free(sink);
}

/* The app channel and engine, made at the first input binding that needs them. */
static int bruntime_ensure_app(struct binding_runtime *rt)
{
	struct server *srv = rt->srv;

	if (rt->app == NULL) {
		rt->app = srv->app_grpc != NULL ? app_bindings_new_grpc(srv->app_grpc)
						: app_bindings_new_http(srv->app);
		if (rt->app == NULL)
			return -1;
		app_bindings_when_ready(rt->app, bruntime_app_ready, rt);
	}
	if (rt->engine == NULL && (rt->engine = binding_engine_new(rt)) == NULL)
		return -1;
	return 0;
}

/* A new sink of a reload: its input waits for the app, or is asked about and started now. */
static int bruntime_reload_input(struct binding_runtime *rt, struct outrig_binding_sink *sink)
{
	if (!bruntime_has_input(sink) || (rt->srv->app == NULL && rt->srv->app_grpc == NULL))
		return 0;
	if (bruntime_ensure_app(rt) != 0 ||
	    app_bindings_name(rt->app, sink->route, sink->component->name) != 0)
		return -1;
	sink->state = BINDING_INPUT_WAITING;
	if (rt->app_ready && !rt->srv->stopping)
		bruntime_go(sink);
	return 0;
}

/* Ends the sink of a component a reload replaced or removed. */
static void bruntime_end(struct outrig_binding_sink *sink, bool removed)
{
	bool was_input = sink->state == BINDING_INPUT_RUNNING || sink->state == BINDING_INPUT_STARTING ||
			 sink->state == BINDING_INPUT_ASKING || sink->state == BINDING_INPUT_WAITING;

	/* New events stay with the plugin; binding_deliver refuses them from now on. */
	atomic_store(&sink->closed, true);
	if (sink->ask_timer != NULL)
		evtimer_del(sink->ask_timer);
	if (was_input)
		log_info(BRUNTIME_SCOPE, "input binding %s stopped: %s by a reload%s", sink->component->name,
			 removed ? "the component was removed" : "the component changed, its new instance starts",
			 sink->head != NULL ? " (events already taken still go to the app)" : "");
	sink->state = BINDING_INPUT_NONE;
}

int binding_runtime_reload(struct binding_runtime *rt, const struct res_set *rs)
{
	const struct components *cs = rt->srv->components;
	struct outrig_binding_sink **sinks = calloc(cs->count > 0 ? cs->count : 1, sizeof(*sinks)), **retired;
	bool *fresh = calloc(cs->count > 0 ? cs->count : 1, sizeof(*fresh));
	size_t n = 0, gone = 0;

	if (sinks == NULL || fresh == NULL)
		goto fail;
	for (size_t i = 0; i < cs->count; i++) {
		struct outrig_binding_sink *sink;

		if (!bruntime_is_binding(cs->items[i]))
			continue;
		sink = bruntime_sink_for(rt, cs->items[i]);
		fresh[n] = sink == NULL;
		if (sink == NULL && (sink = bruntime_sink_new(rt, cs->items[i], rs)) == NULL)
			goto fail;
		sinks[n++] = sink;
	}
	for (size_t i = 0; i < rt->nsinks; i++)
		gone += components_find(cs, rt->sinks[i]->component->name) != rt->sinks[i]->component;
	retired = realloc(rt->retired, (rt->nretired + gone + 1) * sizeof(*retired));
	if (retired == NULL)
		goto fail;
	rt->retired = retired;
	for (size_t i = 0; i < rt->nsinks; i++) {
		struct outrig_binding_sink *sink = rt->sinks[i];
		const struct component *now = components_find(cs, sink->component->name);

		if (now == sink->component)
			continue;
		bruntime_end(sink, now == NULL);
		rt->retired[rt->nretired++] = sink;
	}
	free(rt->sinks);
	rt->sinks = sinks;
	rt->nsinks = n;
	/* Inputs of the new sinks last: the swap above cannot fail any more. */
	for (size_t i = 0; i < n; i++)
		if (fresh[i] && bruntime_reload_input(rt, sinks[i]) != 0)
			log_error(BRUNTIME_SCOPE, "out of memory starting input binding %s",
				  sinks[i]->component->name);
	free(fresh);
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		if (bruntime_sink_for(rt, sinks[i]->component) != sinks[i])
			bruntime_sink_free(sinks[i]);
	free(sinks);
	free(fresh);
	return -1;
}

bool binding_runtime_busy(const struct binding_runtime *rt, const struct component *c)
{
	for (size_t i = 0; i < rt->nretired; i++) {
		const struct outrig_binding_sink *sink = rt->retired[i];

		if (sink->component == c &&
		    (sink->asking || sink->head != NULL || sink->sending || atomic_load(&sink->held) > 0))
			return true;
	}
	return false;
}

void binding_runtime_release(struct binding_runtime *rt, const struct component *c)
{
	size_t kept = 0;

	for (size_t i = 0; i < rt->nretired; i++) {
		if (rt->retired[i]->component == c) {
			app_bindings_unname(rt->app, rt->retired[i]->route);
			bruntime_sink_free(rt->retired[i]);
		} else {
			rt->retired[kept++] = rt->retired[i];
		}
	}
	rt->nretired = kept;
}

void binding_runtime_stop(struct binding_runtime *rt)
{
	binding_engine_stop(rt->engine);
	for (size_t i = 0; i < rt->nsinks; i++) {
		if (rt->sinks[i]->ask_timer != NULL)
			event_free(rt->sinks[i]->ask_timer);
		rt->sinks[i]->ask_timer = NULL;
	}
	for (size_t i = 0; i < rt->nretired; i++) {
		if (rt->retired[i]->ask_timer != NULL)
			event_free(rt->retired[i]->ask_timer);
		rt->retired[i]->ask_timer = NULL;
	}
}

void binding_runtime_free(struct binding_runtime *rt)
{
	binding_engine_free(rt->engine);
	app_bindings_free(rt->app);
	for (size_t i = 0; i < rt->nsinks; i++)
		bruntime_sink_free(rt->sinks[i]);
	for (size_t i = 0; i < rt->nretired; i++)
		bruntime_sink_free(rt->retired[i]);
	free(rt->sinks);
	free(rt->retired);
	memset(rt, 0, sizeof(*rt));
}
