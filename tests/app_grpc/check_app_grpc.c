/* SPDX-License-Identifier: Apache-2.0 */
/*
 * app_grpc (core/channels/app_grpc.c) on a libevent loop against real gRPC apps that are not outrig:
 * one written with the Dapr JS SDK's DaprServer (tests/app_grpc/sdk_app.mjs), and a @grpc/grpc-js
 * server using the SDK's own message schemas for the answers the SDK never gives
 * (tests/app_grpc/raw_app.mjs). Skips (77) when node or the modules are missing, unless
 * OUTRIG_REQUIRE_INTEROP=1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>
#include <jansson.h>

#include "blocks/pubsub/grpc_envelope.h"
#include "channels/app_call.h"
#include "channels/app_call_grpc.h"
#include "channels/app_grpc.h"
#include "channels/app_grpc_http.h"
#include "channels/grpc_client.h"
#include "interop.h"
#include "server.h"

#define TOKEN "s3cret-app-token"

static struct event_base *base;
static pid_t node_pid;
static int node_port;
static char node_log[300];
static int pending;

/* A loopback port nothing listens on (right now). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void node_start(const char *script, const char *mode)
{
	char path[600], port[16];
	const char *argv[] = { "node", path, port, mode, NULL };

	node_port = free_port();
	snprintf(node_log, sizeof(node_log), "/tmp/outrig-app-grpc-%d.log", (int)getpid());
	snprintf(path, sizeof(path), "%s/tests/app_grpc/%s", interop_srcdir(), script);
	snprintf(port, sizeof(port), "%d", node_port);
	node_pid = server_spawn(argv, node_log);
	ck_assert_int_gt(node_pid, 0);
	if (server_wait_port(node_pid, node_port, 20000) != 0) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "cat %s >&2", node_log);
		(void)!system(cmd);
		ck_abort_msg("%s did not listen on port %d (its log is above)", script, node_port);
	}
}

static void node_stop(void)
{
	if (node_pid > 0)
		server_stop(node_pid);
	node_pid = 0;
	unlink(node_log);
}

static void start_sdk(void)
{
	node_start("sdk_app.mjs", NULL);
}

static void start_raw(void)
{
	node_start("raw_app.mjs", NULL);
}

static void start_bare(void)
{
	node_start("raw_app.mjs", "bare");
}

static void loop_setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	pending = 0;
}

static void loop_teardown(void)
{
	event_base_free(base);
}

static struct app_grpc *app(const char *token)
{
	struct app_grpc *ag = app_grpc_new(base, "127.0.0.1", node_port, -1, 10, token);

	ck_assert_ptr_nonnull(ag);
	return ag;
}

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(base);
}

/* Runs the loop until every call was told, for at most limit_ms. */
static void wait_all(int limit_ms)
{
	struct timeval tv = { limit_ms / 1000, (limit_ms % 1000) * 1000 };
	struct event *limit = evtimer_new(base, on_limit, NULL);

	evtimer_add(limit, &tv);
	while (pending > 0 && evtimer_pending(limit, NULL))
		event_base_dispatch(base);
	event_free(limit);
	ck_assert_msg(pending == 0, "%d calls not told within %d ms", pending, limit_ms);
}

static void told(void)
{
	if (--pending == 0)
		event_base_loopbreak(base);
}

/* ---- results, captured as JSON so tests can assert on them after the callback ---- */

static json_t *kv_json(const struct kv_list *l)
{
	json_t *o = json_object();

	for (size_t i = 0; l != NULL && i < l->count; i++)
		json_object_set_new(o, l->items[i].key, json_string(l->items[i].value));
	return o;
}

static json_t *bytes_json(const void *data, size_t len)
{
	return data == NULL ? json_null() : json_stringn_nocheck(data, len);
}

struct invoke_got {
	json_t *j;
	struct app_grpc_http_answer http;
	json_t *http_j;
};

static void on_invoke(void *arg, const struct app_grpc_invoke_result *r)
{
	struct invoke_got *g = arg;
	struct app_grpc_http_answer a;

	ck_assert_ptr_null(g->j);
	g->j = json_pack("{si ss so ss ss so so ss}", "status", r->status, "message", r->message, "data",
			 bytes_json(r->data, r->len), "type_url", r->data_type_url, "content_type",
			 r->content_type, "headers", kv_json(r->headers), "trailers", kv_json(r->trailers),
			 "details", r->status_details_bin);
	ck_assert_ptr_nonnull(g->j);
	/* What an HTTP caller gets, computed while r is valid. */
	ck_assert_int_eq(app_grpc_http_answer(r, &a), 0);
	g->http_j = json_pack("{si so so so}", "status", a.status, "content_type",
			      a.content_type != NULL ? json_string(a.content_type) : json_null(), "body",
			      bytes_json(a.body, a.len), "headers", kv_json(&a.headers));
	ck_assert_ptr_nonnull(g->http_j);
	app_grpc_http_answer_free(&a);
	told();
}

static void got_free(struct invoke_got *g)
{
	json_decref(g->j);
	json_decref(g->http_j);
	memset(g, 0, sizeof(*g));
}

static void invoke(struct app_grpc *ag, const struct app_grpc_invoke_request *req, struct invoke_got *g)
{
	memset(g, 0, sizeof(*g));
	pending++;
	ck_assert_int_eq(app_grpc_invoke(ag, req, on_invoke, g), 0);
	ck_assert_ptr_null(g->j);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(v != NULL, "no %s in %s", key, json_dumps(o, JSON_COMPACT));
	return json_is_null(v) ? NULL : json_string_value(v);
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "no integer %s in %s", key, json_dumps(o, JSON_COMPACT));
	return json_integer_value(v);
}

/* True when v is the JSON text want. */
static bool json_same(json_t *v, const char *want)
{
	json_t *w = json_loads(want, 0, NULL);
	bool same = json_equal(v, w);

	json_decref(w);
	return same;
}

/* The data of an invoke answer, parsed as JSON. Ownership: the caller's. */
static json_t *data_json(struct invoke_got *g)
{
	const char *text = jstr(g->j, "data");
	json_t *j;

	ck_assert_msg(text != NULL, "the answer has no data: %s", json_dumps(g->j, JSON_COMPACT));
	j = json_loads(text, JSON_DECODE_ANY, NULL);
	ck_assert_msg(j != NULL, "the answer's data is not JSON: %s", text);
	return j;
}

/* Calls OnInvoke "seen" (GET) and returns what the app recorded. */
static json_t *seen(struct app_grpc *ag)
{
	struct app_grpc_invoke_request req = { .method = "seen", .verb = "GET" };
	struct invoke_got g;
	json_t *j;

	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 0);
	j = data_json(&g);
	got_free(&g);
	ck_assert(json_is_array(j));
	return j;
}

struct subs_got {
	json_t *j;
};

static void on_subs(void *arg, const struct app_grpc_subscriptions_result *r)
{
	struct subs_got *g = arg;
	json_t *list = json_array();

	for (size_t i = 0; i < r->count; i++) {
		const struct app_grpc_subscription *s = &r->subscriptions[i];
		json_t *rules = json_array();

		for (size_t k = 0; k < s->n_rules; k++)
			json_array_append_new(rules, json_pack("{ss ss}", "match", s->rules[k].match, "path",
							       s->rules[k].path));
		json_array_append_new(
			list, json_pack("{ss ss so sb so ss ss sb sb si si}", "pubsub", s->pubsub_name,
					"topic", s->topic, "metadata", kv_json(s->metadata), "has_routes",
					s->has_routes, "rules", rules, "default", s->default_path,
					"dead_letter", s->dead_letter_topic, "has_bulk", s->has_bulk,
					"bulk_enabled", s->bulk_enabled, "bulk_max",
					(int)s->bulk_max_messages, "bulk_await", (int)s->bulk_max_await_ms));
	}
	g->j = json_pack("{si ss sb so}", "status", r->status, "message", r->message, "unimplemented",
			 r->unimplemented, "list", list);
	ck_assert_ptr_nonnull(g->j);
	told();
}

static json_t *list_subscriptions(struct app_grpc *ag)
{
	struct subs_got g = { 0 };

	pending++;
	ck_assert_int_eq(app_grpc_list_subscriptions(ag, 0, on_subs, &g), 0);
	wait_all(10000);
	return g.j;
}

struct topic_got {
	bool done;
	struct app_grpc_topic_result r;
	char reason[800];
	char message[800];
};

static void on_topic(void *arg, const struct app_grpc_topic_result *r)
{
	struct topic_got *g = arg;

	ck_assert(!g->done);
	g->done = true;
	g->r = *r;
	snprintf(g->reason, sizeof(g->reason), "%s", r->reason != NULL ? r->reason : "(none)");
	snprintf(g->message, sizeof(g->message), "%s", r->message);
	g->r.reason = g->reason;
	g->r.message = g->message;
	if (r->outcome == APP_GRPC_TOPIC_SUCCESS)
		ck_assert_ptr_null(r->reason);
	else
		ck_assert_ptr_nonnull(r->reason);
	told();
}

static void topic_event(struct app_grpc *ag, const struct app_grpc_topic_event *ev, struct topic_got *g)
{
	memset(g, 0, sizeof(*g));
	pending++;
	ck_assert_int_eq(app_grpc_topic_event(ag, ev, on_topic, g), 0);
	wait_all(10000);
}

static void on_bindings(void *arg, const struct app_grpc_bindings_result *r)
{
	json_t **j = arg;
	json_t *names = json_array();

	for (size_t i = 0; i < r->count; i++)
		json_array_append_new(names, json_string(r->names[i]));
	*j = json_pack("{si ss so}", "status", r->status, "message", r->message, "names", names);
	told();
}

static json_t *list_bindings(struct app_grpc *ag)
{
	json_t *j = NULL;

	pending++;
	ck_assert_int_eq(app_grpc_list_bindings(ag, 0, on_bindings, &j), 0);
	wait_all(10000);
	return j;
}

static void on_binding(void *arg, const struct app_grpc_binding_result *r)
{
	json_t **j = arg;
	json_t *to = json_array(), *states = json_array();

	for (size_t i = 0; i < r->n_to; i++)
		json_array_append_new(to, json_string(r->to[i]));
	for (size_t i = 0; i < r->n_states; i++) {
		const struct app_grpc_state_item *s = &r->states[i];

		json_array_append_new(states, json_pack("{ss so so so sb si si}", "key", s->key, "value",
							bytes_json(s->value, s->len), "etag",
							s->etag != NULL ? json_string(s->etag) : json_null(),
							"metadata", kv_json(s->metadata), "has_options",
							s->has_options, "concurrency", s->concurrency,
							"consistency", s->consistency));
	}
	*j = json_pack("{si ss so so sb ss so}", "status", r->status, "message", r->message, "data",
		       bytes_json(r->data, r->len), "to", to, "parallel", r->parallel, "store", r->store_name,
		       "states", states);
	ck_assert_ptr_nonnull(*j);
	told();
}

static json_t *binding_event(struct app_grpc *ag, const struct app_grpc_binding_event *ev)
{
	json_t *j = NULL;

	pending++;
	ck_assert_int_eq(app_grpc_binding_event(ag, ev, on_binding, &j), 0);
	wait_all(10000);
	return j;
}

static void on_health(void *arg, const struct app_grpc_health_result *r)
{
	struct app_grpc_health_result *g = arg;

	*g = *r;
	g->message = strdup(r->message);
	told();
}

static struct app_grpc_health_result health(struct app_grpc *ag)
{
	struct app_grpc_health_result r = { 0 };

	pending++;
	ck_assert_int_eq(app_grpc_health_check(ag, 0, on_health, &r), 0);
	wait_all(10000);
	return r;
}

/* ---- against the Dapr JS SDK's DaprServer ---- */

START_TEST(test_sdk_invoke_echo)
{
	struct app_grpc *ag = app(TOKEN);
	struct app_grpc_invoke_request req = {
		.method = "echo",
		.verb = "post",
		.query = "x=1&y=two",
		.content_type = "application/json",
		.data = "{\"a\":1}",
		.len = 7,
	};
	struct invoke_got g;
	json_t *d;

	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 0);
	ck_assert_str_eq(jstr(g.j, "content_type"), "application/json");
	ck_assert_str_eq(jstr(g.j, "type_url"), "");
	d = data_json(&g);
	ck_assert_str_eq(jstr(d, "body"), "{\"a\":1}");
	ck_assert_str_eq(jstr(d, "query"), "x=1&y=two");
	ck_assert_str_eq(jstr(d, "contentType"), "application/json");
	json_decref(d);
	/* An HTTP caller gets 200 with the app's content type and data. */
	ck_assert_int_eq(jint(g.http_j, "status"), 200);
	ck_assert_str_eq(jstr(g.http_j, "content_type"), "application/json");
	ck_assert_str_eq(jstr(g.http_j, "body"), jstr(g.j, "data"));
	got_free(&g);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_sdk_invoke_verbs)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request get = { .method = "hello", .verb = "GET" };
	struct app_grpc_invoke_request post = { .method = "hello", .verb = "POST" };
	struct app_grpc_invoke_request none = { .method = "hello" };
	struct invoke_got g1, g2, g3;

	invoke(ag, &get, &g1);
	invoke(ag, &post, &g2);
	invoke(ag, &none, &g3);
	wait_all(10000);
	/* The SDK routes on verb and method: only GET reaches the handler. */
	ck_assert_int_eq(jint(g1.j, "status"), 0);
	ck_assert_str_eq(jstr(g1.j, "data"), "\"hi\"");
	ck_assert_int_eq(jint(g2.j, "status"), 0);
	ck_assert_ptr_null(jstr(g2.j, "data"));
	ck_assert_int_eq(jint(g3.j, "status"), 0);
	ck_assert_ptr_null(jstr(g3.j, "data"));
	ck_assert_int_eq(jint(g2.http_j, "status"), 200);
	ck_assert_ptr_null(jstr(g2.http_j, "body"));
	got_free(&g1);
	got_free(&g2);
	got_free(&g3);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_sdk_invoke_throw)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request req = { .method = "throw", .verb = "POST" };
	struct invoke_got g;
	char body[600];
	int code;

	invoke(ag, &req, &g);
	wait_all(10000);
	/* The SDK (connect-node) hides a thrown error's text behind INTERNAL "internal error". */
	code = (int)jint(g.j, "status");
	ck_assert_int_eq(code, 13);
	ck_assert_str_eq(jstr(g.j, "message"), "internal error");
	ck_assert_int_eq(jint(g.http_j, "status"), 500);
	snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code, jstr(g.j, "message"));
	ck_assert_str_eq(jstr(g.http_j, "body"), body);
	got_free(&g);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_sdk_subscriptions)
{
	struct app_grpc *ag = app(NULL);
	json_t *j = list_subscriptions(ag), *list, *orders = NULL, *routed = NULL, *s, *rule;
	size_t i;

	ck_assert_int_eq(jint(j, "status"), 0);
	ck_assert(!json_is_true(json_object_get(j, "unimplemented")));
	list = json_object_get(j, "list");
	ck_assert_int_eq(json_array_size(list), 2);
	json_array_foreach(list, i, s)
	{
		ck_assert_str_eq(jstr(s, "pubsub"), "pubsub");
		if (strcmp(jstr(s, "topic"), "orders") == 0)
			orders = s;
		else if (strcmp(jstr(s, "topic"), "routed") == 0)
			routed = s;
	}
	ck_assert_ptr_nonnull(orders);
	ck_assert_ptr_nonnull(routed);
	/* The SDK's own paths: /<pubsub>--<topic>--<route>. */
	ck_assert(json_is_true(json_object_get(orders, "has_routes")));
	ck_assert_int_eq(json_array_size(json_object_get(orders, "rules")), 0);
	ck_assert_str_eq(jstr(orders, "default"), "/pubsub--orders--default");
	ck_assert_str_eq(jstr(orders, "dead_letter"), "");
	ck_assert_int_eq(json_array_size(json_object_get(routed, "rules")), 1);
	rule = json_array_get(json_object_get(routed, "rules"), 0);
	ck_assert_str_eq(jstr(rule, "match"), "event.type == \"big\"");
	ck_assert_str_eq(jstr(rule, "path"), "/pubsub--routed--big");
	ck_assert_str_eq(jstr(routed, "default"), "/pubsub--routed--fallback");
	ck_assert_str_eq(jstr(routed, "dead_letter"), "dead");
	ck_assert_str_eq(jstr(json_object_get(routed, "metadata"), "rawPayload"), "true");
	json_decref(j);
	app_grpc_free(ag);
}
END_TEST

/* Delivers {"answer": answer, "n": n} to pubsub/orders as the SDK expects it. */
static void sdk_order(struct app_grpc *ag, const char *answer, int n, struct topic_got *g)
{
	char data[100];
	struct kv_list md = { 0 };
	struct app_grpc_topic_event ev = {
		.id = "id-1",
		.source = "tests",
		.type = "com.dapr.event.sent",
		.spec_version = "1.0",
		.data_content_type = "application/json",
		.topic = "orders",
		.pubsub_name = "pubsub",
		.path = "/pubsub--orders--default",
		.data = data,
		.metadata = &md,
	};

	ck_assert_int_eq(kv_set(&md, "X-Custom", "custom-value"), 0);
	ev.len = (size_t)snprintf(data, sizeof(data), "{\"answer\":\"%s\",\"n\":%d}", answer, n);
	topic_event(ag, &ev, g);
	kv_free(&md);
}

START_TEST(test_sdk_topic_outcomes)
{
	struct app_grpc *ag = app(TOKEN);
	struct topic_got g;
	json_t *s, *e;
	size_t i, found = 0;

	sdk_order(ag, "SUCCESS", 101, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_SUCCESS);
	ck_assert_int_eq(g.r.status, 0);
	ck_assert_int_eq(g.r.app_status, 0);
	sdk_order(ag, "RETRY", 102, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_RETRY);
	ck_assert_int_eq(g.r.app_status, 1);
	ck_assert_str_eq(g.reason, "the app answered RETRY");
	sdk_order(ag, "DROP", 103, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_DROP);
	ck_assert_int_eq(g.r.app_status, 2);
	ck_assert_str_eq(g.reason, "the app answered DROP");
	/* Each reached the handler, with the token and the message's metadata as gRPC metadata. */
	s = seen(ag);
	json_array_foreach(s, i, e)
	{
		json_t *data = json_object_get(e, "data");

		if (strcmp(jstr(e, "kind"), "topic") != 0 || !json_is_object(data))
			continue;
		if (jint(data, "n") < 101 || jint(data, "n") > 103)
			continue;
		ck_assert_str_eq(jstr(e, "token"), TOKEN);
		ck_assert_str_eq(jstr(e, "custom"), "custom-value");
		found++;
	}
	ck_assert_int_eq(found, 3);
	json_decref(s);
	app_grpc_free(ag);
}
END_TEST

/* A CloudEvent shaped by pub/sub's envelope reaches the SDK's handler as the object it carried. */
START_TEST(test_sdk_cloudevent_envelope)
{
	struct app_grpc *ag = app(NULL);
	json_t *ce = json_loads(
		"{\"id\":\"ce-1\",\"source\":\"tests\",\"type\":\"com.dapr.event.sent\","
		"\"specversion\":\"1.0\",\"datacontenttype\":\"application/json\","
		"\"data\":{\"answer\":\"DROP\",\"n\":201},\"topic\":\"orders\",\"pubsubname\":\"pubsub\"}",
		0, NULL);
	struct grpc_envelope env;
	struct topic_got g;
	char err[200];
	json_t *s, *e;
	size_t i;
	bool found = false;

	ck_assert_int_eq(grpc_envelope_from_cloudevent(ce, "orders", "pubsub", "/pubsub--orders--default",
						       &env, err, sizeof(err)),
			 0);
	topic_event(ag, &env.ev, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_DROP);
	s = seen(ag);
	json_array_foreach(s, i, e) if (json_is_object(json_object_get(e, "data")) &&
					jint(json_object_get(e, "data"), "n") == 201) found = true;
	ck_assert_msg(found, "the handler did not get the event's data: %s", json_dumps(s, JSON_COMPACT));
	json_decref(s);
	grpc_envelope_free(&env);
	json_decref(ce);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_sdk_bindings)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_binding_event ev = { .name = "mybinding", .data = "{\"n\":7}", .len = 7 };
	json_t *j = list_bindings(ag), *s, *e;
	size_t i;
	bool found = false;

	ck_assert_int_eq(jint(j, "status"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(j, "names")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "names"), 0)), "mybinding");
	json_decref(j);
	j = binding_event(ag, &ev);
	ck_assert_int_eq(jint(j, "status"), 0);
	/* The SDK answers an empty BindingEventResponse. */
	ck_assert_ptr_null(jstr(j, "data"));
	ck_assert_int_eq(json_array_size(json_object_get(j, "to")), 0);
	ck_assert(!json_is_true(json_object_get(j, "parallel")));
	json_decref(j);
	s = seen(ag);
	json_array_foreach(s, i, e) if (strcmp(jstr(e, "kind"), "binding") == 0 &&
					json_is_object(json_object_get(e, "data")) &&
					jint(json_object_get(e, "data"), "n") == 7) found = true;
	ck_assert_msg(found, "the binding handler did not see the event: %s", json_dumps(s, JSON_COMPACT));
	json_decref(s);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_sdk_health)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_health_result r = health(ag);

	ck_assert_msg(r.ok, "status %d: %s", r.status, r.message);
	free((char *)r.message);
	app_grpc_free(ag);
}
END_TEST

/* ---- against grpc-js with Dapr's schemas: what the SDK never answers ---- */

START_TEST(test_raw_invoke_request_and_metadata)
{
	struct app_grpc *ag = app(TOKEN);
	struct kv_list http = { 0 }, md = { 0 };
	struct app_grpc_invoke_request req = {
		.method = "echo",
		.verb = "PUT",
		.query = "a=b",
		.content_type = "text/plain",
		.data = "hello",
		.len = 5,
		.data_type_url = "type.googleapis.com/outrig.test.In",
		.metadata = &md,
	};
	struct invoke_got g;
	json_t *d, *m, *h;

	/* An HTTP caller's headers, converted as daprd converts them. */
	ck_assert_int_eq(kv_set(&http, "Content-Type", "text/plain"), 0);
	ck_assert_int_eq(kv_set(&http, "Accept", "*/*"), 0);
	ck_assert_int_eq(kv_set(&http, "Host", "127.0.0.1:3500"), 0);
	ck_assert_int_eq(kv_set(&http, "X-Custom", "custom"), 0);
	ck_assert_int_eq(kv_set(&http, "dapr-api-token", "the-caller-s"), 0);
	ck_assert_int_eq(kv_set(&http, "X-Bad", "caf\xc3\xa9"), 0);
	ck_assert_int_eq(
		kv_set(&http, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), 0);
	ck_assert_int_eq(app_grpc_metadata_from_http(&http, &md), 0);
	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 0);
	d = data_json(&g);
	ck_assert_str_eq(jstr(d, "method"), "echo");
	ck_assert(json_is_true(json_object_get(d, "hasExtension")));
	ck_assert_int_eq(jint(d, "verb"), 4); /* PUT */
	ck_assert_str_eq(jstr(d, "query"), "a=b");
	ck_assert_str_eq(jstr(d, "contentType"), "text/plain");
	ck_assert_str_eq(jstr(d, "typeUrl"), "type.googleapis.com/outrig.test.In");
	ck_assert_str_eq(jstr(d, "data"), "hello");
	m = json_object_get(d, "metadata");
	ck_assert_str_eq(jstr(m, "dapr-api-token"), TOKEN);
	ck_assert_str_eq(jstr(m, "dapr-content-type"), "text/plain");
	ck_assert_str_eq(jstr(m, "dapr-accept"), "*/*");
	ck_assert_str_eq(jstr(m, "x-custom"), "custom");
	ck_assert_str_eq(jstr(m, "traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	ck_assert_ptr_null(json_object_get(m, "host"));
	ck_assert_ptr_null(json_object_get(m, "dapr-host"));
	ck_assert_ptr_null(json_object_get(m, "x-bad"));
	json_decref(d);
	/* The answer: Any's type_url back, initial metadata and trailers apart. */
	ck_assert_str_eq(jstr(g.j, "type_url"), "type.googleapis.com/outrig.test.In");
	ck_assert_str_eq(jstr(g.j, "content_type"), "application/json");
	h = json_object_get(g.j, "headers");
	ck_assert_str_eq(jstr(h, "x-answer"), "yes");
	ck_assert_str_eq(jstr(h, "grpc-extra"), "g");
	ck_assert_ptr_null(json_object_get(h, "content-type"));
	ck_assert_ptr_null(json_object_get(h, "x-trailer"));
	ck_assert_str_eq(jstr(json_object_get(g.j, "trailers"), "x-trailer"), "t");
	ck_assert_ptr_null(json_object_get(json_object_get(g.j, "trailers"), "grpc-status"));
	/* An HTTP caller: typed data is application/x-protobuf; grpc-* renamed, -bin and trailers left out. */
	ck_assert_int_eq(jint(g.http_j, "status"), 200);
	ck_assert_str_eq(jstr(g.http_j, "content_type"), "application/x-protobuf");
	h = json_object_get(g.http_j, "headers");
	ck_assert_str_eq(jstr(h, "x-answer"), "yes");
	ck_assert_str_eq(jstr(h, "dapr-grpc-extra"), "g");
	ck_assert_ptr_null(json_object_get(h, "grpc-extra"));
	ck_assert_ptr_null(json_object_get(h, "x-raw-bin"));
	ck_assert_ptr_null(json_object_get(h, "x-trailer"));
	got_free(&g);
	kv_free(&http);
	kv_free(&md);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_invoke_without_extension_or_token)
{
	struct app_grpc *ag = app(NULL);
	struct kv_list md = { 0 };
	struct app_grpc_invoke_request req = { .method = "echo", .metadata = &md };
	struct invoke_got g;
	json_t *d, *m;

	ck_assert_int_eq(kv_set(&md, "dapr-api-token", "the-caller-s"), 0);
	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 0);
	d = data_json(&g);
	ck_assert(!json_is_true(json_object_get(d, "hasExtension")));
	/* daprd sends data always, an empty Any for no body. */
	ck_assert(json_is_true(json_object_get(d, "hasData")));
	ck_assert_str_eq(jstr(d, "data"), "");
	m = json_object_get(d, "metadata");
	/* Without an app token the caller's metadata goes as it is. */
	ck_assert_str_eq(jstr(m, "dapr-api-token"), "the-caller-s");
	json_decref(d);
	/* An untyped answer keeps the app's content type for an HTTP caller. */
	ck_assert_str_eq(jstr(g.http_j, "content_type"), "application/json");
	got_free(&g);
	kv_free(&md);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_invoke_verb_names)
{
	static const struct {
		const char *verb;
		int want;
	} cases[] = { { "GET", 1 }, { "head", 2 }, { "Patch", 9 }, { "NONE", 0 }, { "PROPFIND", 3 } };
	struct app_grpc *ag = app(NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct app_grpc_invoke_request req = { .method = "echo", .verb = cases[i].verb };
		struct invoke_got g;
		json_t *d;

		invoke(ag, &req, &g);
		wait_all(10000);
		d = data_json(&g);
		ck_assert(json_is_true(json_object_get(d, "hasExtension")));
		ck_assert_msg(jint(d, "verb") == cases[i].want, "%s gave verb %lld", cases[i].verb,
			      jint(d, "verb"));
		json_decref(d);
		got_free(&g);
	}
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_invoke_answers)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request typed = { .method = "typed", .verb = "GET" };
	struct app_grpc_invoke_request nodata = { .method = "nodata", .verb = "GET" };
	struct app_grpc_invoke_request garbage = { .method = "garbage", .verb = "GET" };
	struct invoke_got g1, g2, g3;

	invoke(ag, &typed, &g1);
	invoke(ag, &nodata, &g2);
	invoke(ag, &garbage, &g3);
	wait_all(10000);
	ck_assert_int_eq(jint(g1.j, "status"), 0);
	ck_assert_str_eq(jstr(g1.j, "data"), "\x01\x02\x03");
	ck_assert_str_eq(jstr(g1.j, "type_url"), "type.googleapis.com/outrig.test.Thing");
	ck_assert_str_eq(jstr(g1.j, "content_type"), "ignored/when-typed");
	ck_assert_str_eq(jstr(g1.http_j, "content_type"), "application/x-protobuf");
	ck_assert_str_eq(jstr(g1.http_j, "body"), "\x01\x02\x03");
	ck_assert_int_eq(jint(g2.j, "status"), 0);
	ck_assert_ptr_null(jstr(g2.j, "data"));
	ck_assert_str_eq(jstr(g2.j, "type_url"), "");
	ck_assert_int_eq(jint(g2.http_j, "status"), 200);
	ck_assert_str_eq(jstr(g2.http_j, "content_type"), "text/plain");
	ck_assert_ptr_null(jstr(g2.http_j, "body"));
	ck_assert_int_eq(jint(g3.j, "status"), 13);
	ck_assert_msg(strstr(jstr(g3.j, "message"), "InvokeResponse") != NULL, "%s", jstr(g3.j, "message"));
	ck_assert_int_eq(jint(g3.http_j, "status"), 500);
	got_free(&g1);
	got_free(&g2);
	got_free(&g3);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_invoke_errors)
{
	static const struct {
		int code, http;
	} cases[] = { { 3, 400 }, { 5, 404 }, { 7, 403 }, { 9, 400 }, { 10, 409 }, { 14, 503 }, { 16, 401 } };
	struct app_grpc *ag = app(NULL);
	struct invoke_got g[sizeof(cases) / sizeof(cases[0])];
	char method[sizeof(cases) / sizeof(cases[0])][32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct app_grpc_invoke_request req = { .method = method[i], .verb = "POST" };

		snprintf(method[i], sizeof(method[i]), "fail-%d", cases[i].code);
		invoke(ag, &req, &g[i]);
	}
	wait_all(10000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char msg[64], body[128];

		snprintf(msg, sizeof(msg), "failed with %d", cases[i].code);
		snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", cases[i].code, msg);
		ck_assert_int_eq(jint(g[i].j, "status"), cases[i].code);
		ck_assert_str_eq(jstr(g[i].j, "message"), msg);
		ck_assert_ptr_null(jstr(g[i].j, "data"));
		/* A trailers-only answer: its metadata are trailers, as grpc-go reports them. */
		ck_assert_int_eq(json_object_size(json_object_get(g[i].j, "headers")), 0);
		ck_assert_str_eq(jstr(json_object_get(g[i].j, "trailers"), "x-why"), "because");
		ck_assert_int_eq(jint(g[i].http_j, "status"), cases[i].http);
		ck_assert_str_eq(jstr(g[i].http_j, "body"), body);
		ck_assert_str_eq(jstr(g[i].http_j, "content_type"), "text/plain; charset=utf-8");
		got_free(&g[i]);
	}
	app_grpc_free(ag);
}
END_TEST

/* For a gRPC caller: the app's rich error details, as it sent them. */
START_TEST(test_raw_invoke_error_details)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request req = { .method = "rich", .verb = "GET" };
	struct invoke_got g;

	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 5);
	ck_assert_str_eq(jstr(g.j, "details"), "CAUSAXg=");
	ck_assert_ptr_null(json_object_get(json_object_get(g.j, "trailers"), "grpc-status-details-bin"));
	got_free(&g);
	app_grpc_free(ag);
}
END_TEST

/* An answer past --max-body-size: daprd's grpc-go fails it RESOURCE_EXHAUSTED, 429 for an HTTP caller. */
START_TEST(test_raw_invoke_too_large)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request req = { .method = "big", .verb = "GET" };
	struct invoke_got g;

	grpc_client_set_limits(app_grpc_client(ag), 1 << 20, 4096);
	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 8);
	ck_assert_int_eq(jint(g.http_j, "status"), 429);
	got_free(&g);
	/* Within the limit, the same call goes through. */
	grpc_client_set_limits(app_grpc_client(ag), 4 << 20, 4096);
	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 0);
	ck_assert_uint_eq(strlen(jstr(g.j, "data")), 2 << 20);
	got_free(&g);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_invoke_deadline)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request req = { .method = "sleep", .verb = "POST", .timeout_ms = 300 };
	struct invoke_got g;

	invoke(ag, &req, &g);
	wait_all(2500);
	ck_assert_int_eq(jint(g.j, "status"), 4);
	ck_assert_int_eq(jint(g.http_j, "status"), 504);
	got_free(&g);
	app_grpc_free(ag);
}
END_TEST

static void on_app_call(void *arg, struct app_call_answer *a)
{
	*(int *)arg = a->outcome == APP_CALL_ANSWERED ? a->status : -1;
	pending--;
}

/* The caller's time left (InvokeService's grpc-timeout, through invoke) bounds the app's call. */
START_TEST(test_raw_invoke_caller_deadline)
{
	struct app_grpc *ag = app(NULL);
	struct app_call_request rq = { .verb = "POST", .path = "/sleep", .timeout_ms = 300 };
	int status = 0;
	long t0 = (long)time(NULL);

	pending++;
	ck_assert_int_eq(app_call_send_grpc(ag, &rq, on_app_call, &status), 0);
	/* The channel's own timeout is 10 s: only the call's 300 ms ends it this soon. */
	wait_all(2500);
	ck_assert_int_eq(status, 504);
	ck_assert_int_le((long)time(NULL) - t0, 3);
	app_grpc_free(ag);
}
END_TEST

static void never(void *arg, const struct app_grpc_invoke_result *r)
{
	ck_abort_msg("a call was told after app_grpc_free");
}

START_TEST(test_raw_free_with_calls_pending)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request req = { .method = "sleep", .verb = "POST" };
	struct timeval tv = { 0, 200000 };

	ck_assert_int_eq(app_grpc_invoke(ag, &req, never, NULL), 0);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	app_grpc_free(ag);
	tv.tv_sec = 3;
	tv.tv_usec = 500000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}
END_TEST

static void count_abandoned(void *arg)
{
	(*(int *)arg)++;
}

static void app_call_never(void *arg, struct app_call_answer *a)
{
	ck_abort_msg("a call was answered after app_grpc_free");
}

/* outrigd stopping with calls at the app: each caller is told once, so it can free its record. */
START_TEST(test_raw_free_abandons_pending_calls)
{
	struct app_grpc *ag = app(NULL);
	int abandoned = 0;
	struct app_grpc_invoke_request req = { .method = "sleep", .verb = "POST", .abandon = count_abandoned };
	struct app_call_request rq = { .verb = "POST", .path = "/sleep", .abandon = count_abandoned };
	struct timeval tv = { 0, 200000 };

	ck_assert_int_eq(app_grpc_invoke(ag, &req, never, &abandoned), 0);
	ck_assert_int_eq(app_call_send_grpc(ag, &rq, app_call_never, &abandoned), 0);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	app_grpc_free(ag);
	ck_assert_int_eq(abandoned, 2);
}
END_TEST

START_TEST(test_raw_subscriptions)
{
	struct app_grpc *ag = app(NULL);
	json_t *j = list_subscriptions(ag), *full, *plain, *rules;

	ck_assert_int_eq(jint(j, "status"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(j, "list")), 2);
	full = json_array_get(json_object_get(j, "list"), 0);
	plain = json_array_get(json_object_get(j, "list"), 1);
	ck_assert_str_eq(jstr(full, "pubsub"), "ps");
	ck_assert_str_eq(jstr(full, "topic"), "full");
	ck_assert_str_eq(jstr(json_object_get(full, "metadata"), "rawPayload"), "true");
	ck_assert_str_eq(jstr(json_object_get(full, "metadata"), "priority"), "high");
	rules = json_object_get(full, "rules");
	ck_assert_int_eq(json_array_size(rules), 2);
	ck_assert_str_eq(jstr(json_array_get(rules, 0), "match"), "event.type == \"a\"");
	ck_assert_str_eq(jstr(json_array_get(rules, 0), "path"), "/a");
	ck_assert_str_eq(jstr(json_array_get(rules, 1), "path"), "/b");
	ck_assert_str_eq(jstr(full, "default"), "/other");
	ck_assert_str_eq(jstr(full, "dead_letter"), "dlq");
	ck_assert(json_is_true(json_object_get(full, "has_bulk")));
	ck_assert(json_is_true(json_object_get(full, "bulk_enabled")));
	ck_assert_int_eq(jint(full, "bulk_max"), 50);
	ck_assert_int_eq(jint(full, "bulk_await"), 250);
	/* Without routes daprd delivers on the default path "": the caller sees has_routes false. */
	ck_assert_str_eq(jstr(plain, "topic"), "plain");
	ck_assert(!json_is_true(json_object_get(plain, "has_routes")));
	ck_assert_int_eq(json_array_size(json_object_get(plain, "rules")), 0);
	ck_assert_str_eq(jstr(plain, "default"), "");
	ck_assert(!json_is_true(json_object_get(plain, "has_bulk")));
	ck_assert_int_eq(json_object_size(json_object_get(plain, "metadata")), 0);
	json_decref(j);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_topic_request)
{
	struct app_grpc *ag = app(TOKEN);
	json_t *ext = json_loads("{\"traceid\":\"abc\",\"n\":2.5,\"flag\":true,\"nothing\":null,"
				 "\"nested\":{\"list\":[1,\"two\",false]}}",
				 0, NULL);
	struct kv_list md = { 0 };
	struct app_grpc_topic_event ev = {
		.id = "ev-42",
		.source = "src",
		.type = "t.created",
		.spec_version = "1.0",
		.data_content_type = "text/plain",
		.topic = "plain",
		.pubsub_name = "ps",
		.path = "/orders",
		.data = "payload",
		.len = 7,
		.extensions = ext,
		.metadata = &md,
	};
	struct topic_got g;
	json_t *s, *e, *req = NULL, *x;
	size_t i;

	ck_assert_int_eq(kv_set(&md, "x-meta", "m"), 0);
	ck_assert_int_eq(kv_set(&md, "Content-Length", "7"), 0);
	ck_assert_int_eq(kv_set(&md, "content-type", "text/plain"), 0);
	topic_event(ag, &ev, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_SUCCESS);
	s = seen(ag);
	json_array_foreach(s, i, e) if (strcmp(jstr(e, "kind"), "topic") == 0 &&
					strcmp(jstr(json_object_get(e, "request"), "id"), "ev-42") == 0) req =
		json_object_get(e, "request");
	ck_assert_msg(req != NULL, "the app did not see the event: %s", json_dumps(s, JSON_COMPACT));
	ck_assert_str_eq(jstr(req, "source"), "src");
	ck_assert_str_eq(jstr(req, "type"), "t.created");
	ck_assert_str_eq(jstr(req, "specVersion"), "1.0");
	ck_assert_str_eq(jstr(req, "dataContentType"), "text/plain");
	ck_assert_str_eq(jstr(req, "topic"), "plain");
	ck_assert_str_eq(jstr(req, "pubsubName"), "ps");
	ck_assert_str_eq(jstr(req, "path"), "/orders");
	ck_assert_str_eq(jstr(req, "data"), "cGF5bG9hZA=="); /* protojson's base64 of "payload" */
	x = json_object_get(req, "extensions");
	ck_assert_str_eq(jstr(x, "traceid"), "abc");
	ck_assert(json_number_value(json_object_get(x, "n")) == 2.5);
	ck_assert(json_is_true(json_object_get(x, "flag")));
	ck_assert(json_is_null(json_object_get(x, "nothing")));
	ck_assert(json_same(json_object_get(json_object_get(x, "nested"), "list"), "[1,\"two\",false]"));
	x = json_object_get(req, "metadata");
	ck_assert_str_eq(jstr(x, "x-meta"), "m");
	ck_assert_str_eq(jstr(x, "dapr-api-token"), TOKEN);
	ck_assert_ptr_null(json_object_get(x, "content-length"));
	json_decref(s);
	json_decref(ext);
	kv_free(&md);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_topic_outcomes)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_topic_event ev = { .pubsub_name = "ps" };
	struct topic_got g;

	ev.topic = "status-3";
	topic_event(ag, &ev, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_RETRY);
	ck_assert_int_eq(g.r.app_status, 3);
	ck_assert_str_eq(g.reason, "the app answered an unknown status 3");
	ev.topic = "status-2";
	topic_event(ag, &ev, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_DROP);
	ev.topic = "unimpl";
	topic_event(ag, &ev, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_DROP);
	ck_assert_int_eq(g.r.status, 12);
	ck_assert_int_eq(g.r.app_status, -1);
	ck_assert_msg(strstr(g.reason, "no events here") != NULL, "%s", g.reason);
	ev.topic = "internal";
	topic_event(ag, &ev, &g);
	ck_assert_int_eq(g.r.outcome, APP_GRPC_TOPIC_RETRY);
	ck_assert_int_eq(g.r.status, 13);
	ck_assert_msg(strstr(g.reason, "broken inside") != NULL, "%s", g.reason);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_bindings)
{
	struct app_grpc *ag = app(TOKEN);
	struct kv_list md = { 0 }, grpc_md = { 0 };
	struct app_grpc_binding_event ev = {
		.name = "b1", .data = "in", .len = 2, .metadata = &md, .grpc_metadata = &grpc_md
	};
	struct app_grpc_binding_event bad = { .name = "fail" };
	json_t *j = list_bindings(ag), *st, *s, *e, *req = NULL;
	size_t i;

	ck_assert_int_eq(jint(j, "status"), 0);
	ck_assert(json_same(json_object_get(j, "names"), "[\"b1\",\"b2\"]"));
	json_decref(j);
	ck_assert_int_eq(kv_set(&md, "Operation", "create"), 0);
	ck_assert_int_eq(
		kv_set(&grpc_md, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
		0);
	j = binding_event(ag, &ev);
	ck_assert_int_eq(jint(j, "status"), 0);
	ck_assert_str_eq(jstr(j, "data"), "answer");
	ck_assert(json_same(json_object_get(j, "to"), "[\"out1\",\"out2\"]"));
	ck_assert(json_is_true(json_object_get(j, "parallel")));
	ck_assert_str_eq(jstr(j, "store"), "store");
	ck_assert_int_eq(json_array_size(json_object_get(j, "states")), 2);
	st = json_array_get(json_object_get(j, "states"), 0);
	ck_assert_str_eq(jstr(st, "key"), "k1");
	ck_assert_str_eq(jstr(st, "value"), "v1");
	ck_assert_str_eq(jstr(st, "etag"), "7");
	ck_assert_str_eq(jstr(json_object_get(st, "metadata"), "ttlInSeconds"), "60");
	ck_assert(json_is_true(json_object_get(st, "has_options")));
	ck_assert_int_eq(jint(st, "concurrency"), APP_GRPC_CONCURRENCY_FIRST_WRITE);
	ck_assert_int_eq(jint(st, "consistency"), APP_GRPC_CONSISTENCY_STRONG);
	st = json_array_get(json_object_get(j, "states"), 1);
	ck_assert_str_eq(jstr(st, "key"), "k2");
	ck_assert_ptr_null(jstr(st, "etag"));
	ck_assert(!json_is_true(json_object_get(st, "has_options")));
	json_decref(j);
	/* What the app got: name, data and metadata in the message; the trace and token as gRPC metadata. */
	s = seen(ag);
	json_array_foreach(s, i, e) if (strcmp(jstr(e, "kind"), "binding") == 0) req =
		json_object_get(e, "request");
	ck_assert_ptr_nonnull(req);
	ck_assert_str_eq(jstr(req, "name"), "b1");
	ck_assert_str_eq(jstr(req, "data"), "aW4="); /* base64 of "in" */
	ck_assert_str_eq(jstr(json_object_get(req, "metadata"), "Operation"), "create");
	ck_assert_str_eq(jstr(json_object_get(req, "grpcMetadata"), "traceparent"),
			 "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	ck_assert_str_eq(jstr(json_object_get(req, "grpcMetadata"), "dapr-api-token"), TOKEN);
	json_decref(s);
	j = binding_event(ag, &bad);
	ck_assert_int_eq(jint(j, "status"), 10);
	ck_assert_str_eq(jstr(j, "message"), "binding refused");
	ck_assert_ptr_null(jstr(j, "data"));
	json_decref(j);
	kv_free(&md);
	kv_free(&grpc_md);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_raw_health)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request sick = { .method = "sick", .verb = "POST" };
	struct app_grpc_invoke_request well = { .method = "well", .verb = "POST" };
	struct app_grpc_health_result r;
	struct invoke_got g;

	r = health(ag);
	ck_assert(r.ok);
	free((char *)r.message);
	invoke(ag, &sick, &g);
	wait_all(10000);
	got_free(&g);
	r = health(ag);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.status, 14);
	ck_assert_str_eq(r.message, "the app is sick");
	free((char *)r.message);
	invoke(ag, &well, &g);
	wait_all(10000);
	got_free(&g);
	r = health(ag);
	ck_assert(r.ok);
	free((char *)r.message);
	app_grpc_free(ag);
}
END_TEST

/* The metadata of the last HealthCheck the raw app saw (a new reference), or fails the test. */
static json_t *last_health_metadata(struct app_grpc *ag)
{
	json_t *s = seen(ag), *e, *md = NULL;
	size_t i;

	json_array_foreach(s, i, e) if (strcmp(jstr(e, "kind"), "health") == 0) md = json_object_get(e, "metadata");
	ck_assert_msg(md != NULL, "the app saw no health check: %s", json_dumps(s, JSON_COMPACT));
	json_incref(md);
	json_decref(s);
	return md;
}

/* outrigd's gRPC health probes (app_health.c) carry APP_API_TOKEN as every other call does. */
START_TEST(test_raw_health_carries_the_token)
{
	struct app_grpc *ag = app(TOKEN);
	struct app_grpc_health_result r = health(ag);
	json_t *md;

	ck_assert(r.ok);
	free((char *)r.message);
	md = last_health_metadata(ag);
	ck_assert_pstr_eq(jstr(md, "dapr-api-token"), TOKEN);
	json_decref(md);
	app_grpc_free(ag);
	ag = app(NULL);
	r = health(ag);
	ck_assert(r.ok);
	free((char *)r.message);
	md = last_health_metadata(ag);
	ck_assert_ptr_null(json_object_get(md, "dapr-api-token"));
	json_decref(md);
	app_grpc_free(ag);
}
END_TEST

/* ---- an app that serves no AppCallback, and no app at all ---- */

START_TEST(test_bare_unimplemented)
{
	struct app_grpc *ag = app(NULL);
	struct app_grpc_invoke_request req = { .method = "echo", .verb = "GET" };
	struct app_grpc_topic_event ev = { .topic = "t", .pubsub_name = "ps" };
	struct app_grpc_binding_event bev = { .name = "b" };
	struct app_grpc_health_result r;
	struct invoke_got g;
	struct topic_got tg;
	json_t *j;

	/* daprd: no ListTopicSubscriptions means no subscriptions, not a failure. */
	j = list_subscriptions(ag);
	ck_assert_int_eq(jint(j, "status"), 0);
	ck_assert(json_is_true(json_object_get(j, "unimplemented")));
	ck_assert_int_eq(json_array_size(json_object_get(j, "list")), 0);
	json_decref(j);
	topic_event(ag, &ev, &tg);
	ck_assert_int_eq(tg.r.outcome, APP_GRPC_TOPIC_DROP);
	j = list_bindings(ag);
	ck_assert_int_eq(jint(j, "status"), 12);
	ck_assert_int_eq(json_array_size(json_object_get(j, "names")), 0);
	json_decref(j);
	j = binding_event(ag, &bev);
	ck_assert_int_eq(jint(j, "status"), 12);
	json_decref(j);
	r = health(ag);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.status, 12);
	free((char *)r.message);
	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 12);
	ck_assert_int_eq(jint(g.http_j, "status"), 501);
	got_free(&g);
	app_grpc_free(ag);
}
END_TEST

START_TEST(test_no_app)
{
	struct app_grpc *ag;
	struct app_grpc_invoke_request req = { .method = "echo", .verb = "GET" };
	struct app_grpc_topic_event ev = { .topic = "t", .pubsub_name = "ps" };
	struct app_grpc_health_result r;
	struct invoke_got g;
	struct topic_got tg;
	json_t *j;

	node_port = free_port();
	ag = app(TOKEN);
	invoke(ag, &req, &g);
	wait_all(10000);
	ck_assert_int_eq(jint(g.j, "status"), 14);
	ck_assert_int_eq(jint(g.http_j, "status"), 503);
	got_free(&g);
	/* An event for an app that is not there is delivered again later. */
	topic_event(ag, &ev, &tg);
	ck_assert_int_eq(tg.r.outcome, APP_GRPC_TOPIC_RETRY);
	ck_assert_int_eq(tg.r.status, 14);
	j = list_subscriptions(ag);
	ck_assert_int_eq(jint(j, "status"), 14);
	ck_assert(!json_is_true(json_object_get(j, "unimplemented")));
	json_decref(j);
	r = health(ag);
	ck_assert(!r.ok);
	free((char *)r.message);
	app_grpc_free(ag);
}
END_TEST

static Suite *app_grpc_suite(void)
{
	Suite *s = suite_create("app_grpc");
	TCase *tc;

	tc = tcase_create("against the Dapr JS SDK");
	tcase_add_unchecked_fixture(tc, start_sdk, node_stop);
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sdk_invoke_echo);
	tcase_add_test(tc, test_sdk_invoke_verbs);
	tcase_add_test(tc, test_sdk_invoke_throw);
	tcase_add_test(tc, test_sdk_subscriptions);
	tcase_add_test(tc, test_sdk_topic_outcomes);
	tcase_add_test(tc, test_sdk_cloudevent_envelope);
	tcase_add_test(tc, test_sdk_bindings);
	tcase_add_test(tc, test_sdk_health);
	suite_add_tcase(s, tc);

	tc = tcase_create("against grpc-js");
	tcase_add_unchecked_fixture(tc, start_raw, node_stop);
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_raw_invoke_request_and_metadata);
	tcase_add_test(tc, test_raw_invoke_without_extension_or_token);
	tcase_add_test(tc, test_raw_invoke_verb_names);
	tcase_add_test(tc, test_raw_invoke_answers);
	tcase_add_test(tc, test_raw_invoke_errors);
	tcase_add_test(tc, test_raw_invoke_error_details);
	tcase_add_test(tc, test_raw_invoke_too_large);
	tcase_add_test(tc, test_raw_invoke_deadline);
	tcase_add_test(tc, test_raw_invoke_caller_deadline);
	tcase_add_test(tc, test_raw_free_with_calls_pending);
	tcase_add_test(tc, test_raw_free_abandons_pending_calls);
	tcase_add_test(tc, test_raw_subscriptions);
	tcase_add_test(tc, test_raw_topic_request);
	tcase_add_test(tc, test_raw_topic_outcomes);
	tcase_add_test(tc, test_raw_bindings);
	tcase_add_test(tc, test_raw_health);
	tcase_add_test(tc, test_raw_health_carries_the_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("no AppCallback");
	tcase_add_unchecked_fixture(tc, start_bare, node_stop);
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bare_unimplemented);
	suite_add_tcase(s, tc);

	tc = tcase_create("no app");
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_no_app);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	static const char *const modules[] = { "@dapr/dapr", "@grpc/grpc-js", "@bufbuild/protobuf", NULL };

	return interop_run(app_grpc_suite(), modules);
}
