/* SPDX-License-Identifier: Apache-2.0 */
/* Reloading the components on SIGHUP with nginx's rule (see reload.h). */
#include "config.h"

#include "components/reload.h"

#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sd_notify.h"
#include "blocks/bindings/binding_runtime.h"
#include "blocks/pubsub/pubsub_runtime.h"
#include "components/component.h"
#include "components/embedded.h"
#include "resources/resources.h"
#include "runtime.h"

/* How often retired components are looked at for calls still in flight. */
#define RELOAD_DRAIN_TICK_MS 50

static void reload_put(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("-;", f);
	else
		fprintf(f, "%zu:%s;", strlen(s), s);
}

static void reload_put_policy(FILE *f, const struct retry_policy *p)
{
	fprintf(f, "%d;%lld;%lld;%lld;", (int)p->kind, (long long)p->duration_ms,
		(long long)p->max_interval_ms, (long long)p->max_retries);
	for (size_t i = 0; i < p->http.n; i++)
		fprintf(f, "h%u-%u;", p->http.r[i].lo, p->http.r[i].hi);
	for (size_t i = 0; i < p->grpc.n; i++)
		fprintf(f, "g%u-%u;", p->grpc.r[i].lo, p->grpc.r[i].hi);
}

static void reload_put_breaker(FILE *f, const struct breaker_policy *b)
{
	fprintf(f, "%u;%lld;%lld;", b->max_requests, (long long)b->interval_ms, (long long)b->timeout_ms);
	reload_put(f, b->trip_text);
}

/*
 * A canonical text of rs's Subscription and Resiliency documents (where they were written left
 * out, so that moving a document changes nothing). NULL when out of memory.
 */
static char *reload_rest_spec(const struct res_set *rs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < rs->subscriptions.count; i++) {
		const struct subscription *s = &rs->subscriptions.items[i];

		fprintf(f, "sub%d;%d;", (int)s->type, s->raw_payload ? 1 : 0);
		reload_put(f, s->name);
		reload_put(f, s->pubsub);
		reload_put(f, s->topic);
		reload_put(f, s->dead_letter_topic);
		for (size_t k = 0; k < s->nrules; k++) {
			reload_put(f, s->rules[k].match);
			reload_put(f, s->rules[k].path);
		}
		for (size_t k = 0; k < s->nmetadata; k++) {
			reload_put(f, s->metadata[k].key);
			reload_put(f, s->metadata[k].value);
		}
	}
	for (size_t i = 0; i < rs->resiliency.ntargets; i++) {
		const struct resiliency_target *t = &rs->resiliency.targets[i];

		fprintf(f, "target%d;%d;%u;%lld;", (int)t->kind, t->inbound ? 1 : 0, t->cache_size,
			(long long)t->timeout_ms);
		reload_put(f, t->component);
		reload_put(f, t->policy_name);
		reload_put_policy(f, &t->policy);
		reload_put(f, t->timeout_name);
		reload_put(f, t->breaker_name);
		reload_put_breaker(f, &t->breaker);
	}
	for (size_t i = 0; i < rs->resiliency.ndefaults; i++) {
		fprintf(f, "default%d;%lld;", (int)rs->resiliency.defaults[i].what,
			(long long)rs->resiliency.defaults[i].timeout_ms);
		reload_put(f, rs->resiliency.defaults[i].name);
		reload_put_policy(f, &rs->resiliency.defaults[i].policy);
		reload_put_breaker(f, &rs->resiliency.defaults[i].breaker);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The resources as main_serve reads them: the folders, or the embedded defaults. */
static size_t reload_load(const struct options *opts, struct res_set *rs, struct diag *d)
{
	if (opts->resources_count == 0)
		return embedded_components(opts->data_dir, rs, d);
	return resources_load(opts->resources_paths, opts->resources_count, opts->app_id, rs, d);
}

/*
 * Whether c has nothing in flight: no plugin call, and no message or event its ended
 * subscriptions or input took that the app has not settled (those settle on c, so it stays).
 */
static bool reload_idle(struct server *srv, const struct component *c)
{
	return component_idle(c) && !pubsub_runtime_busy(&srv->pubsub, c) &&
	       !binding_runtime_busy(&srv->bindings, c);
}

static void reload_drain(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct reload *r = srv->reload;
	size_t kept = 0;

	(void)fd;
	(void)what;
	/* destroy() never runs beside the reload thread's create() and init(). */
	if (r->running)
		return;
	for (size_t i = 0; i < r->nretired; i++) {
		struct component *c = r->retired[i];

		if (!reload_idle(srv, c)) {
			r->retired[kept++] = c;
			continue;
		}
		log_debug("runtime", "reload: previous instance of component %s (%s) drained and destroyed",
			  c->name, c->type);
		component_destroy(c);
		pubsub_runtime_release(&srv->pubsub, c);
		binding_runtime_release(&srv->bindings, c);
	}
	r->nretired = kept;
	if (kept == 0)
		event_del(r->drain_timer);
}

/* Takes the components a reload replaced or removed; each goes once its calls are done. */
static void reload_retire(struct reload *r, struct component **gone, size_t ngone)
{
	struct component **grown;
	struct timeval tick = { 0, RELOAD_DRAIN_TICK_MS * 1000 };

	if (ngone == 0)
		return;
	grown = realloc(r->retired, (r->nretired + ngone) * sizeof(*grown));
	if (grown == NULL) {
		/* Destroying one still in use would be worse than keeping it. */
		log_error("runtime", "reload: out of memory: %zu replaced components are kept until exit",
			  ngone);
		return;
	}
	r->retired = grown;
	for (size_t i = 0; i < ngone; i++) {
		component_stop_timers(gone[i]);
		r->retired[r->nretired++] = gone[i];
	}
	event_add(r->drain_timer, &tick);
}

/* Logs each component the reload added, re-created or removed, and returns the summary. */
static void reload_log_changes(const struct components *now, struct component **gone, size_t ngone,
			       const struct component *const *before, size_t nbefore, char *summary,
			       size_t size)
{
	size_t added = 0, recreated = 0, unchanged = 0;

	for (size_t i = 0; i < now->count; i++) {
		const struct component *c = now->items[i];
		bool was = false, named = false;

		for (size_t k = 0; k < nbefore && !was; k++) {
			was = before[k] == c;
			named = named || strcmp(before[k]->name, c->name) == 0;
		}
		if (was) {
			unchanged++;
		} else if (named) {
			recreated++;
			log_info("runtime", "reload: component %s (%s/%s) changed: made afresh", c->name,
				 c->type, c->version);
		} else {
			added++;
			log_info("runtime", "reload: component %s (%s/%s) added", c->name, c->type,
				 c->version);
		}
	}
	for (size_t i = 0; i < ngone; i++)
		if (components_find(now, gone[i]->name) == NULL)
			log_info("runtime", "reload: component %s (%s) removed", gone[i]->name,
				 gone[i]->type);
	snprintf(summary, size, "%zu added, %zu changed, %zu removed, %zu unchanged", added, recreated,
		 ngone - recreated, unchanged);
}

/* Warns about what a reload does not apply: those documents are read at start-up only. */
static void reload_warn_rest(struct server *srv, const struct res_set *rs)
{
	char *spec = reload_rest_spec(rs);

	if (spec != NULL && srv->reload->rest_spec != NULL && strcmp(spec, srv->reload->rest_spec) != 0)
		log_warn("runtime",
			 "reload: Subscription or Resiliency documents differ from those read at start-up; a "
			 "reload applies only components: restart outrigd to apply them");
	free(spec);
	if (srv->opts->config_count > 0)
		log_info(
			"runtime",
			"reload: --config files (Configuration) are read at start-up only; restart outrigd to "
			"apply changes to them");
}

static void reload_refused(struct server *srv, const struct diag *d, size_t errors)
{
	struct reload *r = srv->reload;
	const char *first = NULL;
	char *why = NULL;

	for (size_t i = 0; i < d->count && first == NULL; i++)
		if (d->lines[i] != NULL && strncmp(d->lines[i], "warning: ", 9) != 0)
			first = d->lines[i];
	if (asprintf(&why, "%s%s", first != NULL ? first : "an error without a message (out of memory?)",
		     errors > 1 ? " (and more: see the log)" : "") < 0)
		why = NULL;
	free(r->last_error);
	r->last_error = why;
	r->refused++;
	log_error(
		"runtime",
		"reload refused: %zu error%s in the new resources; still serving the previous %zu component%s",
		errors, errors == 1 ? "" : "s", srv->components->count,
		srv->components->count == 1 ? "" : "s");
}

/* What the reload thread makes, for the loop to put in service or drop. */
struct reload_job {
	struct server *srv;
	struct res_set rs;
	struct diag d;
	struct components next;
	size_t errors;
	bool made; /* next holds instances (components_setup_reload ran) */
};

/*
 * The reload thread: reads and checks the whole new set as --check does, then makes the new and
 * changed instances beside those in service. It reads the set in service (names, specs) and
 * nothing else of the loop's; the loop changes that set only when it applies a job, after this
 * thread is joined.
 */
static void *reload_prepare(void *arg)
{
	struct reload_job *job = arg;
	struct server *srv = job->srv;
	const struct options *opts = srv->opts;
	struct components check;

	job->errors = reload_load(opts, &job->rs, &job->d);
	/* The Configuration is read once, at start: its deny list holds for every reload. */
	job->errors += cfg_policy_check_components(&srv->config.policy, &job->rs, &job->d);
	job->errors += components_setup(&check, &job->rs, opts->plugin_dir, opts->app_id, false, &job->d);
	components_destroy(&check);
	/* Then the new and changed instances, beside the ones in service: any failure keeps those. */
	if (job->errors == 0) {
		job->errors += components_setup_reload(&job->next, srv->components, &job->rs, opts->app_id,
						       &job->d);
		job->made = true;
	}
	event_active(srv->reload->finished, 0, 0);
	return NULL;
}

/* Puts job's set in service (the loop's part of a reload); out of memory counts an error in job. */
static void reload_apply(struct server *srv, struct reload_job *job)
{
	struct reload *r = srv->reload;
	struct component **before = NULL, **gone = NULL;
	size_t nbefore = srv->components->count, ngone = 0;
	char summary[160];

	if (nbefore > 0 && (before = malloc(nbefore * sizeof(*before))) != NULL)
		memcpy(before, srv->components->items, nbefore * sizeof(*before));
	if (nbefore > 0 && before == NULL) {
		diag_error(&job->d, "out of memory");
		job->errors++;
		return;
	}
	components_reload_settle(srv->components, &job->next, true, &gone, &ngone);
	job->made = false;
	/* Timers and lanes first: the runtimes below submit work to the new instances. */
	if (components_start(srv->components, srv->base, srv->workers) != 0)
		log_error("runtime", "reload: cannot start the timers of new components (out of memory)");
	if (binding_runtime_reload(&srv->bindings, &job->rs) != 0)
		log_error("runtime", "reload: out of memory: the bindings' routes were not updated");
	if (pubsub_runtime_reload(&srv->pubsub, before, nbefore) != 0)
		log_error("runtime", "reload: out of memory moving subscriptions to new instances");
	reload_log_changes(srv->components, gone, ngone, (const struct component *const *)before, nbefore,
			   summary, sizeof(summary));
	reload_retire(r, gone, ngone);
	reload_warn_rest(srv, &job->rs);
	free(r->last_error);
	r->last_error = NULL;
	r->applied++;
	log_info("runtime", "reload %u applied: %s", r->applied, summary);
	free(before);
	free(gone);
}

/* Drops what job made that is not in service, and job itself. Thread: the loop, or main at exit. */
static void reload_job_free(struct server *srv, struct reload_job *job)
{
	struct component **gone = NULL;
	size_t ngone = 0;

	if (job == NULL)
		return;
	if (job->made)
		components_reload_settle(srv->components, &job->next, false, &gone, &ngone);
	resources_free(&job->rs);
	diag_clear(&job->d);
	free(job);
}

static int reload_begin(struct server *srv);

/* The reload thread is done: applies or refuses its job, on the loop. */
static void reload_finish(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct reload *r = srv->reload;
	struct reload_job *job = r->job;
	bool ok;

	(void)fd;
	(void)what;
	pthread_join(r->thread, NULL);
	r->job = NULL;
	if (srv->stopping) {
		log_info("runtime", "reload: outrigd is stopping; the new set is not put in service");
		job->errors++;
	}
	for (size_t i = 0; i < job->d.count; i++)
		if (job->d.lines[i] != NULL)
			log_write(strncmp(job->d.lines[i], "warning: ", 9) == 0 ? OUTRIG_LOG_WARN
										: OUTRIG_LOG_ERROR,
				  "runtime", "reload: %s", job->d.lines[i]);
	if (job->errors == 0)
		reload_apply(srv, job);
	if (job->errors != 0 && !srv->stopping)
		reload_refused(srv, &job->d, job->errors);
	ok = job->errors == 0;
	/* Before the job goes: its destroy() calls must not overlap a next reload's create(). */
	reload_job_free(srv, job);
	r->running = false;
	if (sd_notify_send(ok ? "READY=1\nSTATUS=reload applied"
			      : "READY=1\nSTATUS=reload refused: still serving the previous components") != 0)
		log_warn("runtime", "reload: cannot tell systemd (NOTIFY_SOCKET): READY=1 not sent");
	if (r->again && !srv->stopping) {
		r->again = false;
		log_info("runtime", "reload: another SIGHUP came during that reload: reloading again");
		reload_begin(srv);
	}
}

static int reload_begin(struct server *srv)
{
	struct reload *r = srv->reload;
	struct reload_job *job;
	time_t now = time(NULL);
	struct tm tm;

	if (srv->stopping) {
		log_info("runtime", "reload: ignored, outrigd is stopping");
		return -1;
	}
	if (r->running) {
		/* Coalesced: however many come meanwhile, one more reload follows this one. */
		if (!r->again)
			log_info("runtime", "reload: one is in progress; another follows it");
		r->again = true;
		return 0;
	}
	job = calloc(1, sizeof(*job));
	if (job == NULL) {
		log_error("runtime", "reload: out of memory; still serving the previous components");
		return -1;
	}
	job->srv = srv;
	if (sd_notify_reloading() != 0)
		log_warn("runtime", "reload: cannot tell systemd (NOTIFY_SOCKET): RELOADING=1 not sent");
	log_info("runtime", "reload: reading the resources again");
	strftime(r->last_at, sizeof(r->last_at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	r->job = job;
	r->running = true;
	/* create() may connect (a database, a broker, a slow DNS name): never on the loop. */
	if (pthread_create(&r->thread, NULL, reload_prepare, job) != 0) {
		log_error("runtime", "reload: cannot start the reload thread; still serving the previous "
				     "components");
		r->job = NULL;
		r->running = false;
		free(job);
		return -1;
	}
	return 0;
}

int reload_run(struct server *srv)
{
	return reload_begin(srv);
}

static void reload_on_sighup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	reload_run(arg);
}

int reload_start(struct server *srv, const struct res_set *rs)
{
	struct reload *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	srv->reload = r;
	r->rest_spec = reload_rest_spec(rs);
	r->drain_timer = event_new(srv->base, -1, EV_PERSIST, reload_drain, srv);
	r->finished = event_new(srv->base, -1, 0, reload_finish, srv);
	r->sighup = evsignal_new(srv->base, SIGHUP, reload_on_sighup, srv);
	if (r->rest_spec == NULL || r->drain_timer == NULL || r->finished == NULL || r->sighup == NULL ||
	    event_add(r->sighup, NULL) != 0)
		return -1;
	return 0;
}

void reload_free(struct server *srv)
{
	struct reload *r = srv->reload;

	if (r == NULL)
		return;
	/* A reload still making instances: wait for its create() calls, then drop what they made. */
	if (r->running) {
		pthread_join(r->thread, NULL);
		reload_job_free(srv, r->job);
		r->job = NULL;
		r->running = false;
	}
	for (size_t i = 0; i < r->nretired; i++) {
		component_destroy(r->retired[i]);
		pubsub_runtime_release(&srv->pubsub, r->retired[i]);
		binding_runtime_release(&srv->bindings, r->retired[i]);
	}
	free(r->retired);
	if (r->drain_timer != NULL)
		event_free(r->drain_timer);
	if (r->finished != NULL)
		event_free(r->finished);
	if (r->sighup != NULL)
		event_free(r->sighup);
	free(r->rest_spec);
	free(r->last_error);
	free(r);
	srv->reload = NULL;
}
