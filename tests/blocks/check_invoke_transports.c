/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service invocation's cases through both front ends (issue 12): one table, each case sent over
 * HTTP (/v1.0/invoke) and over gRPC (InvokeService) to real outrigd processes, to this sidecar's
 * app and through a second sidecar. The app must see the same call either way; each front end
 * answers in its own terms (HTTP passes the app's answer on, gRPC maps its status as daprd does).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "dapr/proto/common/v1/common.pb-c.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "echo_app.h"
#include "exchange.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc_client.h"
#include "api/grpc/grpc_status.h"

#define INVOKE_SERVICE "/dapr.proto.runtime.v1.Dapr/InvokeService"

/* gRPC codes the cases expect. */
enum { OK = 0, UNKNOWN = 2, NOT_FOUND = 5, ALREADY_EXISTS = 6, INTERNAL = 13, UNAVAILABLE = 14 };

/* Whom a case calls. */
enum target { TO_SELF, TO_PEER, TO_NOBODY, TO_EMPTY };

struct invoke_case {
	const char *name;
	enum target to;
	const char *verb;
	const char *method; /* raw, as named after /method/ */
	const char *query;  /* NULL: none */
	const char *type;   /* Content-Type of the request, NULL: none */
	const char *body;   /* NULL: none */
	int app_status;	    /* what the app answers (x-echo-status), 0: 200 */
	/* over HTTP */
	int http_status;
	const char *error_code; /* Dapr's errorCode of an error of outrig's own, NULL: the app's answer */
	/* over gRPC */
	int grpc_code;
	const char *grpc_message; /* a part of grpc-message, NULL: not checked */
	/* at the app: the path it was called on, NULL when the call must not reach it */
	const char *app_path;
};

static const struct invoke_case cases[] = {
	{ "post to its own app", TO_SELF, "POST", "orders/new", "a=1&b=%20x", "text/plain", "hello", 0, 200,
	  NULL, OK, NULL, "/orders/new" },
	{ "get with a cleaned path", TO_SELF, "GET", "a/./b/../c//d", NULL, NULL, NULL, 0, 200, NULL, OK,
	  NULL, "/a/c/d" },
	{ "escapes stay as named", TO_SELF, "GET", "%2e%2e/x%2Fy", "q", NULL, NULL, 0, 200, NULL, OK, NULL,
	  "/%2e%2e/x%2Fy" },
	{ "put through a second sidecar", TO_PEER, "PUT", "items/7", "v=2", "application/json", "{\"n\":7}",
	  0, 200, NULL, OK, NULL, "/items/7" },
	{ "delete through a second sidecar", TO_PEER, "DELETE", "items/7", NULL, NULL, NULL, 0, 200, NULL, OK,
	  NULL, "/items/7" },
	{ "patch", TO_SELF, "PATCH", "p", NULL, "text/plain", "patch", 0, 200, NULL, OK, NULL, "/p" },
	{ "head", TO_PEER, "HEAD", "h", NULL, NULL, NULL, 0, 200, NULL, OK, NULL, "/h" },
	{ "options", TO_SELF, "OPTIONS", "o", NULL, NULL, NULL, 0, 200, NULL, OK, NULL, "/o" },
	{ "the app's 201 is a success", TO_SELF, "POST", "made", NULL, "text/plain", "x", 201, 201, NULL, OK,
	  NULL, "/made" },
	{ "the app's 404", TO_SELF, "GET", "missing", NULL, NULL, NULL, 404, 404, NULL, NOT_FOUND,
	  "Not Found", "/missing" },
	{ "the app's 500 through a second sidecar", TO_PEER, "POST", "broken", NULL, "text/plain", "boom",
	  500, 500, NULL, UNKNOWN, "Internal Server Error", "/broken" },
	{ "the app's 400", TO_PEER, "POST", "bad", NULL, "text/plain", "no", 400, 400, NULL, INTERNAL,
	  "Bad Request", "/bad" },
	{ "the app's 409", TO_SELF, "POST", "dup", NULL, NULL, NULL, 409, 409, NULL, ALREADY_EXISTS,
	  "Conflict", "/dup" },
	{ "the app's 503", TO_SELF, "GET", "later", NULL, NULL, NULL, 503, 503, NULL, UNAVAILABLE,
	  "Service Unavailable", "/later" },
	{ "the app's 418", TO_SELF, "GET", "tea", NULL, NULL, NULL, 418, 418, NULL, UNKNOWN, "I'm a teapot",
	  "/tea" },
	{ "an app id nobody runs", TO_NOBODY, "GET", "x", NULL, NULL, NULL, 0, 500, "ERR_DIRECT_INVOKE",
	  INTERNAL, "failed to invoke, id: nosuchapp", NULL },
	{ "no app id", TO_EMPTY, "GET", "x", NULL, NULL, NULL, 0, 404, "ERR_DIRECT_INVOKE", NOT_FOUND,
	  "failed getting app id", NULL },
};

static struct daemon dmn, dmn_b;
static struct echo_app *app, *app_b;
static char id_a[32], id_b[32];
static int grpc_port;
static struct exchange x;

static void start(struct daemon *d, const char *id, struct echo_app **a, const char *name, bool grpc)
{
	const char *args[12];
	char port[16], gport[16];
	int n = 0;

	ck_assert_int_eq(daemon_init(d, id), 0);
	*a = echo_app_start(name);
	ck_assert_ptr_nonnull(*a);
	snprintf(port, sizeof(port), "%d", echo_app_port(*a));
	args[n++] = "--app-port";
	args[n++] = port;
	args[n++] = "--dapr-internal-grpc-listen-address";
	args[n++] = "127.0.0.1";
	/* Both sidecars announce themselves in one place: the first one's data directory. */
	args[n++] = "--data-dir";
	args[n++] = dmn.data;
	if (grpc) {
		grpc_port = daemon_free_port();
		snprintf(gport, sizeof(gport), "%d", grpc_port);
		args[n++] = "--dapr-grpc-port";
		args[n++] = gport;
	}
	args[n] = NULL;
	ck_assert_msg(daemon_start(d, args) == 0, "outrigd %s did not start (log above)", id);
}

static void setup(void)
{
	memset(&dmn, 0, sizeof(dmn));
	memset(&dmn_b, 0, sizeof(dmn_b));
	app = app_b = NULL;
	snprintf(id_a, sizeof(id_a), "ita%d", (int)getpid());
	snprintf(id_b, sizeof(id_b), "itb%d", (int)getpid());
	start(&dmn, id_a, &app, "A", true);
	start(&dmn_b, id_b, &app_b, "B", false);
	/* Name resolution may lag a start by a moment: wait until B is found. */
	for (long deadline = xnow_ms() + 5000;; xsleep_ms(100)) {
		xreq(&x, dmn.port, "GET", xfmt("/v1.0/invoke/%s/method/warm-up", id_b), NULL, NULL);
		if (x.r.status == 200 || xnow_ms() > deadline)
			break;
	}
	ck_assert_msg(x.r.status == 200, "B cannot be reached from A: %d %s", x.r.status, XBODY(&x));
}

static void teardown(void)
{
	xfree(&x);
	if (dmn.dir[0] != '\0')
		daemon_cleanup(&dmn);
	if (dmn_b.dir[0] != '\0')
		daemon_cleanup(&dmn_b);
	echo_app_destroy(app);
	echo_app_destroy(app_b);
}

static const char *target_of(const struct invoke_case *c)
{
	switch (c->to) {
	case TO_SELF: return id_a;
	case TO_PEER: return id_b;
	case TO_NOBODY: return "nosuchapp";
	default: return "";
	}
}

static struct echo_app *app_of(const struct invoke_case *c)
{
	return c->to == TO_PEER ? app_b : app;
}

/* What each case's app must have seen, whichever front end carried the call. */
static void check_app_saw(const struct invoke_case *c, const char *via, size_t before_a, size_t before_b)
{
	const struct echo_request *r;

	if (c->app_path == NULL) {
		ck_assert_msg(echo_app_count(app) == before_a && echo_app_count(app_b) == before_b,
			      "%s over %s: an app was called", c->name, via);
		return;
	}
	ck_assert_msg(echo_app_count(app_of(c)) == (c->to == TO_PEER ? before_b : before_a) + 1,
		      "%s over %s: the app was not called once", c->name, via);
	r = echo_app_last(app_of(c));
	ck_assert_msg(strcmp(r->method, c->verb) == 0, "%s over %s: the app got %s", c->name, via, r->method);
	ck_assert_msg(strcmp(r->path, c->app_path) == 0, "%s over %s: the app got path %s, expected %s",
		      c->name, via, r->path, c->app_path);
	if (c->query == NULL)
		ck_assert_msg(r->query == NULL, "%s over %s: the app got query %s", c->name, via, r->query);
	else
		ck_assert_msg(r->query != NULL && strcmp(r->query, c->query) == 0,
			      "%s over %s: the app got query %s, expected %s", c->name, via,
			      r->query != NULL ? r->query : "(none)", c->query);
	ck_assert_msg(r->body_len == (c->body != NULL ? strlen(c->body) : 0), "%s over %s: body of %zu bytes",
		      c->name, via, r->body_len);
	if (c->body != NULL)
		ck_assert_msg(strcmp(r->body, c->body) == 0, "%s over %s: body %s", c->name, via, r->body);
	if (c->type != NULL)
		ck_assert_msg(echo_header(r, "content-type") != NULL &&
				      strcmp(echo_header(r, "content-type"), c->type) == 0,
			      "%s over %s: Content-Type %s", c->name, via,
			      echo_header(r, "content-type") != NULL ? echo_header(r, "content-type")
								     : "(none)");
	else
		ck_assert_msg(echo_header(r, "content-type") == NULL, "%s over %s: Content-Type %s", c->name,
			      via, echo_header(r, "content-type"));
	/* Who calls is the sidecar's word, never the caller's. */
	ck_assert_msg(echo_header(r, "dapr-caller-app-id") != NULL &&
			      strcmp(echo_header(r, "dapr-caller-app-id"), id_a) == 0,
		      "%s over %s: dapr-caller-app-id %s", c->name, via,
		      echo_header(r, "dapr-caller-app-id") != NULL ? echo_header(r, "dapr-caller-app-id")
								   : "(none)");
	ck_assert_msg(echo_header(r, "x-custom") != NULL && strcmp(echo_header(r, "x-custom"), "kept") == 0,
		      "%s over %s: the caller's own header did not travel", c->name, via);
	ck_assert_msg(echo_header(r, "dapr-api-token") == NULL, "%s over %s: dapr-api-token travelled",
		      c->name, via);
}

/* ---- HTTP ---- */

static void run_http(const struct invoke_case *c)
{
	char headers[512];
	size_t before_a = echo_app_count(app), before_b = echo_app_count(app_b);
	char code[64];

	snprintf(headers, sizeof(headers), "X-Custom: kept\r\ndapr-caller-app-id: spoofed\r\n%s%s%s%s",
		 c->type != NULL ? xfmt("Content-Type: %s\r\n", c->type) : "",
		 c->app_status != 0 ? xfmt("x-echo-status: %d\r\n", c->app_status) : "", "", "");
	xreq(&x, dmn.port, c->verb,
	     xfmt("/v1.0/invoke/%s/method/%s%s%s", target_of(c), c->method, c->query != NULL ? "?" : "",
		  c->query != NULL ? c->query : ""),
	     headers, c->body);
	ck_assert_msg(x.r.status == c->http_status, "%s over HTTP: status %d, expected %d; body %.300s",
		      c->name, x.r.status, c->http_status, XBODY(&x));
	if (c->error_code != NULL) {
		ck_assert_msg(xerror(&x, code, sizeof(code)) && strcmp(code, c->error_code) == 0,
			      "%s over HTTP: not %s: %.300s", c->name, c->error_code, XBODY(&x));
		if (c->grpc_message != NULL)
			ck_assert_msg(strstr(XBODY(&x), c->grpc_message) != NULL,
				      "%s over HTTP: %.300s lacks %s", c->name, XBODY(&x), c->grpc_message);
	} else if (strcmp(c->verb, "HEAD") != 0) {
		/* The app's answer as it is: the echo app sends the body back. */
		ck_assert_msg(x.r.body_len == (c->body != NULL ? strlen(c->body) : 0) &&
				      (c->body == NULL || strcmp(x.r.body, c->body) == 0),
			      "%s over HTTP: the answer's body is %.300s", c->name, XBODY(&x));
	}
	check_app_saw(c, "HTTP", before_a, before_b);
}

/* ---- gRPC ---- */

static Dapr__Proto__Common__V1__HTTPExtension__Verb verb_of(const char *verb)
{
	static const struct {
		const char *name;
		Dapr__Proto__Common__V1__HTTPExtension__Verb verb;
	} verbs[] = {
		{ "GET", DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__GET },
		{ "HEAD", DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__HEAD },
		{ "POST", DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__POST },
		{ "PUT", DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__PUT },
		{ "DELETE", DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__DELETE },
		{ "OPTIONS", DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__OPTIONS },
		{ "PATCH", DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__PATCH },
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, verb) == 0)
			return verbs[i].verb;
	return DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__NONE;
}

/*
 * InvokeService with id, and a message of method, data, content_type and HTTP extension (ext
 * false: none); its answer in r.
 */
static void grpc_invoke(const char *id, const char *method, const char *verb, bool ext, const char *query,
			const char *type, const char *type_url, const void *body, size_t len,
			const char *const *md, struct grpc_result *r)
{
	Dapr__Proto__Runtime__V1__InvokeServiceRequest rq =
		DAPR__PROTO__RUNTIME__V1__INVOKE_SERVICE_REQUEST__INIT;
	Dapr__Proto__Common__V1__InvokeRequest m = DAPR__PROTO__COMMON__V1__INVOKE_REQUEST__INIT;
	Dapr__Proto__Common__V1__HTTPExtension he = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__INIT;
	Google__Protobuf__Any data = GOOGLE__PROTOBUF__ANY__INIT;
	struct grpc_client *cl = grpc_client_connect(grpc_port);
	uint8_t *buf;
	size_t n;

	ck_assert_ptr_nonnull(cl);
	rq.id = (char *)id;
	rq.message = &m;
	m.method = (char *)method;
	m.content_type = (char *)(type != NULL ? type : "");
	if (body != NULL) {
		data.value.data = (uint8_t *)body;
		data.value.len = len;
		data.type_url = (char *)(type_url != NULL ? type_url : "");
		m.data = &data;
	}
	if (ext) {
		he.verb = verb_of(verb);
		he.querystring = (char *)(query != NULL ? query : "");
		m.http_extension = &he;
	}
	n = dapr__proto__runtime__v1__invoke_service_request__get_packed_size(&rq);
	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	dapr__proto__runtime__v1__invoke_service_request__pack(&rq, buf);
	ck_assert_msg(grpc_client_call(cl, INVOKE_SERVICE, md, buf, n, 10000, r) == 0,
		      "InvokeService: no answer");
	free(buf);
	grpc_client_close(cl);
}

/* The ErrorInfo of r's details; the caller frees it. */
static Google__Rpc__ErrorInfo *error_info(const struct grpc_result *r)
{
	static unsigned char buf[4096];
	Google__Rpc__Status *st;
	Google__Rpc__ErrorInfo *info;
	long n;

	ck_assert_msg(r->details_bin != NULL, "no grpc-status-details-bin");
	n = grpc_unbase64(r->details_bin, buf, sizeof(buf));
	ck_assert_msg(n > 0, "grpc-status-details-bin is not base64");
	st = google__rpc__status__unpack(NULL, (size_t)n, buf);
	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(st->n_details, 1);
	info = google__rpc__error_info__unpack(NULL, st->details[0]->value.len, st->details[0]->value.data);
	google__rpc__status__free_unpacked(st, NULL);
	ck_assert_ptr_nonnull(info);
	return info;
}

static const char *info_meta(const Google__Rpc__ErrorInfo *info, const char *key)
{
	for (size_t i = 0; i < info->n_metadata; i++)
		if (strcmp(info->metadata[i]->key, key) == 0)
			return info->metadata[i]->value;
	return "(none)";
}

static void run_grpc(const struct invoke_case *c)
{
	char status[16];
	const char *md[] = { "x-custom", "kept", "dapr-caller-app-id", "spoofed", "x-echo-status",
			     status,	 NULL };
	size_t before_a = echo_app_count(app), before_b = echo_app_count(app_b);
	struct grpc_result r = { 0 };
	Dapr__Proto__Common__V1__InvokeResponse *res;

	snprintf(status, sizeof(status), "%d", c->app_status != 0 ? c->app_status : 200);
	grpc_invoke(target_of(c), c->method, c->verb, true, c->query, c->type, NULL, c->body,
		    c->body != NULL ? strlen(c->body) : 0, md, &r);
	ck_assert_msg(r.status == c->grpc_code, "%s over gRPC: status %d (%s), expected %d", c->name,
		      r.status, r.message, c->grpc_code);
	if (c->grpc_message != NULL)
		ck_assert_msg(strstr(r.message, c->grpc_message) != NULL,
			      "%s over gRPC: message '%s' lacks '%s'", c->name, r.message, c->grpc_message);
	if (c->grpc_code == OK) {
		res = dapr__proto__common__v1__invoke_response__unpack(NULL, r.len, r.data);
		ck_assert_msg(res != NULL, "%s over gRPC: the answer is no InvokeResponse", c->name);
		ck_assert_msg(res->data != NULL, "%s over gRPC: no data", c->name);
		/* An HTTP app's answer names no protobuf type. */
		ck_assert_str_eq(res->data->type_url, "");
		if (strcmp(c->verb, "HEAD") != 0) {
			ck_assert_msg(res->data->value.len == (c->body != NULL ? strlen(c->body) : 0) &&
					      (c->body == NULL ||
					       memcmp(res->data->value.data, c->body, strlen(c->body)) == 0),
				      "%s over gRPC: data of %zu bytes", c->name, res->data->value.len);
			/* The echo app answers with the request's type, or application/octet-stream. */
			ck_assert_str_eq(res->content_type,
					 c->type != NULL ? c->type : "application/octet-stream");
		}
		dapr__proto__common__v1__invoke_response__free_unpacked(res, NULL);
	} else if (c->error_code == NULL) {
		/* The app's own non-2xx answer: daprd's ErrorInfo carries its status and body. */
		Google__Rpc__ErrorInfo *info = error_info(&r);

		ck_assert_str_eq(info->domain, "dapr.io");
		ck_assert_str_eq(info->reason, c->grpc_message);
		ck_assert_str_eq(info_meta(info, "http.code"), status);
		ck_assert_str_eq(info_meta(info, "http.error_message"), c->body != NULL ? c->body : "");
		google__rpc__error_info__free_unpacked(info, NULL);
	}
	grpc_result_free(&r);
	check_app_saw(c, "gRPC", before_a, before_b);
}

START_TEST(table_over_http)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_http(&cases[i]);
}
END_TEST

START_TEST(table_over_grpc)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_grpc(&cases[i]);
}
END_TEST

/* The callee's sidecar could not deliver (its app is gone): HTTP passes its error on, gRPC makes it a status. */
START_TEST(callee_sidecar_error_over_both)
{
	struct grpc_result r = { 0 };
	char code[64];

	echo_app_destroy(app_b);
	app_b = NULL;
	xreq(&x, dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/x", id_b), NULL, "x");
	ck_assert_msg(x.r.status == 500 && xerror(&x, code, sizeof(code)) &&
			      strcmp(code, "ERR_DIRECT_INVOKE") == 0,
		      "over HTTP: %d %.300s", x.r.status, XBODY(&x));
	ck_assert_msg(strstr(XBODY(&x), "cannot reach the app") != NULL, "over HTTP: %.300s", XBODY(&x));
	grpc_invoke(id_b, "x", "POST", true, NULL, NULL, NULL, "x", 1, NULL, &r);
	ck_assert_msg(r.status == INTERNAL, "over gRPC: status %d (%s)", r.status, r.message);
	ck_assert_msg(strstr(r.message, xfmt("failed to invoke, id: %s", id_b)) != NULL &&
			      strstr(r.message, "cannot reach the app") != NULL,
		      "over gRPC: message %s", r.message);
	grpc_result_free(&r);
}
END_TEST

/* Bytes, NULs included, travel both ways as they are, whichever front end carries them. */
START_TEST(binary_body_over_both)
{
	static const char bytes[] = { 'a', 0, 'b', (char)0xff, 0, (char)0x80, 'z' };
	struct grpc_result r = { 0 };
	Dapr__Proto__Common__V1__InvokeResponse *res;
	const struct echo_request *q;

	xfree(&x);
	ck_assert_int_eq(http_request(dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/bin", id_b),
				      "Content-Type: application/octet-stream\r\n", bytes, sizeof(bytes),
				      &x.r),
			 0);
	ck_assert_int_eq(x.r.status, 200);
	ck_assert_uint_eq(x.r.body_len, sizeof(bytes));
	ck_assert(memcmp(x.r.body, bytes, sizeof(bytes)) == 0);
	q = echo_app_last(app_b);
	ck_assert_uint_eq(q->body_len, sizeof(bytes));
	ck_assert(memcmp(q->body, bytes, sizeof(bytes)) == 0);

	grpc_invoke(id_b, "bin", "POST", true, NULL, "application/octet-stream", NULL, bytes, sizeof(bytes),
		    NULL, &r);
	ck_assert_msg(r.status == OK, "%d %s", r.status, r.message);
	res = dapr__proto__common__v1__invoke_response__unpack(NULL, r.len, r.data);
	ck_assert_ptr_nonnull(res);
	ck_assert_uint_eq(res->data->value.len, sizeof(bytes));
	ck_assert(memcmp(res->data->value.data, bytes, sizeof(bytes)) == 0);
	dapr__proto__common__v1__invoke_response__free_unpacked(res, NULL);
	q = echo_app_last(app_b);
	ck_assert_uint_eq(q->body_len, sizeof(bytes));
	ck_assert(memcmp(q->body, bytes, sizeof(bytes)) == 0);
	grpc_result_free(&r);
}
END_TEST

/* This sidecar's own app is gone: outrig's own error, 500 over HTTP and INTERNAL over gRPC. */
START_TEST(app_down_over_both)
{
	struct grpc_result r = { 0 };
	char code[64];

	echo_app_destroy(app);
	app = NULL;
	xreq(&x, dmn.port, "GET", xfmt("/v1.0/invoke/%s/method/x", id_a), NULL, NULL);
	ck_assert_msg(x.r.status == 500 && xerror(&x, code, sizeof(code)) &&
			      strcmp(code, "ERR_DIRECT_INVOKE") == 0,
		      "over HTTP: %d %.300s", x.r.status, XBODY(&x));
	ck_assert_msg(strstr(XBODY(&x), "cannot reach the app") != NULL, "over HTTP: %.300s", XBODY(&x));
	grpc_invoke(id_a, "x", "GET", true, NULL, NULL, NULL, NULL, 0, NULL, &r);
	ck_assert_msg(r.status == INTERNAL, "over gRPC: status %d (%s)", r.status, r.message);
	ck_assert_msg(strstr(r.message, xfmt("failed to invoke, id: %s, err: cannot reach the app", id_a)) !=
			      NULL,
		      "over gRPC: message %s", r.message);
	/* Outrig's own errors carry no ErrorInfo, as daprd's ERR_DIRECT_INVOKE. */
	ck_assert_ptr_null(r.details_bin);
	grpc_result_free(&r);
}
END_TEST

/* What only gRPC can say: no or a bad verb, typed data, metadata that is not a header. */
START_TEST(grpc_only_cases)
{
	const char *md[] = { "x-custom", "kept", "grpc-custom", "g", "trace-bin", "AAEC", NULL };
	size_t before = echo_app_count(app);
	const struct echo_request *q;
	struct grpc_result r = { 0 };
	Dapr__Proto__Common__V1__InvokeResponse *res;

	/* daprd: the HTTP extension is required, and NONE is no verb. */
	grpc_invoke(id_a, "x", NULL, false, NULL, NULL, NULL, NULL, 0, NULL, &r);
	ck_assert_msg(r.status == INTERNAL && strstr(r.message, "missing HTTP extension") != NULL, "%d %s",
		      r.status, r.message);
	grpc_result_free(&r);
	grpc_invoke(id_a, "x", "NONE", true, NULL, NULL, NULL, NULL, 0, NULL, &r);
	ck_assert_msg(r.status == INTERNAL && strstr(r.message, "invalid HTTP verb NONE") != NULL, "%d %s",
		      r.status, r.message);
	grpc_result_free(&r);
	/* A method or query a request line cannot carry is refused, never sent (daprd refuses them too). */
	grpc_invoke(id_a, "x\r\nX-Injected: 1", "GET", true, NULL, NULL, NULL, NULL, 0, NULL, &r);
	ck_assert_msg(r.status == INTERNAL && strstr(r.message, "byte 0x0d at position 1") != NULL, "%d %s",
		      r.status, r.message);
	grpc_result_free(&r);
	grpc_invoke(id_b, "a?b", "GET", true, NULL, NULL, NULL, NULL, 0, NULL, &r);
	ck_assert_msg(r.status == INTERNAL && strstr(r.message, "method holds byte 0x3f") != NULL, "%d %s",
		      r.status, r.message);
	grpc_result_free(&r);
	grpc_invoke(id_a, "x", "GET", true, "a=1 HTTP/1.0", NULL, NULL, NULL, 0, NULL, &r);
	ck_assert_msg(r.status == INTERNAL && strstr(r.message, "query string holds byte 0x20") != NULL,
		      "%d %s", r.status, r.message);
	grpc_result_free(&r);
	ck_assert_uint_eq(echo_app_count(app), before);

	/* Data naming its protobuf type travels as application/x-protobuf; other metadata as headers. */
	grpc_invoke(id_a, "typed", "POST", true, "k=v", "text/plain", "type.googleapis.com/x.Y", "\x08\x01",
		    2, md, &r);
	ck_assert_msg(r.status == OK, "%d %s", r.status, r.message);
	q = echo_app_last(app);
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(q->path, "/typed");
	ck_assert_str_eq(q->query, "k=v");
	ck_assert_str_eq(echo_header(q, "content-type"), "application/x-protobuf");
	ck_assert_uint_eq(q->body_len, 2);
	ck_assert_str_eq(echo_header(q, "x-custom"), "kept");
	ck_assert_str_eq(echo_header(q, "dapr-grpc-custom"), "g");
	ck_assert_ptr_null(echo_header(q, "trace-bin"));
	ck_assert_ptr_null(echo_header(q, "te"));
	res = dapr__proto__common__v1__invoke_response__unpack(NULL, r.len, r.data);
	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(res->content_type, "application/x-protobuf");
	dapr__proto__common__v1__invoke_response__free_unpacked(res, NULL);
	grpc_result_free(&r);

	/* Data with no content type: the app gets none. */
	grpc_invoke(id_a, "untyped", "POST", true, NULL, NULL, NULL, "raw", 3, NULL, &r);
	ck_assert_msg(r.status == OK, "%d %s", r.status, r.message);
	ck_assert_ptr_null(echo_header(echo_app_last(app), "content-type"));
	grpc_result_free(&r);
}
END_TEST

/* daprd's mapping of an app's error answer: the status text, and the body's first 63 bytes when UTF-8. */
START_TEST(app_error_details_over_grpc)
{
	static const char long_body[] =
		"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz";
	const char *md[] = { "x-echo-status", "404", NULL };
	struct grpc_result r = { 0 };
	Google__Rpc__ErrorInfo *info;

	grpc_invoke(id_a, "long", "POST", true, NULL, "text/plain", NULL, long_body, strlen(long_body), md,
		    &r);
	ck_assert_int_eq(r.status, NOT_FOUND);
	ck_assert_str_eq(r.message, "Not Found");
	info = error_info(&r);
	ck_assert_str_eq(info->reason, "Not Found");
	ck_assert_str_eq(info_meta(info, "http.code"), "404");
	ck_assert_str_eq(info_meta(info, "http.error_message"), xfmt("%.63s", long_body));
	google__rpc__error_info__free_unpacked(info, NULL);
	grpc_result_free(&r);
	/* A body that is no UTF-8 cannot go into ErrorInfo: daprd sends the status alone. */
	grpc_invoke(id_a, "bin", "POST", true, NULL, NULL, NULL, "\xff\xfe", 2, md, &r);
	ck_assert_int_eq(r.status, NOT_FOUND);
	ck_assert_ptr_null(r.details_bin);
	grpc_result_free(&r);
}
END_TEST

static Suite *invoke_transports_suite(void)
{
	Suite *s = suite_create("invoke_transports");
	TCase *tc = tcase_create("both");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, table_over_http);
	tcase_add_test(tc, table_over_grpc);
	tcase_add_test(tc, callee_sidecar_error_over_both);
	tcase_add_test(tc, binary_body_over_both);
	tcase_add_test(tc, app_down_over_both);
	tcase_add_test(tc, grpc_only_cases);
	tcase_add_test(tc, app_error_details_over_grpc);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(invoke_transports_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
