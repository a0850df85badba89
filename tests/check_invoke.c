/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation (API.md §3) through real outrigd processes: to self, between two and three sidecars, and failures. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "echo_app.h"
#include "exchange.h"
#include "http_client.h"

#define SELF "invself"

/* Every test runs in its own forked process with its own daemons, apps and scratch directories. */
static struct daemon dmn, dmn_b, dmn_c;
static struct echo_app *app, *app_b, *app_c;
static struct exchange x;
/* The sidecar tests' app ids, unique per process so that runs side by side cannot reach each other. */
static char id_a[32], id_b[32], id_c[32];

/* For the sidecar tests, which make each daemon with its own app id. */
static void setup_bare(void)
{
	memset(&dmn, 0, sizeof(dmn));
	memset(&dmn_b, 0, sizeof(dmn_b));
	memset(&dmn_c, 0, sizeof(dmn_c));
	app = app_b = app_c = NULL;
	snprintf(id_a, sizeof(id_a), "inva%d", (int)getpid());
	snprintf(id_b, sizeof(id_b), "invb%d", (int)getpid());
	snprintf(id_c, sizeof(id_c), "invc%d", (int)getpid());
}

static void setup(void)
{
	setup_bare();
	ck_assert_int_eq(daemon_init(&dmn, SELF), 0);
}

static void teardown(void)
{
	xfree(&x);
	if (dmn.dir[0] != '\0')
		daemon_cleanup(&dmn);
	if (dmn_b.dir[0] != '\0')
		daemon_cleanup(&dmn_b);
	if (dmn_c.dir[0] != '\0')
		daemon_cleanup(&dmn_c);
	echo_app_destroy(app);
	echo_app_destroy(app_b);
	echo_app_destroy(app_c);
}

/* Starts d for app a (NULL: no --app-port) with up to 6 extra arguments (NULL-terminated). */
static void start_with_app(struct daemon *d, struct echo_app *a, const char *const *more)
{
	const char *args[24];
	char port[16];
	int n = 0;

	if (a != NULL) {
		snprintf(port, sizeof(port), "%d", echo_app_port(a));
		args[n++] = "--app-port";
		args[n++] = port;
	}
	args[n++] = "--dapr-internal-grpc-listen-address";
	args[n++] = "127.0.0.1";
	for (int i = 0; more != NULL && more[i] != NULL && n < 22; i++)
		args[n++] = more[i];
	args[n] = NULL;
	ck_assert_msg(daemon_start(d, args) == 0, "outrigd %s did not start (log above)", d->app_id);
}

/* One outrigd (SELF) in front of one echo app. */
static void start_self(const char *const *more)
{
	app = echo_app_start("self");
	ck_assert_ptr_nonnull(app);
	start_with_app(&dmn, app, more);
}

static int call(const char *method, const char *path, const char *headers, const char *body)
{
	return xreq(&x, dmn.port, method, path, headers, body);
}

/* Like xreq, for a body that may hold NULs. */
static int call_bytes(int port, const char *method, const char *path, const char *headers, const void *body,
		      size_t len)
{
	int rc;

	xfree(&x);
	snprintf(x.req, sizeof(x.req), "%s %s (%zu bytes)", method, path, len);
	rc = http_request(port, method, path, headers, body, len, &x.r);
	if (rc < 0)
		x.r.status = rc;
	return x.r.status;
}

#define ck_header(x, name, want)                                                                             \
	ck_assert_msg(strcmp(xheader(x, name), (want)) == 0, "%s\n  -> header %s: '%s', expected '%s'",      \
		      (x)->req, (name), xheader(x, name), (want))

#define ck_no_header(x, name)                                                                                \
	ck_assert_msg(http_header(&(x)->r, name) == NULL, "%s\n  -> header %s: '%s', expected none",         \
		      (x)->req, (name), xheader(x, name))

static const char *app_header(const struct echo_request *r, const char *name)
{
	const char *v = echo_header(r, name);

	return v != NULL ? v : "(none)";
}

#define ck_app_header(r, name, want)                                                                         \
	ck_assert_msg(strcmp(app_header(r, name), (want)) == 0, "app got %s: '%s', expected '%s'", (name),   \
		      app_header(r, name), (want))

#define ck_app_no_header(r, name)                                                                            \
	ck_assert_msg(echo_header(r, name) == NULL, "app got %s: '%s', expected none", (name),               \
		      app_header(r, name))

/* The error message contains want. */
#define ck_message_has(x, want)                                                                              \
	do {                                                                                                 \
		json_t *j_ = xjson(x);                                                                       \
		const char *m_ = jstr(json_object_get(j_, "message"));                                       \
		ck_assert_msg(strstr(m_, (want)) != NULL, "%s\n  -> message '%s' lacks '%s'", (x)->req, m_,  \
			      (want));                                                                       \
		json_decref(j_);                                                                             \
	} while (0)

/* ---- one sidecar, its own app ---- */

START_TEST(every_verb_reaches_the_app)
{
	static const char *const verbs[] = { "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS" };

	start_self(NULL);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const char *v = verbs[i];
		bool head = strcmp(v, "HEAD") == 0;
		const char *body = head ? NULL : xfmt("body of %s", v);
		const struct echo_request *r;

		call(v, xfmt("/v1.0/invoke/%s/method/verbs/%s", SELF, v), "Content-Type: text/plain\r\n",
		     body);
		ck_status(&x, 200);
		ck_header(&x, "x-echo-method", v);
		ck_header(&x, "x-echo-path", xfmt("/verbs/%s", v));
		ck_header(&x, "x-echo-app", "self");
		if (!head)
			ck_body(&x, body);
		r = echo_app_last(app);
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(r->method, v);
		ck_assert_str_eq(r->path, xfmt("/verbs/%s", v));
		if (!head) {
			ck_assert_uint_eq(r->body_len, strlen(body));
			ck_assert_str_eq(r->body, body);
		}
	}
	ck_assert_uint_eq(echo_app_count(app), 7);
}
END_TEST

START_TEST(query_string_is_forwarded_verbatim)
{
	static const char q[] = "a=1&b=%20x%2Fy&c=%E2%9C%93&d=a+b&e&f=%3D%26&a=2";
	const struct echo_request *r;

	start_self(NULL);
	call("GET", xfmt("/v1.0/invoke/%s/method/search?%s", SELF, q), NULL, NULL);
	ck_status(&x, 200);
	r = echo_app_last(app);
	ck_assert_str_eq(r->path, "/search");
	ck_assert_ptr_nonnull(r->query);
	ck_assert_str_eq(r->query, q);
	/* No '?' at all: none forwarded. */
	call("GET", xfmt("/v1.0/invoke/%s/method/search", SELF), NULL, NULL);
	ck_status(&x, 200);
	ck_assert_ptr_null(echo_app_last(app)->query);
}
END_TEST

START_TEST(binary_body_with_nuls)
{
	unsigned char body[512];
	const struct echo_request *r;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(i * 7);
	body[0] = body[100] = body[511] = 0;
	start_self(NULL);
	call_bytes(dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/bin", SELF),
		   "Content-Type: application/octet-stream\r\n", body, sizeof(body));
	ck_status(&x, 200);
	ck_assert_uint_eq(x.r.body_len, sizeof(body));
	ck_assert_msg(memcmp(x.r.body, body, sizeof(body)) == 0, "the body came back changed");
	r = echo_app_last(app);
	ck_assert_uint_eq(r->body_len, sizeof(body));
	ck_assert_msg(memcmp(r->body, body, sizeof(body)) == 0, "the app got a changed body");
	ck_header(&x, "Content-Type", "application/octet-stream");
}
END_TEST

START_TEST(four_megabyte_body)
{
	const size_t n = 4000000;
	char *body = malloc(n);

	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)('a' + i % 23);
	body[n / 2] = '\0';
	start_self(NULL);
	call_bytes(dmn.port, "PUT", xfmt("/v1.0/invoke/%s/method/big", SELF), NULL, body, n);
	ck_status(&x, 200);
	ck_assert_uint_eq(x.r.body_len, n);
	ck_assert_msg(memcmp(x.r.body, body, n) == 0, "the 4 MB body came back changed");
	ck_assert_uint_eq(echo_app_last(app)->body_len, n);
	free(body);
}
END_TEST

START_TEST(headers_forwarded_stripped_added)
{
	const struct echo_request *r;
	const char *fwd;

	start_self(NULL);
	call("POST", xfmt("/v1.0/invoke/%s/method/h", SELF),
	     "Content-Type: text/plain; charset=utf-8\r\n"
	     "X-Custom: kept value\r\n"
	     "Authorization: Bearer app-token\r\n"
	     "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
	     "tracestate: congo=t61rcWkgMzE\r\n"
	     "Keep-Alive: timeout=5\r\n"
	     "TE: trailers\r\n"
	     "Upgrade: h2c\r\n"
	     "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
	     "X-Named-Hop: dropped because Connection names it\r\n"
	     "Connection: close, X-Named-Hop\r\n"
	     "dapr-api-token: not-for-the-app\r\n"
	     "dapr-caller-app-id: spoofed\r\n"
	     "dapr-callee-app-id: spoofed\r\n"
	     "dapr-caller-namespace: spoofed\r\n"
	     "outrig-caller-app-id: spoofed\r\n"
	     "X-Forwarded-For: 10.1.2.3\r\n"
	     "X-Forwarded-Host: spoofed.example\r\n"
	     "Forwarded: for=10.1.2.3\r\n"
	     "x-echo-reply-header: X-Reply: yes|Keep-Alive: timeout=9|Upgrade: nope|outrig-status: leak\r\n",
	     "payload");
	ck_status(&x, 200);
	r = echo_app_last(app);
	ck_app_header(r, "x-custom", "kept value");
	ck_app_header(r, "authorization", "Bearer app-token");
	ck_app_header(r, "content-type", "text/plain; charset=utf-8");
	ck_app_header(r, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	ck_app_header(r, "tracestate", "congo=t61rcWkgMzE");
	ck_app_no_header(r, "keep-alive");
	ck_app_no_header(r, "te");
	ck_app_no_header(r, "upgrade");
	ck_app_no_header(r, "proxy-authorization");
	ck_app_no_header(r, "x-named-hop");
	ck_app_no_header(r, "dapr-api-token");
	ck_app_no_header(r, "dapr-caller-namespace");
	ck_app_no_header(r, "outrig-caller-app-id");
	ck_app_header(r, "dapr-caller-app-id", SELF);
	ck_app_header(r, "dapr-callee-app-id", SELF);
	ck_app_header(r, "x-forwarded-for", "10.1.2.3, 127.0.0.1");
	ck_app_header(r, "x-forwarded-host", xfmt("127.0.0.1:%d", dmn.port));
	fwd = app_header(r, "forwarded");
	ck_assert_msg(strcmp(fwd, xfmt("for=10.1.2.3, for=127.0.0.1;by=127.0.0.1;host=127.0.0.1:%d",
				       dmn.port)) == 0,
		      "Forwarded: %s", fwd);
	ck_app_header(r, "content-length", "7");
	/* The answer: the app's headers minus hop-by-hop ones and the internal protocol's. */
	ck_header(&x, "X-Reply", "yes");
	ck_no_header(&x, "Keep-Alive");
	ck_no_header(&x, "Upgrade");
	ck_no_header(&x, "outrig-status");
	ck_header(&x, "Content-Type", "text/plain; charset=utf-8");
	ck_body(&x, "payload");
}
END_TEST

/* 00-<32 hex>-<16 hex>-<2 hex> */
static bool is_traceparent(const char *v)
{
	static const char shape[] = "00-################################-################-##";

	if (v == NULL || strlen(v) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i] != '\0'; i++)
		if (shape[i] == '#' ? strchr("0123456789abcdef", v[i]) == NULL : v[i] != shape[i])
			return false;
	return true;
}

START_TEST(traceparent_started_when_missing)
{
	const char *t1, *t2;
	char first[64];

	start_self(NULL);
	call("GET", xfmt("/v1.0/invoke/%s/method/t", SELF), NULL, NULL);
	ck_status(&x, 200);
	t1 = echo_header(echo_app_last(app), "traceparent");
	ck_assert_msg(is_traceparent(t1), "traceparent '%s'", t1 ? t1 : "(none)");
	snprintf(first, sizeof(first), "%s", t1);
	call("GET", xfmt("/v1.0/invoke/%s/method/t", SELF), "traceparent: garbage\r\ntracestate: a=b\r\n",
	     NULL);
	t2 = echo_header(echo_app_last(app), "traceparent");
	ck_assert_msg(is_traceparent(t2) && strcmp(t2, first) != 0, "traceparent '%s' after '%s'",
		      t2 ? t2 : "(none)", first);
	ck_app_no_header(echo_app_last(app), "tracestate");
}
END_TEST

START_TEST(answer_without_content_type_gets_none)
{
	start_self(NULL);
	call("POST", xfmt("/v1.0/invoke/%s/method/raw", SELF), "x-echo-no-type: 1\r\n", "abc");
	ck_status(&x, 200);
	ck_no_header(&x, "Content-Type");
	ck_body(&x, "abc");
}
END_TEST

START_TEST(app_statuses_pass_through)
{
	static const int statuses[] = { 404, 500, 201, 418, 503 };

	start_self(NULL);
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		call("POST", xfmt("/v1.0/invoke/%s/method/s", SELF),
		     xfmt("x-echo-status: %d\r\nContent-Type: application/json\r\n", statuses[i]),
		     "{\"app\":\"said so\"}");
		ck_status(&x, statuses[i]);
		/* The app's own body, not an outrig error. */
		ck_body(&x, "{\"app\":\"said so\"}");
	}
	call("DELETE", xfmt("/v1.0/invoke/%s/method/s", SELF), "x-echo-status: 204\r\n", NULL);
	ck_status(&x, 204);
	ck_assert_uint_eq(x.r.body_len, 0);
}
END_TEST

START_TEST(app_down_fails_fast)
{
	const char *args[] = { "--app-port", NULL, NULL };
	long t0;

	args[1] = xfmt("%d", daemon_free_port());
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
	t0 = xnow_ms();
	call("POST", xfmt("/v1.0/invoke/%s/method/anything", SELF), NULL, "x");
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, xfmt("id: %s", SELF));
	ck_message_has(&x, "could not connect (connection refused");
	ck_assert_msg(xnow_ms() - t0 < 2000, "the error took %ld ms", xnow_ms() - t0);
	/* And again, on the pooled channel. */
	call("GET", xfmt("/v1.0/invoke/%s/method/anything", SELF), NULL, NULL);
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
}
END_TEST

START_TEST(no_app_port_is_an_error)
{
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start (log above)");
	call("GET", xfmt("/v1.0/invoke/%s/method/x", SELF), NULL, NULL);
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "--app-port");
}
END_TEST

/* One path trick: what the caller names, and the path the app must get. */
struct trick {
	const char *named;
	const char *app_path;
};

START_TEST(path_tricks_reach_exactly_the_named_method)
{
	static const struct trick tricks[] = {
		{ "a/../b", "/b" },
		{ "../../v1.0/state/x", "/v1.0/state/x" },
		{ "..", "/" },
		{ "a/..", "/" },
		{ "./x//y/", "/x/y/" },
		{ "a%2Fb", "/a%2Fb" },
		{ "a%2f..%2fb", "/a%2f..%2fb" },
		{ "%2e%2e/secret", "/%2e%2e/secret" },
		{ "a/%2E%2E/b", "/a/%2E%2E/b" },
		{ "a/%2e/b", "/a/%2e/b" },
		{ "sp%20ace/%C3%A9", "/sp%20ace/%C3%A9" },
		{ "api/v1/add", "/api/v1/add" },
		{ "", "/" },
	};

	start_self(NULL);
	for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
		call("GET", xfmt("/v1.0/invoke/%s/method/%s", SELF, tricks[i].named), NULL, NULL);
		ck_status(&x, 200);
		ck_header(&x, "x-echo-path", tricks[i].app_path);
		ck_assert_str_eq(echo_app_last(app)->path, tricks[i].app_path);
	}
	/* The API itself is not reachable by climbing out of the method: it went to the app above. */
	ck_assert_uint_eq(echo_app_count(app), sizeof(tricks) / sizeof(tricks[0]));
}
END_TEST

START_TEST(header_form_on_an_app_path)
{
	const struct echo_request *r;

	start_self(NULL);
	call("POST", "/orders/1?x=2", xfmt("dapr-app-id: %s\r\n", SELF), "o");
	ck_status(&x, 200);
	r = echo_app_last(app);
	ck_assert_str_eq(r->path, "/orders/1");
	ck_assert_str_eq(r->query, "x=2");
	ck_app_no_header(r, "dapr-app-id");
	ck_app_header(r, "dapr-callee-app-id", SELF);
	ck_body(&x, "o");
	/* Authorization: Basic base64("dapr-app-id:invself") */
	call("GET", "/a/../b", "Authorization: Basic ZGFwci1hcHAtaWQ6aW52c2VsZg==\r\n", NULL);
	ck_status(&x, 200);
	r = echo_app_last(app);
	ck_assert_str_eq(r->path, "/b");
	ck_app_no_header(r, "authorization");
	/* Without either, an app path is not Dapr's API. */
	call("GET", "/orders/1", NULL, NULL);
	ck_status(&x, 404);
	ck_assert_uint_eq(echo_app_count(app), 2);
	/* Dapr's own API paths are never taken for the app's. */
	call("GET", "/v1.0/metadata", xfmt("dapr-app-id: %s\r\n", SELF), NULL);
	ck_status(&x, 200);
	ck_assert_uint_eq(echo_app_count(app), 2);
}
END_TEST

START_TEST(no_app_id_is_404)
{
	start_self(NULL);
	call("GET", "/v1.0/invoke//method/x", NULL, NULL);
	ck_error(&x, 404, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "failed getting app id either from the URL path or the header dapr-app-id");
	call("GET", "/some/path", "dapr-app-id: \r\n", NULL);
	ck_error(&x, 404, "ERR_DIRECT_INVOKE");
	ck_assert_uint_eq(echo_app_count(app), 0);
}
END_TEST

START_TEST(unknown_app_id_is_500_naming_it)
{
	long t0;

	start_self(NULL);
	t0 = xnow_ms();
	call("POST", "/v1.0/invoke/nosuchapp/method/x", NULL, "x");
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "failed to invoke, id: nosuchapp");
	ck_assert_msg(xnow_ms() - t0 < 5000, "the error took %ld ms", xnow_ms() - t0);
	call("GET", "/elsewhere", "dapr-app-id: nosuchapp.someplace\r\n", NULL);
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "nosuchapp");
	ck_assert_uint_eq(echo_app_count(app), 0);
}
END_TEST

START_TEST(own_namespace_target_is_local)
{
	const struct echo_request *r;

	ck_assert_int_eq(daemon_setenv(&dmn, "NAMESPACE", "prod"), 0);
	start_self(NULL);
	call("GET", xfmt("/v1.0/invoke/%s.prod/method/ns", SELF), NULL, NULL);
	ck_status(&x, 200);
	r = echo_app_last(app);
	ck_assert_ptr_nonnull(r);
	ck_app_header(r, "dapr-caller-app-id", SELF);
	ck_app_header(r, "dapr-caller-namespace", "prod");
	ck_app_header(r, "dapr-callee-app-id", SELF);
}
END_TEST

START_TEST(api_token_is_required_and_not_forwarded)
{
	ck_assert_int_eq(daemon_setenv(&dmn, "DAPR_API_TOKEN", "s3cret"), 0);
	start_self(NULL);
	call("GET", xfmt("/v1.0/invoke/%s/method/t", SELF), NULL, NULL);
	ck_status(&x, 401);
	call("GET", "/t", xfmt("dapr-app-id: %s\r\n", SELF), NULL);
	ck_status(&x, 401);
	ck_assert_uint_eq(echo_app_count(app), 0);
	call("GET", xfmt("/v1.0/invoke/%s/method/t", SELF), "dapr-api-token: s3cret\r\n", NULL);
	ck_status(&x, 200);
	ck_app_no_header(echo_app_last(app), "dapr-api-token");
}
END_TEST

/* A request sent from a thread of its own, so that the test can act while it waits. */
struct bg_call {
	pthread_t thread;
	int port;
	const char *method, *path, *headers, *body;
	struct exchange x;
	long took_ms;
};

static void *bg_run(void *arg)
{
	struct bg_call *c = arg;
	long t0 = xnow_ms();

	xreq(&c->x, c->port, c->method, c->path, c->headers, c->body);
	c->took_ms = xnow_ms() - t0;
	return NULL;
}

static void bg_start(struct bg_call *c)
{
	ck_assert_int_eq(pthread_create(&c->thread, NULL, bg_run, c), 0);
}

START_TEST(max_concurrency_is_honoured)
{
	static const char *const more[] = { "--app-max-concurrency", "1", NULL };
	struct bg_call c[3];

	start_self(more);
	for (int i = 0; i < 3; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].port = dmn.port;
		c[i].method = "POST";
		c[i].path = xfmt("/v1.0/invoke/%s/method/slow/%d", SELF, i);
		c[i].headers = "x-echo-delay-ms: 200\r\n";
		c[i].body = "z";
		bg_start(&c[i]);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(c[i].thread, NULL);
		ck_status(&c[i].x, 200);
		xfree(&c[i].x);
	}
	ck_assert_int_eq(echo_app_max_in_flight(app), 1);
}
END_TEST

START_TEST(unhealthy_app_is_refused)
{
	static const char *const more[] = { "--enable-app-health-check",
					    "--app-health-check-path",
					    "/echo-status/503",
					    "--app-health-probe-interval",
					    "1",
					    "--app-health-threshold",
					    "1",
					    NULL };
	long deadline;

	start_self(more);
	deadline = xnow_ms() + 5000;
	do {
		xsleep_ms(100);
		call("POST", xfmt("/v1.0/invoke/%s/method/x", SELF), NULL, "x");
	} while (x.r.status == 200 && xnow_ms() < deadline);
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&x, "app is not in a healthy state");
}
END_TEST

/* ---- the internal protocol, spoken directly ---- */

START_TEST(internal_listener_speaks_the_protocol)
{
	int iport = daemon_free_port();
	const char *more[] = { "--dapr-internal-grpc-port", NULL, NULL };
	const struct echo_request *r;

	more[1] = xfmt("%d", iport);
	start_self(more);
	call_bytes(iport, "PUT", "/outrig/v1/invoke/a/../items/1?q=%2F",
		   xfmt("outrig-callee-app-id: %s\r\noutrig-caller-app-id: peer\r\n"
			"outrig-caller-namespace: ns1\r\ndapr-caller-app-id: spoofed\r\nX-Y: z\r\n",
			SELF),
		   "hi", 2);
	ck_status(&x, 200);
	ck_header(&x, "outrig-status", "app");
	ck_body(&x, "hi");
	r = echo_app_last(app);
	ck_assert_str_eq(r->method, "PUT");
	ck_assert_str_eq(r->path, "/items/1");
	ck_assert_str_eq(r->query, "q=%2F");
	ck_app_header(r, "dapr-caller-app-id", "peer");
	ck_app_header(r, "dapr-caller-namespace", "ns1");
	ck_app_header(r, "dapr-callee-app-id", SELF);
	ck_app_header(r, "x-y", "z");
	ck_app_no_header(r, "outrig-callee-app-id");
	/* The app's error is the app's: marked as such. */
	call_bytes(iport, "GET", "/outrig/v1/invoke/x",
		   xfmt("outrig-callee-app-id: %s\r\noutrig-caller-app-id: peer\r\nx-echo-status: 404\r\n",
			SELF),
		   NULL, 0);
	ck_status(&x, 404);
	ck_header(&x, "outrig-status", "app");
	/* Sidecar errors are marked "error". */
	call_bytes(iport, "GET", "/outrig/v1/invoke/x",
		   "outrig-callee-app-id: someoneelse\r\noutrig-caller-app-id: peer\r\n", NULL, 0);
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_header(&x, "outrig-status", "error");
	ck_message_has(&x, "someoneelse");
	call_bytes(iport, "GET", "/outrig/v9/invoke/x",
		   xfmt("outrig-callee-app-id: %s\r\noutrig-caller-app-id: peer\r\n", SELF), NULL, 0);
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_header(&x, "outrig-status", "error");
	call_bytes(iport, "GET", "/outrig/v1/invoke/x", NULL, NULL, 0);
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	ck_assert_uint_eq(echo_app_count(app), 2);
}
END_TEST

/* The internal port derived from an app id when no --dapr-internal-grpc-port is given. */
static int derived_port(const char *app_id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)app_id; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return 47300 + (int)(h % 2048);
}

START_TEST(derived_internal_port_taken_falls_back)
{
	int port = derived_port(SELF);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	char *log;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* If someone else holds it already, it is taken all the same. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		ck_assert_int_eq(listen(fd, 1), 0);
	start_self(NULL);
	log = xslurp(dmn.log);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "listening for other sidecars on 127.0.0.1 port ") != NULL &&
			      strstr(log, xfmt("listening for other sidecars on 127.0.0.1 port %d\"",
					       port)) == NULL,
		      "log: %s", log);
	free(log);
	close(fd);
	call("GET", xfmt("/v1.0/invoke/%s/method/x", SELF), NULL, NULL);
	ck_status(&x, 200);
}
END_TEST

/* ---- two and three sidecars on one host (nameresolution.sqlite, the default) ---- */

/* Starts sidecar d for app id with app a; all of them share dmn's data folder, so its name-resolution database. */
static void start_peer(struct daemon *d, const char *id, struct echo_app **a, const char *name)
{
	const char *more[] = { "--data-dir", NULL, NULL };

	ck_assert_int_eq(daemon_init(d, id), 0);
	more[1] = dmn.data;
	*a = echo_app_start(name);
	ck_assert_ptr_nonnull(*a);
	start_with_app(d, *a, more);
}

/* Calls until the callee's registration is visible (name resolution may lag a start by a moment). */
static void call_until_resolved(int port, const char *method, const char *path, const char *headers,
				const char *body)
{
	long deadline = xnow_ms() + 5000;

	for (;;) {
		xreq(&x, port, method, path, headers, body);
		if (x.r.status != 500 || xnow_ms() > deadline)
			return;
		xsleep_ms(100);
	}
}

START_TEST(two_sidecars_call_each_other)
{
	const struct echo_request *r;
	char *big;
	const size_t n = 4000000;

	start_peer(&dmn, id_a, &app, "A");
	start_peer(&dmn_b, id_b, &app_b, "B");
	/* A -> B */
	call_until_resolved(dmn.port, "POST",
			    xfmt("/v1.0/invoke/%s/method/hello/../greet?who=%%C3%%A9", id_b),
			    "Content-Type: text/plain\r\nX-Custom: 1\r\ndapr-caller-app-id: spoofed\r\n"
			    "x-echo-reply-header: X-From-B: yes\r\n",
			    "hi B");
	ck_status(&x, 200);
	ck_header(&x, "x-echo-app", "B");
	ck_header(&x, "X-From-B", "yes");
	ck_no_header(&x, "outrig-status");
	ck_body(&x, "hi B");
	ck_assert_uint_eq(echo_app_count(app), 0);
	r = echo_app_last(app_b);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->method, "POST");
	ck_assert_str_eq(r->path, "/greet");
	ck_assert_str_eq(r->query, "who=%C3%A9");
	ck_app_header(r, "dapr-caller-app-id", id_a);
	ck_app_header(r, "dapr-callee-app-id", id_b);
	ck_app_header(r, "x-custom", "1");
	ck_app_header(r, "content-type", "text/plain");
	ck_app_header(r, "x-forwarded-for", "127.0.0.1");
	ck_app_no_header(r, "outrig-callee-app-id");
	ck_app_no_header(r, "outrig-caller-app-id");
	/* B -> A, through the header form. */
	call_until_resolved(dmn_b.port, "GET", "/back?x=1", xfmt("dapr-app-id: %s\r\n", id_a), NULL);
	ck_status(&x, 200);
	ck_header(&x, "x-echo-app", "A");
	r = echo_app_last(app);
	ck_app_header(r, "dapr-caller-app-id", id_b);
	/* The app's own 404 and 500 pass through both sidecars. */
	xreq(&x, dmn.port, "GET", xfmt("/v1.0/invoke/%s/method/missing", id_b), "x-echo-status: 404\r\n",
	     NULL);
	ck_status(&x, 404);
	xreq(&x, dmn.port, "GET", xfmt("/v1.0/invoke/%s/method/broken", id_b), "x-echo-status: 500\r\n",
	     NULL);
	ck_status(&x, 500);
	ck_assert_msg(!xerror(&x, (char[64]){ 0 }, 64), "the app's 500 became an outrig error: %s",
		      XBODY(&x));
	/* Every verb across. */
	xreq(&x, dmn.port, "HEAD", xfmt("/v1.0/invoke/%s/method/h", id_b), NULL, NULL);
	ck_status(&x, 200);
	ck_header(&x, "x-echo-method", "HEAD");
	xreq(&x, dmn.port, "OPTIONS", xfmt("/v1.0/invoke/%s/method/o", id_b), NULL, NULL);
	ck_header(&x, "x-echo-method", "OPTIONS");
	xreq(&x, dmn.port, "PATCH", xfmt("/v1.0/invoke/%s/method/p", id_b), NULL, "patch");
	ck_header(&x, "x-echo-method", "PATCH");
	ck_body(&x, "patch");
	/* 4 MB across two sidecars. */
	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(i % 251);
	call_bytes(dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/big", id_b), NULL, big, n);
	ck_status(&x, 200);
	ck_assert_uint_eq(x.r.body_len, n);
	ck_assert_msg(memcmp(x.r.body, big, n) == 0, "the 4 MB body came back changed");
	free(big);
	/* A's sidecar is not B's app: the %2e%2e trick names a method, it does not climb. */
	xreq(&x, dmn.port, "GET", xfmt("/v1.0/invoke/%s/method/%%2e%%2e/%%2e%%2e/v1.0/metadata", id_b), NULL,
	     NULL);
	ck_status(&x, 200);
	ck_header(&x, "x-echo-path", "/%2e%2e/%2e%2e/v1.0/metadata");
}
END_TEST

START_TEST(three_sidecars)
{
	start_peer(&dmn, id_a, &app, "A");
	start_peer(&dmn_b, id_b, &app_b, "B");
	start_peer(&dmn_c, id_c, &app_c, "C");
	call_until_resolved(dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/x", id_b), NULL, "to B");
	ck_status(&x, 200);
	ck_header(&x, "x-echo-app", "B");
	call_until_resolved(dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/x", id_c), NULL, "to C");
	ck_status(&x, 200);
	ck_header(&x, "x-echo-app", "C");
	ck_body(&x, "to C");
	call_until_resolved(dmn_b.port, "GET", xfmt("/v1.0/invoke/%s/method/y", id_c), NULL, NULL);
	ck_status(&x, 200);
	ck_header(&x, "x-echo-app", "C");
	ck_app_header(echo_app_last(app_c), "dapr-caller-app-id", id_b);
	call_until_resolved(dmn_c.port, "GET", xfmt("/v1.0/invoke/%s/method/z", id_a), NULL, NULL);
	ck_status(&x, 200);
	ck_header(&x, "x-echo-app", "A");
	ck_app_header(echo_app_last(app), "dapr-caller-app-id", id_c);
	ck_assert_uint_eq(echo_app_count(app_b), 1);
	ck_assert_uint_eq(echo_app_count(app_c), 2);
}
END_TEST

START_TEST(callee_sidecar_killed_mid_call)
{
	struct bg_call c;

	start_peer(&dmn, id_a, &app, "A");
	start_peer(&dmn_b, id_b, &app_b, "B");
	call_until_resolved(dmn.port, "GET", xfmt("/v1.0/invoke/%s/method/warm", id_b), NULL, NULL);
	ck_status(&x, 200);
	memset(&c, 0, sizeof(c));
	c.port = dmn.port;
	c.method = "POST";
	c.path = xfmt("/v1.0/invoke/%s/method/slow", id_b);
	c.headers = "x-echo-delay-ms: 5000\r\n";
	c.body = "wait";
	bg_start(&c);
	/* Until B's app holds the call, then B's sidecar dies. */
	for (long deadline = xnow_ms() + 3000; echo_app_count(app_b) < 2 && xnow_ms() < deadline;)
		xsleep_ms(10);
	ck_assert_uint_eq(echo_app_count(app_b), 2);
	daemon_kill(&dmn_b);
	pthread_join(c.thread, NULL);
	ck_error(&c.x, 500, "ERR_DIRECT_INVOKE");
	ck_message_has(&c.x, id_b);
	ck_assert_msg(c.took_ms < 3000, "the caller waited %ld ms", c.took_ms);
	xfree(&c.x);
	/* The caller's sidecar lives on, and answers the next call to the dead peer with an error. */
	xreq(&x, dmn.port, "GET", xfmt("/v1.0/invoke/%s/method/again", id_b), NULL, NULL);
	ck_error(&x, 500, "ERR_DIRECT_INVOKE");
	xreq(&x, dmn.port, "GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
}
END_TEST

static Suite *invoke_suite(void)
{
	Suite *s = suite_create("invoke");
	TCase *tc;

	tc = tcase_create("self");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, every_verb_reaches_the_app);
	tcase_add_test(tc, query_string_is_forwarded_verbatim);
	tcase_add_test(tc, binary_body_with_nuls);
	tcase_add_test(tc, four_megabyte_body);
	tcase_add_test(tc, headers_forwarded_stripped_added);
	tcase_add_test(tc, traceparent_started_when_missing);
	tcase_add_test(tc, answer_without_content_type_gets_none);
	tcase_add_test(tc, app_statuses_pass_through);
	tcase_add_test(tc, path_tricks_reach_exactly_the_named_method);
	tcase_add_test(tc, header_form_on_an_app_path);
	tcase_add_test(tc, own_namespace_target_is_local);
	tcase_add_test(tc, api_token_is_required_and_not_forwarded);
	tcase_add_test(tc, max_concurrency_is_honoured);
	tcase_add_test(tc, internal_listener_speaks_the_protocol);
	tcase_add_test(tc, derived_internal_port_taken_falls_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, app_down_fails_fast);
	tcase_add_test(tc, no_app_port_is_an_error);
	tcase_add_test(tc, no_app_id_is_404);
	tcase_add_test(tc, unknown_app_id_is_500_naming_it);
	tcase_add_test(tc, unhealthy_app_is_refused);
	suite_add_tcase(s, tc);

	/* These need nameresolution.sqlite, the default resolver. */
	tc = tcase_create("sidecars");
	tcase_add_checked_fixture(tc, setup_bare, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, two_sidecars_call_each_other);
	tcase_add_test(tc, three_sidecars);
	tcase_add_test(tc, callee_sidecar_killed_mid_call);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(invoke_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
