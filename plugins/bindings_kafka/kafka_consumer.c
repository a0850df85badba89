/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer of a Kafka component: a group member on its own thread, committing only what the core settled. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* timegm's sibling gmtime_r */
#endif
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_consumer.h"
#include "kafka_producer.h" /* the log and error callbacks */

/*
 * Unsettled messages after which the consumer pauses its partitions, and resumes below half of it.
 * Below the host's per-subscription backlog (256 messages), so the consumer pauses and keeps
 * polling, staying in its group, before pubsub_deliver would hold its thread.
 */
#define KF_MAX_UNSETTLED 200
/* How long a commit on revocation or at the end may wait for the coordinator. */
#define KF_COMMIT_WAIT_MS 5000
/* How soon a failed or unanswered commit is tried again. */
#define KF_COMMIT_RETRY_MS 2000

struct kf_part;

/* One message handed to the core, until every sink settled it and it was committed or dropped. */
struct kf_entry {
	struct kf_consumer *c;
	struct kf_part *part; /* NULL once its partition was revoked: freed at its last done() */
	int64_t offset;
	int pending; /* sinks yet to settle it, plus one while it is being handed out */
	bool failed; /* a sink gave it back unsettled or refused it: never commit past it */
	struct kf_entry *next;
};

/* What was handed out of one assigned partition, oldest first, and what was committed. */
struct kf_part {
	char *topic;
	int32_t partition;
	struct kf_entry *head, **tail;
	int64_t want;	 /* the next offset to commit (the first not yet settled); -1: nothing yet */
	int64_t acked;	 /* the last offset the coordinator confirmed; -1: none */
	int64_t sent_at; /* when a commit of want went out (monotonic ms); 0: none in flight */
	struct kf_part *next;
};

struct kf_route {
	char *topic;
	void *sink;
	struct kf_route *next;
};

struct kf_consumer {
	struct kf_logger log; /* first: rd_kafka_opaque() points here too */
	const struct kf_options *opts;
	const struct outrig_host *host;
	rd_kafka_t *rk;
	pthread_t thread;
	bool started;

	pthread_mutex_t mu; /* guards everything below */
	struct kf_route *routes;
	struct kf_part *parts;
	size_t unsettled; /* entries with pending > 0 */
	bool refused;	  /* the core said it is stopping: hand out nothing more */
	bool paused;
	bool stop;
	int64_t last_topic_warning;
};

static int64_t kf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct kf_part *kf_part_find(struct kf_consumer *c, const char *topic, int32_t partition)
{
	for (struct kf_part *p = c->parts; p != NULL; p = p->next)
		if (p->partition == partition && strcmp(p->topic, topic) == 0)
			return p;
	return NULL;
}

static struct kf_part *kf_part_get(struct kf_consumer *c, const char *topic, int32_t partition)
{
	struct kf_part *p = kf_part_find(c, topic, partition);

	if (p != NULL)
		return p;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->topic = strdup(topic)) == NULL) {
		free(p);
		return NULL;
	}
	p->partition = partition;
	p->tail = &p->head;
	p->want = -1;
	p->acked = -1;
	p->next = c->parts;
	c->parts = p;
	return p;
}

/*
 * Forgets a partition: its settled entries go, its unsettled ones are left to their done(), and
 * whatever was not committed comes again to whoever owns the partition next. Called with mu held.
 */
static void kf_part_drop(struct kf_consumer *c, struct kf_part *p)
{
	struct kf_entry *e = p->head, *next;

	for (struct kf_part **pp = &c->parts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	for (; e != NULL; e = next) {
		next = e->next;
		if (e->pending == 0)
			free(e);
		else
			e->part = NULL;
	}
	free(p->topic);
	free(p);
}

static void kf_drop_all(struct kf_consumer *c)
{
	while (c->parts != NULL)
		kf_part_drop(c, c->parts);
}

/*
 * Moves each partition's commit point past its settled prefix and lists the partitions whose
 * point is ahead of what the coordinator confirmed (force: even those with a commit in flight).
 * Returns NULL when there is nothing to commit. Called with mu held.
 */
static rd_kafka_topic_partition_list_t *kf_ready(struct kf_consumer *c, bool force)
{
	rd_kafka_topic_partition_list_t *list = NULL;
	int64_t now = kf_now_ms();

	for (struct kf_part *p = c->parts; p != NULL; p = p->next) {
		while (p->head != NULL && p->head->pending == 0 && !p->head->failed) {
			struct kf_entry *e = p->head;

			p->want = e->offset + 1;
			p->head = e->next;
			if (p->head == NULL)
				p->tail = &p->head;
			free(e);
		}
		if (p->want < 0 || p->want <= p->acked)
			continue;
		if (!force && p->sent_at != 0 && now - p->sent_at < KF_COMMIT_RETRY_MS)
			continue;
		if (list == NULL)
			list = rd_kafka_topic_partition_list_new(4);
		if (list == NULL)
			return NULL;
		rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = p->want;
		p->sent_at = now;
	}
	return list;
}

/* Records what the coordinator confirmed. Called with mu held. */
static void kf_confirmed(struct kf_consumer *c, rd_kafka_resp_err_t err,
			 const rd_kafka_topic_partition_list_t *offsets)
{
	for (int i = 0; offsets != NULL && i < offsets->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
		struct kf_part *p = kf_part_find(c, tp->topic, tp->partition);

		if (p == NULL)
			continue;
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR && tp->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (tp->offset > p->acked)
				p->acked = tp->offset;
			p->sent_at = 0; /* confirmed: what settled meanwhile goes at the next poll, not 2 s later */
		}
	}
}

static void kf_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
			 void *opaque)
{
	struct kf_consumer *c = opaque;

	(void)rk;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
		c->host->log(c->log.self, OUTRIG_LOG_WARN,
			     "committing offsets of group %s failed: %s; trying again, a restart may deliver "
			     "some messages twice",
			     c->opts->group, rd_kafka_err2str(err));
	pthread_mutex_lock(&c->mu);
	kf_confirmed(c, err, offsets);
	pthread_mutex_unlock(&c->mu);
}

/* Commits what is settled and waits (bounded) for the answer: before a revocation, and at the end. */
static void kf_commit_now(struct kf_consumer *c)
{
	rd_kafka_topic_partition_list_t *list;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;

	pthread_mutex_lock(&c->mu);
	list = kf_ready(c, true);
	pthread_mutex_unlock(&c->mu);
	if (list == NULL)
		return;
	q = rd_kafka_queue_new(c->rk);
	if (q == NULL || rd_kafka_commit_queue(c->rk, list, q, NULL, NULL) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		c->host->log(c->log.self, OUTRIG_LOG_WARN,
			     "could not commit the settled offsets of group %s; they will be delivered again",
			     c->opts->group);
	} else if ((ev = rd_kafka_queue_poll(q, KF_COMMIT_WAIT_MS)) == NULL) {
		c->host->log(c->log.self, OUTRIG_LOG_WARN,
			     "the coordinator of group %s did not confirm the commit within %d ms; the last "
			     "messages may be delivered again",
			     c->opts->group, KF_COMMIT_WAIT_MS);
	} else {
		rd_kafka_resp_err_t err = rd_kafka_event_error(ev);

		if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
			c->host->log(c->log.self, OUTRIG_LOG_WARN,
				     "committing offsets of group %s failed: %s; the last messages may be "
				     "delivered again",
				     c->opts->group, rd_kafka_err2str(err));
		pthread_mutex_lock(&c->mu);
		kf_confirmed(c, err, rd_kafka_event_topic_partition_list(ev));
		pthread_mutex_unlock(&c->mu);
		rd_kafka_event_destroy(ev);
	}
	if (q != NULL)
		rd_kafka_queue_destroy(q);
	rd_kafka_topic_partition_list_destroy(list);
}

static void kf_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
			    void *opaque)
{
	struct kf_consumer *c = opaque;
	bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		c->host->log(c->log.self, OUTRIG_LOG_INFO,
			     "group %s assigned %d partition(s) to this consumer", c->opts->group,
			     parts->cnt);
		if (cooperative)
			error = rd_kafka_incremental_assign(rk, parts);
		else
			aerr = rd_kafka_assign(rk, parts);
		pthread_mutex_lock(&c->mu);
		c->paused =
			false; /* the new assignment starts unpaused; the loop pauses it again if need be */
		pthread_mutex_unlock(&c->mu);
	} else {
		/* Revoked (or lost): commit what is settled, then stop tracking the rest, which comes again. */
		if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk))
			kf_commit_now(c);
		c->host->log(c->log.self, OUTRIG_LOG_INFO,
			     "group %s revoked %d partition(s) from this consumer", c->opts->group,
			     parts->cnt);
		pthread_mutex_lock(&c->mu);
		if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
			for (int i = 0; i < parts->cnt; i++) {
				struct kf_part *p =
					kf_part_find(c, parts->elems[i].topic, parts->elems[i].partition);

				if (p != NULL)
					kf_part_drop(c, p);
			}
		} else {
			kf_drop_all(c);
		}
		pthread_mutex_unlock(&c->mu);
		if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
			error = rd_kafka_incremental_unassign(rk, parts);
		else
			aerr = rd_kafka_assign(rk, NULL);
	}
	if (error != NULL) {
		c->host->log(c->log.self, OUTRIG_LOG_ERROR, "group %s: changing the assignment failed: %s",
			     c->opts->group, rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		c->host->log(c->log.self, OUTRIG_LOG_ERROR, "group %s: changing the assignment failed: %s",
			     c->opts->group, rd_kafka_err2str(aerr));
	}
}

static void kf_done(void *ctx, int outcome)
{
	struct kf_entry *e = ctx;
	struct kf_consumer *c = e->c;

	pthread_mutex_lock(&c->mu);
	if (outcome != OUTRIG_PUBSUB_SETTLED)
		e->failed = true;
	if (--e->pending == 0) {
		c->unsettled--;
		if (e->part == NULL)
			free(e);
	}
	pthread_mutex_unlock(&c->mu);
}

/* Dapr's metadata of a received message: __key, __topic, __partition, __offset, __timestamp, headers. */
struct kf_meta {
	struct outrig_kv *items;
	size_t count;
	char partition[16], offset[24], timestamp[32];
	char *key;
	char **values; /* header values, NUL-terminated copies */
	size_t nvalues;
};

static void kf_meta_free(struct kf_meta *md)
{
	for (size_t i = 0; i < md->nvalues; i++)
		free(md->values[i]);
	free(md->values);
	free(md->items);
	free(md->key);
}

static int kf_meta_build(const rd_kafka_message_t *m, struct kf_meta *md)
{
	rd_kafka_headers_t *hdrs = NULL;
	size_t nh = 0;
	rd_kafka_timestamp_type_t tstype;
	int64_t ts = rd_kafka_message_timestamp(m, &tstype);

	memset(md, 0, sizeof(*md));
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != NULL)
		nh = rd_kafka_header_cnt(hdrs);
	md->items = calloc(5 + nh, sizeof(*md->items));
	md->values = calloc(nh + 1, sizeof(*md->values));
	if (md->items == NULL || md->values == NULL)
		return -1;
	if (m->key != NULL) {
		md->key = malloc(m->key_len + 1);
		if (md->key == NULL)
			return -1;
		memcpy(md->key, m->key, m->key_len);
		md->key[m->key_len] = '\0';
		md->items[md->count++] = (struct outrig_kv){ "__key", md->key };
	}
	md->items[md->count++] = (struct outrig_kv){ "__topic", rd_kafka_topic_name(m->rkt) };
	snprintf(md->partition, sizeof(md->partition), "%" PRId32, m->partition);
	md->items[md->count++] = (struct outrig_kv){ "__partition", md->partition };
	snprintf(md->offset, sizeof(md->offset), "%" PRId64, m->offset);
	md->items[md->count++] = (struct outrig_kv){ "__offset", md->offset };
	if (ts >= 0) {
		time_t secs = (time_t)(ts / 1000);
		struct tm tm;

		gmtime_r(&secs, &tm);
		strftime(md->timestamp, sizeof(md->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		md->items[md->count++] = (struct outrig_kv){ "__timestamp", md->timestamp };
	}
	for (size_t i = 0; i < nh; i++) {
		const char *name;
		const void *value;
		size_t len;
		char *copy;

		if (rd_kafka_header_get_all(hdrs, i, &name, &value, &len) != RD_KAFKA_RESP_ERR_NO_ERROR)
			continue;
		copy = malloc(len + 1);
		if (copy == NULL)
			return -1;
		if (len > 0)
			memcpy(copy, value, len);
		copy[len] = '\0';
		md->values[md->nvalues++] = copy;
		md->items[md->count++] = (struct outrig_kv){ name, copy };
	}
	return 0;
}

/* Gives one message to every sink of its topic, tracking it until all of them settled it. */
static void kf_hand_out(struct kf_consumer *c, const rd_kafka_message_t *m)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	void *sinks[16], **many = sinks;
	size_t nsinks = 0, cap = sizeof(sinks) / sizeof(sinks[0]);
	struct kf_entry *e;
	struct kf_part *p;
	struct kf_meta md;

	pthread_mutex_lock(&c->mu);
	if (c->refused) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	for (struct kf_route *r = c->routes; r != NULL; r = r->next) {
		if (strcmp(r->topic, topic) != 0)
			continue;
		if (nsinks == cap) {
			void **grown = malloc(2 * cap * sizeof(*grown));

			if (grown == NULL)
				break;
			memcpy(grown, many, nsinks * sizeof(*grown));
			if (many != sinks)
				free(many);
			many = grown;
			cap *= 2;
		}
		many[nsinks++] = r->sink;
	}
	p = kf_part_get(c, topic, m->partition);
	e = p != NULL ? calloc(1, sizeof(*e)) : NULL;
	if (e == NULL) {
		/* Not tracked, so never committed past: it comes again after a restart. */
		c->refused = true;
		pthread_mutex_unlock(&c->mu);
		c->host->log(c->log.self, OUTRIG_LOG_ERROR,
			     "out of memory: no longer delivering topic %s; restart to resume", topic);
		if (many != sinks)
			free(many);
		return;
	}
	e->c = c;
	e->part = p;
	e->offset = m->offset;
	e->pending = (int)nsinks + 1;
	*p->tail = e;
	p->tail = &e->next;
	c->unsettled++;
	pthread_mutex_unlock(&c->mu);

	if (kf_meta_build(m, &md) != 0) {
		pthread_mutex_lock(&c->mu);
		e->failed = true;
		c->refused = true;
		e->pending -= (int)nsinks;
		pthread_mutex_unlock(&c->mu);
		nsinks = 0;
	}
	for (size_t i = 0; i < nsinks; i++) {
		int rc;

		if (c->opts->pubsub) {
			struct outrig_pubsub_message msg = {
				.topic = topic,
				.data = m->payload,
				.data_len = m->len,
				.metadata = { md.count, md.items },
			};

			rc = c->host->pubsub_deliver(many[i], &msg, kf_done, e);
		} else {
			struct outrig_binding_event ev = {
				.data = m->payload,
				.data_len = m->len,
				.metadata = { md.count, md.items },
			};

			rc = c->host->binding_deliver(many[i], &ev, kf_done, e);
		}
		if (rc != OUTRIG_OK) {
			/* Not accepted: it must not be committed, nor anything after it in its partition. */
			pthread_mutex_lock(&c->mu);
			e->failed = true;
			e->pending--;
			c->refused = true;
			pthread_mutex_unlock(&c->mu);
			if (rc != OUTRIG_EUNAVAIL)
				c->host->log(c->log.self, OUTRIG_LOG_ERROR,
					     "the sidecar refused a message of %s [%" PRId32
					     "] at offset %" PRId64
					     " (%s): not delivering any more; it comes again after a restart",
					     topic, m->partition, m->offset, outrig_status_name(rc));
		}
	}
	kf_meta_free(&md);
	if (many != sinks)
		free(many);
	/* The hand-out's own hold: done() may already have run for every sink. */
	kf_done(e, e->failed ? OUTRIG_PUBSUB_UNSETTLED : OUTRIG_PUBSUB_SETTLED);
}

/* Pauses the assignment while too much waits for the app, so memory stays bounded. */
static void kf_flow(struct kf_consumer *c)
{
	rd_kafka_topic_partition_list_t *assigned = NULL;
	bool pause = false, resume = false;

	pthread_mutex_lock(&c->mu);
	if (!c->paused && c->unsettled >= KF_MAX_UNSETTLED)
		pause = c->paused = true;
	else if (c->paused && c->unsettled < KF_MAX_UNSETTLED / 2)
		resume = !(c->paused = false);
	pthread_mutex_unlock(&c->mu);
	if ((!pause && !resume) || rd_kafka_assignment(c->rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	if (pause)
		rd_kafka_pause_partitions(c->rk, assigned);
	else
		rd_kafka_resume_partitions(c->rk, assigned);
	rd_kafka_topic_partition_list_destroy(assigned);
}

static void kf_message_error(struct kf_consumer *c, const rd_kafka_message_t *m)
{
	enum outrig_log_level level = OUTRIG_LOG_WARN;
	int64_t now = kf_now_ms();

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		return;
	if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
		/* Repeats until the topic exists: say it every half minute. */
		pthread_mutex_lock(&c->mu);
		if (c->last_topic_warning != 0 && now - c->last_topic_warning < 30000)
			level = OUTRIG_LOG_DEBUG;
		else
			c->last_topic_warning = now;
		pthread_mutex_unlock(&c->mu);
	}
	c->host->log(c->log.self, level, "kafka consumer of group %s: %s", c->opts->group,
		     rd_kafka_message_errstr(m));
}

static void *kf_consume_main(void *arg)
{
	struct kf_consumer *c = arg;

	for (;;) {
		rd_kafka_topic_partition_list_t *list;
		rd_kafka_message_t *m;
		bool stop;

		pthread_mutex_lock(&c->mu);
		stop = c->stop;
		list = stop ? NULL : kf_ready(c, false);
		pthread_mutex_unlock(&c->mu);
		if (stop)
			break;
		if (list != NULL) {
			rd_kafka_commit(c->rk, list, 1);
			rd_kafka_topic_partition_list_destroy(list);
		}
		kf_flow(c);
		m = rd_kafka_consumer_poll(c->rk, 100);
		if (m == NULL)
			continue;
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
			kf_message_error(c, m);
		else
			kf_hand_out(c, m);
		rd_kafka_message_destroy(m);
	}
	return NULL;
}

int kf_consumer_new(const struct kf_options *o, const struct outrig_host *host, struct outrig_handle *self,
		    struct kf_consumer **out, struct outrig_error *err)
{
	struct kf_consumer *c;
	rd_kafka_conf_t *conf;
	char why[512];
	int rc;

	*out = NULL;
	if (o->group == NULL)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component %s reads topics but has no consumer group; set consumerGroup",
				  o->component);
	c = calloc(1, sizeof(*c));
	conf = rd_kafka_conf_dup(o->base);
	if (c == NULL || conf == NULL) {
		free(c);
		if (conf != NULL)
			rd_kafka_conf_destroy(conf);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	c->log.host = host;
	c->log.self = self;
	c->log.what = "consumer";
	c->opts = o;
	c->host = host;
	pthread_mutex_init(&c->mu, NULL);
	rc = kf_options_consumer(o, conf, err);
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "group.id", o->group, err);
	/* Offsets are committed by hand, and only past what the core settled. */
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "enable.auto.commit", "false", err);
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "enable.auto.offset.store", "false", err);
	if (rc != OUTRIG_OK) {
		rd_kafka_conf_destroy(conf);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return rc;
	}
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_log_cb(conf, kf_log_cb);
	rd_kafka_conf_set_error_cb(conf, kf_error_cb);
	rd_kafka_conf_set_rebalance_cb(conf, kf_rebalance_cb);
	rd_kafka_conf_set_offset_commit_cb(conf, kf_commit_cb);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (c->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return outrig_err(err, OUTRIG_EINVAL, "cannot start a Kafka consumer: %s", why);
	}
	rd_kafka_poll_set_consumer(c->rk);
	*out = c;
	return OUTRIG_OK;
}

int kf_consumer_add(struct kf_consumer *c, const char *topic, void *sink, struct outrig_error *err)
{
	struct kf_route *r = calloc(1, sizeof(*r));
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
	rd_kafka_resp_err_t e;
	bool start;

	if (r == NULL || topics == NULL || (r->topic = strdup(topic)) == NULL) {
		free(r);
		if (topics != NULL)
			rd_kafka_topic_partition_list_destroy(topics);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	r->sink = sink;
	pthread_mutex_lock(&c->mu);
	r->next = c->routes;
	c->routes = r;
	for (struct kf_route *x = c->routes; x != NULL; x = x->next)
		if (rd_kafka_topic_partition_list_find(topics, x->topic, RD_KAFKA_PARTITION_UA) == NULL)
			rd_kafka_topic_partition_list_add(topics, x->topic, RD_KAFKA_PARTITION_UA);
	start = !c->started;
	c->started = true;
	pthread_mutex_unlock(&c->mu);
	e = rd_kafka_subscribe(c->rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		/* The route stays: a later subscribe() may succeed with the whole list. */
		return outrig_err(err, OUTRIG_EINVAL, "cannot subscribe group %s to topic %s: %s",
				  c->opts->group, topic, rd_kafka_err2str(e));
	if (start && pthread_create(&c->thread, NULL, kf_consume_main, c) != 0) {
		pthread_mutex_lock(&c->mu);
		c->started = false;
		pthread_mutex_unlock(&c->mu);
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot start the Kafka consumer's thread");
	}
	c->host->log(c->log.self, OUTRIG_LOG_INFO, "consuming topic %s in group %s from %s", topic,
		     c->opts->group, c->opts->brokers);
	return OUTRIG_OK;
}

void kf_consumer_free(struct kf_consumer *c)
{
	bool started;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	started = c->started;
	pthread_mutex_unlock(&c->mu);
	if (started)
		pthread_join(c->thread, NULL);
	/* Every done() has run: commit what was settled, then leave the group (the revocation drops the rest). */
	kf_commit_now(c);
	rd_kafka_consumer_close(c->rk);
	rd_kafka_destroy(c->rk);
	pthread_mutex_lock(&c->mu);
	kf_drop_all(c);
	while (c->routes != NULL) {
		struct kf_route *r = c->routes;

		c->routes = r->next;
		free(r->topic);
		free(r);
	}
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
