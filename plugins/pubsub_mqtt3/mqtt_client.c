/* SPDX-License-Identifier: Apache-2.0 */
/* The one MQTT connection of a component (paho's MQTTAsync): connecting, reconnecting, publish and subscribe. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>

#include "mqtt_client.h"
#include "mqtt_nodelay.h"
#include "mqtt_topic.h"

#define MQ_KEEPALIVE_S 20
#define MQ_RETRY_MIN_MS 1000
#define MQ_RETRY_MAX_MS 5000
#define MQ_CONNECT_TIMEOUT_S 5
/* How long publish and subscribe wait for the broker's acknowledgement. */
#define MQ_ACK_TIMEOUT_MS 5000
#define MQ_DISCONNECT_TIMEOUT_MS 2000
/* A connect attempt paho has not finished by the init timeout gets this long to report before paho is torn down. */
#define MQ_CONNECT_GRACE_MS 2000
/* MQTT's largest packet is 256 MB; the topic and header take a little of it. */
#define MQ_PAYLOAD_MAX (268435455u - 65536u)
#define MQ_CAUSE_MAX 256

/* A filter to subscribe again after a reconnection without session. Never freed before the client. */
struct mq_filter {
	struct mq_client *c;
	char *text;
	bool acked;   /* the broker holds it in this session */
	bool dropped; /* refused: not subscribed again */
	struct mq_filter *next;
};

/* One caller waiting for paho's onSuccess/onFailure; freed by whichever of the two comes last. */
struct mq_waiter {
	struct mq_client *c;
	struct mq_filter *filter; /* subscribe: marked acked on success */
	int refs;
	bool done, ok;
	char cause[MQ_CAUSE_MAX];
	struct mq_waiter *prev, *next;
};

struct mq_client {
	const struct mq_options *o;
	const struct outrig_host *host;
	struct outrig_handle *self;
	MQTTAsync cli;
	mq_arrived_fn *arrived;
	void *arrived_ctx;

	pthread_mutex_t mu;
	pthread_cond_t cond; /* any change below: waiters, connection state, stopping */
	bool connected, connecting, ever_connected, stopping, outage_logged;
	char cause[MQ_CAUSE_MAX]; /* why the last attempt failed or the connection was lost */
	int last_code;		  /* paho's code (or the CONNACK's) of the last failed attempt */
	char tls_error[128];	  /* OpenSSL's reason for the current attempt's failure, or "" */
	bool tls_refused;	  /* the last attempt's certificate did not verify: no use retrying */
	int64_t next_attempt_ms;
	int backoff_ms;
	struct mq_filter *filters; /* newest first, so a reader holding an old head needs no lock */
	struct mq_waiter *waiters;
	pthread_t keeper;
	bool keeper_running;
};

static int64_t mq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits on c->cond (mu held) until deadline_ms on the monotonic clock. */
static void mq_wait_until(struct mq_client *c, int64_t deadline_ms)
{
	struct timespec ts = { .tv_sec = deadline_ms / 1000, .tv_nsec = (deadline_ms % 1000) * 1000000 };

	pthread_cond_timedwait(&c->cond, &c->mu, &ts);
}

/* paho's codes as a person reads them; CONNACK and SUBACK return codes arrive as code too. */
static void mq_describe(int code, const char *message, char *out, size_t len)
{
	switch (code) {
	case 1: snprintf(out, len, "the broker does not accept MQTT 3.1.1 (CONNACK 1)"); return;
	case 2:
		snprintf(out, len, "the broker rejected the client id (CONNACK 2); set another consumerID");
		return;
	case 3: snprintf(out, len, "the broker says the MQTT service is unavailable (CONNACK 3)"); return;
	case 4:
		snprintf(out, len, "bad user name or password (CONNACK 4); check the user:password in url");
		return;
	case 5:
		snprintf(out, len,
			 "not authorized (CONNACK 5); check the broker's access rules for this user");
		return;
	case MQTT_BAD_SUBSCRIBE:
		snprintf(
			out, len,
			"the broker refused it (SUBACK 0x80): not allowed for this client, or an unsupported filter");
		return;
	}
	if (message != NULL && *message != '\0')
		snprintf(out, len, "%s", message);
	else
		snprintf(out, len, "%s (paho code %d)", MQTTAsync_strerror(code), code);
}

static bool mq_refused_for_good(int code)
{
	return code == 1 || code == 2 || code == 4 || code == 5;
}

static struct mq_waiter *mq_waiter_new(struct mq_client *c, struct mq_filter *filter)
{
	struct mq_waiter *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->c = c;
	w->filter = filter;
	w->refs = 2; /* the caller and paho's callback */
	pthread_mutex_lock(&c->mu);
	w->next = c->waiters;
	if (c->waiters != NULL)
		c->waiters->prev = w;
	c->waiters = w;
	pthread_mutex_unlock(&c->mu);
	return w;
}

/* Drops one reference (mu held); the last one unlinks and frees. */
static void mq_waiter_release(struct mq_client *c, struct mq_waiter *w)
{
	if (--w->refs > 0)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		c->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	free(w);
}

/* paho refused the call, so no callback will come: only the caller's reference is left. */
static void mq_waiter_cancel(struct mq_client *c, struct mq_waiter *w)
{
	pthread_mutex_lock(&c->mu);
	w->refs = 1;
	mq_waiter_release(c, w);
	pthread_mutex_unlock(&c->mu);
}

static void mq_waiter_finish(struct mq_waiter *w, bool ok, int code, const char *message)
{
	struct mq_client *c = w->c;

	pthread_mutex_lock(&c->mu);
	w->done = true;
	w->ok = ok;
	if (!ok)
		mq_describe(code, message, w->cause, sizeof(w->cause));
	if (ok && w->filter != NULL)
		w->filter->acked = true;
	mq_waiter_release(c, w);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
}

static void mq_on_ack(void *ctx, MQTTAsync_successData *resp)
{
	(void)resp;
	mq_waiter_finish(ctx, true, 0, NULL);
}

static void mq_on_nack(void *ctx, MQTTAsync_failureData *resp)
{
	mq_waiter_finish(ctx, false, resp != NULL ? resp->code : MQTTASYNC_FAILURE,
			 resp != NULL ? resp->message : NULL);
}

/* Waits for w up to timeout_ms. Returns true when it finished; *ok and cause tell how. */
static bool mq_waiter_wait(struct mq_client *c, struct mq_waiter *w, int64_t timeout_ms, bool *ok,
			   char *cause, size_t len)
{
	int64_t deadline = mq_now_ms() + timeout_ms;
	bool done;

	pthread_mutex_lock(&c->mu);
	while (!w->done && mq_now_ms() < deadline)
		mq_wait_until(c, deadline);
	done = w->done;
	*ok = w->ok;
	snprintf(cause, len, "%s", w->cause);
	mq_waiter_release(c, w);
	pthread_mutex_unlock(&c->mu);
	return done;
}

static void mq_on_resubscribed(void *ctx, MQTTAsync_successData *resp)
{
	struct mq_filter *f = ctx;

	(void)resp;
	pthread_mutex_lock(&f->c->mu);
	f->acked = true;
	pthread_mutex_unlock(&f->c->mu);
}

static void mq_on_resubscribe_failed(void *ctx, MQTTAsync_failureData *resp)
{
	struct mq_filter *f = ctx;
	char cause[MQ_CAUSE_MAX];

	mq_describe(resp != NULL ? resp->code : MQTTASYNC_FAILURE, resp != NULL ? resp->message : NULL, cause,
		    sizeof(cause));
	f->c->host->log(f->c->self, OUTRIG_LOG_ERROR,
			"could not subscribe again to \"%s\" at %s after reconnecting: %s; its messages are "
			"not received until the next reconnection or restart",
			f->text, f->c->o->where, cause);
}

/* After a connection without session the broker forgot our subscriptions: make them again. */
static void mq_resubscribe(struct mq_client *c, struct mq_filter *head)
{
	for (struct mq_filter *f = head; f != NULL; f = f->next) {
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		bool wanted;
		int rc;

		pthread_mutex_lock(&c->mu);
		wanted = !f->acked && !f->dropped;
		pthread_mutex_unlock(&c->mu);
		if (!wanted)
			continue;
		ro.onSuccess = mq_on_resubscribed;
		ro.onFailure = mq_on_resubscribe_failed;
		ro.context = f;
		rc = MQTTAsync_subscribe(c->cli, f->text, c->o->qos, &ro);
		if (rc != MQTTASYNC_SUCCESS)
			c->host->log(
				c->self, OUTRIG_LOG_WARN,
				"could not subscribe again to \"%s\" at %s: %s; trying at the next reconnection",
				f->text, c->o->where, MQTTAsync_strerror(rc));
	}
}

static void mq_on_connected(void *ctx, MQTTAsync_successData *resp)
{
	struct mq_client *c = ctx;
	bool session = resp != NULL && resp->alt.connect.sessionPresent;
	bool reconnect;
	struct mq_filter *head;

	mq_nodelay_broker_sockets(c->o->server_uri);
	pthread_mutex_lock(&c->mu);
	c->connected = true;
	c->connecting = false;
	c->backoff_ms = MQ_RETRY_MIN_MS;
	c->outage_logged = false;
	reconnect = c->ever_connected;
	c->ever_connected = true;
	if (!session)
		for (struct mq_filter *f = c->filters; f != NULL; f = f->next)
			f->acked = false;
	head = c->filters;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	if (reconnect)
		c->host->log(c->self, OUTRIG_LOG_INFO, "reconnected to the MQTT broker at %s (%s)",
			     c->o->where, session ? "it kept the session" : "no session: subscribing again");
	mq_resubscribe(c, head);
}

/*
 * paho's ssl_error_cb, on paho's thread when OpenSSL failed the handshake: its connect
 * failure says only "TCP/TLS connect failure", so the reason is kept from OpenSSL's error
 * line, "<thread>:error:<code>:<library>:<function>:<reason>:<file>:<line>:", the first one.
 */
static int mq_on_tls_error(const char *str, size_t len, void *ctx)
{
	struct mq_client *c = ctx;
	char line[512];
	char *p, *end;
	int colons = 0;

	snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), str);
	if ((p = strstr(line, ":error:")) != NULL) {
		for (p += 7; *p != '\0' && colons < 3; p++)
			colons += *p == ':';
		if ((end = strchr(p, ':')) != NULL)
			*end = '\0';
	} else {
		p = line;
	}
	p[strcspn(p, "\n")] = '\0';
	pthread_mutex_lock(&c->mu);
	if (c->tls_error[0] == '\0')
		snprintf(c->tls_error, sizeof(c->tls_error), "%.120s", p);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/*
 * Why a TLS connect failed, as far as paho and OpenSSL tell (mu held). A certificate that
 * does not verify will not verify on the next attempt either: tls_refused then says so.
 */
static void mq_describe_tls(struct mq_client *c, int code, const char *message)
{
	if (code > 0 && c->tls_error[0] == '\0')
		return; /* a CONNACK: TLS went well */
	if (strcmp(c->tls_error, "certificate verify failed") == 0) {
		snprintf(c->cause, sizeof(c->cause),
			 "the broker's TLS certificate could not be verified (OpenSSL: %.40s): it is not "
			 "signed by a CA in caCert (without caCert: the system's trust store), or it expired",
			 c->tls_error);
		c->tls_refused = true;
	} else if (c->tls_error[0] != '\0') {
		snprintf(c->cause, sizeof(c->cause), "the TLS handshake failed (OpenSSL: %.120s)",
			 c->tls_error);
	} else if (c->o->cert_file == NULL && message != NULL && strstr(message, "completion") != NULL) {
		/*
		 * TLS 1.3: the client's handshake is over before the broker checks its certificate,
		 * so a missing one shows only as a connection closed at once, with no OpenSSL reason.
		 */
		snprintf(c->cause, sizeof(c->cause),
			 "%.80s: the broker closed the connection right after the TLS handshake, as one that "
			 "requires a client certificate does; set clientCert and clientKey",
			 message);
	} else {
		/*
		 * paho reports a closed port, a certificate that does not name the host (its own check,
		 * after OpenSSL's) and a missing client certificate noticed while reading CONNACK all
		 * alike, with no OpenSSL reason: name the TLS ones.
		 */
		snprintf(
			c->cause, sizeof(c->cause),
			"%.60s (with TLS this is also what paho says when the broker's certificate does "
			"not name the host in url%s)",
			message != NULL && *message != '\0' ? message : "connection failed",
			c->o->cert_file == NULL
				? ", or when the broker requires a client certificate: clientCert and clientKey"
				: "");
	}
}

static void mq_on_connect_failed(void *ctx, MQTTAsync_failureData *resp)
{
	struct mq_client *c = ctx;
	bool log;

	pthread_mutex_lock(&c->mu);
	c->connecting = false;
	mq_describe(resp != NULL ? resp->code : MQTTASYNC_FAILURE, resp != NULL ? resp->message : NULL,
		    c->cause, sizeof(c->cause));
	c->last_code = resp != NULL ? resp->code : MQTTASYNC_FAILURE;
	c->tls_refused = false;
	if (c->o->tls)
		mq_describe_tls(c, c->last_code, resp != NULL ? resp->message : NULL);
	if (mq_refused_for_good(c->last_code) || c->tls_refused)
		c->backoff_ms = MQ_RETRY_MAX_MS;
	c->next_attempt_ms = mq_now_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > MQ_RETRY_MAX_MS ? MQ_RETRY_MAX_MS : c->backoff_ms * 2;
	/* One line per outage, not one per attempt. */
	log = c->ever_connected && !c->outage_logged && !c->stopping;
	c->outage_logged = c->outage_logged || log;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	if (log)
		c->host->log(c->self, OUTRIG_LOG_WARN,
			     "cannot reconnect to the MQTT broker at %s: %s; retrying every %d s",
			     c->o->where, c->cause, MQ_RETRY_MAX_MS / 1000);
}

static void mq_on_connection_lost(void *ctx, char *cause)
{
	struct mq_client *c = ctx;
	bool stopping;

	pthread_mutex_lock(&c->mu);
	c->connected = false;
	snprintf(c->cause, sizeof(c->cause), "%s",
		 cause != NULL && *cause != '\0' ? cause : "connection lost");
	c->backoff_ms = MQ_RETRY_MIN_MS;
	c->next_attempt_ms = mq_now_ms();
	stopping = c->stopping;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	if (!stopping)
		c->host->log(c->self, OUTRIG_LOG_WARN,
			     "lost the connection to the MQTT broker at %s: %s; reconnecting", c->o->where,
			     cause != NULL && *cause != '\0' ? cause : "connection lost");
}

static int mq_on_message(void *ctx, char *topic_name, int topic_len, MQTTAsync_message *m)
{
	struct mq_client *c = ctx;
	char *topic = topic_name;

	/* topic_len 0 means NUL-terminated; otherwise the name may lack the NUL. */
	if (topic_len > 0 && (topic = strndup(topic_name, (size_t)topic_len)) == NULL)
		return 0; /* paho keeps it and calls again */
	c->arrived(c->arrived_ctx, topic, m->payload, m->payloadlen > 0 ? (size_t)m->payloadlen : 0,
		   m->retained != 0);
	if (topic != topic_name)
		free(topic);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic_name);
	return 1;
}

/* Starts one connect; the caller set c->connecting. Paho copies every option it keeps. */
static void mq_connect_begin(struct mq_client *c, int timeout_s)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;
	int rc;

	co.keepAliveInterval = MQ_KEEPALIVE_S;
	co.cleansession = c->o->clean_session ? 1 : 0;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.connectTimeout = timeout_s;
	co.username = c->o->username;
	co.password = c->o->password;
	/* Reconnection is ours, not paho's: only a connect's onSuccess tells whether the session survived. */
	co.automaticReconnect = 0;
	co.onSuccess = mq_on_connected;
	co.onFailure = mq_on_connect_failed;
	co.context = c;
	pthread_mutex_lock(&c->mu);
	c->tls_error[0] = '\0';
	pthread_mutex_unlock(&c->mu);
	if (c->o->tls) {
		so.trustStore = c->o->ca_file;
		so.keyStore = c->o->cert_file;
		so.privateKey = c->o->key_file;
		so.enableServerCertAuth = 1;
		so.verify = 1; /* the certificate must name the host in url */
		so.ssl_error_cb = mq_on_tls_error;
		so.ssl_error_context = c;
		co.ssl = &so;
	}
	rc = MQTTAsync_connect(c->cli, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&c->mu);
		c->connecting = false;
		c->last_code = rc;
		snprintf(c->cause, sizeof(c->cause), "%s", MQTTAsync_strerror(rc));
		c->next_attempt_ms = mq_now_ms() + c->backoff_ms;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->mu);
	}
}

/* Keeps the connection up: one attempt at a time, 1 s after a loss, then backing off to 5 s. */
static void *mq_keeper(void *arg)
{
	struct mq_client *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		int64_t now = mq_now_ms();

		if (!c->connected && !c->connecting && now >= c->next_attempt_ms) {
			c->connecting = true;
			pthread_mutex_unlock(&c->mu);
			mq_connect_begin(c, MQ_CONNECT_TIMEOUT_S);
			pthread_mutex_lock(&c->mu);
			continue;
		}
		mq_wait_until(c, !c->connected && !c->connecting ? c->next_attempt_ms : now + 1000);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void mq_client_free(struct mq_client *c)
{
	if (c->cli != NULL)
		MQTTAsync_destroy(&c->cli);
	/* paho calls nothing after destroy: what is left is ours. */
	while (c->filters != NULL) {
		struct mq_filter *next = c->filters->next;

		free(c->filters->text);
		free(c->filters);
		c->filters = next;
	}
	while (c->waiters != NULL) {
		struct mq_waiter *next = c->waiters->next;

		free(c->waiters);
		c->waiters = next;
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static const char *mq_duration(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
	return buf;
}

/* The first connection, retried until the init timeout; a refused login is not retried. */
static int mq_connect_first(struct mq_client *c, int64_t init_timeout_ms, struct outrig_error *err)
{
	int64_t deadline = mq_now_ms() + init_timeout_ms;
	char took[32];
	bool for_good = false;

	snprintf(c->cause, sizeof(c->cause), "no answer");
	for (;;) {
		int64_t left = deadline - mq_now_ms();
		int timeout_s = left >= 1000 ? (int)(left / 1000) : 1;

		pthread_mutex_lock(&c->mu);
		c->connecting = true;
		pthread_mutex_unlock(&c->mu);
		mq_connect_begin(c, timeout_s > MQ_CONNECT_TIMEOUT_S ? MQ_CONNECT_TIMEOUT_S : timeout_s);
		pthread_mutex_lock(&c->mu);
		while (c->connecting && mq_now_ms() < deadline + MQ_CONNECT_GRACE_MS)
			mq_wait_until(c, deadline + MQ_CONNECT_GRACE_MS);
		if (c->connected) {
			pthread_mutex_unlock(&c->mu);
			return OUTRIG_OK;
		}
		for_good = !c->connecting && (mq_refused_for_good(c->last_code) || c->tls_refused);
		pthread_mutex_unlock(&c->mu);
		if (for_good || mq_now_ms() + 200 >= deadline)
			break;
		/* Refused at once (broker not up yet): try again shortly. */
		{
			struct timespec pause = { 0, 200 * 1000000L };

			nanosleep(&pause, NULL);
		}
	}
	if (for_good && c->tls_refused)
		return outrig_err(err, OUTRIG_EINVAL, "cannot connect to the MQTT broker at %s with TLS: %s",
				  c->o->where, c->cause);
	if (for_good)
		return outrig_err(err, OUTRIG_EINVAL,
				  "the MQTT broker at %s refused the connection of client id \"%s\": %s",
				  c->o->where, c->o->client_id, c->cause);
	return outrig_err(
		err, OUTRIG_EUNAVAIL,
		"cannot reach the MQTT broker at %s within %s (initTimeout): %s; check url and that the "
		"broker is running",
		c->o->where, mq_duration(init_timeout_ms, took, sizeof(took)), c->cause);
}

int mq_client_start(const struct mq_options *o, const struct outrig_host *host, struct outrig_handle *self,
		    int64_t init_timeout_ms, mq_arrived_fn *arrived, void *arrived_ctx,
		    struct mq_client **out, struct outrig_error *err)
{
	MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
	struct mq_client *c = calloc(1, sizeof(*c));
	pthread_condattr_t attr;
	int rc;

	*out = NULL;
	if (c == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	c->o = o;
	c->host = host;
	c->self = self;
	c->arrived = arrived;
	c->arrived_ctx = arrived_ctx;
	c->backoff_ms = MQ_RETRY_MIN_MS;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	cro.MQTTVersion = MQTTVERSION_3_1_1;
	/* In-memory state is enough: publish returns only once acknowledged, and received messages are spooled. */
	rc = MQTTAsync_createWithOptions(&c->cli, o->server_uri, o->client_id, MQTTCLIENT_PERSISTENCE_NONE,
					 NULL, &cro);
	if (rc != MQTTASYNC_SUCCESS) {
		c->cli = NULL;
		mq_client_free(c);
		return outrig_err(err, OUTRIG_EINVAL, "paho cannot use url %s with client id \"%s\": %s",
				  o->where, o->client_id, MQTTAsync_strerror(rc));
	}
	MQTTAsync_setCallbacks(c->cli, c, mq_on_connection_lost, mq_on_message, NULL);
	rc = mq_connect_first(c, init_timeout_ms, err);
	if (rc == OUTRIG_OK) {
		if (pthread_create(&c->keeper, NULL, mq_keeper, c) == 0)
			c->keeper_running = true;
		else
			rc = outrig_err(err, OUTRIG_EINTERNAL,
					"cannot start a thread; the system is out of resources");
	}
	if (rc != OUTRIG_OK) {
		pthread_mutex_lock(&c->mu);
		c->stopping = true;
		pthread_mutex_unlock(&c->mu);
		mq_client_free(c);
		return rc;
	}
	*out = c;
	return OUTRIG_OK;
}

static int mq_not_connected(struct mq_client *c, struct outrig_error *err)
{
	char cause[MQ_CAUSE_MAX];

	pthread_mutex_lock(&c->mu);
	snprintf(cause, sizeof(cause), "%s", c->cause);
	pthread_mutex_unlock(&c->mu);
	return outrig_err(err, OUTRIG_EUNAVAIL, "not connected to the MQTT broker at %s (reconnecting): %s",
			  c->o->where, cause);
}

int mq_client_publish(struct mq_client *c, const char *topic, const void *data, size_t len, bool retain,
		      struct outrig_error *err)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	char cause[MQ_CAUSE_MAX];
	struct mq_waiter *w;
	bool connected, ok;
	int rc;

	if (!mq_topic_valid(topic))
		return outrig_err(
			err, OUTRIG_EINVAL,
			"cannot publish to topic \"%s\": an MQTT topic name is not empty and holds no "
			"wildcard (+ or #)",
			topic != NULL ? topic : "");
	if (len > MQ_PAYLOAD_MAX)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"a message of %zu bytes is larger than MQTT allows (256 MB); send it in parts", len);
	pthread_mutex_lock(&c->mu);
	connected = c->connected;
	pthread_mutex_unlock(&c->mu);
	if (!connected)
		return mq_not_connected(c, err);
	if ((w = mq_waiter_new(c, NULL)) == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	msg.payload = (void *)data;
	msg.payloadlen = (int)len;
	msg.qos = c->o->qos;
	msg.retained = retain ? 1 : 0;
	ro.onSuccess = mq_on_ack;
	ro.onFailure = mq_on_nack;
	ro.context = w;
	rc = MQTTAsync_sendMessage(c->cli, topic, &msg, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		mq_waiter_cancel(c, w);
		if (rc == MQTTASYNC_DISCONNECTED)
			return mq_not_connected(c, err);
		return outrig_err(err, OUTRIG_EINTERNAL,
				  "paho could not send a message to topic \"%s\" at %s: %s", topic,
				  c->o->where, MQTTAsync_strerror(rc));
	}
	if (!mq_waiter_wait(c, w, MQ_ACK_TIMEOUT_MS, &ok, cause, sizeof(cause)))
		return outrig_err(
			err, OUTRIG_ETIMEDOUT,
			"the MQTT broker at %s did not acknowledge the message to topic \"%s\" within %d s; "
			"it may or may not have been published: check the broker's load and the network",
			c->o->where, topic, MQ_ACK_TIMEOUT_MS / 1000);
	if (!ok)
		return outrig_err(err, OUTRIG_EUNAVAIL, "publishing to topic \"%s\" at %s failed: %s", topic,
				  c->o->where, cause);
	return OUTRIG_OK;
}

/* The filter's record, made on first use; the same filter twice shares one broker subscription. */
static struct mq_filter *mq_filter_get(struct mq_client *c, const char *text)
{
	struct mq_filter *f;

	pthread_mutex_lock(&c->mu);
	for (f = c->filters; f != NULL; f = f->next)
		if (strcmp(f->text, text) == 0)
			break;
	if (f == NULL && (f = calloc(1, sizeof(*f))) != NULL) {
		if ((f->text = strdup(text)) == NULL) {
			free(f);
			f = NULL;
		} else {
			f->c = c;
			f->next = c->filters;
			c->filters = f;
		}
	}
	if (f != NULL)
		f->dropped = false;
	pthread_mutex_unlock(&c->mu);
	return f;
}

int mq_client_subscribe(struct mq_client *c, const char *filter, struct outrig_error *err)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	char cause[MQ_CAUSE_MAX];
	struct mq_filter *f;
	struct mq_waiter *w;
	bool ok, acked;
	int rc;

	if (!mq_filter_valid(filter))
		return outrig_err(
			err, OUTRIG_EINVAL,
			"cannot subscribe to \"%s\": + and # must each fill a whole level, # only the "
			"last, as in a/+/c or a/#, optionally after $share/<group>/",
			filter != NULL ? filter : "");
	if ((f = mq_filter_get(c, filter)) == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	pthread_mutex_lock(&c->mu);
	acked = f->acked;
	pthread_mutex_unlock(&c->mu);
	if (acked)
		return OUTRIG_OK;
	if ((w = mq_waiter_new(c, f)) == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	ro.onSuccess = mq_on_ack;
	ro.onFailure = mq_on_nack;
	ro.context = w;
	rc = MQTTAsync_subscribe(c->cli, filter, c->o->qos, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		mq_waiter_cancel(c, w);
		if (rc == MQTTASYNC_DISCONNECTED) {
			/* Kept: the keeper subscribes it once the broker is back. */
			c->host->log(
				c->self, OUTRIG_LOG_WARN,
				"not connected to the MQTT broker at %s: subscribing to \"%s\" once reconnected",
				c->o->where, filter);
			return OUTRIG_OK;
		}
		return outrig_err(err, OUTRIG_EINTERNAL, "paho could not subscribe to \"%s\" at %s: %s",
				  filter, c->o->where, MQTTAsync_strerror(rc));
	}
	if (!mq_waiter_wait(c, w, MQ_ACK_TIMEOUT_MS, &ok, cause, sizeof(cause))) {
		pthread_mutex_lock(&c->mu);
		f->dropped = true;
		pthread_mutex_unlock(&c->mu);
		return outrig_err(
			err, OUTRIG_ETIMEDOUT,
			"the MQTT broker at %s did not answer the subscription to \"%s\" within %d s; "
			"check the broker's load and the network",
			c->o->where, filter, MQ_ACK_TIMEOUT_MS / 1000);
	}
	if (!ok) {
		pthread_mutex_lock(&c->mu);
		f->dropped = true;
		pthread_mutex_unlock(&c->mu);
		return outrig_err(err, OUTRIG_EINVAL, "the MQTT broker at %s did not subscribe to \"%s\": %s",
				  c->o->where, filter, cause);
	}
	return OUTRIG_OK;
}

static void mq_on_disconnected(void *ctx, MQTTAsync_successData *resp)
{
	(void)resp;
	mq_waiter_finish(ctx, true, 0, NULL);
}

void mq_client_stop(struct mq_client *c)
{
	MQTTAsync_disconnectOptions dop = MQTTAsync_disconnectOptions_initializer;
	char cause[MQ_CAUSE_MAX];
	struct mq_waiter *w;
	bool ok;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	if (c->keeper_running)
		pthread_join(c->keeper, NULL);
	/* A clean DISCONNECT keeps the session (cleanSession false) without a will or a timeout on the broker. */
	if ((w = mq_waiter_new(c, NULL)) != NULL) {
		dop.timeout = MQ_DISCONNECT_TIMEOUT_MS / 2;
		dop.onSuccess = mq_on_disconnected;
		dop.onFailure = mq_on_nack;
		dop.context = w;
		if (MQTTAsync_disconnect(c->cli, &dop) == MQTTASYNC_SUCCESS) {
			mq_waiter_wait(c, w, MQ_DISCONNECT_TIMEOUT_MS, &ok, cause, sizeof(cause));
		} else {
			mq_waiter_cancel(c, w);
		}
	}
	mq_client_free(c);
}
