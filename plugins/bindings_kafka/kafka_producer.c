/* SPDX-License-Identifier: Apache-2.0 */
/* The producer of a Kafka component: one librdkafka producer, each send waiting for its acknowledgement. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_producer.h"

/* How much longer than writeTimeout a send waits for librdkafka's own report before giving up on it. */
#define KF_REPORT_SLACK_MS 5000

struct kf_producer {
	struct kf_logger log; /* first: rd_kafka_opaque() points here too */
	const struct kf_options *opts;
	rd_kafka_t *rk;
	pthread_t poller;
	bool poller_started;
	pthread_mutex_t mu;
	pthread_cond_t reported;
	bool stop;
};

/* One send in flight; freed by whichever of the sender and the report comes last. */
struct kf_send {
	bool done;
	bool abandoned; /* the sender stopped waiting */
	rd_kafka_resp_err_t err;
	int32_t partition;
	int64_t offset;
};

void kf_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct kf_logger *l = rd_kafka_opaque(rk);
	enum outrig_log_level lvl = level <= 3	 ? OUTRIG_LOG_ERROR
				    : level <= 4 ? OUTRIG_LOG_WARN
				    : level <= 6 ? OUTRIG_LOG_INFO
						 : OUTRIG_LOG_DEBUG;

	if (l != NULL)
		l->host->log(l->self, lvl, "librdkafka %s %s: %s", l->what, fac, buf);
}

void kf_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	const struct kf_logger *l = opaque;
	enum outrig_log_level level = OUTRIG_LOG_DEBUG; /* a broker's own trouble: log_cb said it already */

	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__FATAL)
		level = OUTRIG_LOG_ERROR;
	else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
		 err == RD_KAFKA_RESP_ERR__SSL)
		level = OUTRIG_LOG_WARN;
	if (l != NULL)
		l->host->log(l->self, level, "kafka %s: %s (%s)", l->what, reason,
			     rd_kafka_err2name((rd_kafka_resp_err_t)err));
}

static void kf_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kf_producer *p = opaque;
	struct kf_send *s = m->_private;

	(void)rk;
	if (s == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (s->abandoned) {
		free(s);
	} else {
		s->done = true;
		s->err = m->err;
		s->partition = m->partition;
		s->offset = m->offset;
		pthread_cond_broadcast(&p->reported);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Serves delivery reports and errors: librdkafka calls them only from rd_kafka_poll(). */
static void *kf_poll_main(void *arg)
{
	struct kf_producer *p = arg;

	for (;;) {
		bool stop;

		pthread_mutex_lock(&p->mu);
		stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		rd_kafka_poll(p->rk, 100);
	}
	return NULL;
}

int kf_producer_new(const struct kf_options *o, const struct outrig_host *host, struct outrig_handle *self,
		    int64_t init_timeout_ms, struct kf_producer **out, struct outrig_error *err)
{
	struct kf_producer *p = calloc(1, sizeof(*p));
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_resp_err_t mderr;
	char why[512];
	int rc;

	*out = NULL;
	if (p == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	p->log.host = host;
	p->log.self = self;
	p->log.what = "producer";
	p->opts = o;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->reported, NULL);
	conf = rd_kafka_conf_dup(o->base);
	if (conf == NULL) {
		kf_producer_free(p);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	rc = kf_options_producer(o, conf, err);
	/* Acknowledged means every in-sync replica has it, as Dapr's producerRequiredAcks "all". */
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "acks", "all", err);
	if (rc != OUTRIG_OK) {
		rd_kafka_conf_destroy(conf);
		kf_producer_free(p);
		return rc;
	}
	rd_kafka_conf_set_opaque(conf, p);
	rd_kafka_conf_set_dr_msg_cb(conf, kf_delivered);
	rd_kafka_conf_set_log_cb(conf, kf_log_cb);
	rd_kafka_conf_set_error_cb(conf, kf_error_cb);
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (p->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		kf_producer_free(p);
		return outrig_err(err, OUTRIG_EINVAL, "cannot start a Kafka producer: %s", why);
	}
	/* As Dapr's Init: a component whose brokers never answer fails to start, naming them. */
	mderr = rd_kafka_metadata(p->rk, 0, NULL, &md, (int)(init_timeout_ms > 0 ? init_timeout_ms : 5000));
	if (mderr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		kf_producer_free(p);
		return outrig_err(
			err, OUTRIG_EUNAVAIL,
			"no Kafka broker of %s answered within %lld ms (initTimeout): %s; are the brokers "
			"up, and do authType and the TLS settings match theirs?",
			o->brokers, (long long)init_timeout_ms, rd_kafka_err2str(mderr));
	}
	rd_kafka_metadata_destroy(md);
	if (pthread_create(&p->poller, NULL, kf_poll_main, p) != 0) {
		kf_producer_free(p);
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot start the Kafka producer's thread");
	}
	p->poller_started = true;
	*out = p;
	return OUTRIG_OK;
}

static rd_kafka_headers_t *kf_headers(const struct outrig_metadata *md)
{
	rd_kafka_headers_t *h;

	if (md == NULL || md->count == 0)
		return NULL;
	h = rd_kafka_headers_new(md->count);
	for (size_t i = 0; h != NULL && i < md->count; i++)
		if (md->items[i].key != NULL && md->items[i].value != NULL)
			rd_kafka_header_add(h, md->items[i].key, -1, md->items[i].value, -1);
	return h;
}

static int kf_send_error(const struct kf_producer *p, rd_kafka_resp_err_t e, const char *topic,
			 struct outrig_error *err)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
		return outrig_err(
			err, OUTRIG_ETIMEDOUT,
			"Kafka did not acknowledge the message to topic %s within %lld ms (writeTimeout): "
			"%s; are the brokers at %s up?",
			topic, (long long)p->opts->write_timeout_ms, rd_kafka_err2str(e), p->opts->brokers);
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return outrig_err(
			err, OUTRIG_EINVAL,
			"the message to topic %s is larger than the broker or maxMessageBytes allows: %s",
			topic, rd_kafka_err2str(e));
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR__INVALID_ARG:
		return outrig_err(err, OUTRIG_EINVAL, "cannot send to topic %s: %s", topic,
				  rd_kafka_err2str(e));
	default:
		return outrig_err(err, OUTRIG_EUNAVAIL, "Kafka refused the message to topic %s: %s (%s)",
				  topic, rd_kafka_err2str(e), rd_kafka_err2name(e));
	}
}

int kf_producer_send(struct kf_producer *p, const char *topic, int32_t partition, const char *key,
		     const void *data, size_t len, const struct outrig_metadata *headers,
		     struct outrig_error *err)
{
	struct kf_send *s = calloc(1, sizeof(*s));
	rd_kafka_headers_t *h = kf_headers(headers);
	rd_kafka_resp_err_t e;
	struct timespec deadline;
	int64_t wait_ms = p->opts->write_timeout_ms + KF_REPORT_SLACK_MS;
	size_t key_len = key != NULL ? strlen(key) : 0;
	int rc;

	if (s == NULL) {
		if (h != NULL)
			rd_kafka_headers_destroy(h);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	e = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
			      RD_KAFKA_V_PARTITION(partition >= 0 ? partition : RD_KAFKA_PARTITION_UA),
			      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			      RD_KAFKA_V_VALUE((void *)(uintptr_t)data, len), RD_KAFKA_V_KEY(key, key_len),
			      RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(s), RD_KAFKA_V_END);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		/* Not queued: the headers and the record are still ours. */
		if (h != NULL)
			rd_kafka_headers_destroy(h);
		free(s);
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return outrig_err(
				err, OUTRIG_EUNAVAIL,
				"the Kafka producer's queue is full (the brokers at %s are slow or down); "
				"retry later",
				p->opts->brokers);
		return kf_send_error(p, e, topic, err);
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(wait_ms / 1000);
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (!s->done)
		if (pthread_cond_timedwait(&p->reported, &p->mu, &deadline) == ETIMEDOUT)
			break;
	if (!s->done) {
		/* librdkafka owes a report after message.timeout.ms; it frees s when it comes. */
		s->abandoned = true;
		pthread_mutex_unlock(&p->mu);
		return outrig_err(
			err, OUTRIG_ETIMEDOUT,
			"Kafka did not report on the message to topic %s within %lld ms; are the brokers "
			"at %s up?",
			topic, (long long)wait_ms, p->opts->brokers);
	}
	pthread_mutex_unlock(&p->mu);
	e = s->err;
	free(s);
	rc = e == RD_KAFKA_RESP_ERR_NO_ERROR ? OUTRIG_OK : kf_send_error(p, e, topic, err);
	return rc;
}

void kf_producer_free(struct kf_producer *p)
{
	if (p == NULL)
		return;
	/* Every send has returned by now: only ones their senders gave up on can be left. */
	if (p->rk != NULL && rd_kafka_flush(p->rk, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(p->rk, 100);
	}
	if (p->poller_started) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->poller, NULL);
	}
	if (p->rk != NULL)
		rd_kafka_destroy(p->rk);
	pthread_cond_destroy(&p->reported);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
