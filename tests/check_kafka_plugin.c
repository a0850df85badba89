/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.kafka and pubsub.kafka, loaded by the real loader and driven through a test host table, against librdkafka's mock cluster. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "exchange.h"
#include "components/host.h"
#include "kafka_mock_driver.h"
#include "plugin_host.h"

#define COMPONENT "kafka-test"
/* How long a test waits for a message that should come (a group's first join takes a few seconds). */
#define ARRIVAL_MS 15000

static struct kafka_mock km;
static const struct outrig_host *test_host;
static const struct outrig_plugin *plugin;    /* the one descriptor, as bindings.kafka */
static const struct outrig_plugin *ps_plugin; /* the same file, opened as pubsub.kafka */
static long test_started;
static struct outrig_handle handle = { .name = "kafka-test", .component = NULL };

/* Distinct addresses stand for the core's sinks; the plugin only hands them back. */
static char sink_a_mem, sink_b_mem;
#define SINK_A ((void *)&sink_a_mem)
#define SINK_B ((void *)&sink_b_mem)

/* ---- the test's host table: what the core would offer the plugin ---- */

#define MAX_META 16

/* One event the plugin handed over, kept until the test settles it, as the core does. */
struct delivered {
	void *sink;
	char *topic; /* pub/sub only */
	char *data;
	size_t len;
	size_t nmeta;
	char *meta_key[MAX_META], *meta_value[MAX_META];
	void (*done)(void *, int);
	void *done_ctx;
	bool taken;
	bool settled;
	struct delivered *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
static struct delivered *deliveries, **deliveries_tail = &deliveries;

static void record(void *sink, const char *topic, const void *data, size_t len,
		   const struct outrig_metadata *md, void (*done)(void *, int), void *done_ctx)
{
	struct delivered *d = calloc(1, sizeof(*d));

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(sink);
	d->sink = sink;
	d->topic = topic != NULL ? strdup(topic) : NULL;
	d->data = malloc(len + 1);
	ck_assert_ptr_nonnull(d->data);
	memcpy(d->data, data, len);
	d->data[len] = '\0';
	d->len = len;
	for (size_t i = 0; i < md->count && d->nmeta < MAX_META; i++, d->nmeta++) {
		d->meta_key[d->nmeta] = strdup(md->items[i].key);
		d->meta_value[d->nmeta] = strdup(md->items[i].value);
	}
	d->done = done;
	d->done_ctx = done_ctx;
	pthread_mutex_lock(&mu);
	*deliveries_tail = d;
	deliveries_tail = &d->next;
	pthread_cond_broadcast(&arrived);
	pthread_mutex_unlock(&mu);
}

static int host_pubsub_deliver(struct outrig_pubsub_sink *sink, const struct outrig_pubsub_message *msg,
			       void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	record(sink, msg->topic, msg->data, msg->data_len, &msg->metadata, done, done_ctx);
	return OUTRIG_OK;
}

static int host_binding_deliver(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
				void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	record(sink, NULL, ev->data, ev->data_len, &ev->metadata, done, done_ctx);
	return OUTRIG_OK;
}

static const char *meta(const struct delivered *d, const char *key)
{
	for (size_t i = 0; i < d->nmeta; i++)
		if (strcmp(d->meta_key[i], key) == 0)
			return d->meta_value[i];
	return NULL;
}

/* The next event handed to sink (NULL: any sink) that the test has not looked at, or NULL after timeout_ms. */
static struct delivered *next_event(void *sink, long timeout_ms)
{
	long deadline = xnow_ms() + timeout_ms;
	struct delivered *found = NULL;

	pthread_mutex_lock(&mu);
	for (;;) {
		for (struct delivered *d = deliveries; d != NULL && found == NULL; d = d->next)
			if ((sink == NULL || d->sink == sink) && !d->taken)
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

static struct delivered *expect_event(void *sink, const char *payload)
{
	struct delivered *d = next_event(sink, ARRIVAL_MS);

	ck_assert_msg(d != NULL, "no event \"%s\" within %d ms", payload, ARRIVAL_MS);
	ck_assert_str_eq(d->data, payload);
	return d;
}

static void settle(struct delivered *d, int outcome)
{
	ck_assert(!d->settled);
	d->settled = true;
	d->done(d->done_ctx, outcome);
}

/* What the core does before destroy(): every accepted event of sink gets its done(). */
static void settle_all(void *sink, int outcome)
{
	pthread_mutex_lock(&mu);
	for (struct delivered *d = deliveries; d != NULL; d = d->next)
		if (!d->settled && (sink == NULL || d->sink == sink)) {
			d->settled = true;
			d->done(d->done_ctx, outcome);
		}
	pthread_mutex_unlock(&mu);
}

/* ---- creating instances the way the core does ---- */

/* create() on the mock cluster with metadata (name, value pairs, NULL-terminated; later ones win). */
static int try_create(const char *type, const char *const *metadata, void **out, struct outrig_error *err)
{
	const char *const cluster[] = { "brokers", km.bootstrap,     "authType", "none", "heartbeatInterval",
					"500ms",   "sessionTimeout", "6s",	 NULL };
	struct plugin_host_config tc;

	plugin_host_config(&tc, plugin, type, COMPONENT, cluster, metadata);
	*out = NULL;
	err->message[0] = '\0';
	return plugin->create(test_host, &handle, &tc.config, out, err);
}

static void *create_ok(const char *type, const char *const *metadata)
{
	struct outrig_error err;
	void *inst;
	int rc = try_create(type, metadata, &inst, &err);

	ck_assert_msg(rc == OUTRIG_OK, "create failed: %s: %s", outrig_status_name(rc), err.message);
	ck_assert_ptr_nonnull(inst);
	return inst;
}

static void destroy(void *inst, void *sink, int outcome)
{
	settle_all(sink, outcome);
	plugin->destroy(inst);
}

/* invoke create with metadata pairs (NULL-terminated). */
static int invoke(void *inst, const char *payload, const char *const *md, struct outrig_error *err)
{
	struct outrig_kv kv[8];
	size_t n = 0;
	struct outrig_binding_response resp = { { NULL, 0 }, NULL };
	struct outrig_binding_request req = { .operation = "create",
					      .data = payload,
					      .data_len = strlen(payload) };
	int rc;

	for (const char *const *m = md; m != NULL && *m != NULL; m += 2)
		kv[n++] = (struct outrig_kv){ m[0], m[1] };
	req.metadata = (struct outrig_metadata){ n, kv };
	err->message[0] = '\0';
	rc = plugin->bindings->invoke(inst, &req, &resp, err);
	free(resp.data.data);
	return rc;
}

static void invoke_ok(void *inst, const char *payload, const char *const *md)
{
	struct outrig_error err;
	int rc = invoke(inst, payload, md, &err);

	ck_assert_msg(rc == OUTRIG_OK, "create \"%s\": %s: %s", payload, outrig_status_name(rc), err.message);
}

static void start_input_ok(void *inst, void *sink)
{
	struct outrig_error err = { "" };
	int rc = plugin->bindings->start_input(inst, sink, &err);

	ck_assert_msg(rc == OUTRIG_OK, "start_input: %s: %s", outrig_status_name(rc), err.message);
}

static void setup(void)
{
	static const struct plugin_host_options options = {
		.temp_dir = "outrig-kafka",
		.min_level = OUTRIG_LOG_INFO,
		.pubsub_deliver = host_pubsub_deliver,
		.binding_deliver = host_binding_deliver,
	};

	test_started = xnow_ms();
	ck_assert_int_eq(kafka_mock_start(&km, 3), 0);
	test_host = plugin_host_start(&options);
	plugin = plugin_host_load("bindings.kafka");
	/* The same file under its second name: the build links pubsub_kafka.so to it. */
	ps_plugin = plugin_host_load("pubsub.kafka");
}

static void teardown(void)
{
	fprintf(stderr, "test took %ld ms\n", xnow_ms() - test_started);
	plugin_host_stop();
	kafka_mock_stop(&km);
}

/* ---- the tests ---- */

START_TEST(one_file_serves_both_types)
{
	ck_assert_str_eq(plugin->type, "bindings.kafka");
	ck_assert_ptr_nonnull(ps_plugin->pubsub);
	ck_assert_ptr_nonnull(ps_plugin->pubsub->publish);
	ck_assert_ptr_eq(ps_plugin->create, plugin->create);
}
END_TEST

START_TEST(unreachable_brokers_fail_create_in_time)
{
	struct plugin_host_config tc;
	struct outrig_error err = { "" };
	void *inst = NULL;
	long started = xnow_ms();
	const char *overrides[] = { "brokers", "127.0.0.1:1", "authType", "none", NULL };
	int rc;

	plugin_host_config(&tc, plugin, "bindings.kafka", COMPONENT, NULL, overrides);
	tc.config.init_timeout_ms = 1500;
	rc = plugin->create(test_host, &handle, &tc.config, &inst, &err);
	fprintf(stderr, "refused as expected after %ld ms: %s\n", xnow_ms() - started, err.message);
	ck_assert_int_eq(rc, OUTRIG_EUNAVAIL);
	ck_assert_ptr_null(inst);
	ck_assert_msg(xnow_ms() - started < 4000, "create took %ld ms", xnow_ms() - started);
	ck_assert_msg(strstr(err.message, "127.0.0.1:1") != NULL, "%s", err.message);

	/* A bad authType is refused before any connection, naming the field. */
	{
		const char *bad[] = { "authType", "kerberos", NULL };

		rc = try_create("bindings.kafka", bad, &inst, &err);
		ck_assert_int_eq(rc, OUTRIG_EINVAL);
		ck_assert_msg(strstr(err.message, "authType") != NULL, "%s", err.message);
	}
}
END_TEST

START_TEST(binding_round_trip_with_key_headers_and_partition)
{
	const char *md[] = { "publishTopic",  "rt",	"topics", "rt", "consumerGroup", "g-rt",
			     "initialOffset", "oldest", NULL };
	const char *m1[] = { "partitionKey", "k1", "trace", "abc", NULL };
	const char *m2[] = { "partitionNumber", "2", NULL };
	struct outrig_error err;
	struct delivered *d;
	void *inst;

	ck_assert_int_eq(kafka_mock_cmd(&km, "create rt 3"), 0);
	inst = create_ok("bindings.kafka", md);
	invoke_ok(inst, "{\"n\":1}", m1);
	invoke_ok(inst, "second", m2);
	/* Only create is an operation; a bad partition is the caller's mistake. */
	{
		struct outrig_binding_response resp = { { NULL, 0 }, NULL };
		struct outrig_binding_request req = { .operation = "delete", .data = "x", .data_len = 1 };
		const char *bad[] = { "partitionNumber", "two", NULL };

		ck_assert_int_eq(plugin->bindings->invoke(inst, &req, &resp, &err), OUTRIG_ENOTSUP);
		ck_assert_int_eq(invoke(inst, "x", bad, &err), OUTRIG_EINVAL);
		ck_assert_msg(strstr(err.message, "partitionNumber") != NULL, "%s", err.message);
	}
	start_input_ok(inst, SINK_A);
	for (int i = 0; i < 2; i++) {
		d = next_event(SINK_A, ARRIVAL_MS);
		ck_assert_msg(d != NULL, "event %d did not come", i);
		ck_assert_str_eq(meta(d, "__topic"), "rt");
		ck_assert_ptr_nonnull(meta(d, "__offset"));
		ck_assert_ptr_nonnull(meta(d, "__timestamp"));
		if (strcmp(d->data, "{\"n\":1}") == 0) {
			ck_assert_str_eq(meta(d, "__key"), "k1");
			/* Every request metadata entry travels as a header, as Dapr's producer sends them. */
			ck_assert_str_eq(meta(d, "trace"), "abc");
			ck_assert_str_eq(meta(d, "partitionKey"), "k1");
		} else {
			ck_assert_str_eq(d->data, "second");
			ck_assert_str_eq(meta(d, "__partition"), "2");
			ck_assert_ptr_null(meta(d, "__key"));
		}
		settle(d, OUTRIG_PUBSUB_SETTLED);
	}
	destroy(inst, SINK_A, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

START_TEST(pubsub_publish_subscribe_round_trip)
{
	struct outrig_pubsub_subscribe sub = { .topic = "orders", .sink = SINK_B };
	struct outrig_kv kv = { "__key", "order-7" };
	struct outrig_pubsub_publish pub = {
		.topic = "orders",
		.data = "{\"id\":7}",
		.data_len = 8,
		.content_type = "application/cloudevents+json",
		.metadata = { 1, &kv },
	};
	struct outrig_error err = { "" };
	struct plugin_host_config tc;
	struct delivered *d;
	void *inst;
	int rc;

	ck_assert_int_eq(kafka_mock_cmd(&km, "create orders 2"), 0);
	/* No consumerGroup and no consumerID: the app id is the group, as Dapr's runtime sets it. */
	{
		const char *overrides[] = {
			"brokers", km.bootstrap,	"authType", "none", "initialOffset",
			"oldest",  "heartbeatInterval", "500ms",    NULL
		};

		plugin_host_config(&tc, plugin, "pubsub.kafka", COMPONENT, NULL, overrides);
		rc = ps_plugin->create(test_host, &handle, &tc.config, &inst, &err);
		ck_assert_msg(rc == OUTRIG_OK, "create: %s", err.message);
	}
	rc = ps_plugin->pubsub->subscribe(inst, &sub, &err);
	ck_assert_msg(rc == OUTRIG_OK, "subscribe: %s", err.message);
	rc = ps_plugin->pubsub->publish(inst, &pub, &err);
	ck_assert_msg(rc == OUTRIG_OK, "publish: %s", err.message);
	d = expect_event(SINK_B, "{\"id\":7}");
	ck_assert_str_eq(d->topic, "orders");
	ck_assert_str_eq(meta(d, "__key"), "order-7");
	settle(d, OUTRIG_PUBSUB_SETTLED);
	ps_plugin->destroy(inst);
}
END_TEST

/* Counts how many distinct payloads "<prefix>-<n>" for n < total were delivered to sink (settling them). */
static int drain(void *sink, const char *prefix, int total, bool *seen, long quiet_ms)
{
	int distinct = 0;
	struct delivered *d;

	while ((d = next_event(sink, quiet_ms)) != NULL) {
		int n;

		if (sscanf(d->data + strlen(prefix) + 1, "%d", &n) == 1 &&
		    strncmp(d->data, prefix, strlen(prefix)) == 0 && n >= 0 && n < total && !seen[n]) {
			seen[n] = true;
			distinct++;
		}
		settle(d, OUTRIG_PUBSUB_SETTLED);
	}
	return distinct;
}

START_TEST(two_members_share_partitions_and_one_takes_over)
{
	const char *md[] = { "publishTopic", "grp",	      "topics", "grp", "consumerGroup",
			     "g-share",	     "initialOffset", "oldest", NULL };
	bool seen[60] = { false };
	int got_a = 0, got_b = 0;
	void *a, *b;
	long deadline;

	ck_assert_int_eq(kafka_mock_cmd(&km, "create grp 4"), 0);
	a = create_ok("bindings.kafka", md);
	b = create_ok("bindings.kafka", md);
	start_input_ok(a, SINK_A);
	start_input_ok(b, SINK_B);
	/* Wait until both members hold partitions: a probe per partition shows who has what. */
	deadline = xnow_ms() + 20000;
	for (int i = 0; i < 40; i++) {
		char payload[32], part[8];
		const char *m[] = { "partitionNumber", part, NULL };

		snprintf(payload, sizeof(payload), "s-%d", i);
		snprintf(part, sizeof(part), "%d", i % 4);
		invoke_ok(a, payload, m);
	}
	while ((got_a == 0 || got_b == 0 || got_a + got_b < 40) && xnow_ms() < deadline) {
		got_a += drain(SINK_A, "s", 40, seen, 200);
		got_b += drain(SINK_B, "s", 40, seen, 200);
	}
	fprintf(stderr, "shared: %d events to A, %d to B\n", got_a, got_b);
	ck_assert_msg(got_a > 0 && got_b > 0, "one member got nothing: A %d, B %d", got_a, got_b);
	ck_assert_int_eq(got_a + got_b, 40);

	/* B leaves (everything settled); A takes its partitions over and gets the next events. */
	destroy(b, SINK_B, OUTRIG_PUBSUB_SETTLED);
	for (int i = 40; i < 60; i++) {
		char payload[32], part[8];
		const char *m[] = { "partitionNumber", part, NULL };

		snprintf(payload, sizeof(payload), "s-%d", i);
		snprintf(part, sizeof(part), "%d", i % 4);
		invoke_ok(a, payload, m);
	}
	deadline = xnow_ms() + 25000;
	while (got_a + got_b < 60 && xnow_ms() < deadline)
		got_a += drain(SINK_A, "s", 60, seen, 200);
	for (int i = 0; i < 60; i++)
		ck_assert_msg(seen[i], "event s-%d never arrived", i);
	destroy(a, SINK_A, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

START_TEST(all_brokers_down_output_fails_input_resumes)
{
	const char *md[] = { "publishTopic",   "out",		"topics", "out",	  "consumerGroup",
			     "g-out",	       "initialOffset", "oldest", "writeTimeout", "2s",
			     "sessionTimeout", "30s",		NULL };
	int64_t next_offset[2] = { -1, -1 };
	bool acked[200] = { false }, seen[200] = { false };
	struct outrig_error err;
	struct delivered *d;
	int sent = 0, rc;
	long started, took, deadline;
	void *inst;

	ck_assert_int_eq(kafka_mock_cmd(&km, "create out 2"), 0);
	inst = create_ok("bindings.kafka", md);
	start_input_ok(inst, SINK_A);
	for (; sent < 10; sent++) {
		invoke_ok(inst, xfmt("o-%d", sent), NULL);
		acked[sent] = true;
	}
	/* The consumer is a member with its partitions and has settled these before the outage starts. */
	for (int i = 0; i < 10; i++) {
		d = next_event(SINK_A, ARRIVAL_MS);
		ck_assert_msg(d != NULL, "only %d of the first 10 events came", i);
		next_offset[atoi(meta(d, "__partition"))] = atoll(meta(d, "__offset")) + 1;
		seen[atoi(d->data + 2)] = true;
		settle(d, OUTRIG_PUBSUB_SETTLED);
	}

	ck_assert_int_eq(kafka_mock_cmd(&km, "down all"), 0);
	started = xnow_ms();
	rc = invoke(inst, xfmt("o-%d", sent), NULL, &err);
	took = xnow_ms() - started;
	fprintf(stderr, "with every broker down: %s after %ld ms: %s\n", outrig_status_name(rc), took,
		err.message);
	ck_assert_msg(rc == OUTRIG_ETIMEDOUT || rc == OUTRIG_EUNAVAIL, "create with brokers down: %s",
		      outrig_status_name(rc));
	ck_assert_msg(took < 8000, "create took %ld ms with brokers down", took);
	ck_assert_msg(strstr(err.message, "writeTimeout") != NULL || strstr(err.message, "brokers") != NULL,
		      "%s", err.message);
	sent++;
	/* The outage lasts 10 s in all. */
	while (xnow_ms() - started < 10000)
		xsleep_ms(100);
	ck_assert_int_eq(kafka_mock_cmd(&km, "up all"), 0);

	/* The producer reconnects by itself; the first tries may still time out. */
	deadline = xnow_ms() + 20000;
	while (sent < 30 && xnow_ms() < deadline) {
		rc = invoke(inst, xfmt("o-%d", sent), NULL, &err);
		acked[sent] = rc == OUTRIG_OK;
		sent++;
	}
	ck_assert_msg(acked[sent - 1], "no create succeeded after the brokers came back: %s", err.message);

	/* Every acknowledged event arrives, and each partition's offsets come without a gap. */
	deadline = xnow_ms() + 20000;
	for (;;) {
		bool all = true;

		for (int i = 0; i < sent; i++)
			all = all && (!acked[i] || seen[i]);
		if (all || xnow_ms() > deadline)
			break;
		d = next_event(SINK_A, 500);
		if (d == NULL)
			continue;
		{
			int n = atoi(d->data + 2), part = atoi(meta(d, "__partition"));
			int64_t off = atoll(meta(d, "__offset"));

			ck_assert(part == 0 || part == 1);
			/* At least once: a repeat is allowed, a jump forward is not. */
			ck_assert_msg(next_offset[part] < 0 || off <= next_offset[part],
				      "partition %d skipped from offset %lld to %lld", part,
				      (long long)next_offset[part], (long long)off);
			if (next_offset[part] < 0 || off == next_offset[part])
				next_offset[part] = off + 1;
			if (n >= 0 && n < 200)
				seen[n] = true;
		}
		settle(d, OUTRIG_PUBSUB_SETTLED);
	}
	for (int i = 0; i < sent; i++)
		ck_assert_msg(!acked[i] || seen[i], "acknowledged event o-%d was never delivered", i);
	destroy(inst, SINK_A, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

START_TEST(unsettled_event_comes_again_to_a_new_instance)
{
	const char *md[] = { "publishTopic",  "re",	"topics", "re", "consumerGroup", "g-re",
			     "initialOffset", "oldest", NULL };
	const char *p0[] = { "partitionNumber", "0", NULL };
	struct delivered *d1, *d2, *d3, *d;
	void *a, *b;

	ck_assert_int_eq(kafka_mock_cmd(&km, "create re 1"), 0);
	a = create_ok("bindings.kafka", md);
	invoke_ok(a, "e1", p0);
	invoke_ok(a, "e2", p0);
	invoke_ok(a, "e3", p0);
	start_input_ok(a, SINK_A);
	d1 = expect_event(SINK_A, "e1");
	d2 = expect_event(SINK_A, "e2");
	d3 = expect_event(SINK_A, "e3");
	ck_assert_str_eq(meta(d1, "__offset"), "0");
	ck_assert_str_eq(meta(d3, "__offset"), "2");
	/* e1 and e3 acknowledged, e2 not: only e1 may be committed. */
	settle(d1, OUTRIG_PUBSUB_SETTLED);
	settle(d3, OUTRIG_PUBSUB_SETTLED);
	xsleep_ms(500);
	destroy(a, SINK_A, OUTRIG_PUBSUB_UNSETTLED);
	(void)d2;

	b = create_ok("bindings.kafka", md);
	start_input_ok(b, SINK_B);
	d = expect_event(SINK_B, "e2");
	ck_assert_str_eq(meta(d, "__offset"), "1");
	settle(d, OUTRIG_PUBSUB_SETTLED);
	/* e3 follows (it was settled, but after the gap); e1 does not come again. */
	d = expect_event(SINK_B, "e3");
	settle(d, OUTRIG_PUBSUB_SETTLED);
	ck_assert_ptr_null(next_event(SINK_B, 1000));
	destroy(b, SINK_B, OUTRIG_PUBSUB_SETTLED);
}
END_TEST

static Suite *kafka_suite(void)
{
	Suite *s = suite_create("bindings.kafka");
	TCase *tc = tcase_create("plugin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, one_file_serves_both_types);
	tcase_add_test(tc, unreachable_brokers_fail_create_in_time);
	tcase_add_test(tc, binding_round_trip_with_key_headers_and_partition);
	tcase_add_test(tc, pubsub_publish_subscribe_round_trip);
	tcase_add_test(tc, two_members_share_partitions_and_one_takes_over);
	tcase_add_test(tc, all_brokers_down_output_fails_input_resumes);
	tcase_add_test(tc, unsettled_event_comes_again_to_a_new_instance);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kafka_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
