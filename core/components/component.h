/* SPDX-License-Identifier: Apache-2.0 */
/* The components this sidecar serves: each a plugin instance made from one resource document. */
#ifndef OUTRIG_CORE_COMPONENT_H
#define OUTRIG_CORE_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "components/host.h"
#include "components/loader.h"
#include "blocks/pubsub/pubsub_scopes.h"
#include "resources/resources.h"
#include "blocks/state/state_keys.h"
#include "base/workers.h"

struct event_base;

/* Housekeeping a plugin asked for with host->every(). */
struct component_timer {
	int64_t interval_ms;
	void (*fn)(void *instance);
	struct component *owner;
	struct event *ev;
	struct work work;
	struct workers *workers;
	bool running;
	struct component_timer *next;
};

struct component {
	char *name;
	char *type;
	char *version;
	struct plugin *plugin;
	void *instance;
	struct outrig_handle handle;
	struct lane lane;
	struct key_prefix key_prefix; /* state stores only */
	struct pubsub_scopes scopes;  /* pub/subs only: topic scoping for this app, read at setup */
	struct component_timer *timers;
	/*
	 * Why create() failed, for a component with ignoreErrors: it stays listed so that
	 * requests name the cause (500) instead of calling the store unknown; instance is NULL.
	 */
	char *failure;
	char *spec;   /* component_spec() of the document it was made from: a reload keeps it when equal */
	bool started; /* components_start ran for it */
};

struct components {
	struct loader loader;
	struct component **items;
	size_t count;
	/*
	 * The name resolver (a Configuration's spec.nameResolution, or the default): made like the
	 * components but kept out of items, so that the metadata API and lookups by name do not see
	 * it. NULL when there is none.
	 */
	struct component *resolver;
	/*
	 * While a reload builds the new set: the set in service, whose components are taken over
	 * as they are when their document is unchanged (same component_spec). NULL otherwise.
	 */
	const struct components *reuse;
};

/*
 * Checks each component of rs against its plugin (file found, ABI, type, version,
 * metadata) and, when create is true, makes its instance. Secret stores come first, and each
 * secretKeyRef is read from its store before its component's create() (secret_refs.h). Without
 * create (--check), the plugin's check() stands for create(), secrets are not read, and each
 * component that passes is listed without an instance, so that the order of secret stores (and
 * a loop between them) and later checks come out as at start-up. Every problem goes into d;
 * a component with ignoreErrors whose plugin cannot be loaded is logged and skipped,
 * and one whose create() fails is logged and kept with its failure set.
 * Returns the number of errors added.
 */
size_t components_setup(struct components *cs, const struct res_set *rs, const char *plugin_dir,
			const char *app_id, bool create, struct diag *d);

/*
 * Checks the name resolver rc (type "nameresolution.<component>") against its plugin like a
 * component and, when create is true, makes it cs->resolver, named rc->name in logs. When
 * required is false (no Configuration chose it), a missing plugin or a failing create() is a
 * warning and the sidecar goes on without one. Call after components_setup. Returns the number
 * of errors added to d.
 */
size_t components_setup_resolver(struct components *cs, const struct res_component *rc, const char *app_id,
				 bool create, bool required, struct diag *d);

struct component *components_find(const struct components *cs, const char *name);

/* How many components have a type starting with prefix ("state."). */
size_t components_count_kind(const struct components *cs, const char *prefix);

/* The lane c's work goes through: serial, or bounded for concurrent plugins (see components_start). */
struct lane *component_lane(struct component *c);

/* Starts the plugins' housekeeping timers on base, running them through ws. */
int components_start(struct components *cs, struct event_base *base, struct workers *ws);

/* Stops timers, destroys instances, finalises and closes plugins. */
void components_destroy(struct components *cs);

/*
 * A reload's new set, built from rs with instances while old stays in service: a component whose
 * document is unchanged (same name and component_spec) is old's own, taken over as it is (no
 * create(), no reconnect); the others are checked and created as components_setup does. cs takes
 * over old's loader and resolver for the time of the build: give them back with
 * components_reload_settle, whether the new set is kept or not. Returns the number of errors added.
 */
size_t components_setup_reload(struct components *cs, const struct components *old, const struct res_set *rs,
			       const char *app_id, struct diag *d);

/*
 * Ends a reload's build. keep: cs becomes the set in service (old's items that cs does not hold
 * are returned in *gone, a malloc'd array of *ngone, for the caller to drain and destroy); else
 * the components cs created are destroyed and old stays as it was. Either way the loader (with
 * any plugin the build opened) ends up in old, and cs is emptied.
 */
void components_reload_settle(struct components *old, struct components *cs, bool keep,
			      struct component ***gone, size_t *ngone);

/* A canonical text of rc (type, version, metadata, options): equal texts make the same component. */
char *component_spec(const struct res_component *rc);

/* Stops c's housekeeping timers from firing again (a timer already running finishes on its lane). */
void component_stop_timers(struct component *c);

/* No call of c is queued, running or waiting for its done(). Thread: the loop. */
bool component_idle(const struct component *c);

/* Destroys c's instance and frees it. Only once component_idle, or once the workers are stopped. */
void component_destroy(struct component *c);

/* Registers a timer for the component behind self (host->every). */
int component_add_timer(struct outrig_handle *self, int64_t interval_ms, void (*fn)(void *));

#endif /* OUTRIG_CORE_COMPONENT_H */
