/* SPDX-License-Identifier: Apache-2.0 */
/* The one way the core calls a plugin operation, under its Resiliency policy (see component_call.h). */
#include "config.h"

#include "components/component_call.h"

#include <stdlib.h>

#include <event2/event.h>

#include <outrig/status.h>

#include "components/component.h"
#include "observe/trace.h"
#include "resiliency/resil.h"
#include "runtime.h"

/* A traced plugin call is back on the loop: its span ends, then the caller's done runs. */
static void component_call_traced_done(struct work *w)
{
	trace_end(w->span, false);
	w->span = NULL;
	w->done = w->traced_done;
	w->done(w);
}
/* One operation under a policy: the block's work and where its attempts stand. */
struct ccall {
	struct work work; /* what the workers run: the block's run() */
	struct work *user;
	const struct component_call_ops *ops;
	struct server *srv;
	struct component *c;
	struct resil_target *t;
	struct event *timer; /* the attempt's deadline, or the wait before the next one */
	unsigned attempt;
	uint64_t generation;
	bool counted;	/* the breaker let this attempt through */
	bool timed_out; /* answered at the deadline: the late result is discarded */
	bool waiting;	/* between attempts */
	bool refused;	/* the last attempt was refused by the breaker (no outcome in user) */
	bool ran;	/* user holds the outcome of an attempt: reset() before the next one */
	bool final;	/* waiting only to answer the refusal outside the caller's submit */
	enum breaker_refusal why;
	struct trace_ctx parent; /* the API call's span, when it is sampled (traced) */
	bool traced;
	struct span *span;	   /* the attempt's span, while it runs */
	struct ccall *prev, *next; /* ccall_waiting */
};

/* Calls waiting to retry: the stop finishes them. */
static struct ccall *ccall_waiting;

static void ccall_start(struct ccall *cc);

bool component_call_failure(int status)
{
	return status == OUTRIG_EUNAVAIL || status == OUTRIG_ETIMEDOUT || status == OUTRIG_EINTERNAL ||
	       status == OUTRIG_ENOMEM;
}

void component_call_submit(struct server *srv, struct component *c, struct work *w)
{
	const struct trace_ctx *parent = trace_current();

	/* A child of the API call being served, when that call is sampled. */
	if (parent != NULL &&
	    (w->span = trace_begin(parent, c->type, TRACE_KIND_CLIENT, &(struct trace_ctx){ 0 })) != NULL) {
		trace_attr(w->span, "dapr.component.name", c->name);
		trace_attr(w->span, "dapr.component.type", c->type);
		w->traced_done = w->done;
		w->done = component_call_traced_done;
	}
	w->lane = component_lane(c);
	workers_submit(srv->workers, w);
}

static void ccall_unwait(struct ccall *cc)
{
	if (!cc->waiting)
		return;
	if (cc->prev != NULL)
		cc->prev->next = cc->next;
	else
		ccall_waiting = cc->next;
	if (cc->next != NULL)
		cc->next->prev = cc->prev;
	cc->prev = cc->next = NULL;
	cc->waiting = false;
	component_lane(cc->c)->queued--;
}

static void ccall_free(struct ccall *cc)
{
	ccall_unwait(cc);
	if (cc->timer != NULL)
		event_free(cc->timer);
	if (cc->span != NULL)
		trace_discard(cc->span);
	cc->t->inflight--;
	free(cc);
}

static void ccall_wait(struct ccall *cc, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	/* The lane counts the call while it waits, so a reload does not destroy its component meanwhile. */
	component_lane(cc->c)->queued++;
	cc->waiting = true;
	cc->prev = NULL;
	cc->next = ccall_waiting;
	if (ccall_waiting != NULL)
		ccall_waiting->prev = cc;
	ccall_waiting = cc;
	evtimer_add(cc->timer, &tv);
}

/* The attempt could not run (the breaker refused): retry later, or answer with why. */
static void ccall_refused(struct ccall *cc, enum breaker_refusal why)
{
	int64_t wait;

	resil_count(cc->t, RESIL_BREAKER_REFUSED);
	cc->refused = true;
	cc->why = why;
	if (!cc->srv->stopping && resil_retry_next(cc->t, cc->attempt, &wait)) {
		ccall_wait(cc, wait);
		return;
	}
	/* Answered from the loop, never inside the caller's submit, as a worker's answer would be. */
	cc->final = true;
	ccall_wait(cc, 0);
}

static void ccall_answer_refusal(struct ccall *cc)
{
	cc->ops->answer(cc->user, OUTRIG_EUNAVAIL, breaker_refusal_text(cc->why));
	cc->ops->discard(cc->user);
	ccall_free(cc);
}

static void ccall_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ccall *cc = arg;

	(void)fd;
	(void)what;
	if (cc->waiting) {
		ccall_unwait(cc);
		if (cc->final)
			ccall_answer_refusal(cc);
		else
			ccall_start(cc);
		return;
	}
	/* The attempt's deadline: answer now; the worker's result is dropped when it comes. */
	cc->timed_out = true;
	trace_end(cc->span, true);
	cc->span = NULL;
	resil_count(cc->t, RESIL_TIMEOUT);
	resil_count(cc->t, RESIL_FAILURE);
	if (cc->t->has_breaker && cc->counted)
		breaker_done(&cc->t->breaker, resil_now_ms(cc->srv->resil), cc->generation, false);
	cc->ops->answer(cc->user, OUTRIG_ETIMEDOUT, "context deadline exceeded");
}

static void ccall_run(struct work *w)
{
	struct ccall *cc = (struct ccall *)w;

	cc->user->run(cc->user);
}

static void ccall_done(struct work *w)
{
	struct ccall *cc = (struct ccall *)w;
	int status;
	bool failed;
	int64_t wait;

	if (cc->timed_out) {
		cc->ops->discard(cc->user);
		ccall_free(cc);
		return;
	}
	evtimer_del(cc->timer);
	status = cc->ops->status(cc->user);
	failed = component_call_failure(status);
	trace_end(cc->span, failed);
	cc->span = NULL;
	if (failed)
		resil_count(cc->t, RESIL_FAILURE);
	if (cc->t->has_breaker && cc->counted)
		breaker_done(&cc->t->breaker, resil_now_ms(cc->srv->resil), cc->generation, !failed);
	/* The outcome stays in user until the next attempt: a stop meanwhile reports it. */
	cc->ran = true;
	if (failed && !cc->srv->stopping && resil_retry_next(cc->t, cc->attempt, &wait)) {
		ccall_wait(cc, wait);
		return;
	}
	cc->user->done(cc->user);
	ccall_free(cc);
}

static void ccall_start(struct ccall *cc)
{
	struct resil_target *t = cc->t;

	cc->attempt++;
	cc->counted = false;
	if (t->has_breaker) {
		enum breaker_refusal why =
			breaker_allow(&t->breaker, resil_now_ms(cc->srv->resil), &cc->generation);

		if (why != BREAKER_ALLOWED) {
			ccall_refused(cc, why);
			return;
		}
		cc->counted = true;
	}
	cc->refused = false;
	if (cc->ran) {
		cc->ops->reset(cc->user);
		cc->ran = false;
	}
	resil_count(t, RESIL_ATTEMPT);
	if (cc->attempt > 1)
		resil_count(t, RESIL_RETRY);
	if (t->timeout_ms > 0) {
		struct timeval tv = { (time_t)(t->timeout_ms / 1000),
				      (suseconds_t)(t->timeout_ms % 1000) * 1000 };

		evtimer_add(cc->timer, &tv);
	}
	/* Each attempt is a child span of the API call (a retry is another plugin call). */
	if (cc->traced && (cc->span = trace_begin(&cc->parent, cc->c->type, TRACE_KIND_CLIENT,
						  &(struct trace_ctx){ 0 })) != NULL) {
		trace_attr(cc->span, "dapr.component.name", cc->c->name);
		trace_attr(cc->span, "dapr.component.type", cc->c->type);
	}
	cc->work.run = ccall_run;
	cc->work.done = ccall_done;
	cc->work.lane = component_lane(cc->c);
	workers_submit(cc->srv->workers, &cc->work);
}

void component_call_run(struct server *srv, struct component *c, struct work *w,
			const struct component_call_ops *ops)
{
	struct resil_target *t = resil_target(srv->resil, RESIL_TARGET_COMPONENT, c->name, c->type, false);
	struct ccall *cc;

	if (t == NULL) {
		component_call_submit(srv, c, w);
		return;
	}
	cc = calloc(1, sizeof(*cc));
	if (cc != NULL)
		cc->timer = evtimer_new(srv->base, ccall_timer, cc);
	if (cc == NULL || cc->timer == NULL) {
		/* Out of memory: the call goes without its policy rather than not at all. */
		free(cc);
		component_call_submit(srv, c, w);
		return;
	}
	cc->user = w;
	cc->ops = ops;
	cc->srv = srv;
	cc->c = c;
	cc->t = t;
	/* Retries start after the API call's handler returned: keep its span's context. */
	if (trace_current() != NULL) {
		cc->parent = *trace_current();
		cc->traced = true;
	}
	t->inflight++;
	ccall_start(cc);
}

void component_call_stop(struct server *srv)
{
	(void)srv;
	while (ccall_waiting != NULL) {
		struct ccall *cc = ccall_waiting;

		ccall_unwait(cc);
		evtimer_del(cc->timer);
		if (cc->refused) {
			ccall_answer_refusal(cc);
			continue;
		}
		cc->user->done(cc->user);
		ccall_free(cc);
	}
}

void component_call_free_waiting(void)
{
	while (ccall_waiting != NULL) {
		struct ccall *cc = ccall_waiting;

		ccall_unwait(cc);
		cc->ops->discard(cc->user);
		ccall_free(cc);
	}
}
