/* SPDX-License-Identifier: Apache-2.0 */
/* The Resiliency runtime: targets, their breakers and counters (see resil.h). */
#include "config.h"

#include "resiliency/resil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/util.h>

#include "observe/dapr_metrics.h"
#include "observe/metrics.h"

/* Dapr's circuitBreakerCacheSize default, for app ids only Default policies cover. */
#define RESIL_APP_CACHE 100

struct resil {
	struct event_base *base;
	struct resiliency_set set;
	struct resil_target *targets;
	size_t napps_default; /* app targets made from Default policies alone */
};

static char *resil_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int resil_copy(struct resiliency_set *to, const struct resiliency_set *from)
{
	memset(to, 0, sizeof(*to));
	to->targets = calloc(from->ntargets + 1, sizeof(*to->targets));
	to->defaults = calloc(from->ndefaults + 1, sizeof(*to->defaults));
	if (to->targets == NULL || to->defaults == NULL)
		return -1;
	for (size_t i = 0; i < from->ntargets; i++) {
		struct resiliency_target *t = &to->targets[to->ntargets++];

		*t = from->targets[i];
		t->component = resil_strdup(t->component);
		t->policy_name = resil_strdup(t->policy_name);
		t->timeout_name = resil_strdup(t->timeout_name);
		t->breaker_name = resil_strdup(t->breaker_name);
		t->origin = resil_strdup(t->origin);
		if (t->component == NULL)
			return -1;
	}
	for (size_t i = 0; i < from->ndefaults; i++) {
		struct resiliency_default *d = &to->defaults[to->ndefaults++];

		*d = from->defaults[i];
		d->name = resil_strdup(d->name);
		d->origin = resil_strdup(d->origin);
		if (d->name == NULL)
			return -1;
	}
	return 0;
}

struct resil *resil_new(struct event_base *base, const struct resiliency_set *set)
{
	struct resil *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->base = base;
	if (resil_copy(&r->set, set) != 0) {
		resil_free(r);
		return NULL;
	}
	return r;
}

void resil_free(struct resil *r)
{
	if (r == NULL)
		return;
	while (r->targets != NULL) {
		struct resil_target *t = r->targets;

		r->targets = t->next;
		free(t->name);
		free(t);
	}
	resiliency_free(&r->set);
	free(r);
}

int64_t resil_now_ms(const struct resil *r)
{
	struct timeval tv;

	if (r->base == NULL || event_base_gettimeofday_cached(r->base, &tv) != 0)
		evutil_gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

struct event_base *resil_base(const struct resil *r)
{
	return r->base;
}

/* Drops the least recently used unused app target made from Default policies alone. */
static void resil_evict_app(struct resil *r)
{
	struct resil_target **victim = NULL;

	for (struct resil_target **p = &r->targets; *p != NULL; p = &(*p)->next) {
		const struct resil_target *t = *p;

		if (t->kind == RESIL_TARGET_APP && t->inflight == 0 &&
		    resiliency_lookup(&r->set, RESIL_TARGET_APP, t->name, NULL, false, NULL, NULL, NULL) ==
			    NULL &&
		    (victim == NULL || t->last_used_ms < (*victim)->last_used_ms))
			victim = p;
	}
	if (victim != NULL) {
		struct resil_target *t = *victim;

		*victim = t->next;
		free(t->name);
		free(t);
		r->napps_default--;
	}
}

struct resil_target *resil_target(struct resil *r, enum resil_target_kind kind, const char *name,
				  const char *type, bool inbound)
{
	const struct retry_policy *retry;
	const struct breaker_policy *breaker;
	const struct resiliency_target *named;
	struct resil_target *t;
	int64_t timeout_ms;

	if (r == NULL || name == NULL)
		return NULL;
	for (t = r->targets; t != NULL; t = t->next) {
		if (t->kind == kind && t->inbound == inbound && strcmp(t->name, name) == 0) {
			t->last_used_ms = resil_now_ms(r);
			return t;
		}
	}
	named = resiliency_lookup(&r->set, kind, name, type, inbound, &retry, &timeout_ms, &breaker);
	if (retry == NULL && timeout_ms == 0 && breaker == NULL)
		return NULL;
	if (kind == RESIL_TARGET_APP && named == NULL && r->napps_default >= RESIL_APP_CACHE)
		resil_evict_app(r);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->name = strdup(name);
	if (t->name == NULL) {
		free(t);
		return NULL;
	}
	t->kind = kind;
	t->inbound = inbound;
	if (retry != NULL) {
		t->retry_copy = *retry;
		t->retry = &t->retry_copy;
	}
	t->timeout_ms = timeout_ms;
	t->has_breaker = breaker != NULL;
	t->last_used_ms = resil_now_ms(r);
	if (breaker != NULL)
		breaker_init(&t->breaker, breaker, t->last_used_ms);
	if (kind == RESIL_TARGET_APP && named == NULL)
		r->napps_default++;
	t->next = r->targets;
	r->targets = t;
	return t;
}

bool resil_retry_next(const struct resil_target *t, unsigned attempt, int64_t *wait_ms)
{
	if (t->retry == NULL || !retry_policy_allows(t->retry, attempt))
		return false;
	*wait_ms = retry_policy_delay_ms(t->retry, attempt);
	return true;
}

void resil_each(const struct resil *r, void (*fn)(const struct resil_target *t, void *arg), void *arg)
{
	for (const struct resil_target *t = r->targets; t != NULL; t = t->next)
		fn(t, arg);
}

const struct resiliency_default *resil_named(const struct resil *r, const char *name)
{
	return resiliency_named_default(&r->set, name, RESIL_POLICY_RETRY);
}

bool resil_inbound_allow(struct resil *r, const char *component, const char *type, struct resil_pass *pass,
			 const char **why)
{
	struct resil_target *t = resil_target(r, RESIL_TARGET_COMPONENT, component, type, true);
	enum breaker_refusal refusal;

	pass->t = NULL;
	pass->timeout_ms = 0;
	if (t == NULL)
		return true;
	refusal = t->has_breaker ? breaker_allow(&t->breaker, resil_now_ms(r), &pass->generation)
				 : BREAKER_ALLOWED;
	if (refusal != BREAKER_ALLOWED) {
		resil_count(t, RESIL_BREAKER_REFUSED);
		*why = breaker_refusal_text(refusal);
		return false;
	}
	resil_count(t, RESIL_ATTEMPT);
	pass->t = t;
	pass->timeout_ms = t->timeout_ms;
	return true;
}

void resil_inbound_done(struct resil *r, struct resil_pass *pass, bool success)
{
	if (pass->t == NULL)
		return;
	if (!success)
		resil_count(pass->t, RESIL_FAILURE);
	if (pass->t->has_breaker)
		breaker_done(&pass->t->breaker, resil_now_ms(r), pass->generation, success);
	pass->t = NULL;
}

void resil_inbound_timeout(struct resil *r, struct resil_pass *pass)
{
	if (pass->t != NULL)
		resil_count(pass->t, RESIL_TIMEOUT);
	resil_inbound_done(r, pass, false);
}

/* The target as daprd labels it in its resiliency metrics. */
static void resil_target_label(const struct resil_target *t, char *buf, size_t size)
{
	static const char *const prefix[] = { "component_", "app_", "actor_" };

	snprintf(buf, size, "%s%s", prefix[t->kind], t->name);
}

void resil_count(struct resil_target *t, enum resil_event e)
{
	char target[300];

	switch (e) {
	case RESIL_ATTEMPT: t->counters.attempts++; break;
	case RESIL_RETRY: t->counters.retries++; break;
	case RESIL_TIMEOUT: t->counters.timeouts++; break;
	case RESIL_FAILURE: t->counters.failures++; return;
	case RESIL_BREAKER_REFUSED: t->counters.breaker_refused++; break;
	}
	if (!metrics_enabled())
		return;
	resil_target_label(t, target, sizeof(target));
	switch (e) {
	case RESIL_ATTEMPT:
		/* Each policy the target has applies to the attempt. */
		if (t->timeout_ms > 0)
			dm_resiliency(false, "timeout", t->inbound, target, "");
		if (t->retry != NULL)
			dm_resiliency(false, "retry", t->inbound, target, "");
		if (t->has_breaker)
			dm_resiliency(false, "circuitbreaker", t->inbound, target, "");
		break;
	case RESIL_RETRY: dm_resiliency(true, "retry", t->inbound, target, ""); break;
	case RESIL_TIMEOUT: dm_resiliency(true, "timeout", t->inbound, target, ""); break;
	case RESIL_BREAKER_REFUSED: dm_resiliency(true, "circuitbreaker", t->inbound, target, "open"); break;
	case RESIL_FAILURE: break;
	}
}
