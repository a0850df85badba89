/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration spec.accessControl, spec.api and spec.components through real outrigd processes:
 * invocation allowed and denied by app, namespace, verb and path through the caller's HTTP front
 * end and gRPC InvokeService, proxied gRPC, the encoded-path bypasses, the API lists on both front
 * ends and components.deny at start and at reload.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <signal.h>
#include <stdbool.h>
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

static struct daemon da, dc, db;
static struct echo_app *app_a, *app_c, *app_b;
static struct exchange x;
static char id_a[32], id_c[32], id_b[32];
/* Every case that went wrong, one line each: a test lists them all, then fails. */
static char wrong[16384];

static void setup(void)
{
	memset(&da, 0, sizeof(da));
	memset(&dc, 0, sizeof(dc));
	memset(&db, 0, sizeof(db));
	app_a = app_c = app_b = NULL;
	wrong[0] = '\0';
	snprintf(id_a, sizeof(id_a), "acla%d", (int)getpid());
	snprintf(id_c, sizeof(id_c), "aclc%d", (int)getpid());
	snprintf(id_b, sizeof(id_b), "aclb%d", (int)getpid());
}

static void teardown(void)
{
	xfree(&x);
	if (da.dir[0] != '\0')
		daemon_cleanup(&da);
	if (dc.dir[0] != '\0')
		daemon_cleanup(&dc);
	if (db.dir[0] != '\0')
		daemon_cleanup(&db);
	echo_app_destroy(app_a);
	echo_app_destroy(app_c);
	echo_app_destroy(app_b);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	size_t used = strlen(wrong);
	va_list ap;

	if (used + 2 >= sizeof(wrong))
		return;
	wrong[used++] = '\n';
	va_start(ap, fmt);
	vsnprintf(wrong + used, sizeof(wrong) - used, fmt, ap);
	va_end(ap);
}

#define ck_nothing_wrong() ck_assert_msg(wrong[0] == '\0', "%s", wrong)

/* Starts d (in front of a, or none) with more arguments (NULL-terminated, may be NULL). */
static void start(struct daemon *d, struct echo_app *a, const char *const *more)
{
	ck_assert_msg(daemon_start_app(d, a != NULL ? echo_app_port(a) : 0, more) == 0,
		      "outrigd %s did not start (log above)", d->app_id);
}

/* Writes d's Configuration with spec; its path, valid until the next call (one per test). */
static const char *write_config(struct daemon *d, const char *spec)
{
	static char path[DAEMON_PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.yaml", d->dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: acl\nspec:\n%s",
		spec);
	fclose(f);
	return path;
}

/* The callee's policies: A (namespace default) may call little, C (namespace prod) all but /admin. */
static const char *callee_spec(void)
{
	return xfmt("  accessControl:\n"
		    "    defaultAction: deny\n"
		    "    trustDomain: public\n"
		    "    policies:\n"
		    "    - appId: %s\n"
		    "      defaultAction: deny\n"
		    "      trustDomain: public\n"
		    "      namespace: default\n"
		    "      operations:\n"
		    "      - {name: /public, httpVerb: [\"*\"], action: allow}\n"
		    "      - {name: /orders/*, httpVerb: [GET], action: allow}\n"
		    "      - {name: /pkg.Svc/**, action: allow}\n"
		    "    - appId: %s\n"
		    "      defaultAction: allow\n"
		    "      trustDomain: public\n"
		    "      namespace: prod\n"
		    "      operations:\n"
		    "      - {name: /admin, httpVerb: [\"*\"], action: deny}\n"
		    "      - {name: /pkg.Admin/**, action: deny}\n",
		    id_a, id_c);
}

/* Whether the app of B ever got a path that an app could read as one under /admin (decoded, any case). */
static bool reached_admin(struct echo_app *a, char *seen, size_t size)
{
	for (size_t i = 0; i < echo_app_count(a); i++) {
		const char *p = echo_app_request(a, i)->path;
		char dec[512];
		size_t n = 0;

		/* Decoded twice over, lower-cased, with ';' and '\' read as separators. */
		for (int round = 0; round < 2; round++) {
			n = 0;
			for (const char *q = p; *q != '\0' && n + 1 < sizeof(dec); q++) {
				if (q[0] == '%' && isxdigit((unsigned char)q[1]) &&
				    isxdigit((unsigned char)q[2])) {
					char hex[3] = { q[1], q[2], 0 };

					dec[n++] = (char)strtol(hex, NULL, 16);
					q += 2;
				} else {
					dec[n++] = *q;
				}
			}
			dec[n] = '\0';
			p = round == 0 ? xfmt("%s", dec) : p;
		}
		for (size_t k = 0; k < n; k++)
			dec[k] = (char)tolower((unsigned char)dec[k]);
		/* "admin" as a whole segment (or what some server strips down to one). */
		for (char *q = strstr(dec, "admin"); q != NULL; q = strstr(q + 1, "admin")) {
			bool starts = q == dec || q[-1] == '/' || q[-1] == '\\';

			if (starts && strchr("/\\.;#? ", q[5]) != NULL) {
				snprintf(seen, size, "%s", echo_app_request(a, i)->path);
				return true;
			}
		}
	}
	return false;
}

struct call_case {
	int caller;	    /* 0: A (namespace default), 1: C (namespace prod) */
	const char *verb;   /* HTTP verb */
	const char *method; /* after /method/, as sent (HTTP) or as the gRPC method */
	int status;	    /* over HTTP: 200 allowed, 403 denied, 400 refused by the caller's sidecar */
	bool grpc;	    /* also through InvokeService */
};

static const struct call_case call_cases[] = {
	/* By app, namespace, verb and path. */
	{ 0, "GET", "public", 200, true },
	{ 0, "POST", "public", 200, true },
	{ 0, "GET", "PUBLIC", 200, true },
	{ 0, "GET", "public/", 200, true },
	{ 0, "GET", "orders/1", 200, true },
	{ 0, "DELETE", "orders/1", 403, true },
	{ 0, "GET", "orders/1/items", 403, true },
	{ 0, "GET", "other", 403, true },
	{ 1, "GET", "other", 200, true },
	{ 1, "GET", "public", 200, true },
	{ 1, "DELETE", "admin", 403, true },
	/* Encoded-path bypasses (Dapr's advisories and the research on its ACLs). */
	{ 0, "GET", "public%2F..%2Fadmin", 403, true },
	{ 0, "GET", "public%2f..%2fadmin", 403, true },
	{ 0, "GET", "public%23/../admin", 403, false },
	{ 0, "GET", "public%3F/../admin", 403, false },
	{ 0, "GET", "public%25/../admin", 403, true },
	{ 0, "GET", "public/%2e%2e/admin", 403, true },
	{ 0, "GET", "public/..%2Fadmin", 403, true },
	{ 1, "GET", "Admin", 403, true },
	{ 1, "GET", "ADMIN/", 403, true },
	{ 1, "GET", "admin.", 403, true },
	{ 1, "GET", "admin./", 403, true },
	{ 1, "GET", "admin%2e", 403, true },
	{ 1, "GET", "adm%69n", 403, true },
	{ 1, "GET", "%41dmin", 403, true },
	{ 1, "GET", "x%2F..%2Fadmin", 403, true },
	{ 1, "GET", "x/%2e%2e/admin", 403, true },
	{ 1, "GET", "x/%2E%2E%2Fadmin", 403, true },
	{ 1, "GET", "x%252F..%252Fadmin", 403, true },
	{ 1, "GET", "%2561dmin", 403, true },
	{ 1, "GET", "admin;a=b", 403, true },
	{ 1, "GET", "admin%3Bx", 403, true },
	{ 1, "GET", "admin%23x", 403, true },
	{ 1, "GET", "admin%3Fx", 403, true },
	{ 1, "GET", "admin%00", 403, false }, /* the gRPC front end refuses a NUL of its own */
	{ 1, "GET", "x%5C..%5Cadmin", 403, true },
	{ 1, "GET", "%c0%afadmin", 403, true },
	{ 1, "GET", "/admin", 403, true },
	{ 1, "GET", "x/../admin", 403, true },
	{ 1, "GET", "./admin", 403, true },
	{ 1, "GET", "adm%", 400, false }, /* a bare '%': the caller's sidecar refuses it, as daprd */
	{ 1, "GET", "adm%zzin", 400, false },
	/* What an app reads one way only goes through. */
	{ 1, "GET", "x%20y/caf%C3%A9", 200, true },
	{ 1, "GET", "v1.2/admins-guide", 200, true },
};

static int grpc_verb(const char *verb)
{
	if (strcmp(verb, "GET") == 0)
		return DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__GET;
	if (strcmp(verb, "POST") == 0)
		return DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__POST;
	return DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__DELETE;
}

static void grpc_invoke(int port, const char *id, const char *method, const char *verb, struct grpc_result *r)
{
	Dapr__Proto__Runtime__V1__InvokeServiceRequest rq =
		DAPR__PROTO__RUNTIME__V1__INVOKE_SERVICE_REQUEST__INIT;
	Dapr__Proto__Common__V1__InvokeRequest m = DAPR__PROTO__COMMON__V1__INVOKE_REQUEST__INIT;
	Dapr__Proto__Common__V1__HTTPExtension he = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__INIT;
	struct grpc_client *cl = grpc_client_connect(port);
	uint8_t *buf;
	size_t n;

	ck_assert_ptr_nonnull(cl);
	rq.id = (char *)id;
	rq.message = &m;
	m.method = (char *)method;
	m.content_type = (char *)"";
	he.verb = grpc_verb(verb);
	he.querystring = (char *)"";
	m.http_extension = &he;
	n = dapr__proto__runtime__v1__invoke_service_request__get_packed_size(&rq);
	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	dapr__proto__runtime__v1__invoke_service_request__pack(&rq, buf);
	ck_assert_msg(grpc_client_call(cl, INVOKE_SERVICE, NULL, buf, n, 10000, r) == 0,
		      "InvokeService: no answer");
	free(buf);
	grpc_client_close(cl);
}

/* Waits until caller d reaches B at all (name resolution may lag a start). */
static void wait_reachable(struct daemon *d)
{
	long until = xnow_ms() + 5000;

	do {
		xreq(&x, d->port, "GET", xfmt("/v1.0/invoke/%s.default/method/public", id_b), NULL, NULL);
		if (x.r.status == 500)
			xsleep_ms(100);
	} while (x.r.status == 500 && xnow_ms() < until);
	ck_status(&x, d == &da ? 200 : 200);
}

START_TEST(invocation_table_http_and_grpc)
{
	const char *more_a[] = { "--data-dir", NULL, NULL };
	const char *more_c[] = { "--data-dir", NULL, NULL };
	const char *more_b[] = { "--data-dir", NULL, "--config", NULL, NULL };
	char seen[512];
	char *log;

	ck_assert_int_eq(daemon_init(&da, id_a), 0);
	ck_assert_int_eq(daemon_init(&dc, id_c), 0);
	ck_assert_int_eq(daemon_init(&db, id_b), 0);
	more_a[1] = more_c[1] = more_b[1] = da.data;
	more_b[3] = write_config(&db, callee_spec());
	/* C, in another namespace, names B's: B.default. */
	ck_assert_int_eq(daemon_setenv(&da, "NAMESPACE", "default"), 0);
	ck_assert_int_eq(daemon_setenv(&db, "NAMESPACE", "default"), 0);
	ck_assert_int_eq(daemon_setenv(&dc, "NAMESPACE", "prod"), 0);
	app_a = echo_app_start("A");
	app_c = echo_app_start("C");
	app_b = echo_app_start("B");
	ck_assert_ptr_nonnull(app_b);
	start(&da, app_a, more_a);
	start(&dc, app_c, more_c);
	start(&db, app_b, more_b);
	wait_reachable(&da);
	wait_reachable(&dc);

	for (size_t i = 0; i < sizeof(call_cases) / sizeof(call_cases[0]); i++) {
		const struct call_case *c = &call_cases[i];
		struct daemon *d = c->caller == 0 ? &da : &dc;
		char code[64] = "";

		xreq(&x, d->port, c->verb, xfmt("/v1.0/invoke/%s.default/method/%s", id_b, c->method), NULL,
		     NULL);
		if (x.r.status != c->status)
			note("HTTP %s %s from %s: status %d, want %d: %.300s", c->verb, c->method,
			     c->caller == 0 ? "A" : "C", x.r.status, c->status, XBODY(&x));
		else if (c->status == 403 &&
			 (!xerror(&x, code, sizeof(code)) || strcmp(code, "ERR_DIRECT_INVOKE") != 0 ||
			  strstr(XBODY(&x),
				 "rpc error: code = PermissionDenied desc = access control policy has "
				 "denied access to id: ") == NULL))
			note("HTTP %s %s: 403 without daprd's error: %.300s", c->verb, c->method, XBODY(&x));
		if (c->grpc) {
			struct grpc_result r;
			int want = c->status == 200 ? 0 : 13;

			grpc_invoke(d->grpc_port, xfmt("%s.default", id_b), c->method, c->verb, &r);
			if (r.status != want)
				note("gRPC %s %s from %s: grpc-status %d, want %d: %s", c->verb, c->method,
				     c->caller == 0 ? "A" : "C", r.status, want, r.message);
			else if (want == 13 &&
				 strstr(r.message, "PermissionDenied desc = access control policy") == NULL)
				note("gRPC %s %s: INTERNAL without the ACL's message: %s", c->verb, c->method,
				     r.message);
			grpc_result_free(&r);
		}
	}
	if (reached_admin(app_b, seen, sizeof(seen)))
		note("B's app got %s, which an app may read as /admin", seen);
	/* One warning at start, naming the file: without mTLS the policies trust the network. */
	log = xslurp(db.log);
	ck_assert_ptr_nonnull(log);
	if (strstr(log,
		   "spec.accessControl.policies are matched on the app id and namespace the calling sidecar claims") ==
		    NULL ||
	    strstr(log, more_b[3]) == NULL)
		note("no start-up warning about unverified identities naming %s", more_b[3]);
	free(log);
	ck_nothing_wrong();
}
END_TEST

/*
 * Invocation of a gRPC app (--app-protocol grpc), through the caller's HTTP API and InvokeService: as
 * daprd, the operation's action alone decides (no verb) and the method is compared as it is (case
 * matters). B's app is an HTTP one, so an allowed call fails at the app with another error; a denied
 * one never gets there.
 */
START_TEST(invocation_of_a_grpc_app)
{
	const char *more_a[] = { "--data-dir", NULL, NULL };
	const char *more_b[] = { "--data-dir", NULL, "--config", NULL, "--app-protocol", "grpc", NULL };
	static const struct {
		const char *verb, *method;
		bool denied;
	} cases[] = {
		{ "DELETE", "orders/1", false }, /* GET-only for an HTTP app; the verb does not count here */
		{ "POST", "public", false },
		{ "GET", "PUBLIC", true }, /* an HTTP app's methods ignore case; a gRPC app's do not */
		{ "GET", "other", true },
		{ "GET", "public%2F..%2Fadmin", true },
	};

	ck_assert_int_eq(daemon_init(&da, id_a), 0);
	ck_assert_int_eq(daemon_init(&db, id_b), 0);
	more_a[1] = more_b[1] = da.data;
	more_b[3] = write_config(&db, callee_spec());
	ck_assert_int_eq(daemon_setenv(&da, "NAMESPACE", "default"), 0);
	ck_assert_int_eq(daemon_setenv(&db, "NAMESPACE", "default"), 0);
	app_a = echo_app_start("A");
	app_b = echo_app_start("B");
	start(&da, app_a, more_a);
	start(&db, app_b, more_b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct grpc_result r;
		long until = xnow_ms() + 5000;
		bool http_denied, grpc_denied;

		/* Name resolution may lag a start. */
		do {
			xreq(&x, da.port, cases[i].verb,
			     xfmt("/v1.0/invoke/%s.default/method/%s", id_b, cases[i].method), NULL, NULL);
			if (strstr(XBODY(&x), "resol") != NULL)
				xsleep_ms(100);
		} while (strstr(XBODY(&x), "resol") != NULL && xnow_ms() < until);
		http_denied = x.r.status == 403 &&
			      strstr(XBODY(&x), "PermissionDenied desc = access control policy "
						"has denied access to id: ") != NULL;
		if (http_denied != cases[i].denied)
			note("HTTP %s %s to a gRPC app: status %d (%.300s), want it %s", cases[i].verb,
			     cases[i].method, x.r.status, XBODY(&x),
			     cases[i].denied ? "denied" : "let through");
		grpc_invoke(da.grpc_port, xfmt("%s.default", id_b), cases[i].method, cases[i].verb, &r);
		grpc_denied = r.status == 13 &&
			      strstr(r.message, "PermissionDenied desc = access control policy") != NULL;
		if (grpc_denied != cases[i].denied)
			note("InvokeService %s %s to a gRPC app: grpc-status %d (%s), want it %s",
			     cases[i].verb, cases[i].method, r.status, r.message,
			     cases[i].denied ? "denied" : "let through");
		grpc_result_free(&r);
	}
	ck_nothing_wrong();
}
END_TEST

/* Proxied gRPC: the callee checks the method's :path with no verb, before its app is called. */
START_TEST(proxied_grpc)
{
	const char *more_a[] = { "--data-dir", NULL, NULL };
	const char *more_b[] = { "--data-dir", NULL, "--config", NULL, "--app-protocol", "grpc", NULL };
	static const struct {
		const char *path;
		bool denied;
	} cases[] = {
		{ "/pkg.Svc/Get", false },
		{ "/pkg.Svc/Put", false },
		{ "/pkg.Other/Get", true },
		{ "/pkg.svc/Get", true },
		{ "/pkg.Svc/../pkg.Other/Get", true },
		{ "/pkg.Svc//Get", true },
		{ "/pkg.Svc/%2e%2e/pkg.Other/Get", true },
	};
	const char *md[] = { "dapr-app-id", id_b, NULL };

	ck_assert_int_eq(daemon_init(&da, id_a), 0);
	ck_assert_int_eq(daemon_init(&db, id_b), 0);
	more_a[1] = more_b[1] = da.data;
	more_b[3] = write_config(&db, callee_spec());
	app_a = echo_app_start("A");
	/* Not a gRPC app: an allowed call fails at the app (UNAVAILABLE), a denied one never gets there. */
	app_b = echo_app_start("B");
	start(&da, app_a, more_a);
	start(&db, app_b, more_b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct grpc_client *cl = grpc_client_connect(da.grpc_port);
		struct grpc_result r;
		long until = xnow_ms() + 5000;

		ck_assert_ptr_nonnull(cl);
		for (;;) {
			ck_assert_msg(grpc_client_call(cl, cases[i].path, md, (const uint8_t *)"", 0, 10000,
						       &r) == 0,
				      "%s: no answer", cases[i].path);
			/* Name resolution may lag a start. */
			if (r.status != 14 || strstr(r.message, "resol") == NULL || xnow_ms() > until)
				break;
			grpc_result_free(&r);
			xsleep_ms(100);
		}
		if (cases[i].denied &&
		    (r.status != 7 ||
		     strstr(r.message, "access control policy has denied access to id: ") != r.message))
			note("%s: grpc-status %d (%s), want 7 PERMISSION_DENIED", cases[i].path, r.status,
			     r.message);
		if (!cases[i].denied && r.status == 7)
			note("%s: denied (%s), want it let through", cases[i].path, r.message);
		grpc_result_free(&r);
		grpc_client_close(cl);
	}
	ck_nothing_wrong();
}
END_TEST

/* spec.api on both front ends: HTTP gets a 404 naming the rule, gRPC daprd's UNIMPLEMENTED; healthz stays. */
START_TEST(api_lists_both_front_ends)
{
	const char *more[] = { "--config", NULL, NULL };
	const char *md[] = { NULL };
	struct grpc_client *cl;
	struct grpc_result r;
	char code[64];

	ck_assert_int_eq(daemon_init(&db, id_b), 0);
	ck_assert_int_eq(daemon_add_component(&db, "store", "state.in-memory", NULL), 0);
	more[1] = write_config(&db, "  api:\n"
				    "    allowed:\n"
				    "    - {name: state, version: v1.0, protocol: http}\n"
				    "    - {name: invoke, version: v1, protocol: http}\n"
				    "    denied:\n"
				    "    - {name: state, version: v1, protocol: grpc}\n");
	start(&db, NULL, more);
	xreq(&x, db.port, "GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
	xreq(&x, db.port, "GET", "/v1.0/state/store/k", NULL, NULL);
	ck_assert_msg(x.r.status == 204 || x.r.status == 200, "state: %d %s", x.r.status, XBODY(&x));
	xreq(&x, db.port, "GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 404);
	ck_assert(xerror(&x, code, sizeof(code)));
	ck_assert_str_eq(code, "ERR_NOT_FOUND");
	ck_assert_msg(strstr(XBODY(&x), "the metadata API (v1, http) is not in spec.api.allowed of ") != NULL,
		      "%s", XBODY(&x));
	xreq(&x, db.port, "POST", "/v1.0/publish/p/t", NULL, "{}");
	ck_status(&x, 404);
	xreq(&x, db.port, "POST", "/v1.0/shutdown", NULL, NULL);
	ck_status(&x, 404);
	xreq(&x, db.port, "POST", "/v1.0-alpha1/state/store/query", NULL, "{}");
	ck_status(&x, 404);
	/* gRPC: only the denied group is refused (no gRPC allow list). */
	cl = grpc_client_connect(db.grpc_port);
	ck_assert_ptr_nonnull(cl);
	ck_assert_int_eq(grpc_client_call(cl, "/dapr.proto.runtime.v1.Dapr/GetMetadata", md,
					  (const uint8_t *)"", 0, 10000, &r),
			 0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	ck_assert_int_eq(grpc_client_call(cl, "/dapr.proto.runtime.v1.Dapr/GetState", md, (const uint8_t *)"",
					  0, 10000, &r),
			 0);
	ck_assert_int_eq(r.status, 12);
	ck_assert_str_eq(r.message, "Not Implemented");
	ck_assert_ptr_nonnull(r.details_bin);
	grpc_result_free(&r);
	ck_assert_int_eq(
		grpc_client_call(cl, "/grpc.health.v1.Health/Check", md, (const uint8_t *)"", 0, 10000, &r),
		0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	grpc_client_close(cl);
}
END_TEST

/* A denied invoke group covers both forms of HTTP invocation, and only that front end. */
START_TEST(api_lists_deny_invoke)
{
	const char *more[] = { "--config", NULL, NULL };

	ck_assert_int_eq(daemon_init(&db, id_b), 0);
	more[1] = write_config(&db,
			       "  api:\n    denied:\n    - {name: invoke, version: v1.0, protocol: http}\n");
	app_b = echo_app_start("B");
	start(&db, app_b, more);
	xreq(&x, db.port, "GET", xfmt("/v1.0/invoke/%s/method/x", id_b), NULL, NULL);
	ck_status(&x, 404);
	ck_assert_msg(strstr(XBODY(&x), "the invoke API (v1, http) is denied by spec.api.denied at ") != NULL,
		      "%s", XBODY(&x));
	xreq(&x, db.port, "GET", "/x", xfmt("dapr-app-id: %s\r\n", id_b), NULL);
	ck_status(&x, 404);
	xreq(&x, db.port, "GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
	xreq(&x, db.port, "GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	ck_assert_uint_eq(echo_app_count(app_b), 0);
}
END_TEST

/* spec.components.deny: refused at start, naming the component, its file:line and the Configuration's. */
START_TEST(components_deny_at_start)
{
	const char *more[] = { "--config", NULL, NULL };
	const char *plugins = getenv("OUTRIG_TEST_PLUGIN_DIR");
	const char *args[] = { "--config", NULL, "--plugin-dir",
			       plugins != NULL ? plugins : "tests/plugins/.libs", NULL };
	char *log;

	ck_assert_int_eq(daemon_init(&db, id_b), 0);
	ck_assert_int_eq(daemon_add_component(&db, "store", "state.in-memory", NULL), 0);
	more[1] = args[1] = write_config(
		&db, "  components:\n    deny:\n    - bindings.smtp\n    - state.in-memory/v1\n");
	ck_assert_msg(daemon_start(&db, args) != 0, "outrigd started with a denied component");
	log = xslurp(db.log);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(
		strstr(log,
		       xfmt("component store (state.in-memory/v1) is denied by spec.components.deny at %s:9",
			    more[1])) != NULL,
		"%s", log);
	ck_assert_msg(strstr(log, xfmt("%s/store.yaml:", db.resources)) != NULL, "%s", log);
	free(log);
}
END_TEST

/* And at reload: a new component of a denied type is refused, the set in service kept. */
START_TEST(components_deny_at_reload)
{
	const char *more[] = { "--config", NULL, NULL };
	long until;
	char *log = NULL;

	ck_assert_int_eq(daemon_init(&db, id_b), 0);
	ck_assert_int_eq(daemon_add_component(&db, "store", "state.in-memory", NULL), 0);
	more[1] = write_config(&db, "  components:\n    deny: [bindings.smtp, state.in-memory/v2]\n");
	start(&db, NULL, more);
	ck_assert_int_eq(daemon_write_component(&db, "mail", "bindings.smtp", NULL), 0);
	ck_assert_int_eq(kill(db.pid, SIGHUP), 0);
	until = xnow_ms() + 10000;
	do {
		free(log);
		xsleep_ms(50);
		log = xslurp(db.log);
	} while (log != NULL && strstr(log, "reload refused") == NULL && xnow_ms() < until);
	ck_assert_msg(log != NULL && strstr(log, "reload refused") != NULL, "no refused reload: %s", log);
	ck_assert_msg(
		strstr(log, "component mail (bindings.smtp/v1) is denied by spec.components.deny at ") !=
			NULL,
		"%s", log);
	free(log);
	xreq(&x, db.port, "GET", "/v1.0/state/store/k", NULL, NULL);
	ck_assert_msg(x.r.status == 204 || x.r.status == 200, "state after the refused reload: %d",
		      x.r.status);
}
END_TEST

static Suite *acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("acl");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, invocation_table_http_and_grpc);
	tcase_add_test(tc, invocation_of_a_grpc_app);
	tcase_add_test(tc, proxied_grpc);
	tcase_add_test(tc, api_lists_both_front_ends);
	tcase_add_test(tc, api_lists_deny_invoke);
	tcase_add_test(tc, components_deny_at_start);
	tcase_add_test(tc, components_deny_at_reload);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acl_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
