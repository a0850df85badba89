/* SPDX-License-Identifier: Apache-2.0 */
/* The components this sidecar serves: each a plugin instance made from one resource document. */
#include "components/component.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/config_map.h"
#include "base/log.h"
#include "components/secret_refs.h"

static void component_free_timers(struct component *c)
{
	struct component_timer *t;

	while ((t = c->timers) != NULL) {
		c->timers = t->next;
		if (t->ev != NULL)
			event_free(t->ev);
		free(t);
	}
}

static void component_free(struct component *c)
{
	component_free_timers(c);
	if (c->instance != NULL)
		c->plugin->desc.destroy(c->instance);
	key_prefix_free(&c->key_prefix);
	pubsub_scopes_free(&c->scopes);
	free(c->failure);
	free(c->spec);
	free(c->name);
	free(c->type);
	free(c->version);
	free(c);
}

/* Makes the instance; returns 0, or -1 with the reason in err. */
static int component_create(struct component *c, const struct config_view *view, const char *app_id,
			    char *err, size_t errlen)
{
	struct outrig_error perr = { "" };
	const struct outrig_config_value *prefix = outrig_config_find(&view->config, "keyPrefix");

	if (strncmp(c->type, "state.", 6) == 0 &&
	    key_prefix_init(&c->key_prefix, prefix != NULL ? prefix->text : NULL, app_id, c->name, err,
			    errlen) != 0)
		return -1;
	if (c->plugin->desc.create(&host_table, &c->handle, &view->config, &c->instance, &perr) != 0) {
		snprintf(err, errlen, "%s",
			 perr.message[0] ? perr.message : "create failed without a reason");
		c->instance = NULL;
		/* Timers it registered before failing have no instance to run on. */
		component_free_timers(c);
		return -1;
	}
	return 0;
}

static bool components_add(struct components *cs, struct component *c)
{
	struct component **grown = realloc(cs->items, (cs->count + 1) * sizeof(*grown));

	if (grown == NULL)
		return false;
	cs->items = grown;
	cs->items[cs->count++] = c;
	return true;
}

/*
 * Resolves rc's secretKeyRef entries into refs. An unresolved reference of a component with
 * ignoreErrors (when creating) is logged and becomes *failure; any other goes into d.
 * Returns the number of errors added to d.
 */
static size_t components_resolve_refs(struct components *cs, const struct res_set *rs,
				      const struct res_component *rc, const struct plugin *p, bool create,
				      struct secret_refs_view *refs, char **failure, struct diag *d)
{
	struct diag refd = { 0 };
	size_t errors = secret_refs_resolve(cs, rs, rc, p->desc.fields, create, refs, &refd);

	for (size_t i = 0; i < refd.count; i++) {
		if (refd.lines[i] == NULL)
			continue;
		if (rc->ignore_errors && create)
			log_warn("runtime", "%s (ignoreErrors: serving without component %s)", refd.lines[i],
				 rc->name);
		else
			diag_error(d, "%s", refd.lines[i]);
	}
	if (errors != 0 && rc->ignore_errors && create) {
		*failure =
			strdup(refd.count > 0 && refd.lines[0] != NULL ? refd.lines[0]
								       : "a secretKeyRef cannot be resolved");
		errors = 0;
	}
	diag_clear(&refd);
	return errors;
}

/*
 * --check: what the plugin's create() would refuse without connecting anywhere (ABI 1.5 check).
 * Values from secretKeyRef entries are placeholders there, so a refusal of such a component
 * is only a warning: start-up, which reads the secrets, decides.
 */
static size_t components_check_one(const struct res_component *rc, const struct plugin *p,
				   const struct config_view *view, const struct secret_refs_view *refs,
				   struct diag *d)
{
	struct outrig_handle self = { .name = rc->name };
	struct outrig_error perr = { "" };

	if (p->desc.check == NULL || p->desc.check(&host_table, &self, &view->config, &perr) == 0)
		return 0;
	if (refs->metadata != NULL) {
		diag_warn(d,
			  "%s:%d:%d: component %s (%s): %s (checked without reading its secretKeyRef "
			  "values; start-up may accept it)",
			  rc->file, rc->pos.line, rc->pos.column, rc->name, rc->type,
			  perr.message[0] ? perr.message : "refused without a reason");
		return 0;
	}
	diag_error(d, "%s:%d:%d: component %s (%s): %s", rc->file, rc->pos.line, rc->pos.column, rc->name,
		   rc->type, perr.message[0] ? perr.message : "refused without a reason");
	return 1;
}

/* --check: a component that passed, without an instance, as start-up would have made it. */
static size_t components_add_checked(struct components *cs, const struct res_component *rc, struct plugin *p,
				     struct diag *d)
{
	struct component *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->name = strdup(rc->name)) == NULL || (c->type = strdup(rc->type)) == NULL ||
	    (c->version = strdup(rc->version)) == NULL || !components_add(cs, c)) {
		diag_error(d, "%s: out of memory", rc->file);
		if (c != NULL)
			component_free(c);
		return 1;
	}
	c->plugin = p;
	c->handle.name = c->name;
	c->handle.component = c;
	return 0;
}

/*
 * A reload's component that rc leaves as it is: old's, when the document is the same, a secret
 * store it reads its secretKeyRef values from is the same instance too, and old's instance did
 * not fail (a state or secret store that did is tried again; pub/sub and binding components stay,
 * as their runtimes hold them). NULL when rc must be made afresh.
 */
static struct component *components_reusable(const struct components *cs, const struct res_component *rc)
{
	struct component *old = cs->reuse != NULL ? components_find(cs->reuse, rc->name) : NULL;
	char *spec;
	bool same;

	if (old == NULL || old->spec == NULL)
		return NULL;
	/* The delivery runtimes hold pub/sub and binding components, failed or not: those stay. */
	if ((old->failure != NULL || old->instance == NULL) && strncmp(old->type, "pubsub.", 7) != 0 &&
	    strncmp(old->type, "bindings.", 9) != 0)
		return NULL;
	if (secret_refs_any(rc) &&
	    components_find(cs, secret_refs_store(rc)) != components_find(cs->reuse, secret_refs_store(rc)))
		return NULL;
	spec = component_spec(rc);
	same = spec != NULL && strcmp(spec, old->spec) == 0;
	free(spec);
	return same ? old : NULL;
}

/* One resource document: its plugin, its metadata (secret references resolved) and (with create) its instance. */
static size_t components_setup_one(struct components *cs, const struct res_set *rs,
				   const struct res_component *rc, const char *app_id, bool create,
				   struct diag *d)
{
	char err[1024];
	struct config_view view = { 0 };
	struct component *c = NULL;
	struct pubsub_scopes scopes = { 0 };
	struct secret_refs_view refs;
	char *ref_failure = NULL;
	struct plugin *p;
	size_t errors;

	if (create && (c = components_reusable(cs, rc)) != NULL) {
		if (components_add(cs, c))
			return 0;
		diag_error(d, "%s: out of memory", rc->file);
		return 1;
	}
	p = loader_get(&cs->loader, rc->type, rc->version, create, err, sizeof(err));
	if (p == NULL) {
		if (rc->ignore_errors && create) {
			log_warn("runtime", "%s:%d:%d: component %s skipped (ignoreErrors): %s", rc->file,
				 rc->type_pos.line, rc->type_pos.column, rc->name, err);
			return 0;
		}
		diag_error(d, "%s:%d:%d: spec.type: %s", rc->file, rc->type_pos.line, rc->type_pos.column,
			   err);
		return 1;
	}
	errors = components_resolve_refs(cs, rs, rc, p, create, &refs, &ref_failure, d);
	/* Unresolved references would only be reported again by the config map. */
	if (errors == 0 && ref_failure == NULL)
		errors = config_view_build(&refs.rc, p->desc.fields, app_id, &view, d);
	/* Topic scoping is the runtime's, read once here; a malformed value stops start-up. */
	if (strncmp(rc->type, "pubsub.", 7) == 0 && errors == 0 && ref_failure == NULL) {
		errors += pubsub_scopes_read(&scopes, &refs.rc, app_id, d);
		if (errors != 0 || !create)
			pubsub_scopes_free(&scopes);
	}
	if (errors == 0 && ref_failure == NULL && !create)
		errors = components_check_one(rc, p, &view, &refs, d);
	if (errors != 0 || !create) {
		free(ref_failure);
		config_view_free(&view);
		secret_refs_view_free(&refs);
		/* Checked and sound: listed as start-up would list it, so later checks see the same set. */
		if (errors == 0 && !create)
			errors = components_add_checked(cs, rc, p, d);
		return errors;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->name = strdup(rc->name)) == NULL || (c->type = strdup(rc->type)) == NULL ||
	    (c->version = strdup(rc->version)) == NULL) {
		diag_error(d, "%s: out of memory", rc->file);
		goto fail;
	}
	c->plugin = p;
	c->spec = component_spec(rc); /* NULL (out of memory) only costs a re-creation at a reload */
	c->scopes = scopes;
	memset(&scopes, 0, sizeof(scopes));
	c->handle.name = c->name;
	c->handle.component = c;
	if (ref_failure != NULL) {
		c->failure = ref_failure;
		ref_failure = NULL;
		if (!components_add(cs, c)) {
			diag_error(d, "%s: out of memory", rc->file);
			goto fail;
		}
		secret_refs_view_free(&refs);
		return 0;
	}
	if (component_create(c, &view, app_id, err, sizeof(err)) != 0) {
		if (rc->ignore_errors && (c->failure = strdup(err)) != NULL && components_add(cs, c)) {
			log_warn(
				"runtime",
				"%s:%d:%d: component %s (%s) failed to initialise; serving without it (ignoreErrors): %s",
				rc->file, rc->pos.line, rc->pos.column, rc->name, rc->type, err);
			config_view_free(&view);
			secret_refs_view_free(&refs);
			return 0;
		}
		diag_error(d, "%s:%d:%d: component %s (%s): %s", rc->file, rc->pos.line, rc->pos.column,
			   rc->name, rc->type, err);
		goto fail;
	}
	if (!components_add(cs, c)) {
		diag_error(d, "%s: out of memory", rc->file);
		goto fail;
	}
	log_info("runtime", "component loaded: %s (%s/%s)", c->name, c->type, c->version);
	config_view_free(&view);
	secret_refs_view_free(&refs);
	return 0;
fail:
	errors = 1;
	free(ref_failure);
	pubsub_scopes_free(&scopes);
	if (c != NULL)
		component_free(c);
	config_view_free(&view);
	secret_refs_view_free(&refs);
	return errors;
}

static bool components_is_secret_store(const struct res_component *rc)
{
	return strncmp(rc->type, "secretstores.", 13) == 0;
}

/* components_setup once cs has its loader. */
static size_t components_setup_run(struct components *cs, const struct res_set *rs, const char *app_id,
				   bool create, struct diag *d)
{
	size_t errors = 0;
	bool *done, progress;

	if ((done = calloc(rs->count + 1, sizeof(*done))) == NULL) {
		diag_error(d, "out of memory");
		return 1;
	}
	/*
	 * Secret stores first, so that the others' secretKeyRef entries can be read from them; a
	 * store whose own metadata refers to another store waits until that one is made.
	 */
	do {
		progress = false;
		for (size_t i = 0; i < rs->count; i++) {
			const struct res_component *rc = &rs->components[i];

			if (done[i] || !components_is_secret_store(rc))
				continue;
			/* --check lists the components it passed, so it finds the same order (and loops). */
			if (secret_refs_any(rc) && components_find(cs, secret_refs_store(rc)) == NULL)
				continue;
			errors += components_setup_one(cs, rs, rc, app_id, create, d);
			done[i] = progress = true;
		}
	} while (progress);
	/* The rest in file order, and stores still waiting, whose references then say what is missing. */
	for (size_t i = 0; i < rs->count; i++)
		if (!done[i])
			errors += components_setup_one(cs, rs, &rs->components[i], app_id, create, d);
	free(done);
	return errors;
}

size_t components_setup(struct components *cs, const struct res_set *rs, const char *plugin_dir,
			const char *app_id, bool create, struct diag *d)
{
	memset(cs, 0, sizeof(*cs));
	if (loader_init(&cs->loader, plugin_dir) != 0) {
		diag_error(d, "out of memory");
		return 1;
	}
	return components_setup_run(cs, rs, app_id, create, d);
}

size_t components_setup_reload(struct components *cs, const struct components *old, const struct res_set *rs,
			       const char *app_id, struct diag *d)
{
	memset(cs, 0, sizeof(*cs));
	cs->loader = old->loader;
	cs->resolver = old->resolver;
	cs->reuse = old;
	return components_setup_run(cs, rs, app_id, true, d);
}

static bool components_holds(const struct components *cs, const struct component *c)
{
	for (size_t i = 0; i < cs->count; i++)
		if (cs->items[i] == c)
			return true;
	return false;
}

void components_reload_settle(struct components *old, struct components *cs, bool keep,
			      struct component ***gone, size_t *ngone)
{
	struct components *losing = keep ? old : cs, *staying = keep ? cs : old;
	struct component **out = NULL;
	size_t n = 0;

	*gone = NULL;
	*ngone = 0;
	if (keep && old->count > 0)
		out = calloc(old->count, sizeof(*out));
	for (size_t i = 0; i < losing->count; i++) {
		struct component *c = losing->items[i];

		if (components_holds(staying, c))
			continue;
		/* A kept set's leavers may have calls in flight: the caller drains them. Out of memory: leaked. */
		if (keep) {
			if (out != NULL)
				out[n++] = c;
		} else {
			component_free(c);
		}
	}
	old->loader = cs->loader;
	if (keep) {
		free(old->items);
		old->items = cs->items;
		old->count = cs->count;
		*gone = out;
		*ngone = n;
	} else {
		free(cs->items);
	}
	memset(cs, 0, sizeof(*cs));
}

/* Appends n, then s (or "-" for NULL), so that no two documents print the same. */
static void component_spec_put(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("-;", f);
	else
		fprintf(f, "%zu:%s;", strlen(s), s);
}

char *component_spec(const struct res_component *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	component_spec_put(f, rc->name);
	component_spec_put(f, rc->type);
	component_spec_put(f, rc->version);
	fprintf(f, "%lld;%d;", (long long)rc->init_timeout_ms, rc->ignore_errors ? 1 : 0);
	component_spec_put(f, rc->secret_store);
	fprintf(f, "%zu;", rc->metadata_count);
	for (size_t i = 0; i < rc->metadata_count; i++) {
		const struct res_metadata *m = &rc->metadata[i];

		component_spec_put(f, m->name);
		component_spec_put(f, m->value);
		component_spec_put(f, m->secret_store_key_name);
		component_spec_put(f, m->secret_store_key);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

void component_stop_timers(struct component *c)
{
	for (struct component_timer *t = c->timers; t != NULL; t = t->next)
		if (t->ev != NULL)
			event_del(t->ev);
}

bool component_idle(const struct component *c)
{
	return c->lane.queued == 0;
}

void component_destroy(struct component *c)
{
	component_free(c);
}

/*
 * config_map names metadata entries as a component's (spec.metadata[x]); a resolver's come from a
 * Configuration's spec.nameResolution.configuration map: rename them in the lines added from first.
 */
static void components_rename_fields(struct diag *d, size_t first)
{
	static const char from[] = "spec.metadata", to[] = "spec.nameResolution.configuration";

	for (size_t i = first; i < d->count; i++) {
		char *line = d->lines[i], *at = line != NULL ? strstr(line, from) : NULL, *renamed = NULL;
		const char *rest;
		int n;

		if (at == NULL)
			continue;
		rest = at + sizeof(from) - 1;
		if (*rest == '[') {
			const char *close = strchr(rest, ']');

			if (close == NULL)
				continue;
			n = asprintf(&renamed, "%.*s%s.%.*s%s", (int)(at - line), line, to,
				     (int)(close - rest - 1), rest + 1, close + 1);
		} else {
			n = asprintf(&renamed, "%.*s%s%s", (int)(at - line), line, to, rest);
		}
		if (n < 0)
			continue;
		free(line);
		d->lines[i] = renamed;
	}
}

/* A resolver no Configuration asked for may be missing: say what that costs, and go on. */
static size_t components_resolver_problem(const struct res_component *rc, bool required, struct diag *d,
					  const char *what, const char *err)
{
	if (required) {
		diag_error(d, "%s:%d:%d: spec.nameResolution.component: %s: %s", rc->type_pos.file,
			   rc->type_pos.line, rc->type_pos.column, what, err);
		return 1;
	}
	diag_warn(d,
		  "name resolution: the default resolver %s %s: %s; calls to other apps will fail "
		  "(choose a resolver in a --config file's spec.nameResolution)",
		  rc->type, what, err);
	return 0;
}

size_t components_setup_resolver(struct components *cs, const struct res_component *rc, const char *app_id,
				 bool create, bool required, struct diag *d)
{
	char err[1024];
	struct config_view view;
	struct component *c;
	struct plugin *p = loader_get(&cs->loader, rc->type, rc->version, create, err, sizeof(err));
	size_t errors, first = d->count;

	if (p == NULL)
		return components_resolver_problem(rc, required, d, "cannot be used", err);
	errors = config_view_build(rc, p->desc.fields, app_id, &view, d);
	components_rename_fields(d, first);
	if (errors != 0 || !create) {
		config_view_free(&view);
		return errors;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->name = strdup(rc->name)) == NULL || (c->type = strdup(rc->type)) == NULL ||
	    (c->version = strdup(rc->version)) == NULL) {
		diag_error(d, "%s: out of memory", rc->file);
		errors = 1;
		goto out;
	}
	c->plugin = p;
	c->handle.name = c->name;
	c->handle.component = c;
	if (component_create(c, &view, app_id, err, sizeof(err)) != 0) {
		errors = components_resolver_problem(rc, required, d, "failed to initialise", err);
		goto out;
	}
	cs->resolver = c;
	c = NULL;
	log_info("runtime", "name resolution: %s/%s", rc->type, rc->version);
out:
	if (c != NULL)
		component_free(c);
	config_view_free(&view);
	return errors;
}

struct component *components_find(const struct components *cs, const char *name)
{
	for (size_t i = 0; i < cs->count; i++)
		if (strcmp(cs->items[i]->name, name) == 0)
			return cs->items[i];
	return NULL;
}

size_t components_count_kind(const struct components *cs, const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < cs->count; i++)
		if (strncmp(cs->items[i]->type, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

struct lane *component_lane(struct component *c)
{
	return &c->lane;
}

/*
 * A serial plugin gets one call at a time. Any other gets three quarters of the workers at
 * most, so a store whose server hangs until its timeout leaves threads for the others.
 */
static unsigned component_lane_limit(const struct component *c, const struct workers *ws)
{
	int n = workers_threads(ws);

	if (c->plugin->desc.flags & OUTRIG_PLUGIN_SERIAL)
		return 1;
	return n > 1 ? (unsigned)(n - n / 4) : 1;
}

int component_add_timer(struct outrig_handle *self, int64_t interval_ms, void (*fn)(void *))
{
	struct component_timer *t;

	if (self == NULL || self->component == NULL || interval_ms <= 0 || fn == NULL)
		return OUTRIG_EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return OUTRIG_ENOMEM;
	t->interval_ms = interval_ms;
	t->fn = fn;
	t->owner = self->component;
	t->next = self->component->timers;
	self->component->timers = t;
	return 0;
}

static struct component_timer *timer_of(struct work *w)
{
	return (struct component_timer *)((char *)w - offsetof(struct component_timer, work));
}

static void timer_run(struct work *w)
{
	struct component_timer *t = timer_of(w);

	t->fn(t->owner->instance);
}

static void timer_done(struct work *w)
{
	timer_of(w)->running = false;
}

static void timer_fire(evutil_socket_t fd, short what, void *arg)
{
	struct component_timer *t = arg;

	/* A sweep still running when the next is due is not queued twice. */
	if (t->running)
		return;
	t->running = true;
	workers_submit(t->workers, &t->work);
}

static int component_start(struct component *c, struct event_base *base, struct workers *ws)
{
	c->started = true;
	c->lane.limit = component_lane_limit(c, ws);
	for (struct component_timer *t = c->timers; t != NULL; t = t->next) {
		struct timeval tv = { t->interval_ms / 1000, (t->interval_ms % 1000) * 1000 };

		t->workers = ws;
		t->work.run = timer_run;
		t->work.done = timer_done;
		t->work.lane = component_lane(t->owner);
		t->ev = event_new(base, -1, EV_PERSIST, timer_fire, t);
		if (t->ev == NULL || event_add(t->ev, &tv) != 0)
			return -1;
	}
	return 0;
}

int components_start(struct components *cs, struct event_base *base, struct workers *ws)
{
	for (size_t i = 0; i < cs->count; i++)
		if (!cs->items[i]->started && component_start(cs->items[i], base, ws) != 0)
			return -1;
	if (cs->resolver != NULL && !cs->resolver->started && component_start(cs->resolver, base, ws) != 0)
		return -1;
	return 0;
}

void components_destroy(struct components *cs)
{
	/* Instances go in reverse order of creation (the resolver came last), then their plugins. */
	if (cs->resolver != NULL)
		component_free(cs->resolver);
	cs->resolver = NULL;
	while (cs->count > 0)
		component_free(cs->items[--cs->count]);
	free(cs->items);
	cs->items = NULL;
	loader_close(&cs->loader);
}
