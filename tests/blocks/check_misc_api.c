/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output bindings, secrets and metadata (API.md §4.1, §5, §6) through both front ends of one real
 * outrigd: one table of cases per block, each case run over HTTP and over gRPC, expecting the
 * same answer (the same error row: errorCode and HTTP status, or its gRPC code).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "exchange.h"
#include "grpc_client.h"
#include "test_app.h"

#ifndef SEC_TEST_DATA
#define SEC_TEST_DATA "tests/data/secrets"
#endif

#define APP "miscapp"
#define DAPR "/dapr.proto.runtime.v1.Dapr/"
#define TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

enum transport { HTTP, GRPC };

static const char *const transport_name[] = { "HTTP", "gRPC" };

/* gRPC status codes the cases expect. */
enum { OK = 0, INVALID_ARGUMENT = 3, PERMISSION_DENIED = 7, FAILED_PRECONDITION = 9, INTERNAL = 13 };

static struct daemon dmn;
static struct exchange x;
static int grpc_port;

/* How one call ended, the same for both transports. */
struct answer {
	bool ok;
	int http_status;     /* HTTP only */
	char error_code[64]; /* HTTP only: errorCode */
	int grpc_code;	     /* gRPC only */
	char message[2048];  /* the error's message */
	char *data;	     /* bindings: the response data */
	size_t len;
	json_t *metadata; /* bindings: the response metadata, name -> value */
	json_t *json;	  /* secrets: the answer as Dapr's JSON shape; metadata: the document */
};

static void answer_free(struct answer *a)
{
	free(a->data);
	json_decref(a->metadata);
	json_decref(a->json);
	memset(a, 0, sizeof(*a));
}

/* An error answer expected: its row and a part of its message. */
struct want_error {
	const char *code; /* errorCode; NULL: the call succeeds */
	int http_status;
	int grpc_code;
	const char *message_part;
};

static void ck_answer_error(enum transport t, const struct answer *a, const struct want_error *w,
			    const char *what)
{
	ck_assert_msg(!a->ok, "%s over %s: succeeded, expected %s", what, transport_name[t], w->code);
	if (t == HTTP) {
		ck_assert_msg(a->http_status == w->http_status && strcmp(a->error_code, w->code) == 0,
			      "%s over HTTP: %d %s (%s), expected %d %s", what, a->http_status, a->error_code,
			      a->message, w->http_status, w->code);
	} else {
		ck_assert_msg(a->grpc_code == w->grpc_code, "%s over gRPC: code %d (%s), expected %d", what,
			      a->grpc_code, a->message, w->grpc_code);
	}
	ck_assert_msg(w->message_part == NULL || strstr(a->message, w->message_part) != NULL,
		      "%s over %s: message \"%s\" lacks \"%s\"", what, transport_name[t], a->message,
		      w->message_part);
}

/* ---- the HTTP adapter ---- */

static void http_answer(struct answer *a)
{
	json_t *body;

	a->http_status = x.r.status;
	a->ok = x.r.status >= 200 && x.r.status <= 299;
	if (a->ok)
		return;
	body = xjson(&x);
	snprintf(a->error_code, sizeof(a->error_code), "%s", jstr(json_object_get(body, "errorCode")));
	snprintf(a->message, sizeof(a->message), "%s", jstr(json_object_get(body, "message")));
	json_decref(body);
}

/* ---- the gRPC adapter ---- */

/* One unary call; unpacks nothing. Returns the result (the caller frees it). */
static void grpc_call(const char *method, const char *const *md, const ProtobufCMessage *msg,
		      struct grpc_result *r)
{
	struct grpc_client *c = grpc_client_connect(grpc_port);
	size_t len = msg != NULL ? protobuf_c_message_get_packed_size(msg) : 0;
	uint8_t *buf = malloc(len + 1);

	ck_assert_msg(c != NULL, "cannot connect to the gRPC port %d", grpc_port);
	ck_assert_ptr_nonnull(buf);
	if (msg != NULL)
		protobuf_c_message_pack(msg, buf);
	memset(r, 0, sizeof(*r));
	ck_assert_msg(grpc_client_call(c, xfmt(DAPR "%s", method), md, buf, len, 5000, r) == 0,
		      "%s: no answer", method);
	free(buf);
	grpc_client_close(c);
}

/* Fills a's outcome from r; true when the call succeeded. */
static bool grpc_answer(const struct grpc_result *r, struct answer *a)
{
	a->grpc_code = r->status;
	a->ok = r->status == OK;
	snprintf(a->message, sizeof(a->message), "%s", r->message != NULL ? r->message : "");
	return a->ok;
}

/* ---- output bindings ---- */

struct binding_case {
	const char *name;
	const char *operation;
	const char *data;   /* JSON text (HTTP puts it in the body's data; gRPC sends its bytes), or NULL */
	const char *md_key; /* one request metadata entry, or NULL */
	const char *md_value;
	bool trace; /* send a traceparent header / metadata */
	/* Expected on success: */
	const char *want_data;	 /* "" for none */
	const char *want_md_key; /* a response metadata entry, or NULL */
	const char *want_md_value;
	struct want_error err;
};

static const struct binding_case binding_cases[] = {
	{ "out", "create", "{\"a\":1,\"s\":\"two words\"}", "k", "v", false, "{\"a\":1,\"s\":\"two words\"}",
	  "k", "v" },
	{ "out", "create", "[1,2,[3]]", NULL, NULL, false, "[1,2,[3]]", "operation", "create" },
	{ "out", "create", "\"hi\"", NULL, NULL, false, "\"hi\"", "length", "4" },
	{ "out", "get", NULL, "q", "1", false, "", "length", "0" },
	{ "out", "get", NULL, NULL, NULL, true, "", "traceparent", TRACEPARENT },
	/* Metadata the request sets wins over the trace header. */
	{ "out", "get", NULL, "traceparent", "mine", true, "", "traceparent", "mine" },
	{ "nosuch",
	  "create",
	  "1",
	  NULL,
	  NULL,
	  false,
	  NULL,
	  NULL,
	  NULL,
	  { "ERR_INVOKE_OUTPUT_BINDING", 500, INTERNAL, "couldn't find output binding nosuch" } },
	{ "out",
	  "delete",
	  "1",
	  NULL,
	  NULL,
	  false,
	  NULL,
	  NULL,
	  NULL,
	  { "ERR_INVOKE_OUTPUT_BINDING", 500, INTERNAL,
	    "does not support operation delete. supported operations: create get fail emit" } },
	{ "out",
	  "",
	  "1",
	  NULL,
	  NULL,
	  false,
	  NULL,
	  NULL,
	  NULL,
	  { "ERR_INVOKE_OUTPUT_BINDING", 500, INTERNAL, "operation field is missing" } },
	{ "out",
	  "fail",
	  NULL,
	  NULL,
	  NULL,
	  false,
	  NULL,
	  NULL,
	  NULL,
	  { "ERR_INVOKE_OUTPUT_BINDING", 500, INTERNAL, "fails on purpose" } },
	{ "inonly",
	  "create",
	  NULL,
	  NULL,
	  NULL,
	  false,
	  NULL,
	  NULL,
	  NULL,
	  { "ERR_INVOKE_OUTPUT_BINDING", 500, INTERNAL, "its direction metadata does not include output" } },
};

static void http_invoke_binding(const struct binding_case *c, struct answer *a)
{
	json_t *body = json_pack("{s:s}", "operation", c->operation);
	char *text;

	if (c->md_key != NULL)
		json_object_set_new(body, "metadata", json_pack("{s:s}", c->md_key, c->md_value));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	/* data goes in as written: the component gets that JSON text. */
	if (c->data != NULL) {
		char *with = NULL;

		ck_assert_int_gt(asprintf(&with, "{\"data\":%s,%s", c->data, text + 1), 0);
		free(text);
		text = with;
	}
	xreq(&x, dmn.port, "POST", xfmt("/v1.0/bindings/%s", c->name),
	     c->trace ? "Content-Type: application/json\r\ntraceparent: " TRACEPARENT "\r\n"
		      : "Content-Type: application/json\r\n",
	     text);
	free(text);
	http_answer(a);
	a->metadata = json_object();
	if (c->want_md_key != NULL && xheader(&x, xfmt("metadata.%s", c->want_md_key)) != NULL)
		json_object_set_new(a->metadata, c->want_md_key,
				    json_string(xheader(&x, xfmt("metadata.%s", c->want_md_key))));
	if (a->ok) {
		a->len = x.r.body_len;
		a->data = strndup(x.r.body != NULL ? x.r.body : "", a->len);
	}
}

static void grpc_invoke_binding(const struct binding_case *c, struct answer *a)
{
	Dapr__Proto__Runtime__V1__InvokeBindingRequest req =
		DAPR__PROTO__RUNTIME__V1__INVOKE_BINDING_REQUEST__INIT;
	Dapr__Proto__Runtime__V1__InvokeBindingRequest__MetadataEntry e =
		DAPR__PROTO__RUNTIME__V1__INVOKE_BINDING_REQUEST__METADATA_ENTRY__INIT;
	Dapr__Proto__Runtime__V1__InvokeBindingRequest__MetadataEntry *ep = &e;
	Dapr__Proto__Runtime__V1__InvokeBindingResponse *resp;
	const char *trace_md[] = { "traceparent", TRACEPARENT, NULL };
	struct grpc_result r;

	req.name = (char *)c->name;
	req.operation = (char *)c->operation;
	if (c->data != NULL) {
		req.data.data = (uint8_t *)c->data;
		req.data.len = strlen(c->data);
	}
	if (c->md_key != NULL) {
		e.key = (char *)c->md_key;
		e.value = (char *)c->md_value;
		req.n_metadata = 1;
		req.metadata = &ep;
	}
	grpc_call("InvokeBinding", c->trace ? trace_md : NULL, &req.base, &r);
	a->metadata = json_object();
	if (grpc_answer(&r, a)) {
		resp = dapr__proto__runtime__v1__invoke_binding_response__unpack(NULL, r.len, r.data);
		ck_assert_msg(resp != NULL, "InvokeBindingResponse does not unpack");
		a->len = resp->data.len;
		a->data = strndup(resp->data.len > 0 ? (const char *)resp->data.data : "", resp->data.len);
		for (size_t i = 0; i < resp->n_metadata; i++)
			json_object_set_new(a->metadata, resp->metadata[i]->key,
					    json_string(resp->metadata[i]->value));
		dapr__proto__runtime__v1__invoke_binding_response__free_unpacked(resp, NULL);
	}
	grpc_result_free(&r);
}

static void start(const char *const *extra)
{
	const char *plugins = getenv("OUTRIG_PLUGIN_PATH"), *test_plugins = getenv("OUTRIG_TEST_PLUGIN_DIR");
	const char *args[16] = { "--dapr-grpc-port" };
	char port[16];
	size_t n = 1;

	/* The real plugins and bindings.test, the test binding. */
	ck_assert_int_eq(daemon_setenv(&dmn, "OUTRIG_PLUGIN_PATH",
				       xfmt("%s:%s", plugins != NULL ? plugins : "plugins/.libs",
					    test_plugins != NULL ? test_plugins : "tests/plugins/.libs")),
			 0);
	grpc_port = daemon_free_port();
	snprintf(port, sizeof(port), "%d", grpc_port);
	args[n++] = port;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
}

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
}

/* _i is the transport. */
START_TEST(bindings_table)
{
	enum transport t = (enum transport)_i;

	ck_assert_int_eq(daemon_add_component(&dmn, "out", "bindings.test", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "inonly", "bindings.test", "direction", "input", NULL),
			 0);
	start(NULL);
	for (size_t i = 0; i < sizeof(binding_cases) / sizeof(binding_cases[0]); i++) {
		const struct binding_case *c = &binding_cases[i];
		const char *what = xfmt("case %zu (%s %s)", i, c->name, c->operation);
		struct answer a = { 0 };

		if (t == HTTP)
			http_invoke_binding(c, &a);
		else
			grpc_invoke_binding(c, &a);
		if (c->err.code != NULL) {
			ck_answer_error(t, &a, &c->err, what);
		} else {
			ck_assert_msg(a.ok, "%s over %s: failed: %s", what, transport_name[t], a.message);
			ck_assert_msg(a.len == strlen(c->want_data) &&
					      memcmp(a.data, c->want_data, a.len) == 0,
				      "%s over %s: data \"%s\", expected \"%s\"", what, transport_name[t],
				      a.data, c->want_data);
			if (c->want_md_key != NULL)
				ck_assert_msg(strcmp(jstr(json_object_get(a.metadata, c->want_md_key)),
						     c->want_md_value) == 0,
					      "%s over %s: metadata %s is \"%s\", expected \"%s\"", what,
					      transport_name[t], c->want_md_key,
					      jstr(json_object_get(a.metadata, c->want_md_key)),
					      c->want_md_value);
		}
		answer_free(&a);
	}
}
END_TEST

/* ---- secrets ---- */

struct secret_case {
	const char *store;
	const char *key;  /* NULL: bulk */
	const char *want; /* the answer as Dapr's HTTP JSON */
	struct want_error err;
};

/* Stores over scopes.json (a, b, c): "fs" unscoped, "deny" allowing only a; "statestore" is no secret store. */
static const struct secret_case secret_cases[] = {
	{ "fs", "a", "{\"a\":\"1\"}" },
	{ "fs", NULL, "{\"a\":{\"a\":\"1\"},\"b\":{\"b\":\"2\"},\"c\":{\"c\":\"3\"}}" },
	{ "deny", "a", "{\"a\":\"1\"}" },
	{ "deny", NULL, "{\"a\":{\"a\":\"1\"}}" },
	{ "deny",
	  "b",
	  NULL,
	  { "ERR_PERMISSION_DENIED", 403, PERMISSION_DENIED,
	    "access denied by policy to get \"b\" from \"deny\"" } },
	{ "fs",
	  "zz",
	  NULL,
	  { "ERR_SECRET_GET", 500, INTERNAL, "failed getting secret with key zz from secret store fs: " } },
	{ "nostore",
	  "a",
	  NULL,
	  { "ERR_SECRET_STORE_NOT_FOUND", 401, INVALID_ARGUMENT,
	    "failed finding secret store with key nostore" } },
	{ "statestore",
	  NULL,
	  NULL,
	  { "ERR_SECRET_STORE_NOT_FOUND", 401, INVALID_ARGUMENT,
	    "failed finding secret store with key statestore" } },
};

static void http_secret(const char *store, const char *key, struct answer *a)
{
	xreq(&x, dmn.port, "GET", xfmt("/v1.0/secrets/%s/%s", store, key != NULL ? key : "bulk"), NULL, NULL);
	http_answer(a);
	if (a->ok)
		a->json = xjson(&x);
}

static json_t *grpc_map_json(void *const *entries, size_t n)
{
	json_t *o = json_object();

	/* Every generated map<string,string> entry is {base, key, value}. */
	for (size_t i = 0; i < n; i++) {
		const Dapr__Proto__Runtime__V1__GetSecretResponse__DataEntry *e = entries[i];

		json_object_set_new(o, e->key, json_string(e->value));
	}
	return o;
}

static void grpc_secret(const char *store, const char *key, struct answer *a)
{
	struct grpc_result r;

	if (key != NULL) {
		Dapr__Proto__Runtime__V1__GetSecretRequest req =
			DAPR__PROTO__RUNTIME__V1__GET_SECRET_REQUEST__INIT;
		Dapr__Proto__Runtime__V1__GetSecretResponse *resp;

		req.store_name = (char *)store;
		req.key = (char *)key;
		grpc_call("GetSecret", NULL, &req.base, &r);
		if (grpc_answer(&r, a)) {
			resp = dapr__proto__runtime__v1__get_secret_response__unpack(NULL, r.len, r.data);
			ck_assert_ptr_nonnull(resp);
			a->json = grpc_map_json((void *const *)resp->data, resp->n_data);
			dapr__proto__runtime__v1__get_secret_response__free_unpacked(resp, NULL);
		}
	} else {
		Dapr__Proto__Runtime__V1__GetBulkSecretRequest req =
			DAPR__PROTO__RUNTIME__V1__GET_BULK_SECRET_REQUEST__INIT;
		Dapr__Proto__Runtime__V1__GetBulkSecretResponse *resp;

		req.store_name = (char *)store;
		grpc_call("GetBulkSecret", NULL, &req.base, &r);
		if (grpc_answer(&r, a)) {
			resp = dapr__proto__runtime__v1__get_bulk_secret_response__unpack(NULL, r.len,
											  r.data);
			ck_assert_ptr_nonnull(resp);
			a->json = json_object();
			for (size_t i = 0; i < resp->n_data; i++)
				json_object_set_new(
					a->json, resp->data[i]->key,
					grpc_map_json((void *const *)resp->data[i]->value->secrets,
						      resp->data[i]->value->n_secrets));
			dapr__proto__runtime__v1__get_bulk_secret_response__free_unpacked(resp, NULL);
		}
	}
	grpc_result_free(&r);
}

static void secret_call(enum transport t, const char *store, const char *key, struct answer *a)
{
	if (t == HTTP)
		http_secret(store, key, a);
	else
		grpc_secret(store, key, a);
}

START_TEST(secrets_table)
{
	enum transport t = (enum transport)_i;
	char config[DAEMON_PATH_MAX + 16];
	const char *args[] = { "--config", config, NULL };
	FILE *f;

	snprintf(config, sizeof(config), "%s/config.yaml", dmn.dir);
	f = fopen(config, "w");
	ck_assert_ptr_nonnull(f);
	fputs("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: sec\nspec:\n  secrets:\n"
	      "    scopes:\n    - {storeName: deny, defaultAccess: deny, allowedSecrets: [a]}\n",
	      f);
	fclose(f);
	ck_assert_int_eq(daemon_add_component(&dmn, "fs", "secretstores.local.file", "secretsFile",
					      SEC_TEST_DATA "/scopes.json", NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "deny", "secretstores.local.file", "secretsFile",
					      SEC_TEST_DATA "/scopes.json", NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	start(args);
	for (size_t i = 0; i < sizeof(secret_cases) / sizeof(secret_cases[0]); i++) {
		const struct secret_case *c = &secret_cases[i];
		const char *what = xfmt("case %zu (%s/%s)", i, c->store, c->key != NULL ? c->key : "bulk");
		struct answer a = { 0 };

		secret_call(t, c->store, c->key, &a);
		if (c->err.code != NULL) {
			ck_answer_error(t, &a, &c->err, what);
		} else {
			json_t *want = json_loads(c->want, 0, NULL);
			char *got = a.json != NULL ? json_dumps(a.json, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

			ck_assert_msg(a.ok, "%s over %s: failed: %s", what, transport_name[t], a.message);
			ck_assert_msg(json_equal(want, a.json), "%s over %s: %s, expected %s", what,
				      transport_name[t], got != NULL ? got : "(none)", c->want);
			free(got);
			json_decref(want);
		}
		answer_free(&a);
	}
}
END_TEST

/* Without any secret store, both transports say so, for a key and for bulk. */
START_TEST(secrets_not_configured)
{
	enum transport t = (enum transport)_i;
	const struct want_error w = { "ERR_SECRET_STORES_NOT_CONFIGURED", 500, FAILED_PRECONDITION,
				      "secret store is not configured" };
	struct answer a = { 0 };

	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	start(NULL);
	secret_call(t, "fs", "a", &a);
	ck_answer_error(t, &a, &w, "get");
	answer_free(&a);
	secret_call(t, "fs", NULL, &a);
	ck_answer_error(t, &a, &w, "bulk");
	answer_free(&a);
}
END_TEST

/* ---- metadata ---- */

static void set_metadata(enum transport t, const char *key, const char *value, struct answer *a)
{
	if (t == HTTP) {
		xreq(&x, dmn.port, "PUT", xfmt("/v1.0/metadata/%s", key), "Content-Type: text/plain\r\n",
		     value);
		http_answer(a);
	} else {
		Dapr__Proto__Runtime__V1__SetMetadataRequest req =
			DAPR__PROTO__RUNTIME__V1__SET_METADATA_REQUEST__INIT;
		struct grpc_result r;

		req.key = (char *)key;
		req.value = (char *)value;
		grpc_call("SetMetadata", NULL, &req.base, &r);
		grpc_answer(&r, a);
		grpc_result_free(&r);
	}
}

/* GetMetadataResponse's subscriptions in HTTP's JSON shape. */
static json_t *grpc_subscriptions_json(const Dapr__Proto__Runtime__V1__GetMetadataResponse *resp)
{
	json_t *subs = json_array();

	for (size_t i = 0; i < resp->n_subscriptions; i++) {
		const Dapr__Proto__Runtime__V1__PubsubSubscription *s = resp->subscriptions[i];
		json_t *o = json_pack("{s:s, s:s}", "pubsubname", s->pubsub_name, "topic", s->topic),
		       *rules = json_array();

		if (s->n_metadata > 0)
			json_object_set_new(o, "metadata",
					    grpc_map_json((void *const *)s->metadata, s->n_metadata));
		for (size_t k = 0; s->rules != NULL && k < s->rules->n_rules; k++)
			json_array_append_new(rules,
					      json_pack("{s:s, s:s}", "match", s->rules->rules[k]->match,
							"path", s->rules->rules[k]->path));
		json_object_set_new(o, "rules", rules);
		json_object_set_new(o, "deadLetterTopic", json_string(s->dead_letter_topic));
		json_object_set_new(
			o, "type",
			json_string(
				s->type == DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__DECLARATIVE
					? "DECLARATIVE"
				: s->type == DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__PROGRAMMATIC
					? "PROGRAMMATIC"
					: "?"));
		json_array_append_new(subs, o);
	}
	return subs;
}

/* The metadata document as HTTP's JSON shape, whichever transport brought it. */
/*
 * gRPC carries outrig's reload fields as outrig.reload.* entries of extended_metadata; HTTP has
 * them under an "outrig" key: moves them there, so that the documents compare.
 */
static void outrig_entries_json(json_t *doc)
{
	json_t *ext = json_object_get(doc, "extended"), *reload = json_object();
	const char *names[] = { "applied", "refused", "lastError", "lastAt" };

	for (size_t i = 0; i < 4; i++) {
		char key[64];
		json_t *v;

		snprintf(key, sizeof(key), "outrig.reload.%s", names[i]);
		v = json_object_get(ext, key);
		if (i < 2)
			json_object_set_new(reload, names[i], json_integer(v != NULL ? atoll(jstr(v)) : -1));
		else
			json_object_set(reload, names[i], v != NULL ? v : json_null());
		json_object_del(ext, key);
	}
	json_object_set_new(doc, "outrig", json_pack("{s:o}", "reload", reload));
}

static json_t *get_metadata(enum transport t)
{
	Dapr__Proto__Runtime__V1__GetMetadataRequest req =
		DAPR__PROTO__RUNTIME__V1__GET_METADATA_REQUEST__INIT;
	Dapr__Proto__Runtime__V1__GetMetadataResponse *resp;
	struct grpc_result r;
	json_t *doc, *comps;

	if (t == HTTP) {
		xreq(&x, dmn.port, "GET", "/v1.0/metadata", NULL, NULL);
		ck_status(&x, 200);
		return xjson(&x);
	}
	grpc_call("GetMetadata", NULL, &req.base, &r);
	ck_assert_msg(r.status == OK, "GetMetadata: %d %s", r.status, r.message);
	resp = dapr__proto__runtime__v1__get_metadata_response__unpack(NULL, r.len, r.data);
	ck_assert_ptr_nonnull(resp);
	comps = json_array();
	for (size_t i = 0; i < resp->n_registered_components; i++) {
		const Dapr__Proto__Runtime__V1__RegisteredComponents *c = resp->registered_components[i];
		json_t *caps = json_array();

		for (size_t k = 0; k < c->n_capabilities; k++)
			json_array_append_new(caps, json_string(c->capabilities[k]));
		json_array_append_new(comps, json_pack("{s:s, s:s, s:s, s:o}", "name", c->name, "type",
						       c->type, "version", c->version, "capabilities", caps));
	}
	doc = json_pack("{s:s, s:s, s:o, s:o}", "id", resp->id, "runtimeVersion", resp->runtime_version,
			"components", comps, "extended",
			grpc_map_json((void *const *)resp->extended_metadata, resp->n_extended_metadata));
	json_object_set_new(doc, "enabledFeatures", json_array());
	for (size_t i = 0; i < resp->n_enabled_features; i++)
		json_array_append_new(json_object_get(doc, "enabledFeatures"),
				      json_string(resp->enabled_features[i]));
	ck_assert_ptr_nonnull(resp->actor_runtime);
	json_object_set_new(
		doc, "actorRuntime",
		json_pack(
			"{s:s, s:b, s:s}", "runtimeStatus",
			resp->actor_runtime->runtime_status ==
					DAPR__PROTO__RUNTIME__V1__ACTOR_RUNTIME__ACTOR_RUNTIME_STATUS__DISABLED
				? "DISABLED"
				: "?",
			"hostReady", resp->actor_runtime->host_ready, "placement",
			resp->actor_runtime->placement));
	/* HTTP leaves out empty lists. */
	if (json_array_size(comps) == 0)
		json_object_del(doc, "components");
	if (resp->n_subscriptions > 0)
		json_object_set_new(doc, "subscriptions", grpc_subscriptions_json(resp));
	if (resp->app_connection_properties != NULL) {
		const Dapr__Proto__Runtime__V1__AppConnectionProperties *app =
			resp->app_connection_properties;
		json_t *o = json_pack("{s:i, s:s, s:s}", "port", app->port, "protocol", app->protocol,
				      "channelAddress", app->channel_address);

		if (app->health != NULL)
			json_object_set_new(o, "health",
					    json_pack("{s:s, s:s, s:s, s:i}", "healthCheckPath",
						      app->health->health_check_path, "healthProbeInterval",
						      app->health->health_probe_interval,
						      "healthProbeTimeout", app->health->health_probe_timeout,
						      "healthThreshold", app->health->health_threshold));
		json_object_set_new(doc, "appConnectionProperties", o);
	}
	outrig_entries_json(doc);
	dapr__proto__runtime__v1__get_metadata_response__free_unpacked(resp, NULL);
	grpc_result_free(&r);
	return doc;
}

/* The capabilities of component name in doc, as compact JSON; NULL when it is not listed. */
static char *capabilities_of(json_t *doc, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(doc, "components"), i,
			   c) if (strcmp(jstr(json_object_get(c, "name")), name) ==
				  0) return json_dumps(json_object_get(c, "capabilities"), JSON_COMPACT);
	return NULL;
}

START_TEST(metadata_both)
{
	enum transport t = (enum transport)_i;
	const struct want_error not_text = { "ERR_MALFORMED_REQUEST", 400, INVALID_ARGUMENT,
					     "is not UTF-8 text" };
	struct answer a = { 0 };
	json_t *doc;
	char *caps;

	ck_assert_int_eq(daemon_add_component(&dmn, "both", "bindings.test", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "outonly", "bindings.test", "direction", "output", NULL),
			 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	start(NULL);
	set_metadata(t, "cliPID", "4242", &a);
	ck_assert_msg(a.ok, "SetMetadata over %s: %s", transport_name[t], a.message);
	answer_free(&a);
	/* Bytes JSON cannot carry are refused, not accepted and then dropped. */
	set_metadata(t, "blob", "\xff\xfe", &a);
	ck_answer_error(t, &a, &not_text, "SetMetadata of bytes");
	answer_free(&a);

	doc = get_metadata(t);
	ck_assert_str_eq(jstr(json_object_get(doc, "id")), APP);
	ck_assert_str_eq(jstr(json_object_get(json_object_get(doc, "extended"), "cliPID")), "4242");
	ck_assert_ptr_null(json_object_get(json_object_get(doc, "extended"), "blob"));
	ck_assert_str_ne(jstr(json_object_get(json_object_get(doc, "extended"), "daprRuntimeVersion")), "");
	ck_assert_str_eq(jstr(json_object_get(json_object_get(doc, "actorRuntime"), "runtimeStatus")),
			 "DISABLED");
	caps = capabilities_of(doc, "both");
	ck_assert_str_eq(caps != NULL ? caps : "(not listed)", "[\"INPUT_BINDING\",\"OUTPUT_BINDING\"]");
	free(caps);
	caps = capabilities_of(doc, "outonly");
	ck_assert_str_eq(caps != NULL ? caps : "(not listed)", "[\"OUTPUT_BINDING\"]");
	free(caps);
	caps = capabilities_of(doc, "statestore");
	ck_assert_msg(caps != NULL && strstr(caps, "ETAG") != NULL, "statestore capabilities %s", caps);
	free(caps);
	json_decref(doc);
}
END_TEST

/* Both transports render the same document: components, subscriptions (rules, metadata, both types), app and health. */
START_TEST(metadata_documents_match)
{
	struct test_app *app = test_app_start();
	char port[16];
	const char *const args[] = { "--app-port", port, "--enable-app-health-check", NULL };
	json_t *http = NULL, *grpc;
	char *h, *g;

	ck_assert_ptr_nonnull(app);
	snprintf(port, sizeof(port), "%d", test_app_port(app));
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "out", "bindings.test", "direction", "output", NULL), 0);
	ck_assert_int_eq(
		daemon_write_resource(&dmn, "subs.yaml",
				      "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n"
				      "  name: declared\nspec:\n  pubsubname: pubsub\n  topic: declared\n"
				      "  deadLetterTopic: dead\n  routes:\n    default: /declared\n"),
		0);
	test_app_set_subscribe(
		app, "[{\"pubsubname\":\"pubsub\",\"topic\":\"orders\",\"metadata\":{\"k\":\"v\"},"
		     "\"routes\":{\"rules\":[{\"match\":\"event.type == \\\"big\\\"\",\"path\":\"/big\"}],"
		     "\"default\":\"/orders\"}}]");
	start(args);
	set_metadata(HTTP, "cliPID", "4242", &(struct answer){ 0 });
	/* Subscriptions are listed once live: wait for both. */
	for (int tries = 0; tries < 200; tries++) {
		json_decref(http);
		http = get_metadata(HTTP);
		if (json_array_size(json_object_get(http, "subscriptions")) == 2 &&
		    json_object_get(json_object_get(http, "appConnectionProperties"), "health") != NULL)
			break;
		xsleep_ms(50);
	}
	grpc = get_metadata(GRPC);
	h = json_dumps(http, JSON_COMPACT | JSON_SORT_KEYS);
	g = json_dumps(grpc, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_msg(json_array_size(json_object_get(http, "subscriptions")) == 2,
		      "subscriptions never listed: %s", h);
	ck_assert_msg(json_equal(http, grpc), "the documents differ:\n  HTTP %s\n  gRPC %s", h, g);
	free(h);
	free(g);
	json_decref(http);
	json_decref(grpc);
	test_app_destroy(app);
}
END_TEST

START_TEST(shutdown_both)
{
	enum transport t = (enum transport)_i;
	int code;

	start(NULL);
	if (t == HTTP) {
		xreq(&x, dmn.port, "POST", "/v1.0/shutdown", NULL, NULL);
		ck_status(&x, 204);
	} else {
		Dapr__Proto__Runtime__V1__ShutdownRequest req =
			DAPR__PROTO__RUNTIME__V1__SHUTDOWN_REQUEST__INIT;
		struct grpc_result r;

		grpc_call("Shutdown", NULL, &req.base, &r);
		ck_assert_msg(r.status == OK, "Shutdown: %d %s", r.status, r.message);
		grpc_result_free(&r);
	}
	code = daemon_wait_exit(&dmn, 8000);
	ck_assert_msg(code == 0, "after a shutdown request over %s outrigd %s %d", transport_name[t],
		      code < 0 ? "was still running after 8 s:" : "exited with", code);
}
END_TEST

static Suite *misc_suite(void)
{
	Suite *s = suite_create("misc_api");
	TCase *tc = tcase_create("both_transports");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, bindings_table, HTTP, GRPC + 1);
	tcase_add_loop_test(tc, secrets_table, HTTP, GRPC + 1);
	tcase_add_loop_test(tc, secrets_not_configured, HTTP, GRPC + 1);
	tcase_add_loop_test(tc, metadata_both, HTTP, GRPC + 1);
	tcase_add_loop_test(tc, shutdown_both, HTTP, GRPC + 1);
	tcase_add_test(tc, metadata_documents_match);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(misc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
