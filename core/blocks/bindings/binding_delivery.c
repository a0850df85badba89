/* SPDX-License-Identifier: Apache-2.0 */
/* Input bindings: delivering their events to the app, in order, with retries until it acknowledges. */
#include "config.h"

#include "blocks/bindings/binding_delivery.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <outrig/pubsub.h>

#include "channels/app_bindings.h"
#include "channels/app_health.h"
#include "blocks/bindings/binding_runtime.h"
#include "components/component.h"
#include "base/handoff.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "base/log.h"
#include "observe/trace.h"
#include "resources/resiliency.h"
#include "resiliency/resil.h"
#include "runtime.h"

#define BDELIVERY_SCOPE "bindings"

/*
 * Without a Resiliency policy for the component, an event is tried again forever, 500 ms after
 * the first failure and half as long again each time up to 10 s: the plugin commits it to its
 * source only once the app took it, so giving up would lose it.
 */
static const struct retry_policy bdelivery_default_retry = {
	.kind = RETRY_EXPONENTIAL,
	.duration_ms = 500,
	.max_interval_ms = 10000,
	.max_retries = -1,
};

struct binding_event;

/*
 * One attempt at the app, apart from its event: an attempt cut at its inbound timeout (or whose
 * event was settled meanwhile) is orphaned, and the app's late answer then only frees it.
 */
struct bdelivery_attempt {
	struct app_bindings_call call;	    /* the app channel's, until its callback */
	struct binding_event *ev;	    /* NULL once orphaned */
	LIST_ENTRY(bdelivery_attempt) link; /* in the engine's orphans */
	char route[];			    /* the call's route, which may outlive a reload */
};

/* One accepted event, from binding_deliver() until its done() call. */
struct binding_event {
	struct binding_engine *engine;
	struct outrig_binding_sink *sink;
	char *data;
	size_t len;
	struct outrig_kv *md; /* the event's metadata, forwarded to the app */
	size_t nmd;
	void (*done)(void *done_ctx, int outcome);
	void *done_ctx;
	unsigned attempt; /* deliveries to the app so far */
	double sent_ms;	  /* metrics_now_ms() when the attempt was sent: input binding latency */
	struct event *timer;
	struct bdelivery_attempt *inflight; /* the delivery to the app, while it is out */
	struct event *deadline;		    /* cuts it at the inbound timeout */
	int code;			    /* the last failed answer's status (app_bindings_call), or 0 */
	bool code_grpc;
	struct span *span;	/* the attempt's span, when traced */
	struct resil_pass pass; /* through the component's inbound circuit breaker */
	struct handoff_item inbox;
	struct binding_event *next; /* in its sink's queue */
};

struct binding_engine {
	struct binding_runtime *rt;
	struct server *srv;
	atomic_uint pending;

	struct handoff inbox;			/* from plugin threads */
	LIST_HEAD(, bdelivery_attempt) orphans; /* cut attempts the app has not answered yet */
};

static void bdelivery_drain(void *arg);
static void bdelivery_pump_all(struct binding_engine *e);

/* The app is healthy again: bindings that paused may go on. */
static void bdelivery_resume(void *arg)
{
	struct binding_engine *e = arg;

	if (!handoff_stopped(&e->inbox))
		bdelivery_pump_all(e);
}

struct binding_engine *binding_engine_new(struct binding_runtime *rt)
{
	struct binding_engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->rt = rt;
	e->srv = rt->srv;
	if (handoff_init(&e->inbox, e->srv->base, bdelivery_drain, e) != 0) {
		free(e);
		return NULL;
	}
	if (app_health_watch(e->srv, bdelivery_resume, e) != 0) {
		handoff_free(&e->inbox);
		free(e);
		return NULL;
	}
	return e;
}

/* Its event no longer waits for the attempt in flight: the app's answer will be dropped. */
static void bdelivery_orphan(struct binding_event *ev)
{
	struct bdelivery_attempt *a = ev->inflight;

	if (ev->deadline != NULL)
		evtimer_del(ev->deadline);
	if (a == NULL)
		return;
	ev->inflight = NULL;
	a->ev = NULL;
	LIST_INSERT_HEAD(&ev->engine->orphans, a, link);
}

static void bdelivery_free(struct binding_event *ev)
{
	bdelivery_orphan(ev);
	if (ev->deadline != NULL)
		event_free(ev->deadline);
	/* Counted in by binding_deliver: the sink is idle once none is left. */
	atomic_fetch_sub(&ev->sink->held, 1);
	if (ev->timer != NULL)
		event_free(ev->timer);
	trace_discard(ev->span);
	for (size_t i = 0; i < ev->nmd; i++) {
		free((char *)ev->md[i].key);
		free((char *)ev->md[i].value);
	}
	free(ev->md);
	free(ev->data);
	free(ev);
}

/* Copies md as it is: which entries the app can be given is the channel's to say. */
static int bdelivery_copy_metadata(struct binding_event *ev, const struct outrig_metadata *md)
{
	if (md->count == 0)
		return 0;
	if ((ev->md = calloc(md->count, sizeof(*ev->md))) == NULL)
		return OUTRIG_ENOMEM;
	for (size_t i = 0; i < md->count; i++) {
		const char *k = md->items[i].key, *v = md->items[i].value;

		if (k == NULL || v == NULL)
			continue;
		ev->md[ev->nmd].key = strdup(k);
		ev->md[ev->nmd].value = strdup(v);
		if (ev->md[ev->nmd].key == NULL || ev->md[ev->nmd].value == NULL) {
			ev->nmd++;
			return OUTRIG_ENOMEM;
		}
		ev->nmd++;
	}
	return 0;
}

int binding_deliver(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
		    void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	struct binding_engine *e;
	struct binding_event *b;

	if (sink == NULL || ev == NULL || done == NULL || (ev->data == NULL && ev->data_len > 0))
		return OUTRIG_EINVAL;
	e = sink->rt->engine;
	if (e == NULL)
		return OUTRIG_EUNAVAIL;
	/* A graceful stop takes no new events: the source keeps them, unacknowledged, for the next run. */
	if (__atomic_load_n(&e->srv->stopping, __ATOMIC_RELAXED))
		return OUTRIG_EUNAVAIL;
	/*
	 * Counted before the test, as binding_sink_close sets closed before it reads held: an event
	 * either sees the sink closed or is seen by whoever waits for the sink to be idle.
	 */
	atomic_fetch_add(&sink->held, 1);
	if (atomic_load(&sink->closed)) {
		atomic_fetch_sub(&sink->held, 1);
		return OUTRIG_EUNAVAIL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		atomic_fetch_sub(&sink->held, 1);
		return OUTRIG_ENOMEM;
	}
	b->engine = e;
	b->sink = sink;
	b->done = done;
	b->done_ctx = done_ctx;
	b->data = malloc(ev->data_len > 0 ? ev->data_len : 1);
	if (b->data == NULL || bdelivery_copy_metadata(b, &ev->metadata) != 0) {
		bdelivery_free(b);
		return OUTRIG_ENOMEM;
	}
	if (ev->data_len > 0)
		memcpy(b->data, ev->data, ev->data_len);
	b->len = ev->data_len;

	/* Counted before the loop can see it, so that its settling never comes first. */
	atomic_fetch_add(&e->pending, 1);
	if (handoff_push(&e->inbox, &b->inbox) != 0) {
		atomic_fetch_sub(&e->pending, 1);
		bdelivery_free(b);
		return OUTRIG_EUNAVAIL;
	}
	return 0;
}

unsigned binding_engine_pending(struct binding_engine *e)
{
	return e != NULL ? atomic_load(&e->pending) : 0;
}

/* ---- the loop's side ---- */

static void bdelivery_pump(struct outrig_binding_sink *sink);

static const struct retry_policy *bdelivery_policy(const struct binding_event *ev)
{
	return ev->sink->has_retry ? &ev->sink->retry : &bdelivery_default_retry;
}

/* Takes the sink's first event off its queue and tells the plugin how it ended. */
static void bdelivery_settle(struct binding_event *ev, int outcome)
{
	struct outrig_binding_sink *sink = ev->sink;
	struct binding_engine *e = ev->engine;

	sink->head = ev->next;
	if (sink->head == NULL)
		sink->tail = NULL;
	sink->sending = false;
	ev->done(ev->done_ctx, outcome);
	bdelivery_free(ev);
	atomic_fetch_sub(&e->pending, 1);
	if (!handoff_stopped(&e->inbox))
		bdelivery_pump(sink);
}

static void bdelivery_send(struct binding_event *ev);

static void bdelivery_after(struct binding_event *ev, int64_t delay_ms)
{
	struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000 };

	if (ev->timer == NULL || evtimer_add(ev->timer, &tv) != 0) {
		/* Cannot wait: hand it back unacknowledged, for the source to bring again. */
		log_error(BDELIVERY_SCOPE, "out of memory scheduling a retry of an event of input binding %s",
			  ev->sink->component->name);
		bdelivery_settle(ev, OUTRIG_PUBSUB_UNSETTLED);
	}
}

static void bdelivery_retry_now(evutil_socket_t fd, short what, void *arg)
{
	struct binding_event *ev = arg;

	/* Stopping: it stays unsettled, for the source to bring back. */
	if (ev->engine->srv->stopping)
		return;
	/* An unhealthy app gets no retries either: wait another backoff, without counting it. */
	if (!app_health_ok(ev->engine->srv))
		bdelivery_after(ev, retry_policy_delay_ms(bdelivery_policy(ev), ev->attempt));
	else
		bdelivery_send(ev);
}

static void bdelivery_failed(struct binding_event *ev, const char *why)
{
	const struct retry_policy *p = bdelivery_policy(ev);
	const char *name = ev->sink->component->name;
	char call[300];

	app_bindings_deliver_name(ev->engine->rt->app, ev->sink->route, call, sizeof(call));
	/* A status the retry policy's matching does not list is not retried (as an exhausted retry). */
	if (ev->code != 0 && !retry_policy_matches(p, !ev->code_grpc, (unsigned)ev->code)) {
		log_warn(BDELIVERY_SCOPE,
			 "event of input binding %s dropped: %s failed (%s), a status its Resiliency retry "
			 "policy's matching does not list",
			 name, call, why);
		bdelivery_settle(ev, OUTRIG_PUBSUB_SETTLED);
		return;
	}
	if (!retry_policy_allows(p, ev->attempt)) {
		/* Only a Resiliency policy bounds retries; like daprd, the event is then given up. */
		log_warn(
			BDELIVERY_SCOPE,
			"event of input binding %s dropped: %s failed (%s) and the %lld retries of its Resiliency policy are spent",
			name, call, why, (long long)p->max_retries);
		bdelivery_settle(ev, OUTRIG_PUBSUB_SETTLED);
		return;
	}
	if (ev->timer == NULL)
		ev->timer = evtimer_new(ev->engine->srv->base, bdelivery_retry_now, ev);
	log_debug(BDELIVERY_SCOPE, "event of input binding %s: %s failed (%s); retry %u", name, call, why,
		  ev->attempt);
	bdelivery_after(ev, retry_policy_delay_ms(p, ev->attempt));
}

/* How the app took it, or (timed_out) that it did not answer in time. */
static void bdelivery_outcome(struct binding_event *ev, bool acknowledged, const char *why, bool timed_out)
{
	trace_end(ev->span, !acknowledged);
	ev->span = NULL;
	dm_component(DM_INPUT_BINDING, ev->sink->component->name, NULL, acknowledged,
		     metrics_now_ms() - ev->sent_ms);
	if (timed_out)
		resil_inbound_timeout(ev->engine->srv->resil, &ev->pass);
	else
		resil_inbound_done(ev->engine->srv->resil, &ev->pass, acknowledged);
	if (acknowledged)
		bdelivery_settle(ev, OUTRIG_PUBSUB_SETTLED);
	else
		bdelivery_failed(ev, why);
}

/*
 * With tracing on, the attempt's span "bindings/<name>" (a child of a traceparent the event's
 * metadata carries, else a new trace's root) and md: the event's metadata with that span's
 * context in place of the event's. Returns md's items to free (NULL when md is the event's own).
 */
static struct outrig_kv *bdelivery_trace(struct binding_event *ev, struct outrig_metadata *md, char *tp)
{
	struct trace_ctx parent, child;
	bool has_parent = false;
	struct outrig_kv *items;
	const char *name = ev->sink->route + (ev->sink->route[0] == '/');
	char span_name[192];
	size_t n = 0;

	if (!trace_enabled() || (items = calloc(ev->nmd + 1, sizeof(*items))) == NULL)
		return NULL;
	for (size_t i = 0; i < ev->nmd; i++) {
		if (strcasecmp(ev->md[i].key, "traceparent") == 0) {
			has_parent = has_parent || trace_parse(ev->md[i].value, &parent);
			continue;
		}
		items[n++] = ev->md[i];
	}
	snprintf(span_name, sizeof(span_name), "bindings/%s", name);
	trace_discard(ev->span);
	ev->span = trace_begin(has_parent ? &parent : NULL, span_name, TRACE_KIND_CONSUMER, &child);
	trace_attr(ev->span, "db.system", "bindings");
	trace_attr(ev->span, "db.name", name);
	trace_attr(ev->span, "dapr.protocol", ev->engine->srv->app_grpc != NULL ? "grpc" : "http");
	trace_format(&child, tp);
	items[n++] = (struct outrig_kv){ "traceparent", tp };
	md->items = items;
	md->count = n;
	return items;
}

static void bdelivery_answered(struct binding_event *ev, bool acknowledged, const char *why)
{
	bdelivery_outcome(ev, acknowledged, why, false);
}

/* The app channel's answer to one attempt: dropped when the attempt was orphaned. */
static void bdelivery_attempt_answered(void *arg, bool acknowledged, const char *why)
{
	struct bdelivery_attempt *a = arg;
	struct binding_event *ev = a->ev;

	if (ev == NULL) {
		LIST_REMOVE(a, link);
		free(a);
		return;
	}
	ev->inflight = NULL;
	ev->code = a->call.code;
	ev->code_grpc = a->call.grpc;
	free(a);
	if (ev->deadline != NULL)
		evtimer_del(ev->deadline);
	bdelivery_answered(ev, acknowledged, why);
}

/* The attempt's inbound timeout passed: it fails (and is retried); the app's answer is dropped. */
static void bdelivery_cut(evutil_socket_t fd, short what, void *arg)
{
	struct binding_event *ev = arg;
	char why[160];

	bdelivery_orphan(ev);
	snprintf(why, sizeof(why), "the app did not answer within the inbound timeout of %lld ms",
		 (long long)ev->pass.timeout_ms);
	bdelivery_outcome(ev, false, why, true);
}

static void bdelivery_send(struct binding_event *ev)
{
	struct outrig_metadata md = { .count = ev->nmd, .items = ev->md };
	char tp[TRACE_PARENT_LEN];
	struct outrig_kv *traced;
	struct bdelivery_attempt *a;
	const char *why;
	int rc;

	ev->code = 0;
	/* An open breaker: the event waits its backoff, without counting as an attempt. */
	if (!resil_inbound_allow(ev->engine->srv->resil, ev->sink->component->name, ev->sink->component->type,
				 &ev->pass, &why)) {
		if (ev->timer == NULL)
			ev->timer = evtimer_new(ev->engine->srv->base, bdelivery_retry_now, ev);
		bdelivery_after(ev, retry_policy_delay_ms(bdelivery_policy(ev), ev->attempt));
		return;
	}
	traced = bdelivery_trace(ev, &md, tp);
	ev->attempt++;
	ev->sent_ms = metrics_start_ms();
	a = calloc(1, sizeof(*a) + strlen(ev->sink->route) + 1);
	if (a == NULL) {
		free(traced);
		bdelivery_answered(ev, false, "out of memory");
		return;
	}
	a->ev = ev;
	strcpy(a->route, ev->sink->route);
	ev->inflight = a;
	if (ev->pass.timeout_ms > 0) {
		struct timeval tv = { (time_t)(ev->pass.timeout_ms / 1000),
				      (suseconds_t)(ev->pass.timeout_ms % 1000) * 1000 };

		if (ev->deadline == NULL)
			ev->deadline = evtimer_new(ev->engine->srv->base, bdelivery_cut, ev);
		if (ev->deadline == NULL || evtimer_add(ev->deadline, &tv) != 0) {
			ev->inflight = NULL;
			free(a);
			free(traced);
			bdelivery_answered(ev, false, "out of memory arming the inbound timeout");
			return;
		}
	}
	/* The answer may come at once (cb inside the call): a and ev are not touched after. */
	rc = app_bindings_deliver(ev->engine->rt->app, a->route, &md, ev->data, ev->len, &a->call,
				  bdelivery_attempt_answered, a);
	free(traced);
	if (rc != 0) {
		ev->inflight = NULL;
		free(a);
		if (ev->deadline != NULL)
			evtimer_del(ev->deadline);
		bdelivery_answered(ev, false, "out of memory");
	}
}

/* Sends the sink's first event unless one is already out: a binding's events go in order. */
static void bdelivery_pump(struct outrig_binding_sink *sink)
{
	struct binding_engine *e = sink->rt->engine;

	/* A graceful stop lets calls in flight finish but starts no new ones; an unhealthy app gets none. */
	if (sink->sending || sink->head == NULL || handoff_stopped(&e->inbox) || e->srv->stopping ||
	    !app_health_ok(e->srv))
		return;
	sink->sending = true;
	bdelivery_send(sink->head);
}

static void bdelivery_pump_all(struct binding_engine *e)
{
	for (size_t i = 0; i < e->rt->nsinks; i++)
		bdelivery_pump(e->rt->sinks[i]);
	/* Those a reload ended still deliver what they took. */
	for (size_t i = 0; i < e->rt->nretired; i++)
		bdelivery_pump(e->rt->retired[i]);
}

static void bdelivery_drain(void *arg)
{
	struct binding_engine *e = arg;
	struct handoff_item *batch = handoff_take_all(&e->inbox);

	while (batch != NULL) {
		struct binding_event *ev = handoff_entry(batch, struct binding_event, inbox);
		struct outrig_binding_sink *sink = ev->sink;

		batch = batch->next;
		ev->next = NULL;
		if (sink->tail != NULL)
			sink->tail->next = ev;
		else
			sink->head = ev;
		sink->tail = ev;
		bdelivery_pump(sink);
	}
}

void binding_engine_stop(struct binding_engine *e)
{
	struct handoff_item *rest;

	if (e == NULL)
		return;
	rest = handoff_stop(&e->inbox);
	while (rest != NULL) {
		struct binding_event *ev = handoff_entry(rest, struct binding_event, inbox);

		rest = rest->next;
		ev->done(ev->done_ctx, OUTRIG_PUBSUB_UNSETTLED);
		bdelivery_free(ev);
		atomic_fetch_sub(&e->pending, 1);
	}
	/* Calls still out to the app are dropped with the channel, which never calls back. */
	for (size_t i = 0; i < e->rt->nsinks; i++)
		while (e->rt->sinks[i]->head != NULL)
			bdelivery_settle(e->rt->sinks[i]->head, OUTRIG_PUBSUB_UNSETTLED);
	for (size_t i = 0; i < e->rt->nretired; i++)
		while (e->rt->retired[i]->head != NULL)
			bdelivery_settle(e->rt->retired[i]->head, OUTRIG_PUBSUB_UNSETTLED);
}

void binding_engine_free(struct binding_engine *e)
{
	if (e == NULL)
		return;
	app_health_unwatch(e->srv, bdelivery_resume, e);
	/* The app channel goes with the runtime and never answers them. */
	while (!LIST_EMPTY(&e->orphans)) {
		struct bdelivery_attempt *a = LIST_FIRST(&e->orphans);

		LIST_REMOVE(a, link);
		free(a);
	}
	handoff_free(&e->inbox);
	free(e);
}
