/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receiving: paho's thread only spools each message; the receiver's own delivery thread reads the
 * spool in order and hands the rows to the core, which may make it wait; a row is forgotten once
 * the core settled it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt_receive.h"
#include "mqtt_spool.h"
#include "mqtt_topic.h"

struct mq_sub {
	char *filter; /* as subscribed, $share/ prefix included: the spool's key */
	int slot;     /* tells apart subscriptions of one filter, so each gets its own rows */
	struct outrig_pubsub_sink *sink;
	bool started;	/* the delivery thread hands its rows to the sink */
	bool dropped;	/* the broker refused it */
	int64_t cursor; /* the last row handed to the core: the next one has a higher id */
	struct mq_sub *next;
};

struct mq_receiver {
	const struct outrig_host *host;
	struct outrig_handle *self;
	/* Guards the spool, the subscription list and the delivery state below; never held while delivering. */
	pthread_mutex_t mu;
	struct mq_spool *spool;
	struct mq_sub *subs;
	/* The delivery thread's: it waits on wake (with mu) once no started subscription has a row left. */
	pthread_cond_t wake;
	bool halted;   /* the core refused a message: it is stopping, so nothing more goes */
	bool quitting; /* mq_receiver_free() runs */
	pthread_t deliverer;

	/* Settled row ids, queued by done() (which must not block) and deleted by the settler thread. */
	pthread_mutex_t settled_mu;
	pthread_cond_t settled_cond;
	int64_t *settled;
	size_t settled_len, settled_cap;
	bool stopping;
	pthread_t settler;
};

/* What done() needs to find its row again. */
struct mq_delivery {
	struct mq_receiver *r;
	int64_t id; /* 0: the message could not be spooled */
};

static void mq_done(void *ctx, int outcome)
{
	struct mq_delivery *d = ctx;
	struct mq_receiver *r = d->r;

	/* UNSETTLED keeps the row: the next run delivers it again. */
	if (outcome == OUTRIG_PUBSUB_SETTLED && d->id > 0) {
		pthread_mutex_lock(&r->settled_mu);
		if (r->settled_len == r->settled_cap) {
			size_t cap = r->settled_cap > 0 ? r->settled_cap * 2 : 64;
			int64_t *grown = realloc(r->settled, cap * sizeof(*grown));

			if (grown != NULL) {
				r->settled = grown;
				r->settled_cap = cap;
			}
		}
		/* Out of memory: the row stays and comes again next run, which at-least-once allows. */
		if (r->settled_len < r->settled_cap)
			r->settled[r->settled_len++] = d->id;
		pthread_cond_signal(&r->settled_cond);
		pthread_mutex_unlock(&r->settled_mu);
	}
	free(d);
}

static void mq_delete_settled(struct mq_receiver *r, int64_t *ids, size_t n)
{
	struct outrig_error err;

	pthread_mutex_lock(&r->mu);
	if (mq_spool_delete(r->spool, ids, n, &err) != OUTRIG_OK)
		r->host->log(r->self, OUTRIG_LOG_ERROR, "%s (%zu settled messages will be delivered again)",
			     err.message, n);
	pthread_mutex_unlock(&r->mu);
}

static void *mq_settler(void *arg)
{
	struct mq_receiver *r = arg;

	pthread_mutex_lock(&r->settled_mu);
	for (;;) {
		int64_t *ids;
		size_t n;

		while (r->settled_len == 0 && !r->stopping)
			pthread_cond_wait(&r->settled_cond, &r->settled_mu);
		if (r->settled_len == 0)
			break;
		ids = r->settled;
		n = r->settled_len;
		r->settled = NULL;
		r->settled_len = r->settled_cap = 0;
		pthread_mutex_unlock(&r->settled_mu);
		mq_delete_settled(r, ids, n);
		free(ids);
		pthread_mutex_lock(&r->settled_mu);
	}
	pthread_mutex_unlock(&r->settled_mu);
	return NULL;
}

/* One row read from the spool, copied so that it outlives the lock. */
struct mq_row {
	int64_t id; /* 0: none */
	char *topic;
	void *data;
	size_t len;
	bool retained;
	bool oom;
};

static int mq_take_one(void *ctx, const struct mq_spooled *m)
{
	struct mq_row *row = ctx;

	row->id = m->id;
	row->len = m->len;
	row->retained = m->retained;
	row->topic = strdup(m->topic);
	row->data = malloc(m->len > 0 ? m->len : 1);
	if (row->topic == NULL || row->data == NULL) {
		free(row->topic);
		free(row->data);
		row->topic = row->data = NULL;
		row->oom = true;
	} else if (m->len > 0) {
		memcpy(row->data, m->data, m->len);
	}
	return 1; /* one at a time: memory holds one message, the spool the rest */
}

/*
 * Hands one row to the core, which may wait for room in the subscription's backlog: on this
 * thread that is fine (paho's thread only spools). Called without any lock, as done() makes
 * that room. Returns the core's answer; OUTRIG_EUNAVAIL means it stops.
 */
static int mq_deliver(struct mq_receiver *r, struct mq_sub *sub, const struct mq_row *row)
{
	struct outrig_kv kv = { "retained", row->retained ? "true" : "false" };
	struct outrig_pubsub_message msg = {
		.topic = row->topic,
		.data = row->data,
		.data_len = row->len,
		.metadata = { 1, &kv },
	};
	struct mq_delivery *d = malloc(sizeof(*d));
	int rc;

	if (d == NULL) {
		r->host->log(r->self, OUTRIG_LOG_ERROR,
			     "out of memory delivering a message of topic \"%s\"; it stays in the spool "
			     "for the next start",
			     row->topic);
		return OUTRIG_ENOMEM;
	}
	d->r = r;
	d->id = row->id;
	rc = r->host->pubsub_deliver(sub->sink, &msg, mq_done, d);
	if (rc == OUTRIG_OK)
		return rc;
	free(d);
	/* Stopping is the only expected refusal, and the row is what brings the message back. */
	r->host->log(r->self, rc == OUTRIG_EUNAVAIL ? OUTRIG_LOG_DEBUG : OUTRIG_LOG_WARN,
		     "the core did not take a message of topic \"%s\" (%s); it stays in the spool for the "
		     "next start",
		     row->topic, outrig_status_name(rc));
	return rc;
}

/*
 * The delivery thread: takes the next row of each started subscription in turn, oldest first,
 * and sleeps once none has one left. A subscription whose backlog is full holds this thread
 * (and so the component's other subscriptions) until the app settles a message, while paho's
 * thread goes on spooling: the broker, publishing and keepalive never wait for the app.
 */
static void *mq_deliverer(void *arg)
{
	struct mq_receiver *r = arg;
	struct outrig_error err;

	pthread_mutex_lock(&r->mu);
	while (!r->quitting) {
		bool any = false, failed = false;

		for (struct mq_sub *sub = r->subs; sub != NULL && !r->quitting && !r->halted;
		     sub = sub->next) {
			struct mq_row row = { 0 };
			int rc;

			if (!sub->started || sub->dropped)
				continue;
			if (mq_spool_each(r->spool, sub->filter, sub->slot, sub->cursor, mq_take_one, &row,
					  &err) != OUTRIG_OK) {
				r->host->log(r->self, OUTRIG_LOG_ERROR, "%s (trying again in a second)",
					     err.message);
				failed = true;
				continue;
			}
			if (row.id == 0)
				continue;
			/* Past it even when it cannot go now: it stays in the spool for the next start. */
			sub->cursor = row.id;
			any = true;
			if (row.oom) {
				r->host->log(
					r->self, OUTRIG_LOG_ERROR,
					"out of memory reading a kept message of \"%s\"; it stays in the "
					"spool for the next start",
					sub->filter);
				continue;
			}
			pthread_mutex_unlock(&r->mu);
			rc = mq_deliver(r, sub, &row);
			free(row.topic);
			free(row.data);
			pthread_mutex_lock(&r->mu);
			if (rc == OUTRIG_EUNAVAIL)
				r->halted = true;
		}
		if (any || r->quitting)
			continue;
		/* Arrivals spool and signal with mu held, so none slips in between the scan and the wait. */
		if (failed) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec++;
			pthread_cond_timedwait(&r->wake, &r->mu, &ts);
		} else {
			pthread_cond_wait(&r->wake, &r->mu);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int mq_receiver_new(const struct outrig_host *host, struct outrig_handle *self, const char *spool_path,
		    struct mq_receiver **out, struct outrig_error *err)
{
	struct mq_receiver *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (r == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	r->host = host;
	r->self = self;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->wake, NULL);
	pthread_mutex_init(&r->settled_mu, NULL);
	pthread_cond_init(&r->settled_cond, NULL);
	rc = mq_spool_open(spool_path, &r->spool, err);
	if (rc == OUTRIG_OK && pthread_create(&r->settler, NULL, mq_settler, r) != 0) {
		mq_spool_close(r->spool);
		rc = outrig_err(err, OUTRIG_EINTERNAL,
				"cannot start a thread; the system is out of resources");
	} else if (rc == OUTRIG_OK && pthread_create(&r->deliverer, NULL, mq_deliverer, r) != 0) {
		pthread_mutex_lock(&r->settled_mu);
		r->stopping = true;
		pthread_cond_signal(&r->settled_cond);
		pthread_mutex_unlock(&r->settled_mu);
		pthread_join(r->settler, NULL);
		mq_spool_close(r->spool);
		rc = outrig_err(err, OUTRIG_EINTERNAL,
				"cannot start a thread; the system is out of resources");
	}
	if (rc != OUTRIG_OK) {
		pthread_cond_destroy(&r->settled_cond);
		pthread_mutex_destroy(&r->settled_mu);
		pthread_cond_destroy(&r->wake);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return rc;
	}
	*out = r;
	return OUTRIG_OK;
}

void mq_receiver_free(struct mq_receiver *r)
{
	if (r == NULL)
		return;
	/* The core stopped before destroy(), so a deliver this thread is in returns at once. */
	pthread_mutex_lock(&r->mu);
	r->quitting = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->deliverer, NULL);
	/* The settler drains the queue before it sees stopping. */
	pthread_mutex_lock(&r->settled_mu);
	r->stopping = true;
	pthread_cond_signal(&r->settled_cond);
	pthread_mutex_unlock(&r->settled_mu);
	pthread_join(r->settler, NULL);
	while (r->subs != NULL) {
		struct mq_sub *next = r->subs->next;

		free(r->subs->filter);
		free(r->subs);
		r->subs = next;
	}
	mq_spool_close(r->spool);
	free(r->settled);
	pthread_cond_destroy(&r->settled_cond);
	pthread_mutex_destroy(&r->settled_mu);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void mq_receiver_arrived(void *receiver, const char *topic, const void *data, size_t len, bool retained)
{
	struct mq_receiver *r = receiver;
	struct outrig_error err;
	int64_t id;
	bool matched = false;

	/* Only the spool, never the core: this is paho's one receive thread for every client. */
	pthread_mutex_lock(&r->mu);
	for (struct mq_sub *sub = r->subs; sub != NULL; sub = sub->next) {
		if (sub->dropped || !mq_filter_matches(sub->filter, topic))
			continue;
		matched = true;
		if (mq_spool_add(r->spool, topic, sub->filter, sub->slot, data, len, retained, &id, &err) !=
		    OUTRIG_OK)
			/* paho already acknowledged it, and without a row the delivery thread cannot see it. */
			r->host->log(r->self, OUTRIG_LOG_ERROR,
				     "%s; a message of topic \"%s\" for subscription \"%s\" is lost",
				     err.message, topic, sub->filter);
	}
	if (matched) {
		pthread_cond_signal(&r->wake);
	} else if (mq_spool_add(r->spool, topic, NULL, 0, data, len, retained, &id, &err) != OUTRIG_OK) {
		r->host->log(r->self, OUTRIG_LOG_ERROR,
			     "%s; a message of topic \"%s\", for which there is no subscription yet, is lost",
			     err.message, topic);
	} else {
		r->host->log(r->self, OUTRIG_LOG_DEBUG,
			     "a message of topic \"%s\" came before a subscription matching it (the "
			     "broker's stored session); kept until one is made",
			     topic);
	}
	pthread_mutex_unlock(&r->mu);
}

struct mq_sub *mq_receiver_add(struct mq_receiver *r, const char *filter, struct outrig_pubsub_sink *sink)
{
	struct mq_sub *sub = calloc(1, sizeof(*sub)), **tail;

	if (sub == NULL || (sub->filter = strdup(filter)) == NULL) {
		free(sub);
		return NULL;
	}
	sub->sink = sink;
	pthread_mutex_lock(&r->mu);
	/* Slots count in subscription order, so the same app gets the same slots on every run. */
	for (tail = &r->subs; *tail != NULL; tail = &(*tail)->next)
		if (!(*tail)->dropped && strcmp((*tail)->filter, filter) == 0)
			sub->slot++;
	*tail = sub;
	pthread_mutex_unlock(&r->mu);
	return sub;
}

void mq_receiver_drop(struct mq_receiver *r, struct mq_sub *sub)
{
	pthread_mutex_lock(&r->mu);
	sub->dropped = true;
	pthread_mutex_unlock(&r->mu);
}

int mq_receiver_start(struct mq_receiver *r, struct mq_sub *sub, struct outrig_error *err)
{
	size_t count = 0;
	int rc;

	pthread_mutex_lock(&r->mu);
	rc = mq_spool_claim(r->spool, sub->filter, sub->slot, err);
	if (rc == OUTRIG_OK)
		rc = mq_spool_count(r->spool, sub->filter, sub->slot, &count, err);
	/* Started even after a spool error: new messages must not wait for old ones that cannot be read. */
	sub->started = true;
	sub->cursor = 0;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	if (count > 0)
		r->host->log(r->self, OUTRIG_LOG_INFO,
			     "subscription \"%s\": delivering %zu messages kept in the spool (received "
			     "earlier and not yet acknowledged by the app)",
			     sub->filter, count);
	return rc;
}
