/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/security/access_control.c and api_lists.c, read from a real Configuration file: daprd's matching rules and the encoded-path bypasses. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocks/invoke/invoke_request.h"
#include "resources/configuration.h"
#include "security/access_control.h"
#include "security/api_lists.h"

static const char acl_yaml[] = "apiVersion: dapr.io/v1alpha1\n"
			       "kind: Configuration\n"
			       "metadata:\n"
			       "  name: acl\n"
			       "spec:\n"
			       "  accessControl:\n"
			       "    defaultAction: deny\n"
			       "    trustDomain: public\n"
			       "    policies:\n"
			       "    - appId: app1\n"
			       "      defaultAction: deny\n"
			       "      trustDomain: public\n"
			       "      namespace: default\n"
			       "      operations:\n"
			       "      - {name: /public, httpVerb: [\"*\"], action: allow}\n"
			       "      - {name: op1, httpVerb: [POST, GET], action: allow}\n"
			       "      - {name: /op2/*, httpVerb: [\"*\"], action: allow}\n"
			       "      - {name: /admin/**, httpVerb: [\"*\"], action: deny}\n"
			       "      - {name: /files/**, httpVerb: [GET], action: allow}\n"
			       "      - {name: \"/v*/items\", httpVerb: [GET], action: allow}\n"
			       "      - {name: /pkg.Svc/Get, action: allow}\n"
			       "    - appId: app2\n"
			       "      defaultAction: allow\n"
			       "      trustDomain: public\n"
			       "      namespace: prod\n"
			       "      operations:\n"
			       "      - {name: /admin, httpVerb: [\"*\"], action: deny}\n"
			       "      - {name: /pkg.Admin/**, action: deny}\n"
			       "      - {name: /reports, httpVerb: [GET], action: deny}\n"
			       "    - appId: app3\n"
			       "      trustDomain: other\n"
			       "      namespace: default\n"
			       "      defaultAction: allow\n"
			       "  api:\n"
			       "    allowed:\n"
			       "    - {name: state, version: v1.0, protocol: http}\n"
			       "    - {name: invoke, version: v1, protocol: http}\n"
			       "    denied:\n"
			       "    - {name: secrets, version: v1, protocol: grpc}\n"
			       "  components:\n"
			       "    deny: [bindings.smtp, state.redis/v2]\n";

static struct configuration cfg;
static char path[64];

static void setup(void)
{
	struct diag d = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/check_acl_%d.yaml", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(acl_yaml, f);
	fclose(f);
	{
		const char *paths[] = { path };
		size_t errors = configuration_load(paths, 1, &cfg, &d);

		for (size_t i = 0; i < d.count; i++)
			fprintf(stderr, "%s\n", d.lines[i]);
		ck_assert_uint_eq(errors, 0);
		ck_assert_uint_eq(d.warnings, 2); /* the two operations without httpVerb */
	}
	diag_clear(&d);
}

static void teardown(void)
{
	configuration_free(&cfg);
	unlink(path);
}

struct acl_case {
	const char *app, *ns; /* the caller */
	const char *td;	      /* NULL: not verified (mTLS off) */
	const char *verb;     /* NULL: none (gRPC) */
	const char *method;   /* as the app gets it */
	bool http;	      /* the app speaks HTTP */
	bool allowed;
};

static const struct acl_case acl_cases[] = {
	/* daprd's matching: names, '*' and '**', verbs, case for HTTP apps only. */
	{ "app1", NULL, NULL, "GET", "/public", true, true },
	{ "app1", "default", NULL, "GET", "public", true, true },
	{ "app1", NULL, NULL, "DELETE", "/PUBLIC", true, true },
	{ "app1", NULL, NULL, NULL, "/PUBLIC", false, false },
	{ "app1", NULL, NULL, "GET", "/op1", true, true },
	{ "app1", NULL, NULL, "DELETE", "/op1", true, false },
	{ "app1", NULL, NULL, "POST", "/op1/sub/path", true, true }, /* a name matches its sub-paths */
	{ "app1", NULL, NULL, "GET", "/op2/x", true, true },
	{ "app1", NULL, NULL, "GET", "/op2/x/y", true, false }, /* '*' is one segment */
	{ "app1", NULL, NULL, "GET", "/op2", true, true },	/* daprd: op2 with a star below matches op2 */
	{ "app1", NULL, NULL, "GET", "/files/a/b/c", true, true },
	{ "app1", NULL, NULL, "POST", "/files/a", true, false },
	{ "app1", NULL, NULL, "GET", "/v2/items", true, true },
	{ "app1", NULL, NULL, "GET", "/V1/ITEMS", true, true },
	{ "app1", NULL, NULL, "GET", "/admin/x", true, false },
	{ "app1", NULL, NULL, "GET", "/unauthorized", true, false },
	{ "app1", NULL, NULL, NULL, "/pkg.Svc/Get", false, true },
	{ "app1", NULL, NULL, NULL, "/pkg.Svc/Put", false, false },
	{ "app1", NULL, NULL, "GET", "/pkg.Svc/Get", true,
	  false }, /* no httpVerb: decides for gRPC apps only */
	/* HEAD is served by GET handlers in many routers: a denied GET denies it too. */
	{ "app2", "prod", NULL, "HEAD", "/reports", true, false },
	{ "app2", "prod", NULL, "GET", "/reports", true, false },
	{ "app2", "prod", NULL, "POST", "/reports", true, true },
	{ "app1", NULL, NULL, "HEAD", "/op1", true, false },
	/* Who: app and namespace (none is "default"), trust domain when verified. */
	{ "app9", NULL, NULL, "GET", "/public", true, false },
	{ "app1", "prod", NULL, "GET", "/public", true, false },
	{ "app2", "prod", NULL, "GET", "/other", true, true },
	{ "app2", "prod", NULL, "GET", "/admin", true, false },
	{ "app2", NULL, NULL, "GET", "/other", true, false },
	{ "app3", NULL, NULL, "GET", "/x", true, true },
	{ "app3", NULL, "public", "GET", "/x", true, false },
	{ "app3", NULL, "other", "GET", "/x", true, true },
	{ "app1", NULL, "public", "GET", "/public", true, true },
	{ "app1", NULL, "other", "GET", "/public", true, false },
	{ "", NULL, NULL, "GET", "/public", true, false },
	/* Bypasses: what an app could decode into /admin (denied to app2) or out of /public (app1). */
	{ "app2", "prod", NULL, "GET", "/Admin", true, false },
	{ "app2", "prod", NULL, "GET", "/ADMIN/", true, false },
	{ "app2", "prod", NULL, "GET", "/admin/", true, false },
	{ "app2", "prod", NULL, "GET", "/admin.", true, false },
	{ "app2", "prod", NULL, "GET", "/admin..", true, false },
	{ "app2", "prod", NULL, "GET", "/admin%20", true, false },
	{ "app2", "prod", NULL, "GET", "/adm%69n", true, false },
	{ "app2", "prod", NULL, "GET", "/%41DMIN", true, false },
	{ "app2", "prod", NULL, "GET", "/x%2F..%2Fadmin", true, false },
	{ "app2", "prod", NULL, "GET", "/x%2f..%2fadmin", true, false },
	{ "app2", "prod", NULL, "GET", "/%2e%2e/admin", true, false },
	{ "app2", "prod", NULL, "GET", "/%2E/admin", true, false },
	{ "app2", "prod", NULL, "GET", "/x/%2e%2e%2fadmin", true, false },
	{ "app2", "prod", NULL, "GET", "/admin%23x", true, false },
	{ "app2", "prod", NULL, "GET", "/admin%3Fx", true, false },
	{ "app2", "prod", NULL, "GET", "/admin;jsessionid=1", true, false },
	{ "app2", "prod", NULL, "GET", "/admin%3bx", true, false },
	{ "app2", "prod", NULL, "GET", "/x%252F..%252Fadmin", true, false },
	{ "app2", "prod", NULL, "GET", "/%2561dmin", true, false },
	{ "app2", "prod", NULL, "GET", "/adm%", true, false },
	{ "app2", "prod", NULL, "GET", "/adm%6", true, false },
	{ "app2", "prod", NULL, "GET", "/adm%zzin", true, false },
	{ "app2", "prod", NULL, "GET", "/admin%00", true, false },
	{ "app2", "prod", NULL, "GET", "/admin%0d", true, false },
	{ "app2", "prod", NULL, "GET", "/x%5C..%5Cadmin", true, false },
	{ "app2", "prod", NULL, "GET", "/x\\..\\admin", true, false },
	{ "app2", "prod", NULL, "GET", "/%c0%afadmin", true, false }, /* overlong '/' */
	{ "app2", "prod", NULL, "GET", "/%ff", true, false },
	{ "app2", "prod", NULL, "GET", "//admin", true, false },
	{ "app2", "prod", NULL, "GET", "/./admin", true, false },
	{ "app2", "prod", NULL, "GET", "/x/../admin", true, false },
	{ "app1", NULL, NULL, "GET", "/public%23/../unauthorized", true, false },
	{ "app1", NULL, NULL, "GET", "/public%3F/../unauthorized", true, false },
	{ "app1", NULL, NULL, "GET", "/public%2F..%2Funauthorized", true, false },
	{ "app1", NULL, NULL, "GET", "/public/%2e%2e/unauthorized", true, false },
	{ "app1", NULL, NULL, "GET", "/public%25/../unauthorized", true, false },
	/* Plain encodings an app reads one way only stay allowed. */
	{ "app2", "prod", NULL, "GET", "/caf%C3%A9/x%20y", true, true },
	{ "app2", "prod", NULL, "GET", "/v1.2/x", true, true },
	{ "app2", "prod", NULL, "GET", "/", true, true },
	{ "app1", NULL, NULL, "GET", "/public/a%20b", true, true },
	/* Proxied gRPC: the :path, case-sensitive, with no verb. */
	{ "app2", "prod", NULL, NULL, "/pkg.Admin/Drop", false, false },
	{ "app2", "prod", NULL, NULL, "/pkg.admin/Drop", false, true },
	{ "app2", "prod", NULL, NULL, "/x/../pkg.Admin/Drop", false, false },
	{ "app2", "prod", NULL, NULL, "//pkg.Admin/Drop", false, false },
	{ "app2", "prod", NULL, NULL, "/pkg.Svc/Get", false, true },
};

START_TEST(acl_table)
{
	const struct acl_case *c = &acl_cases[_i];
	struct peer_identity who = { c->app, c->ns, c->td, c->td != NULL };
	char why[1024] = "";
	bool got =
		access_control_allows(&cfg.policy.acl, &who, c->method, c->verb, c->http, why, sizeof(why));

	ck_assert_msg(got == c->allowed, "%s.%s (%s) %s %s (%s app): %s, want %s; %s", c->app,
		      c->ns != NULL ? c->ns : "-", c->td != NULL ? c->td : "unverified",
		      c->verb != NULL ? c->verb : "-", c->method, c->http ? "HTTP" : "gRPC",
		      got ? "allowed" : "denied", c->allowed ? "allowed" : "denied", why);
	if (!got)
		ck_assert_msg(strstr(why, "access control policy has denied access to id: ") == why, "%s",
			      why);
}
END_TEST

/* The ACL sees what the app gets: cleaning twice is cleaning once, so the callee's second pass changes nothing. */
START_TEST(cleaning_is_idempotent)
{
	static const char *const raw[] = { "a/../b",   "../../v1.0/x",	 "./x//y/", "a%2Fb",
					   "%2e%2e/s", "a/./b/../../..", "/",	    "",
					   "x/..",     "a//b//" };

	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		char *once = invoke_clean_path(raw[i]), *twice = invoke_clean_path(once);

		ck_assert_str_eq(once, twice);
		free(once);
		free(twice);
	}
}
END_TEST

START_TEST(no_section_allows_all)
{
	struct access_control none = { 0 };
	struct peer_identity who = { "x", NULL, NULL, false };
	char why[256];

	ck_assert(access_control_allows(&none, &who, "/%2e%2e", "GET", true, why, sizeof(why)));
}
END_TEST

START_TEST(api_lists_rules)
{
	const struct api_lists *l = &cfg.policy.api;
	char why[512];

	ck_assert(api_lists_allow(l, API_PROTO_HTTP, "state", "v1", why, sizeof(why)));
	ck_assert(api_lists_allow(l, API_PROTO_HTTP, "invoke", "v1", why, sizeof(why)));
	ck_assert(!api_lists_allow(l, API_PROTO_HTTP, "secrets", "v1", why, sizeof(why)));
	ck_assert_msg(strstr(why, "not in spec.api.allowed") != NULL, "%s", why);
	ck_assert(!api_lists_allow(l, API_PROTO_HTTP, "state", "v1alpha1", why, sizeof(why)));
	ck_assert(api_lists_allow(l, API_PROTO_HTTP, "healthz", "v1", why, sizeof(why)));
	/* gRPC has no allow list here: all but the denied. */
	ck_assert(api_lists_allow(l, API_PROTO_GRPC, "publish", "v1", why, sizeof(why)));
	ck_assert(api_lists_allow(l, API_PROTO_GRPC, NULL, NULL, why, sizeof(why)));
	ck_assert(!api_lists_allow(l, API_PROTO_GRPC, "secrets", "v1", why, sizeof(why)));
	ck_assert_msg(strstr(why, "denied by spec.api.denied at ") != NULL, "%s", why);
	ck_assert(!api_lists_allow(l, API_PROTO_HTTP, NULL, NULL, why, sizeof(why)));
	ck_assert_str_eq(api_lists_group_version("v1.0-alpha1"), "v1alpha1");
}
END_TEST

START_TEST(components_denied)
{
	struct res_component comps[3] = { 0 };
	struct res_set rs = { .count = 3, .components = comps };
	struct diag d = { 0 };

	comps[0] = (struct res_component){ .file = "a.yaml",
					   .name = "mail",
					   .type = "bindings.smtp",
					   .version = "v1",
					   .type_pos = { "a.yaml", 7, 9 } };
	comps[1] = (struct res_component){ .file = "b.yaml",
					   .name = "cache",
					   .type = "state.redis",
					   .version = "v1",
					   .type_pos = { "b.yaml", 7, 9 } };
	comps[2] = (struct res_component){ .file = "c.yaml",
					   .name = "cache2",
					   .type = "state.redis",
					   .version = "v2",
					   .type_pos = { "c.yaml", 8, 9 } };
	ck_assert_uint_eq(cfg_policy_check_components(&cfg.policy, &rs, &d), 2);
	ck_assert_uint_eq(d.count, 2);
	ck_assert_msg(
		strstr(d.lines[0],
		       "a.yaml:7:9: component mail (bindings.smtp/v1) is denied by spec.components.deny at ") !=
			NULL,
		"%s", d.lines[0]);
	ck_assert_msg(strstr(d.lines[1], "c.yaml:8:9: component cache2 (state.redis/v2)") != NULL, "%s",
		      d.lines[1]);
	diag_clear(&d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("access_control");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, acl_table, 0, (int)(sizeof(acl_cases) / sizeof(acl_cases[0])));
	tcase_add_test(tc, cleaning_is_idempotent);
	tcase_add_test(tc, no_section_allows_all);
	tcase_add_test(tc, api_lists_rules);
	tcase_add_test(tc, components_denied);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
