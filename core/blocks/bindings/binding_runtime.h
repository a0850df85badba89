/* SPDX-License-Identifier: Apache-2.0 */
/* The bindings side of a running sidecar: each binding's route and direction, and starting inputs the app wants. */
#ifndef OUTRIG_CORE_BINDING_RUNTIME_H
#define OUTRIG_CORE_BINDING_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "channels/app_bindings.h"
#include "resources/resiliency.h"
#include "base/workers.h"

struct binding_engine;
struct binding_event;
struct component;
struct components;
struct diag;
struct event;
struct res_set;
struct server;

/* Where an input binding stands (API.md §4.2). */
enum binding_input_state {
	BINDING_INPUT_NONE,	  /* output only (no start_input), or no app to deliver to */
	BINDING_INPUT_WAITING,	  /* for the app to listen */
	BINDING_INPUT_ASKING,	  /* OPTIONS /{route} is out */
	BINDING_INPUT_STARTING,	  /* start_input() runs on a worker */
	BINDING_INPUT_RUNNING,	  /* events may come */
	BINDING_INPUT_NOT_WANTED, /* the app answered OPTIONS with neither 2xx nor 405, or not at all */
	BINDING_INPUT_FAILED,	  /* start_input() failed */
};

/*
 * One bindings.* component as the runtime sees it; for an input binding it is also the sink
 * the plugin gets in start_input() and hands back to host->binding_deliver(). Plugins hold a
 * pointer to it until their destroy().
 */
struct outrig_binding_sink {
	struct binding_runtime *rt;
	struct component *component;
	char *route;	 /* "/" + the `route` metadata, else "/" + the component's name */
	bool input_ok;	 /* `direction` absent or naming input */
	bool output_ok;	 /* `direction` absent or naming output */
	bool input_only; /* `direction` names input explicitly: daprd skips the OPTIONS question */
	bool has_retry;	 /* a Resiliency inbound retry policy applies */
	struct retry_policy retry;

	/* The loop's. */
	enum binding_input_state state;
	struct event *ask_timer;	   /* bounds the OPTIONS question */
	bool asking;			   /* the question is out (its call lives in this sink) */
	struct app_bindings_call ask_call; /* the question, while it is out */
	struct work work;		   /* runs start_input() on a worker */
	int start_rc;			   /* what start_input() returned (worker, then read on the loop) */
	char error[512];		   /* why start_input() failed */

	/* binding_delivery.c's, on the loop: this binding's events, the first one at the app. */
	struct binding_event *head, *tail;
	bool sending; /* head is at the app or waits for its retry */

	/* A reload ended it: binding_deliver refuses its events (the plugin keeps them). Any thread. */
	atomic_bool closed;
	atomic_uint held; /* events accepted and not yet settled; any thread */
};

struct binding_runtime {
	struct server *srv;
	struct outrig_binding_sink **sinks; /* one per bindings.* component, in component order */
	size_t nsinks;
	struct app_bindings *app;      /* the app as the bindings see it; NULL without an app */
	struct binding_engine *engine; /* NULL without an app */
	int64_t ask_timeout_ms;	       /* OPTIONS answer wait, daprd's --app-binding-options-timeout */
	bool app_ready;		       /* the app listens: inputs are asked about and started */
	/* Sinks of components a reload replaced or removed: plugins may hold them until the end. */
	struct outrig_binding_sink **retired;
	size_t nretired;
};

/* daprd's default --app-binding-options-timeout. */
#define BINDING_ASK_TIMEOUT_MS 3000

/*
 * Reads every bindings.* component's route, direction and inbound retry policy out of rs (which
 * may be freed afterwards) and, when there is an app, once it listens asks it (OPTIONS) about
 * each input binding and starts those it wants. Returns 0 or -1 (out of memory). Thread: the loop.
 */
int binding_runtime_start(struct binding_runtime *rt, struct server *srv, const struct res_set *rs);

/* The binding named name, or NULL when there is no bindings.* component of that name. */
const struct outrig_binding_sink *binding_runtime_find(const struct binding_runtime *rt, const char *name);

/*
 * Daprd's capabilities of a binding component for the metadata document: INPUT_BINDING and
 * OUTPUT_BINDING, as its plugin and its direction allow. Puts up to max of them in caps and
 * returns how many. Ownership: the strings are literals. Thread: the loop.
 */
size_t binding_runtime_capabilities(const struct binding_runtime *rt, const struct component *c,
				    const char **caps, size_t max);

/*
 * After a reload put a new set in service: a sink for each new or re-made binding component, read
 * from rs, whose input is asked about and started as at start-up (at once when the app already
 * listens); the sinks of components no longer served are ended (binding_deliver refuses their new
 * events, so the plugin keeps them; those already taken still go to the app) and set aside until
 * binding_runtime_release. Returns 0, or -1 when out of memory (the bindings are then as before).
 * Thread: the loop.
 */
int binding_runtime_reload(struct binding_runtime *rt, const struct res_set *rs);

/*
 * Whether an ended sink of c still holds events not yet settled, or a question to the app about
 * it is out: c must not be destroyed yet. Thread: the loop.
 */
bool binding_runtime_busy(const struct binding_runtime *rt, const struct component *c);

/* Frees the ended sinks of c, once c is destroyed. Thread: the loop. */
void binding_runtime_release(struct binding_runtime *rt, const struct component *c);

/*
 * Stops delivering: every event not yet acknowledged goes back UNSETTLED and plugins are told
 * no more. Call after the loop stopped and the workers are joined, before the components are
 * destroyed. Thread: the main thread.
 */
void binding_runtime_stop(struct binding_runtime *rt);

/* Frees what start made, once the components (which hold sinks) are destroyed. Thread: the main thread. */
void binding_runtime_free(struct binding_runtime *rt);

#endif /* OUTRIG_CORE_BINDING_RUNTIME_H */
