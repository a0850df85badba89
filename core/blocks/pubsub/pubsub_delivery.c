/* SPDX-License-Identifier: Apache-2.0 */
/* Delivering received messages to the app: routing, retries with backoff, dead letters, settling. */
#include "config.h"

#include "blocks/pubsub/pubsub_delivery.h"

#include <event2/event.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "channels/app_health.h"
#include "channels/app_pubsub.h"
#include "blocks/pubsub/cloudevent.h"
#include "components/component.h"
#include "base/handoff.h"
#include "base/kv.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "base/log.h"
#include "observe/trace.h"
#include "blocks/pubsub/pubsub_publish.h"
#include "blocks/pubsub/pubsub_runtime.h"
#include "resources/resiliency.h"
#include "resiliency/resil.h"
#include "runtime.h"

#define DELIVERY_SCOPE "pubsub"

/* A subscription whose deliveries keep failing is logged at warn level at most this often. */
#define DELIVERY_WARN_EVERY_MS 10000

/*
 * Without a Resiliency policy for the component, outrig retries forever with a backoff from
 * 500 ms growing by half each time up to 10 s: an accepted message is never dropped because
 * the app was briefly down. A policy with maxRetries bounds it (then the dead-letter topic).
 */
static const struct retry_policy delivery_default_retry = {
	.kind = RETRY_EXPONENTIAL,
	.duration_ms = 500,
	.max_interval_ms = 10000,
	.max_retries = -1,
};

struct delivery;

/*
 * One attempt at the app, apart from its message: an attempt cut at its inbound timeout (or whose
 * message was settled meanwhile) is orphaned, and the app's late answer then only frees it.
 */
struct delivery_attempt {
	struct app_event_call call;	   /* the app channel's, until its callback */
	struct delivery *d;		   /* NULL once orphaned */
	LIST_ENTRY(delivery_attempt) link; /* in the engine's orphans */
	char route[];			   /* the call's route, which may outlive a reload */
};

/* One accepted message, from pubsub_deliver() until its done() call. */
struct delivery {
	struct delivery_engine *engine;
	struct outrig_pubsub_sink *sink;
	double sent_ms; /* metrics_now_ms() when the attempt was sent: ingress latency */
	char *topic;
	char *data; /* as the broker delivered it */
	size_t len;
	struct kv_list metadata; /* the broker's, forwarded to the app */
	void (*done)(void *done_ctx, int outcome);
	void *done_ctx;

	json_t *event; /* the CloudEvent, parsed (or made, for a raw payload) */
	char *body;    /* what the app gets: data itself, or the wrapped raw payload */
	size_t body_len;
	const char *path; /* the route its rules chose; points into the subscription */
	unsigned attempt; /* deliveries to the app so far */
	bool holds_slot;
	struct event *timer;		   /* the backoff before the next attempt */
	struct delivery_attempt *inflight; /* the attempt at the app, NULL between attempts */
	struct event *deadline;		   /* cuts it at the inbound timeout */
	int code;			   /* the last failed answer's status (app_event_call), or 0 */
	bool code_grpc;
	struct span *span;	/* the attempt's span, when traced */
	struct resil_pass pass; /* through the component's inbound circuit breaker */

	struct handoff_item inbox;
	struct delivery *next;		      /* in the queue */
	struct delivery *prev_all, *next_all; /* every unsettled message, for stop */
};

struct delivery_engine {
	struct server *srv;
	struct app_pubsub *app;
	int max_in_flight;
	atomic_uint pending;

	struct handoff inbox; /* from plugin threads */

	/* Guards every sink's backlog; room signals whoever waits for it. */
	pthread_mutex_t backlog_lock;
	pthread_cond_t room;
	bool closed; /* delivery_engine_stop ran: nobody waits any more */
	pthread_t loop_thread;

	/* The loop's own. */
	struct delivery *queue_head, *queue_tail; /* waiting for a slot */
	unsigned in_flight;
	bool pumping; /* settling inside the pump must not recurse into it */
	struct delivery *all;
	LIST_HEAD(, delivery_attempt) orphans; /* cut attempts the app has not answered yet */
};

static void delivery_drain(void *arg);
static void delivery_pump(struct delivery_engine *e);

/* The app is healthy again: what waited while it was not may go. */
static void delivery_resume(void *arg)
{
	struct delivery_engine *e = arg;

	if (!handoff_stopped(&e->inbox))
		delivery_pump(e);
}

struct delivery_engine *delivery_engine_new(struct server *srv, struct app_pubsub *app, int max_in_flight)
{
	struct delivery_engine *e = calloc(1, sizeof(*e));
	pthread_condattr_t attr;

	if (e == NULL)
		return NULL;
	e->srv = srv;
	e->app = app;
	e->max_in_flight = max_in_flight;
	e->loop_thread = pthread_self();
	if (handoff_init(&e->inbox, srv->base, delivery_drain, e) != 0) {
		free(e);
		return NULL;
	}
	if (app_health_watch(srv, delivery_resume, e) != 0) {
		handoff_free(&e->inbox);
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->backlog_lock, NULL);
	/* Monotonic, so a step of the wall clock cannot stretch a publish()'s bounded wait. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&e->room, &attr);
	pthread_condattr_destroy(&attr);
	return e;
}

static bool delivery_backlog_full(const struct outrig_pubsub_sink *sink, size_t len)
{
	return sink->backlog >= DELIVERY_SINK_MAX_MESSAGES ||
	       (sink->backlog > 0 && sink->backlog_bytes + len > DELIVERY_SINK_MAX_BYTES);
}

static bool delivery_stopping(struct delivery_engine *e)
{
	/* Set by the loop when a graceful stop begins; from then on no backlog drains. */
	return e->closed || __atomic_load_n(&e->srv->stopping, __ATOMIC_RELAXED);
}

/*
 * Waits until sink's backlog has room for len more bytes, then counts them in. Back-pressure to
 * the plugin: a thread of its own held here fetches no more (from the broker, or from its spool as
 * pubsub.mqtt3 does), and the message stays unacknowledged until it is taken. The loop never waits; a publish() waits a short while, as
 * its worker is shared. Returns 0 or OUTRIG_EUNAVAIL (not taken). Thread: any.
 */
static struct timespec delivery_ts_after(struct timespec t, long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

static bool delivery_ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static int delivery_backlog_reserve(struct delivery_engine *e, struct outrig_pubsub_sink *sink, size_t len)
{
	bool bounded = pubsub_publish_in_call();
	struct timespec now, deadline;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = delivery_ts_after(now, DELIVERY_PUBLISH_WAIT_MS);
	pthread_mutex_lock(&e->backlog_lock);
	/* A subscription a reload ended takes nothing more: the plugin keeps it (the broker, its spool). */
	if (sink->closed)
		rc = OUTRIG_EUNAVAIL;
	while (rc == 0 && delivery_backlog_full(sink, len)) {
		struct timespec tick;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (delivery_stopping(e) || sink->closed || pthread_equal(pthread_self(), e->loop_thread) ||
		    (bounded && !delivery_ts_before(now, deadline))) {
			rc = OUTRIG_EUNAVAIL;
			break;
		}
		/* In slices, so that the start of a stop (a plain flag) is seen soon. */
		tick = delivery_ts_after(now, 100);
		if (bounded && delivery_ts_before(deadline, tick))
			tick = deadline;
		pthread_cond_timedwait(&e->room, &e->backlog_lock, &tick);
	}
	if (rc == 0) {
		sink->backlog++;
		sink->backlog_bytes += len;
	}
	pthread_mutex_unlock(&e->backlog_lock);
	return rc;
}

static void delivery_backlog_release(struct delivery_engine *e, struct outrig_pubsub_sink *sink, size_t len)
{
	pthread_mutex_lock(&e->backlog_lock);
	sink->backlog--;
	sink->backlog_bytes -= len;
	pthread_cond_broadcast(&e->room);
	pthread_mutex_unlock(&e->backlog_lock);
}

/* Its message no longer waits for the attempt in flight: the app's answer will be dropped. */
static void delivery_orphan(struct delivery *d)
{
	struct delivery_attempt *a = d->inflight;

	if (d->deadline != NULL)
		evtimer_del(d->deadline);
	if (a == NULL)
		return;
	d->inflight = NULL;
	a->d = NULL;
	LIST_INSERT_HEAD(&d->engine->orphans, a, link);
}

static void delivery_free(struct delivery *d)
{
	delivery_orphan(d);
	if (d->deadline != NULL)
		event_free(d->deadline);
	if (d->timer != NULL)
		event_free(d->timer);
	trace_discard(d->span);
	json_decref(d->event);
	if (d->body != d->data)
		free(d->body);
	kv_free(&d->metadata);
	free(d->topic);
	free(d->data);
	free(d);
}

int delivery_accept(struct outrig_pubsub_sink *sink, const struct outrig_pubsub_message *msg,
		    void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	struct delivery_engine *e;
	struct delivery *d;

	if (sink == NULL || msg == NULL || done == NULL || msg->topic == NULL)
		return OUTRIG_EINVAL;
	e = sink->rt->engine;
	/* A graceful stop takes no new messages: the broker keeps them, unacknowledged, for the next run. */
	if (delivery_stopping(e))
		return OUTRIG_EUNAVAIL;
	if (delivery_backlog_reserve(e, sink, msg->data_len) != 0) {
		log_debug(
			DELIVERY_SCOPE,
			"a message of topic %s in pubsub %s was not taken (it stays with the plugin): the subscription already "
			"holds %u messages for the app (at most %d messages or %zu bytes)",
			msg->topic, sink->sub->pubsub, sink->backlog, DELIVERY_SINK_MAX_MESSAGES,
			DELIVERY_SINK_MAX_BYTES);
		return OUTRIG_EUNAVAIL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		delivery_backlog_release(e, sink, msg->data_len);
		return OUTRIG_ENOMEM;
	}
	d->engine = e;
	d->sink = sink;
	d->done = done;
	d->done_ctx = done_ctx;
	d->topic = strdup(msg->topic);
	/* One spare byte so the data can be parsed as text in place. */
	d->data = malloc(msg->data_len + 1);
	if (msg->metadata.count > 0)
		d->metadata.items = calloc(msg->metadata.count, sizeof(*d->metadata.items));
	for (size_t i = 0; d->metadata.items != NULL && i < msg->metadata.count; i++) {
		struct outrig_kv *kv = &d->metadata.items[d->metadata.count];

		kv->key = strdup(msg->metadata.items[i].key);
		kv->value = strdup(msg->metadata.items[i].value);
		if (kv->key == NULL || kv->value == NULL) {
			free((char *)kv->key);
			free((char *)kv->value);
			break;
		}
		d->metadata.count++;
	}
	if (d->topic == NULL || d->data == NULL || d->metadata.count != msg->metadata.count) {
		delivery_free(d);
		delivery_backlog_release(e, sink, msg->data_len);
		return OUTRIG_ENOMEM;
	}
	if (msg->data_len > 0)
		memcpy(d->data, msg->data, msg->data_len);
	d->data[msg->data_len] = '\0';
	d->len = msg->data_len;

	/* Counted before the loop can see it, so that its settling never comes first. */
	atomic_fetch_add(&e->pending, 1);
	if (handoff_push(&e->inbox, &d->inbox) != 0) {
		atomic_fetch_sub(&e->pending, 1);
		delivery_free(d);
		delivery_backlog_release(e, sink, msg->data_len);
		return OUTRIG_EUNAVAIL;
	}
	return 0;
}

unsigned delivery_engine_pending(struct delivery_engine *e)
{
	return e != NULL ? atomic_load(&e->pending) : 0;
}

/* ---- the loop's side ---- */

static void delivery_send(struct delivery *d);

static const char *delivery_event_id(const struct delivery *d)
{
	const char *id = json_string_value(json_object_get(d->event, "id"));

	return id != NULL ? id : "(no id)";
}

static void delivery_settle(struct delivery *d, int outcome)
{
	struct delivery_engine *e = d->engine;

	if (d->prev_all != NULL)
		d->prev_all->next_all = d->next_all;
	else
		e->all = d->next_all;
	if (d->next_all != NULL)
		d->next_all->prev_all = d->prev_all;
	if (d->holds_slot)
		e->in_flight--;
	d->done(d->done_ctx, outcome);
	delivery_backlog_release(e, d->sink, d->len);
	delivery_free(d);
	atomic_fetch_sub(&e->pending, 1);
	/* A slot is free: the next message may go (timers and dead letters settle outside the pump). */
	if (!handoff_stopped(&e->inbox))
		delivery_pump(e);
}

static const struct retry_policy *delivery_policy(const struct delivery *d)
{
	return d->sink->retry != NULL ? d->sink->retry : &delivery_default_retry;
}

static void delivery_after(struct delivery *d, int64_t delay_ms, event_callback_fn fn)
{
	struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000 };

	if (d->timer == NULL)
		d->timer = evtimer_new(d->engine->srv->base, fn, d);
	if (d->timer == NULL || evtimer_add(d->timer, &tv) != 0) {
		/* Cannot wait: keep it for the broker (or the spool) to bring back later. */
		log_error(DELIVERY_SCOPE, "out of memory scheduling a retry of event %s",
			  delivery_event_id(d));
		delivery_settle(d, OUTRIG_PUBSUB_UNSETTLED);
	}
}

static void delivery_dead_letter(struct delivery *d);

static void delivery_dead_letter_retry(evutil_socket_t fd, short what, void *arg)
{
	delivery_dead_letter(arg);
}

static void delivery_dead_letter_done(void *arg, int rc, const char *error)
{
	struct delivery *d = arg;
	const struct subscription *sub = d->sink->sub;

	if (rc == 0) {
		log_warn(DELIVERY_SCOPE, "event %s of topic %s in pubsub %s sent to dead-letter topic %s",
			 delivery_event_id(d), d->topic, sub->pubsub, sub->dead_letter_topic);
		delivery_settle(d, OUTRIG_PUBSUB_SETTLED);
		return;
	}
	/* The dead-letter topic is the last place the message can go: keep trying. */
	log_warn(DELIVERY_SCOPE,
		 "cannot publish event %s to dead-letter topic %s in pubsub %s: %s; trying again",
		 delivery_event_id(d), sub->dead_letter_topic, sub->pubsub, error);
	delivery_after(d, retry_policy_delay_ms(delivery_policy(d), d->attempt), delivery_dead_letter_retry);
}

static void delivery_dead_letter(struct delivery *d)
{
	const struct subscription *sub = d->sink->sub;

	if (pubsub_publish_submit(d->engine->srv, d->sink->component, sub->dead_letter_topic, d->data, d->len,
				  sub->raw_payload ? "application/octet-stream"
						   : "application/cloudevents+json",
				  NULL, delivery_dead_letter_done, d) != 0)
		delivery_dead_letter_done(d, OUTRIG_ENOMEM, "out of memory");
}

/* The app will never take this message: dead-letter it if the subscription says where, else drop it. */
static void delivery_give_up(struct delivery *d, const char *why)
{
	const struct subscription *sub = d->sink->sub;

	if (sub->dead_letter_topic != NULL) {
		log_warn(DELIVERY_SCOPE,
			 "event %s of topic %s in pubsub %s: %s; sending it to dead-letter topic %s",
			 delivery_event_id(d), d->topic, sub->pubsub, why, sub->dead_letter_topic);
		delivery_dead_letter(d);
		return;
	}
	log_warn(DELIVERY_SCOPE, "event %s of topic %s in pubsub %s dropped: %s (no deadLetterTopic set)",
		 delivery_event_id(d), d->topic, sub->pubsub, why);
	delivery_settle(d, OUTRIG_PUBSUB_SETTLED);
}

static void delivery_retry_now(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;

	/* Stopping: it stays unsettled, for the broker or the spool to bring back. */
	if (d->engine->srv->stopping)
		return;
	/* An unhealthy app gets no retries either: wait another backoff, without counting it. */
	if (!app_health_ok(d->engine->srv))
		delivery_after(d, retry_policy_delay_ms(delivery_policy(d), d->attempt), delivery_retry_now);
	else
		delivery_send(d);
}

static int64_t delivery_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A delivery failed and will be retried. Shown at the default level, so that a route the app
 * does not serve is seen, but once per subscription per DELIVERY_WARN_EVERY_MS: an app that fails
 * every message cannot flood the log.
 */
static void delivery_warn_failure(struct delivery *d, const char *why)
{
	struct outrig_pubsub_sink *sink = d->sink;
	int64_t now = delivery_now_ms();
	char more[96] = "";

	if (sink->warned_ms != 0 && now - sink->warned_ms < DELIVERY_WARN_EVERY_MS) {
		sink->unlogged++;
		log_debug(DELIVERY_SCOPE, "event %s of topic %s: %s; retry %u", delivery_event_id(d),
			  d->topic, why, d->attempt);
		return;
	}
	if (sink->unlogged > 0)
		snprintf(more, sizeof(more),
			 " (%u more failed deliveries of this subscription since the last report)",
			 sink->unlogged);
	log_warn(
		DELIVERY_SCOPE,
		"delivering event %s of topic %s in pubsub %s to the app at %s failed: %s; retrying (attempt "
		"%u)%s",
		delivery_event_id(d), d->topic, sink->sub->pubsub, d->path != NULL ? d->path : "?", why,
		d->attempt, more);
	sink->warned_ms = now;
	sink->unlogged = 0;
}

static void delivery_retry(struct delivery *d, const char *why)
{
	const struct retry_policy *p = delivery_policy(d);
	char reason[600];

	/* A status the retry policy's matching does not list is not retried (as an exhausted retry). */
	if (d->code != 0 && !retry_policy_matches(p, !d->code_grpc, (unsigned)d->code)) {
		snprintf(reason, sizeof(reason), "%s, a status its retry policy's matching does not list",
			 why);
		delivery_give_up(d, reason);
		return;
	}
	if (!retry_policy_allows(p, d->attempt)) {
		snprintf(reason, sizeof(reason), "%s, and its %lld retries are spent", why,
			 (long long)p->max_retries);
		delivery_give_up(d, reason);
		return;
	}
	delivery_warn_failure(d, why);
	delivery_after(d, retry_policy_delay_ms(p, d->attempt), delivery_retry_now);
}

/* How the app took it, or (timed_out) that it did not answer in time. */
static void delivery_outcome(struct delivery *d, enum app_event_status status, const char *why,
			     bool timed_out)
{
	trace_end(d->span, status != APP_EVENT_SUCCESS);
	d->span = NULL;
	dm_pubsub_ingress(d->sink->sub->pubsub, d->topic,
			  status == APP_EVENT_SUCCESS ? "success"
			  : status == APP_EVENT_DROP  ? "drop"
						      : "retry",
			  metrics_now_ms() - d->sent_ms);
	/* A DROP is the app's answer, not a failure of it. */
	if (timed_out)
		resil_inbound_timeout(d->engine->srv->resil, &d->pass);
	else
		resil_inbound_done(d->engine->srv->resil, &d->pass, status != APP_EVENT_RETRY);
	if (status == APP_EVENT_SUCCESS)
		delivery_settle(d, OUTRIG_PUBSUB_SETTLED);
	else if (status == APP_EVENT_DROP)
		delivery_give_up(d, why);
	else
		delivery_retry(d, why);
}

static void delivery_answered(struct delivery *d, enum app_event_status status, const char *why)
{
	delivery_outcome(d, status, why, false);
}

/* The app channel's answer to one attempt (app_event_cb): dropped when the attempt was orphaned. */
static void delivery_attempt_answered(void *arg, enum app_event_status status, const char *why)
{
	struct delivery_attempt *a = arg;
	struct delivery *d = a->d;

	if (d == NULL) {
		LIST_REMOVE(a, link);
		free(a);
		return;
	}
	d->inflight = NULL;
	d->code = a->call.code;
	d->code_grpc = a->call.grpc;
	free(a);
	if (d->deadline != NULL)
		evtimer_del(d->deadline);
	delivery_answered(d, status, why);
}

/* The attempt's inbound timeout passed: it fails (and is retried); the app's answer is dropped. */
static void delivery_cut(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	char why[160];

	delivery_orphan(d);
	snprintf(why, sizeof(why), "the app did not answer within the inbound timeout of %lld ms",
		 (long long)d->pass.timeout_ms);
	delivery_outcome(d, APP_EVENT_RETRY, why, true);
}

static void delivery_send(struct delivery *d)
{
	struct outrig_metadata md = kv_view(&d->metadata);
	struct app_event ev = {
		.route = d->path,
		.pubsub = d->sink->sub->pubsub,
		.topic = d->topic,
		.cloudevent = d->body,
		.len = d->body_len,
		.event = d->event,
		.traceparent = json_string_value(json_object_get(d->event, "traceparent")),
		.tracestate = json_string_value(json_object_get(d->event, "tracestate")),
		.metadata = &md,
	};
	char tp[TRACE_PARENT_LEN];
	struct delivery_attempt *a;
	const char *why;

	d->code = 0;
	/* An open breaker: the message waits its backoff, without counting as an attempt. */
	if (!resil_inbound_allow(d->engine->srv->resil, d->sink->component->name, d->sink->component->type,
				 &d->pass, &why)) {
		delivery_warn_failure(d, why);
		delivery_after(d, retry_policy_delay_ms(delivery_policy(d), d->attempt), delivery_retry_now);
		return;
	}
	/* Each attempt is a child of the publish's span, which the event's traceparent names. */
	if (trace_enabled()) {
		struct trace_ctx parent, child;
		bool has_parent = trace_parse(ev.traceparent, &parent);
		char name[192];

		snprintf(name, sizeof(name), "pubsub/%s", d->topic);
		trace_discard(d->span);
		d->span = trace_begin(has_parent ? &parent : NULL, name, TRACE_KIND_CONSUMER, &child);
		trace_attr(d->span, "messaging.system", "pubsub");
		trace_attr(d->span, "messaging.destination", d->topic);
		trace_attr(d->span, "messaging.destination_kind", "topic");
		trace_attr(d->span, "dapr.protocol", d->engine->srv->app_grpc != NULL ? "grpc" : "http");
		trace_format(&child, tp);
		ev.traceparent = tp;
		if (!has_parent)
			ev.tracestate = NULL;
	}
	d->attempt++;
	d->sent_ms = metrics_start_ms();
	a = calloc(1, sizeof(*a) + strlen(d->path) + 1);
	if (a == NULL) {
		delivery_answered(d, APP_EVENT_RETRY, "out of memory");
		return;
	}
	a->d = d;
	strcpy(a->route, d->path);
	ev.route = a->route;
	d->inflight = a;
	if (d->pass.timeout_ms > 0) {
		struct timeval tv = { (time_t)(d->pass.timeout_ms / 1000),
				      (suseconds_t)(d->pass.timeout_ms % 1000) * 1000 };

		if (d->deadline == NULL)
			d->deadline = evtimer_new(d->engine->srv->base, delivery_cut, d);
		if (d->deadline == NULL || evtimer_add(d->deadline, &tv) != 0) {
			d->inflight = NULL;
			free(a);
			delivery_answered(d, APP_EVENT_RETRY, "out of memory arming the inbound timeout");
			return;
		}
	}
	/* The answer may come at once (cb inside the call): a and d are not touched after. */
	if (app_pubsub_deliver(d->engine->app, &ev, &a->call, delivery_attempt_answered, a) != 0) {
		d->inflight = NULL;
		free(a);
		if (d->deadline != NULL)
			evtimer_del(d->deadline);
		delivery_answered(d, APP_EVENT_RETRY, "out of memory");
	}
}

/* Parses and routes a message on its first attempt; false when it was settled instead. */
static bool delivery_prepare(struct delivery *d)
{
	const struct subscription *sub = d->sink->sub;
	int64_t now_ms;
	struct timespec ts;

	if (sub->raw_payload) {
		d->event = cloudevent_wrap_raw(sub->pubsub, d->topic, d->data, d->len);
		d->body = d->event != NULL ? json_dumps(d->event, JSON_COMPACT) : NULL;
		if (d->body == NULL) {
			log_error(DELIVERY_SCOPE, "out of memory wrapping a raw message of topic %s",
				  d->topic);
			delivery_settle(d, OUTRIG_PUBSUB_UNSETTLED);
			return false;
		}
		d->body_len = strlen(d->body);
	} else {
		/* The bytes go to the app as published: re-encoding could change numbers. */
		d->event = cloudevent_json_parse(d->data, d->len);
		d->body = d->data;
		d->body_len = d->len;
		if (!json_is_object(d->event)) {
			delivery_give_up(d, "the message is not a CloudEvent (JSON object); publish with the "
					    "publish API, or set rawPayload on the subscription");
			return false;
		}
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (cloudevent_expired(d->event, now_ms)) {
		log_info(DELIVERY_SCOPE, "event %s of topic %s expired before delivery; dropped",
			 delivery_event_id(d), d->topic);
		delivery_settle(d, OUTRIG_PUBSUB_SETTLED);
		return false;
	}
	d->path = subscription_route(sub, d->event);
	if (d->path == NULL) {
		delivery_give_up(d, "it matches none of the subscription's routing rules");
		return false;
	}
	return true;
}

static void delivery_pump(struct delivery_engine *e)
{
	/* A graceful stop lets calls in flight finish but starts no new ones; an unhealthy app gets none. */
	if (e->pumping || e->srv->stopping || !app_health_ok(e->srv))
		return;
	e->pumping = true;
	while (e->queue_head != NULL && (e->max_in_flight < 0 || e->in_flight < (unsigned)e->max_in_flight)) {
		struct delivery *d = e->queue_head;

		e->queue_head = d->next;
		if (e->queue_head == NULL)
			e->queue_tail = NULL;
		d->next = NULL;
		d->holds_slot = true;
		e->in_flight++;
		if (delivery_prepare(d))
			delivery_send(d);
	}
	e->pumping = false;
}

static void delivery_drain(void *arg)
{
	struct delivery_engine *e = arg;
	struct handoff_item *batch = handoff_take_all(&e->inbox);

	while (batch != NULL) {
		struct delivery *d = handoff_entry(batch, struct delivery, inbox);

		batch = batch->next;
		d->next = NULL;
		d->next_all = e->all;
		if (e->all != NULL)
			e->all->prev_all = d;
		e->all = d;
		if (e->queue_tail != NULL)
			e->queue_tail->next = d;
		else
			e->queue_head = d;
		e->queue_tail = d;
	}
	delivery_pump(e);
}

void delivery_sink_close(struct outrig_pubsub_sink *sink)
{
	struct delivery_engine *e = sink->rt->engine;

	if (e == NULL) {
		sink->closed = true;
		return;
	}
	pthread_mutex_lock(&e->backlog_lock);
	sink->closed = true;
	pthread_cond_broadcast(&e->room);
	pthread_mutex_unlock(&e->backlog_lock);
}

bool delivery_sink_idle(struct outrig_pubsub_sink *sink)
{
	struct delivery_engine *e = sink->rt->engine;
	bool idle;

	if (e == NULL)
		return true;
	pthread_mutex_lock(&e->backlog_lock);
	idle = sink->backlog == 0;
	pthread_mutex_unlock(&e->backlog_lock);
	return idle;
}

void delivery_engine_stop(struct delivery_engine *e)
{
	struct handoff_item *rest;

	if (e == NULL)
		return;
	/* Plugin threads waiting for room give up now: their messages stay with the broker. */
	pthread_mutex_lock(&e->backlog_lock);
	e->closed = true;
	pthread_cond_broadcast(&e->room);
	pthread_mutex_unlock(&e->backlog_lock);
	rest = handoff_stop(&e->inbox);
	while (rest != NULL) {
		struct delivery *d = handoff_entry(rest, struct delivery, inbox);

		rest = rest->next;
		d->done(d->done_ctx, OUTRIG_PUBSUB_UNSETTLED);
		delivery_backlog_release(e, d->sink, d->len);
		delivery_free(d);
		atomic_fetch_sub(&e->pending, 1);
	}
	while (e->all != NULL)
		delivery_settle(e->all, OUTRIG_PUBSUB_UNSETTLED);
}

void delivery_engine_free(struct delivery_engine *e)
{
	if (e == NULL)
		return;
	app_health_unwatch(e->srv, delivery_resume, e);
	/* The app channel is freed next and never answers them. */
	while (!LIST_EMPTY(&e->orphans)) {
		struct delivery_attempt *a = LIST_FIRST(&e->orphans);

		LIST_REMOVE(a, link);
		free(a);
	}
	handoff_free(&e->inbox);
	pthread_cond_destroy(&e->room);
	pthread_mutex_destroy(&e->backlog_lock);
	free(e);
}
