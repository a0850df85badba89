/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service invocation under Resiliency (API.md §11): the target app's timeout, retry and circuit
 * breaker around each call, for every front end (HTTP and gRPC InvokeService both come here),
 * and Dapr's built-in retries of sidecar-to-sidecar calls (DaprBuiltInServiceRetries).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/kv.h"
#include "blocks/invoke/invoke.h"
#include "channels/app_grpc.h"
#include "resiliency/resil.h"
#include "runtime.h"

/* Dapr's built-in retries of calls between sidecars: 3, 1 s apart, on Unavailable. */
static const struct retry_policy invoke_builtin_retry = { RETRY_CONSTANT, 1000, 60000, 3, { 0 }, { 0 } };

/* One invocation under a policy: a copy of the request, for each attempt. */
struct invoke_policy {
	struct server *srv;
	struct resil_target *t; /* NULL: the built-in retries only */
	const struct retry_policy *retry;
	bool builtin; /* retry is DaprBuiltInServiceRetries: unreachable sidecars only */
	int64_t timeout_ms;
	invoke_done_fn done;
	void *arg;
	bool (*wanted)(void *arg);
	struct invoke_request rq; /* the copy; strings below */
	char *target, *method, *verb, *query, *content_type, *client, *self, *data_type_url;
	struct kv_list headers;
	void *body;
	struct event *timer;
	unsigned attempt;
	unsigned outstanding; /* attempts whose answer has not come (timed out ones included) */
	uint64_t generation;
	bool counted;
	bool answered;		    /* the caller has its answer: later ones are dropped */
	bool waiting;		    /* between attempts */
	struct invoke_attempt *cur; /* the attempt whose answer counts, or NULL */
};

/* One attempt: its answer comes back here, even after a timeout. */
struct invoke_attempt {
	struct invoke_policy *p;
	bool current; /* false once timed out */
};

static void invoke_policy_start(struct invoke_policy *p);

static void invoke_policy_free(struct invoke_policy *p)
{
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->t != NULL)
		p->t->inflight--;
	free(p->target);
	free(p->method);
	free(p->verb);
	free(p->query);
	free(p->content_type);
	free(p->client);
	free(p->self);
	free(p->data_type_url);
	kv_free(&p->headers);
	free(p->body);
	free(p);
}

/* Frees p once it has answered and no attempt is out. */
static void invoke_policy_settle(struct invoke_policy *p)
{
	if (p->answered && p->outstanding == 0 && !p->waiting)
		invoke_policy_free(p);
}

static void invoke_policy_fail(struct invoke_policy *p, const char *why)
{
	struct block_error err;

	block_fail(&err, API_ERR_DIRECT_INVOKE, NULL, "failed to invoke, id: %s, err: %s", p->target, why);
	p->answered = true;
	p->done(p->arg, &err, NULL);
}

static bool invoke_policy_wanted(void *arg)
{
	struct invoke_attempt *a = arg;
	struct invoke_policy *p = a->p;

	return a->current && !p->answered && (p->wanted == NULL || p->wanted(p->arg));
}

/*
 * Whether an attempt's outcome is a failure (for the breaker), and whether the policy retries it
 * (matching: the listed codes only).
 */
static bool invoke_policy_failed(const struct invoke_policy *p, const struct block_error *err,
				 const struct invoke_answer *ans, bool *retry)
{
	const struct retry_policy *r = p->retry;

	*retry = false;
	if (err != NULL && ans == NULL) {
		/* This sidecar could not deliver it: its own errors of the request are final. */
		if (block_error_http_status(err) < 500)
			return false;
		*retry = r != NULL && (!p->builtin || invoke_error_unreachable(err));
		return true;
	}
	if (ans == NULL || r == NULL || p->builtin) {
		if (ans != NULL && ans->grpc != NULL)
			return ans->grpc->status != 0;
		return ans != NULL && ans->status >= 500;
	}
	if (ans->grpc != NULL) {
		*retry =
			ans->grpc->status != 0 && retry_policy_matches(r, false, (unsigned)ans->grpc->status);
		return ans->grpc->status != 0;
	}
	/* With matching, any listed status is retried; without, server errors are. */
	if (r->http.n > 0)
		*retry = retry_policy_matches(r, true, (unsigned)ans->status);
	else
		*retry = ans->status >= 500;
	return ans->status >= 500;
}

static bool invoke_policy_next(struct invoke_policy *p, int64_t *wait)
{
	if (p->retry == NULL || !retry_policy_allows(p->retry, p->attempt) || p->srv->stopping ||
	    (p->wanted != NULL && !p->wanted(p->arg)))
		return false;
	*wait = retry_policy_delay_ms(p->retry, p->attempt);
	return true;
}

static void invoke_policy_wait(struct invoke_policy *p, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	p->waiting = true;
	evtimer_del(p->timer);
	evtimer_add(p->timer, &tv);
}

static void invoke_policy_answered(void *arg, const struct block_error *err, const struct invoke_answer *ans)
{
	struct invoke_attempt *a = arg;
	struct invoke_policy *p = a->p;
	bool current = a->current, retry, failed;
	int64_t wait;

	free(a);
	p->outstanding--;
	if (current)
		p->cur = NULL;
	if (!current || p->answered) {
		invoke_policy_settle(p);
		return;
	}
	evtimer_del(p->timer);
	failed = invoke_policy_failed(p, err, ans, &retry);
	if (p->t != NULL) {
		if (failed)
			resil_count(p->t, RESIL_FAILURE);
		if (p->t->has_breaker && p->counted)
			breaker_done(&p->t->breaker, resil_now_ms(p->srv->resil), p->generation, !failed);
	}
	if (retry && invoke_policy_next(p, &wait)) {
		invoke_policy_wait(p, wait);
		return;
	}
	p->answered = true;
	p->done(p->arg, err, ans);
	invoke_policy_settle(p);
}

static void invoke_policy_timer(evutil_socket_t fd, short what, void *arg)
{
	struct invoke_policy *p = arg;
	int64_t wait;

	(void)fd;
	(void)what;
	if (p->waiting) {
		p->waiting = false;
		/* A stop began meanwhile: no new attempt. */
		if (p->srv->stopping) {
			invoke_policy_fail(p, "outrigd is stopping; the call was not sent again");
			invoke_policy_settle(p);
			return;
		}
		invoke_policy_start(p);
		return;
	}
	/* The attempt's deadline: its answer, if it comes, is dropped. */
	resil_count(p->t, RESIL_TIMEOUT);
	resil_count(p->t, RESIL_FAILURE);
	if (p->t->has_breaker && p->counted)
		breaker_done(&p->t->breaker, resil_now_ms(p->srv->resil), p->generation, false);
	p->counted = false;
	if (p->cur != NULL) {
		p->cur->current = false;
		p->cur = NULL;
	}
	if (invoke_policy_next(p, &wait)) {
		invoke_policy_wait(p, wait);
		return;
	}
	invoke_policy_fail(p, "context deadline exceeded");
	invoke_policy_settle(p);
}

static void invoke_policy_start(struct invoke_policy *p)
{
	struct invoke_attempt *a;
	struct invoke_request rq;
	int64_t wait;

	p->attempt++;
	p->counted = false;
	if (p->t != NULL && p->t->has_breaker) {
		enum breaker_refusal why =
			breaker_allow(&p->t->breaker, resil_now_ms(p->srv->resil), &p->generation);

		if (why != BREAKER_ALLOWED) {
			resil_count(p->t, RESIL_BREAKER_REFUSED);
			if (invoke_policy_next(p, &wait)) {
				invoke_policy_wait(p, wait);
				return;
			}
			invoke_policy_fail(p, breaker_refusal_text(why));
			invoke_policy_settle(p);
			return;
		}
		p->counted = true;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		invoke_policy_fail(p, "out of memory");
		invoke_policy_settle(p);
		return;
	}
	a->p = p;
	a->current = true;
	p->cur = a;
	p->outstanding++;
	if (p->t != NULL) {
		resil_count(p->t, RESIL_ATTEMPT);
		if (p->attempt > 1)
			resil_count(p->t, RESIL_RETRY);
	}
	if (p->timeout_ms > 0) {
		struct timeval tv = { (time_t)(p->timeout_ms / 1000),
				      (suseconds_t)(p->timeout_ms % 1000) * 1000 };

		evtimer_add(p->timer, &tv);
	}
	rq = p->rq;
	rq.wanted = invoke_policy_wanted;
	/* The gRPC caller's own deadline still bounds a gRPC app's call; so does the policy's. */
	if (p->timeout_ms > 0 && (rq.timeout_ms == 0 || rq.timeout_ms > p->timeout_ms))
		rq.timeout_ms = (int)p->timeout_ms;
	invoke_call_once(p->srv, &rq, invoke_policy_answered, a);
}

static char *invoke_dup(const char *s, bool *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*ok = false;
	return d;
}

/* The app id of a target "id" or "id.namespace". */
static void invoke_target_id(const char *target, char *id, size_t size)
{
	size_t n = strcspn(target, ".");

	if (n >= size)
		n = size - 1;
	memcpy(id, target, n);
	id[n] = '\0';
}

void invoke_call(struct server *srv, const struct invoke_request *rq, invoke_done_fn done, void *arg)
{
	struct resil_target *t = NULL;
	const struct retry_policy *retry = NULL;
	struct invoke_policy *p;
	char id[256];
	bool ok = true, builtin = false;

	if (rq->target == NULL || *rq->target == '\0' || *rq->target == '.' || srv->resil == NULL) {
		invoke_call_once(srv, rq, done, arg);
		return;
	}
	invoke_target_id(rq->target, id, sizeof(id));
	t = resil_target(srv->resil, RESIL_TARGET_APP, id, NULL, false);
	if (t != NULL)
		retry = t->retry;
	/* Dapr: without a retry policy for the app, its built-in retries cover calls to other sidecars. */
	if (retry == NULL && strcmp(id, srv->opts->app_id) != 0) {
		const struct resiliency_default *own = resil_named(srv->resil, "DaprBuiltInServiceRetries");

		retry = own != NULL ? &own->policy : &invoke_builtin_retry;
		builtin = true;
	}
	if (t == NULL && retry == NULL) {
		invoke_call_once(srv, rq, done, arg);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		invoke_call_once(srv, rq, done, arg);
		return;
	}
	p->srv = srv;
	p->t = t;
	if (t != NULL)
		t->inflight++;
	p->retry = retry;
	p->builtin = builtin;
	p->timeout_ms = t != NULL ? t->timeout_ms : 0;
	p->done = done;
	p->arg = arg;
	p->wanted = rq->wanted;
	p->rq = *rq;
	p->rq.target = p->target = invoke_dup(rq->target, &ok);
	p->rq.method = p->method = invoke_dup(rq->method, &ok);
	p->rq.verb = p->verb = invoke_dup(rq->verb, &ok);
	p->rq.query = p->query = invoke_dup(rq->query, &ok);
	p->rq.content_type = p->content_type = invoke_dup(rq->content_type, &ok);
	p->rq.client = p->client = invoke_dup(rq->client, &ok);
	p->rq.self = p->self = invoke_dup(rq->self, &ok);
	p->rq.data_type_url = p->data_type_url = invoke_dup(rq->data_type_url, &ok);
	for (size_t i = 0; ok && rq->headers != NULL && i < rq->headers->count; i++)
		ok = kv_add(&p->headers, rq->headers->items[i].key, rq->headers->items[i].value) == 0;
	p->rq.headers = rq->headers != NULL ? &p->headers : NULL;
	if (ok && rq->len > 0) {
		p->body = malloc(rq->len);
		if (p->body != NULL)
			memcpy(p->body, rq->body, rq->len);
		ok = p->body != NULL;
	}
	p->rq.body = p->body;
	p->timer = ok ? evtimer_new(srv->base, invoke_policy_timer, p) : NULL;
	if (p->timer == NULL) {
		invoke_policy_free(p);
		invoke_call_once(srv, rq, done, arg);
		return;
	}
	invoke_policy_start(p);
}
