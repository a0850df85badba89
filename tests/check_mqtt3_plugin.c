/* SPDX-License-Identifier: Apache-2.0 */
/* pubsub.mqtt3 alone, loaded by the real loader and driven through a test host table, against a real mosquitto. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "exchange.h"
#include "components/host.h"
#include "plugin_host.h"
#include "server.h"

#define TYPE "pubsub.mqtt3"
/* How long a test waits for a message that should come. */
#define ARRIVAL_MS 5000

/* Every test runs in its own forked process with its own mosquitto and data folder. */
static struct test_server ms;
static const struct outrig_host *test_host;
static const struct outrig_plugin *plugin;
static struct outrig_handle handle = { .name = "mqtt-test", .component = NULL };

/* Distinct addresses stand for the core's sinks; the plugin only hands them back. */
static char sink_a_mem, sink_b_mem, sink_c_mem;
#define SINK_A ((struct outrig_pubsub_sink *)&sink_a_mem)
#define SINK_B ((struct outrig_pubsub_sink *)&sink_b_mem)
#define SINK_C ((struct outrig_pubsub_sink *)&sink_c_mem)

/* ---- the test's host table: what the core would offer the plugin ---- */

/* One message the plugin handed over, kept until the test settles it, as the core does. */
struct delivered {
	struct outrig_pubsub_sink *sink;
	char *topic;
	char *data;
	size_t len;
	char retained[8];
	void (*done)(void *, int);
	void *done_ctx;
	bool taken;   /* returned by next_message() */
	bool settled; /* done() called */
	struct delivered *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
static struct delivered *deliveries, **deliveries_tail = &deliveries;
static bool core_stopping;

static int host_pubsub_deliver(struct outrig_pubsub_sink *sink, const struct outrig_pubsub_message *msg,
			       void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	struct delivered *d = calloc(1, sizeof(*d));
	const char *retained = outrig_metadata_get(&msg->metadata, "retained");

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(sink);
	d->sink = sink;
	d->topic = strdup(msg->topic);
	d->data = malloc(msg->data_len + 1);
	ck_assert_ptr_nonnull(d->data);
	memcpy(d->data, msg->data, msg->data_len);
	d->data[msg->data_len] = '\0';
	d->len = msg->data_len;
	snprintf(d->retained, sizeof(d->retained), "%s", retained != NULL ? retained : "(none)");
	d->done = done;
	d->done_ctx = done_ctx;
	pthread_mutex_lock(&mu);
	if (core_stopping) {
		pthread_mutex_unlock(&mu);
		free(d->topic);
		free(d->data);
		free(d);
		return OUTRIG_EUNAVAIL;
	}
	*deliveries_tail = d;
	deliveries_tail = &d->next;
	pthread_cond_broadcast(&arrived);
	pthread_mutex_unlock(&mu);
	return OUTRIG_OK;
}

/* The next message handed to sink that the test has not looked at yet, or NULL after timeout_ms. */
static struct delivered *next_message(struct outrig_pubsub_sink *sink, long timeout_ms)
{
	long deadline = xnow_ms() + timeout_ms;
	struct delivered *found = NULL;

	pthread_mutex_lock(&mu);
	for (;;) {
		for (struct delivered *d = deliveries; d != NULL && found == NULL; d = d->next)
			if (d->sink == sink && !d->taken)
				found = d;
		if (found != NULL || xnow_ms() >= deadline)
			break;
		plugin_host_wait(&arrived, &mu, 50);
	}
	if (found != NULL)
		found->taken = true;
	pthread_mutex_unlock(&mu);
	return found;
}

/* Like next_message, but the message must come, with this topic and payload. */
static struct delivered *expect_message(struct outrig_pubsub_sink *sink, const char *topic,
					const char *payload)
{
	struct delivered *d = next_message(sink, ARRIVAL_MS);

	ck_assert_msg(d != NULL, "no message on topic %s (payload \"%s\") within %d ms", topic, payload,
		      ARRIVAL_MS);
	ck_assert_str_eq(d->topic, topic);
	ck_assert_str_eq(d->data, payload);
	ck_assert_uint_eq(d->len, strlen(payload));
	return d;
}

static void settle(struct delivered *d, int outcome)
{
	ck_assert(!d->settled);
	d->settled = true;
	d->done(d->done_ctx, outcome);
}

/* What the core does before destroy(): every accepted message gets its done(). */
static void settle_all(int outcome)
{
	pthread_mutex_lock(&mu);
	for (struct delivered *d = deliveries; d != NULL; d = d->next)
		if (!d->settled) {
			d->settled = true;
			d->done(d->done_ctx, outcome);
		}
	pthread_mutex_unlock(&mu);
}

/* ---- creating instances the way the core does ---- */

/* The config view the core builds for the test's component: url on the test's broker unless overrides name another. */
static void make_config(struct plugin_host_config *tc, int64_t init_timeout_ms, const char *const *overrides)
{
	const char *broker[] = { "url", server_mosquitto_url(&ms), NULL };

	plugin_host_config(tc, plugin, NULL, "mqtt-pubsub", broker, overrides);
	tc->config.init_timeout_ms = init_timeout_ms;
}

/*
 * create() with url on the test's broker plus metadata (name, value pairs, NULL-terminated; a
 * url among them wins); returns the code, instance in *out.
 */
static int try_create_with(void **out, struct outrig_error *err, int64_t init_timeout_ms,
			   const char *const *metadata)
{
	struct plugin_host_config tc;

	make_config(&tc, init_timeout_ms, metadata);
	*out = NULL;
	err->message[0] = '\0';
	return plugin->create(test_host, &handle, &tc.config, out, err);
}

static int try_create(void **out, struct outrig_error *err, int64_t init_timeout_ms, const char *consumer_id,
		      const char *extra_name, const char *extra_value)
{
	const char *metadata[] = { extra_name, extra_value, "consumerID", consumer_id, NULL };

	return try_create_with(out, err, init_timeout_ms, extra_name != NULL ? metadata : metadata + 2);
}

static void *create_ok(const char *consumer_id, const char *extra_name, const char *extra_value)
{
	struct outrig_error err;
	void *inst;
	int rc = try_create(&inst, &err, 5000, consumer_id, extra_name, extra_value);

	ck_assert_msg(rc == OUTRIG_OK, "create failed: %s: %s", outrig_status_name(rc), err.message);
	ck_assert_ptr_nonnull(inst);
	return inst;
}

/* What the core does to stop a component: settle what is pending, then destroy. */
static void destroy(void *inst, int outcome)
{
	settle_all(outcome);
	plugin->destroy(inst);
}

static int publish_meta(void *inst, const char *topic, const void *data, size_t len, const char *retain,
			struct outrig_error *err)
{
	struct outrig_kv kv = { "retain", retain };
	struct outrig_pubsub_publish req = {
		.topic = topic,
		.data = data,
		.data_len = len,
		.content_type = "text/plain",
		.metadata = { retain != NULL ? 1 : 0, &kv },
	};

	err->message[0] = '\0';
	return plugin->pubsub->publish(inst, &req, err);
}

static void publish_ok(void *inst, const char *topic, const char *payload)
{
	struct outrig_error err;
	int rc = publish_meta(inst, topic, payload, strlen(payload), NULL, &err);

	ck_assert_msg(rc == OUTRIG_OK, "publish to %s: %s: %s", topic, outrig_status_name(rc), err.message);
}

static void subscribe_ok(void *inst, const char *topic, struct outrig_pubsub_sink *sink)
{
	struct outrig_pubsub_subscribe req = { .topic = topic, .sink = sink };
	struct outrig_error err = { "" };
	int rc = plugin->pubsub->subscribe(inst, &req, &err);

	ck_assert_msg(rc == OUTRIG_OK, "subscribe to %s: %s: %s", topic, outrig_status_name(rc), err.message);
}

static const struct plugin_host_options host_options = {
	.temp_dir = "outrig-mqtt3",
	.pubsub_deliver = host_pubsub_deliver,
};

static void setup(void)
{
	ck_assert_int_eq(server_mosquitto_start(&ms), 0);
	test_host = plugin_host_start(&host_options);
	plugin = plugin_host_load(TYPE);
}

static void teardown(void)
{
	plugin_host_stop();
	server_destroy(&ms);
}

/* ---- the tests ---- */

START_TEST(round_trip_with_retained_metadata)
{
	const char *overrides[] = { "url", xfmt("tcp://tester:s3cret%%21@127.0.0.1:%d", ms.port),
				    "consumerID", "rt-{uuid}", NULL };
	struct plugin_host_config tc;
	struct outrig_error err;
	struct delivered *d;
	void *inst;
	int rc;

	/* mosquitto without a password file takes any user, so the URL's userinfo is exercised too. */
	make_config(&tc, 5000, overrides);
	rc = plugin->create(test_host, &handle, &tc.config, &inst, &err);
	ck_assert_msg(rc == OUTRIG_OK, "create: %s", err.message);
	ck_assert(plugin->pubsub->capabilities & OUTRIG_PUBSUB_WILDCARDS);

	subscribe_ok(inst, "rt/plain", SINK_A);
	publish_ok(inst, "rt/plain", "hello");
	d = expect_message(SINK_A, "rt/plain", "hello");
	ck_assert_str_eq(d->retained, "false");
	settle(d, OUTRIG_PUBSUB_SETTLED);

	/* A retained message reaches a subscription made after it, flagged as retained. */
	ck_assert_int_eq(publish_meta(inst, "rt/kept", "last value", 10, "true", &err), OUTRIG_OK);
	subscribe_ok(inst, "rt/kept", SINK_B);
	d = expect_message(SINK_B, "rt/kept", "last value");
	ck_assert_str_eq(d->retained, "true");
	ck_assert_int_eq(publish_meta(inst, "rt/kept", "x", 1, "maybe", &err), OUTRIG_EINVAL);

	destroy(inst, OUTRIG_PUBSUB_SETTLED);
	/* The user is shown, the password never. */
	ck_assert(plugin_host_log_has(xfmt("tcp://tester@127.0.0.1:%d", ms.port)));
	ck_assert(!plugin_host_log_has("s3cret"));
	ck_assert(plugin_host_log_has("rt-"));
	ck_assert(!plugin_host_log_has("rt-{uuid}"));
}
END_TEST

START_TEST(wildcards_and_shared_subscriptions)
{
	void *inst = create_ok("wc-sub", NULL, NULL);
	struct outrig_error err;

	subscribe_ok(inst, "wc/+/temp", SINK_A);
	subscribe_ok(inst, "wc/#", SINK_B);
	subscribe_ok(inst, "$share/group1/sh/+", SINK_C);

	publish_ok(inst, "wc/room1/temp", "21");
	publish_ok(inst, "wc/room1/humidity", "40");
	publish_ok(inst, "wc/room2/temp", "19");
	publish_ok(inst, "sh/x", "shared");

	/* + matches one level: A sees both temperatures, and the humidity never comes between them. */
	expect_message(SINK_A, "wc/room1/temp", "21");
	expect_message(SINK_A, "wc/room2/temp", "19");
	/* # matches every level below. */
	expect_message(SINK_B, "wc/room1/temp", "21");
	expect_message(SINK_B, "wc/room1/humidity", "40");
	expect_message(SINK_B, "wc/room2/temp", "19");
	expect_message(SINK_C, "sh/x", "shared");
	ck_assert_ptr_null(next_message(SINK_C, 300));
	ck_assert_ptr_null(next_message(SINK_A, 1));

	/* Wildcards are for filters only. */
	ck_assert_int_eq(publish_meta(inst, "wc/+/temp", "1", 1, NULL, &err), OUTRIG_EINVAL);
	{
		struct outrig_pubsub_subscribe bad = { .topic = "wc/a#", .sink = SINK_A };

		ck_assert_int_eq(plugin->pubsub->subscribe(inst, &bad, &err), OUTRIG_EINVAL);
	}
	destroy(inst, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

START_TEST(stopped_broker_fails_create_within_init_timeout)
{
	struct outrig_error err;
	void *inst;
	long started;
	int rc;

	ck_assert_int_eq(server_halt(&ms), 0);
	started = xnow_ms();
	rc = try_create(&inst, &err, 2000, "down", NULL, NULL);
	ck_assert_int_eq(rc, OUTRIG_EUNAVAIL);
	ck_assert_ptr_null(inst);
	/* The init timeout, plus at most the grace paho gets to report its last attempt. */
	ck_assert_msg(xnow_ms() - started >= 1500 && xnow_ms() - started < 4500, "create took %ld ms",
		      xnow_ms() - started);
	ck_assert_msg(strstr(err.message, server_mosquitto_url(&ms)) != NULL, "no URL in: %s", err.message);
	ck_assert_msg(strstr(err.message, "initTimeout") != NULL, "%s", err.message);
	fprintf(stderr, "refused as expected: %s\n", err.message);

	/* A URL that cannot be meant is refused before any connection. */
	rc = try_create(&inst, &err, 2000, "bad", "url", "http://127.0.0.1:1883");
	ck_assert_int_eq(rc, OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "ssl://") != NULL, "%s", err.message);
	/* Certificates with a plain URL would silently drop TLS: refused. */
	rc = try_create(&inst, &err, 2000, "bad", "caCert", "-----BEGIN CERTIFICATE-----\nx\n");
	ck_assert_int_eq(rc, OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "caCert") != NULL, "%s", err.message);
}
END_TEST

/* Publishes until the result is want (the plugin notices a halt or a restart a moment later). */
static int publish_until(void *inst, const char *topic, const char *payload, int want, long within_ms,
			 struct outrig_error *err, long *last_call_ms)
{
	long deadline = xnow_ms() + within_ms;
	int rc;

	do {
		long started = xnow_ms();

		rc = publish_meta(inst, topic, payload, strlen(payload), NULL, err);
		*last_call_ms = xnow_ms() - started;
		if (rc != want)
			xsleep_ms(100);
	} while (rc != want && xnow_ms() < deadline);
	return rc;
}

START_TEST(broker_restart_publish_unavailable_then_recovers)
{
	void *kept = create_ok("rs-kept", NULL, NULL);
	void *clean = create_ok("rs-clean", "cleanSession", "true");
	struct delivered *b = NULL;
	struct outrig_error err;
	long took;
	int rc;

	subscribe_ok(kept, "rs/t", SINK_A);
	subscribe_ok(clean, "rs/t", SINK_B);
	publish_ok(kept, "rs/t", "before");
	settle(expect_message(SINK_A, "rs/t", "before"), OUTRIG_PUBSUB_SETTLED);
	settle(expect_message(SINK_B, "rs/t", "before"), OUTRIG_PUBSUB_SETTLED);

	ck_assert_int_eq(server_halt(&ms), 0);
	rc = publish_until(kept, "rs/t", "during", OUTRIG_EUNAVAIL, 8000, &err, &took);
	ck_assert_msg(rc == OUTRIG_EUNAVAIL, "publish with the broker down: %s: %s", outrig_status_name(rc),
		      err.message);
	ck_assert_msg(took < 500, "EUNAVAIL took %ld ms: it must not wait for a timeout", took);
	ck_assert_msg(strstr(err.message, "not connected to the MQTT broker at") != NULL &&
			      strstr(err.message, server_mosquitto_url(&ms)) != NULL,
		      "%s", err.message);

	ck_assert_int_eq(server_restart(&ms), 0);
	rc = publish_until(kept, "rs/t", "after", OUTRIG_OK, 12000, &err, &took);
	ck_assert_msg(rc == OUTRIG_OK, "publish after the restart: %s: %s", outrig_status_name(rc),
		      err.message);
	/* The persistent session kept the subscription; the clean one was subscribed again. */
	expect_message(SINK_A, "rs/t", "after");
	/*
	 * The clean session subscribes again once it is back itself, which may be after kept's
	 * publish went through (a busy machine made CI miss it): publish again until it has one.
	 */
	for (int i = 0; i < 20 && (b = next_message(SINK_B, 500)) == NULL; i++)
		publish_ok(kept, "rs/t", "after");
	ck_assert_msg(b != NULL, "the clean session got no message on rs/t within 10 s of the restart");
	ck_assert_str_eq(b->data, "after");
	ck_assert(plugin_host_log_has("reconnected"));
	destroy(kept, OUTRIG_PUBSUB_SETTLED);
	destroy(clean, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

START_TEST(persistent_session_keeps_messages_while_away)
{
	void *sub = create_ok("ps-sub", NULL, NULL);
	void *pub;

	subscribe_ok(sub, "ps/t", SINK_A);
	destroy(sub, OUTRIG_PUBSUB_SETTLED);

	pub = create_ok("ps-pub", NULL, NULL);
	publish_ok(pub, "ps/t", "while away");
	destroy(pub, OUTRIG_PUBSUB_SETTLED);

	/*
	 * The broker sends the queued message right after CONNACK, before the app (here: the test)
	 * subscribed again; the spool holds it until the subscription comes.
	 */
	sub = create_ok("ps-sub", NULL, NULL);
	xsleep_ms(500);
	ck_assert_ptr_null(next_message(SINK_A, 1));
	subscribe_ok(sub, "ps/t", SINK_A);
	expect_message(SINK_A, "ps/t", "while away");
	destroy(sub, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

START_TEST(unsettled_messages_come_again_from_the_spool)
{
	void *inst = create_ok("sp-sub", NULL, NULL);
	struct delivered *m1, *m2;

	subscribe_ok(inst, "sp/t", SINK_A);
	publish_ok(inst, "sp/t", "one");
	publish_ok(inst, "sp/t", "two");
	m1 = expect_message(SINK_A, "sp/t", "one");
	m2 = expect_message(SINK_A, "sp/t", "two");
	settle(m1, OUTRIG_PUBSUB_SETTLED);
	/* The core stopped before the app acknowledged "two". */
	settle(m2, OUTRIG_PUBSUB_UNSETTLED);
	plugin->destroy(inst);

	/* The broker acknowledged both long ago: only the spool can bring "two" back. */
	inst = create_ok("sp-sub", "cleanSession", "true");
	subscribe_ok(inst, "sp/t", SINK_A);
	expect_message(SINK_A, "sp/t", "two");
	/* "one" was settled: the next message is a new one, not "one" again. */
	publish_ok(inst, "sp/t", "three");
	expect_message(SINK_A, "sp/t", "three");
	ck_assert_ptr_null(next_message(SINK_A, 300));
	ck_assert(plugin_host_log_has("kept in the spool"));
	destroy(inst, OUTRIG_PUBSUB_SETTLED);

	/* Everything settled now: a third run gets nothing. */
	inst = create_ok("sp-sub", "cleanSession", "true");
	subscribe_ok(inst, "sp/t", SINK_A);
	ck_assert_ptr_null(next_message(SINK_A, 500));
	destroy(inst, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

START_TEST(core_stopping_keeps_the_message)
{
	void *inst = create_ok("cs-sub", NULL, NULL);

	subscribe_ok(inst, "cs/t", SINK_A);
	/* pubsub_deliver answers EUNAVAIL: the row must stay for the next run. */
	pthread_mutex_lock(&mu);
	core_stopping = true;
	pthread_mutex_unlock(&mu);
	publish_ok(inst, "cs/t", "refused");
	xsleep_ms(300);
	destroy(inst, OUTRIG_PUBSUB_SETTLED);
	pthread_mutex_lock(&mu);
	core_stopping = false;
	pthread_mutex_unlock(&mu);

	inst = create_ok("cs-sub", "cleanSession", "true");
	subscribe_ok(inst, "cs/t", SINK_A);
	expect_message(SINK_A, "cs/t", "refused");
	destroy(inst, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

START_TEST(one_megabyte_payload)
{
	void *inst = create_ok("big", NULL, NULL);
	size_t len = 1024 * 1024;
	char *payload = malloc(len);
	struct outrig_error err;
	struct delivered *d;
	int rc;

	ck_assert_ptr_nonnull(payload);
	/* Not text: every byte value, NULs included, must come back. */
	for (size_t i = 0; i < len; i++)
		payload[i] = (char)((i * 131u + (i >> 10)) & 0xff);
	subscribe_ok(inst, "big/t", SINK_A);
	rc = publish_meta(inst, "big/t", payload, len, NULL, &err);
	ck_assert_msg(rc == OUTRIG_OK, "%s", err.message);
	d = next_message(SINK_A, ARRIVAL_MS);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->len, len);
	ck_assert(memcmp(d->data, payload, len) == 0);
	free(payload);
	destroy(inst, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

/* ---- TLS: a mosquitto with a TLS listener only, certificates made for each test ---- */

static struct test_certs certs;

static void setup_tls(void)
{
	char dir[600];

	test_host = plugin_host_start(&host_options);
	snprintf(dir, sizeof(dir), "%s/certs", test_host->data_dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(server_make_certs(dir, "outrig test CA", &certs), 0);
	plugin = plugin_host_load(TYPE);
}

/* Where the plugin writes a certificate field for paho: <data-dir>/pubsub_mqtt3/<component>-<field>.pem. */
static const char *pem_path(const char *field)
{
	return xfmt("%s/pubsub_mqtt3/mqtt-pubsub-%s.pem", test_host->data_dir, field);
}

/* The file the plugin wrote for field holds pem and only its owner may read it. */
static void assert_pem_written(const char *field, const char *pem)
{
	const char *path = pem_path(field);
	struct stat st;
	char *text;

	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	ck_assert_msg((st.st_mode & 07777) == 0600, "%s has mode %04o, not 0600", path,
		      (unsigned)(st.st_mode & 07777));
	ck_assert_msg(S_ISREG(st.st_mode), "%s is not a regular file", path);
	text = xslurp(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, pem);
	free(text);
}

static void assert_pem_gone(const char *field)
{
	const char *path = pem_path(field);

	ck_assert_msg(access(path, F_OK) != 0 && errno == ENOENT, "%s is still there", path);
}

/* Subscribes, publishes and expects the message back on one instance. */
static void round_trip(void *inst, const char *topic, const char *payload)
{
	subscribe_ok(inst, topic, SINK_A);
	publish_ok(inst, topic, payload);
	settle(expect_message(SINK_A, topic, payload), OUTRIG_PUBSUB_SETTLED);
}

START_TEST(tls_with_ca_cert_round_trip)
{
	char *ca = xslurp(certs.ca);
	const char *metadata[] = { "consumerID", "tls-rt", "caCert", ca, NULL };
	struct outrig_error err;
	void *inst;
	int rc;

	ck_assert_ptr_nonnull(ca);
	ck_assert_int_eq(
		server_mosquitto_start_tls(&ms, certs.ca, certs.server_cert, certs.server_key, false), 0);
	/* The broker has no plain listener: a working round trip went through TLS. */
	ck_assert_str_eq(server_mosquitto_url(&ms), xfmt("ssl://127.0.0.1:%d", ms.port));
	rc = try_create_with(&inst, &err, 5000, metadata);
	ck_assert_msg(rc == OUTRIG_OK, "create over TLS: %s: %s", outrig_status_name(rc), err.message);
	round_trip(inst, "tls/t", "over TLS");
	/* paho reads the CA from a file only the owner may read; nothing else was written. */
	assert_pem_written("caCert", ca);
	assert_pem_gone("clientCert");
	assert_pem_gone("clientKey");
	ck_assert(plugin_host_log_has(xfmt("connected to the MQTT broker at ssl://127.0.0.1:%d", ms.port)));
	destroy(inst, OUTRIG_PUBSUB_SETTLED);
	assert_pem_gone("caCert");
	free(ca);
}
END_TEST

START_TEST(mutual_tls_needs_the_client_certificate)
{
	char *ca = xslurp(certs.ca), *cert = xslurp(certs.client_cert), *key = xslurp(certs.client_key);
	const char *with_cert[] = { "consumerID", "mtls",      "caCert", ca,  "clientCert",
				    cert,	  "clientKey", key,	 NULL };
	const char *without_cert[] = { "consumerID", "mtls-none", "caCert", ca, NULL };
	struct outrig_error err;
	void *inst;
	long started;
	int rc;

	ck_assert(ca != NULL && cert != NULL && key != NULL);
	ck_assert_int_eq(server_mosquitto_start_tls(&ms, certs.ca, certs.server_cert, certs.server_key, true),
			 0);
	rc = try_create_with(&inst, &err, 5000, with_cert);
	ck_assert_msg(rc == OUTRIG_OK, "create with a client certificate: %s: %s", outrig_status_name(rc),
		      err.message);
	round_trip(inst, "mtls/t", "mutual");
	assert_pem_written("caCert", ca);
	assert_pem_written("clientCert", cert);
	assert_pem_written("clientKey", key);
	destroy(inst, OUTRIG_PUBSUB_SETTLED);
	assert_pem_gone("caCert");
	assert_pem_gone("clientCert");
	assert_pem_gone("clientKey");

	/* Without one the broker ends the handshake: create fails, saying why and where. */
	started = xnow_ms();
	rc = try_create_with(&inst, &err, 1500, without_cert);
	fprintf(stderr, "refused as expected after %ld ms: %s\n", xnow_ms() - started, err.message);
	ck_assert_msg(rc == OUTRIG_EUNAVAIL, "create without a client certificate: %s: %s",
		      outrig_status_name(rc), err.message);
	ck_assert_ptr_null(inst);
	ck_assert_msg(strstr(err.message, server_mosquitto_url(&ms)) != NULL, "no URL in: %s", err.message);
	ck_assert_msg(strstr(err.message, "clientCert") != NULL, "no hint at clientCert in: %s", err.message);
	assert_pem_gone("caCert");
	free(ca);
	free(cert);
	free(key);
}
END_TEST

START_TEST(certificate_of_another_ca_or_host_fails)
{
	struct test_certs other;
	char dir[600], *other_ca;
	const char *metadata[] = { "consumerID", "wrong-ca", "caCert", NULL, NULL };
	char *ca = xslurp(certs.ca);
	const char *with_url[] = { "consumerID", "wrong-host", "caCert", ca, "url", NULL, NULL };
	struct outrig_error err;
	void *inst;
	long started;
	int rc;

	snprintf(dir, sizeof(dir), "%s/other", test_host->data_dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(server_make_certs(dir, "another test CA", &other), 0);
	other_ca = xslurp(other.ca);
	ck_assert_ptr_nonnull(other_ca);
	metadata[3] = other_ca;
	ck_assert_int_eq(
		server_mosquitto_start_tls(&ms, certs.ca, certs.server_cert, certs.server_key, false), 0);
	with_url[5] = xfmt("ssl://127.1:%d", ms.port);
	started = xnow_ms();
	rc = try_create_with(&inst, &err, 1500, metadata);
	fprintf(stderr, "refused as expected after %ld ms: %s\n", xnow_ms() - started, err.message);
	/* Retrying cannot help: create fails at once, not after initTimeout. */
	ck_assert_msg(rc == OUTRIG_EINVAL, "create trusting another CA: %s: %s", outrig_status_name(rc),
		      err.message);
	ck_assert_msg(xnow_ms() - started < 1000, "a failed verification took %ld ms", xnow_ms() - started);
	ck_assert_ptr_null(inst);
	ck_assert_msg(strstr(err.message, server_mosquitto_url(&ms)) != NULL, "no URL in: %s", err.message);
	ck_assert_msg(strstr(err.message, "could not be verified (OpenSSL: certificate verify failed)") !=
			      NULL,
		      "no verification failure in: %s", err.message);
	ck_assert_msg(strstr(err.message, "caCert") != NULL, "no hint at caCert in: %s", err.message);
	/* A failed create removes what it wrote as well. */
	assert_pem_gone("caCert");

	/*
	 * The right CA, but a host the certificate does not name (127.1 is 127.0.0.1, the certificate
	 * says "127.0.0.1"): paho's own host check gives no reason, so the message can only name it.
	 */
	rc = try_create_with(&inst, &err, 1000, with_url);
	fprintf(stderr, "refused as expected: %s\n", err.message);
	ck_assert_msg(rc == OUTRIG_EUNAVAIL, "create with a host the certificate does not name: %s: %s",
		      outrig_status_name(rc), err.message);
	ck_assert_msg(strstr(err.message, "does not name the host in url") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, xfmt("ssl://127.1:%d", ms.port)) != NULL, "%s", err.message);
	free(other_ca);
	free(ca);
}
END_TEST

static Suite *mqtt3_suite(bool with_tls)
{
	Suite *s = suite_create(TYPE);
	TCase *tc = tcase_create("plugin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, round_trip_with_retained_metadata);
	tcase_add_test(tc, wildcards_and_shared_subscriptions);
	tcase_add_test(tc, stopped_broker_fails_create_within_init_timeout);
	tcase_add_test(tc, broker_restart_publish_unavailable_then_recovers);
	tcase_add_test(tc, persistent_session_keeps_messages_while_away);
	tcase_add_test(tc, unsettled_messages_come_again_from_the_spool);
	tcase_add_test(tc, core_stopping_keeps_the_message);
	tcase_add_test(tc, one_megabyte_payload);
	suite_add_tcase(s, tc);
	if (with_tls) {
		tc = tcase_create("tls");
		tcase_add_checked_fixture(tc, setup_tls, teardown);
		tcase_set_timeout(tc, 40);
		tcase_add_test(tc, tls_with_ca_cert_round_trip);
		tcase_add_test(tc, mutual_tls_needs_the_client_certificate);
		tcase_add_test(tc, certificate_of_another_ca_or_host_fails);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr;
	bool with_tls;
	int failed;

	if (!server_available("/usr/sbin/mosquitto") && !server_available("mosquitto")) {
		fprintf(stderr, "mosquitto is not installed: skipping\n");
		/* CI installs it: there a skip would hide a broken setup. */
		return getenv("OUTRIG_REQUIRE_SERVERS") != NULL ? 1 : SERVER_UNAVAILABLE;
	}
	/* The TLS cases make their certificates with the openssl command. */
	with_tls = server_available("openssl");
	if (!with_tls) {
		fprintf(stderr, "openssl is not installed: skipping the TLS tests\n");
		if (getenv("OUTRIG_REQUIRE_SERVERS") != NULL)
			return 1;
	}
	sr = srunner_create(mqtt3_suite(with_tls));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* Passed without TLS is still reported as a skip, so the missing part shows. */
	if (failed != 0)
		return 1;
	return with_tls ? 0 : SERVER_UNAVAILABLE;
}
