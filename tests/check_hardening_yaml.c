/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile and unenforceable YAML (issue 11): alias bombs, deep nesting, Configuration access policies, --check agreeing with start-up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "resources/configuration.h"
#include "resources/resources.h"

static char dir[] = "/tmp/outrig-hardening-yaml-XXXXXX";

static void setup(void)
{
	strcpy(dir, "/tmp/outrig-hardening-yaml-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char *cmd;

	if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
		free(cmd);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes text to dir/sub/name (sub made if needed); returns the path (caller frees). */
static char *write_file(const char *sub, const char *name, const char *text)
{
	char *folder, *path;
	FILE *f;

	ck_assert_int_ge(asprintf(&folder, "%s/%s", dir, sub), 0);
	mkdir(folder, 0700);
	ck_assert_int_ge(asprintf(&path, "%s/%s", folder, name), 0);
	free(folder);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static char *folder_of(const char *sub)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, sub), 0);
	return p;
}

/* The fixture tests/data/hardening/name. */
static char *fixture(const char *name)
{
	const char *base = getenv("OUTRIG_TEST_DATA");
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/hardening/%s", base != NULL ? base : HARDENING_TEST_DATA, name), 0);
	return p;
}

static char *all_lines(const struct diag *d)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < d->count; i++)
		len += strlen(d->lines[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; i < d->count; i++) {
		strcat(s, d->lines[i]);
		strcat(s, "\n");
	}
	return s;
}

#define ck_diag_has(d, want)                                                                                 \
	do {                                                                                                 \
		char *all_ = all_lines(d);                                                                   \
		ck_assert_msg(strstr(all_, want) != NULL, "expected a line with\n  %s\ngot:\n%s", want,      \
			      all_);                                                                         \
		free(all_);                                                                                  \
	} while (0)

#define ck_out_has(out, want) ck_assert_msg(strstr(out, want) != NULL, "expected\n  %s\nin:\n%s", want, out)

/* Runs cmd through the shell with stderr folded in; returns its exit code, output in *out. */
static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
	char *cmd, *full, buf[4096];
	size_t len = 0;
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	ck_assert_int_ge(asprintf(&full, "%s 2>&1", cmd), 0);
	p = popen(full, "r");
	ck_assert_ptr_nonnull(p);
	*out = calloc(1, 1);
	while (fgets(buf, sizeof(buf), p) != NULL) {
		*out = realloc(*out, len + strlen(buf) + 1);
		strcpy(*out + len, buf);
		len += strlen(buf);
	}
	status = pclose(p);
	free(cmd);
	free(full);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *outrigd(void)
{
	const char *p = getenv("OUTRIGD");

	ck_assert_msg(p != NULL, "OUTRIGD is not set; run through make check");
	return p;
}

/* outrigd --check over the resources folder sub (and a --config file, or NULL). */
static int run_check(char **out, const char *sub, const char *config)
{
	char *res = folder_of(sub);
	int rc;

	mkdir(res, 0700);
	if (config != NULL)
		rc = run(out, "'%s' --check --resources-path '%s' --config '%s'", outrigd(), res, config);
	else
		rc = run(out, "'%s' --check --resources-path '%s'", outrigd(), res);
	free(res);
	return rc;
}

/*
 * Starts outrigd for real with the resources folder sub and a --config file (or NULL); it must
 * stop by itself, before serving. A sidecar that starts anyway is stopped by timeout (exit 124).
 */
static int run_startup(char **out, const char *sub, const char *config)
{
	char *res = folder_of(sub);
	int port = 20000 + (int)(getpid() % 20000);
	int rc;

	mkdir(res, 0700);
	rc = run(out,
		 "timeout -s KILL 20 '%s' --app-id hardening --dapr-http-port %d "
		 "--dapr-internal-grpc-port %d --data-dir '%s' --resources-path '%s' %s%s%s",
		 outrigd(), port, port + 1, dir, res, config != NULL ? "--config '" : "",
		 config != NULL ? config : "", config != NULL ? "'" : "");
	free(res);
	return rc;
}

/* ---- item 8: alias bombs, every kind ---- */

/*
 * A value whose aliases expand to 10^levels scalars: "a: &a [lol x10]", "b: &b [*a x10]", ...
 * indented by indent spaces. Six levels (a million nodes) is past the limit, yet small enough
 * for the unfixed reader to expand without exhausting the machine.
 */
static char *bomb(int levels, int indent)
{
	char *s = NULL, *line;
	size_t len = 0;

	for (int i = 0; i < levels; i++) {
		char item[8];
		const char *word = i == 0 ? "lol" : item;

		snprintf(item, sizeof(item), "*%c", 'a' + i - 1);
		ck_assert_int_ge(asprintf(&line, "%*s%c: &%c [%s,%s,%s,%s,%s,%s,%s,%s,%s,%s]\n", indent, "",
					  'a' + i, 'a' + i, word, word, word, word, word, word, word, word,
					  word, word),
				 0);
		s = realloc(s, len + strlen(line) + 1);
		strcpy(s + len, line);
		len += strlen(line);
		free(line);
	}
	return s;
}

static char *with_bomb(const char *head, int levels, int indent)
{
	char *b = bomb(levels, indent), *text;

	ck_assert_int_ge(asprintf(&text, "%s%s", head, b), 0);
	free(b);
	return text;
}

static const char component_head[] = "apiVersion: dapr.io/v1alpha1\n"
				     "kind: Component\n"
				     "metadata:\n"
				     "  name: bomb\n"
				     "spec:\n"
				     "  type: state.in-memory\n"
				     "  version: v1\n"
				     "  metadata:\n"
				     "  - name: lol\n"
				     "    value:\n";

static const char subscription_head[] = "apiVersion: dapr.io/v2alpha1\n"
					"kind: Subscription\n"
					"metadata:\n"
					"  name: bomb\n"
					"spec:\n"
					"  pubsubname: pubsub\n"
					"  topic: orders\n"
					"  routes:\n"
					"    default: /orders\n"
					"  metadata:\n";

static const char resiliency_head[] = "apiVersion: dapr.io/v1alpha1\n"
				      "kind: Resiliency\n"
				      "metadata:\n"
				      "  name: bomb\n"
				      "spec:\n"
				      "  policies:\n"
				      "    retries:\n"
				      "      bomb:\n";

static const char configuration_head[] = "apiVersion: dapr.io/v1alpha1\n"
					 "kind: Configuration\n"
					 "metadata:\n"
					 "  name: bomb\n"
					 "spec:\n"
					 "  nameResolution:\n"
					 "    component: sqlite\n"
					 "    configuration:\n";

static const char alias_limit[] = "the aliases of this document expand to more than 100000 nodes or 4 MiB";

/* Loads one resource file; the error must name file:line of the alias past the limit. */
static void check_resource_bomb(const char *kind, const char *head, int line)
{
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	char *text = with_bomb(head, 6, 8), *path, *want;
	double t0;

	path = write_file(kind, "bomb.yaml", text);
	t0 = now_s();
	ck_assert_uint_ge(resources_load_file(path, "app", &rs, &d), 1);
	/* The fifth list's aliases, of 11111 nodes each, pass the limit at the eighth (line e:). */
	ck_assert_int_ge(asprintf(&want, "%s:%d:", path, line), 0);
	ck_diag_has(&d, want);
	ck_diag_has(&d, alias_limit);
	ck_assert_msg(now_s() - t0 < 2.0, "%s bomb took %.2f s", kind, now_s() - t0);
	ck_assert_uint_eq(rs.count, 0);
	resources_free(&rs);
	diag_clear(&d);
	free(want);
	free(path);
	free(text);
}

START_TEST(test_bomb_component)
{
	check_resource_bomb("component", component_head, 15);
}
END_TEST

START_TEST(test_bomb_subscription)
{
	check_resource_bomb("subscription", subscription_head, 15);
}
END_TEST

START_TEST(test_bomb_resiliency)
{
	check_resource_bomb("resiliency", resiliency_head, 13);
}
END_TEST

START_TEST(test_bomb_configuration)
{
	struct configuration c;
	struct diag d = { 0 };
	char *text = with_bomb(configuration_head, 6, 6), *path = write_file("cfg", "bomb.yaml", text), *want;
	const char *paths[] = { path };

	ck_assert_uint_ge(configuration_load(paths, 1, &c, &d), 1);
	ck_assert_int_ge(asprintf(&want, "%s:13:", path), 0);
	ck_diag_has(&d, want);
	ck_diag_has(&d, alias_limit);
	configuration_free(&c);
	diag_clear(&d);
	free(want);
	free(path);
	free(text);
}
END_TEST

/* The billion laughs (10^9 "lol"s from a few hundred bytes), through outrigd --check, both kinds. */
START_TEST(test_bomb_check_billion_laughs)
{
	char *component = fixture("alias-bomb-component.yaml"),
	     *cfg = fixture("alias-bomb-configuration.yaml");
	char *out, *want;
	double t0 = now_s();
	int rc;

	free(write_file("laughs", "bomb.yaml", "# replaced below\n"));
	ck_assert_int_eq(run(&out, "cp '%s' '%s/laughs/bomb.yaml'", component, dir), 0);
	free(out);
	rc = run_check(&out, "laughs", NULL);
	ck_assert_msg(rc == 1, "rc %d:\n%s", rc, out);
	ck_assert_int_ge(asprintf(&want, "%s/laughs/bomb.yaml:16:14: %s", dir, alias_limit), 0);
	ck_out_has(out, want);
	free(want);
	free(out);
	rc = run_check(&out, "empty", cfg);
	ck_assert_msg(rc == 1, "rc %d:\n%s", rc, out);
	ck_assert_int_ge(asprintf(&want, "%s:14:14: %s", cfg, alias_limit), 0);
	ck_out_has(out, want);
	/* Before the bound, these ran for seconds and grew to gigabytes. */
	ck_assert_msg(now_s() - t0 < 4.0, "took %.2f s", now_s() - t0);
	free(want);
	free(out);
	free(component);
	free(cfg);
}
END_TEST

/* A self-containing alias is refused by name, before any walk over it. */
START_TEST(test_alias_recursive)
{
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	char *text, *path, *want;

	ck_assert_int_ge(asprintf(&text, "%s      &loop [x, *loop]\n", component_head), 0);
	path = write_file("recursive", "loop.yaml", text);
	ck_assert_uint_ge(resources_load_file(path, "app", &rs, &d), 1);
	ck_assert_int_ge(asprintf(&want, "%s:11:17: alias *loop is inside the node it refers to", path), 0);
	ck_diag_has(&d, want);
	resources_free(&rs);
	diag_clear(&d);
	free(want);
	free(path);
	free(text);
}
END_TEST

/* A few aliases, as people write them, still work and expand as daprd expands them. */
START_TEST(test_few_aliases_accepted)
{
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	char *path = fixture("few-aliases.yaml");

	ck_assert_uint_eq(resources_load_file(path, "app", &rs, &d), 0);
	ck_assert_uint_eq(rs.count, 1);
	ck_assert_uint_eq(rs.components[0].metadata_count, 2);
	ck_assert_str_eq(rs.components[0].metadata[1].value, "{\"hosts\":[\"a\",\"b\"],\"port\":6379}");
	resources_free(&rs);
	diag_clear(&d);
	free(path);
}
END_TEST

/* A file is read whole before its checks: one larger than any resource is refused unread. */
START_TEST(test_huge_file_refused)
{
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	size_t size = (17u << 20) + 1;
	char *text = malloc(size), *path;

	memset(text, '#', size - 2);
	text[size - 2] = '\n';
	text[size - 1] = '\0';
	path = write_file("huge", "huge.yaml", text);
	ck_assert_uint_eq(resources_load_file(path, "app", &rs, &d), 1);
	ck_diag_has(&d, "huge.yaml: larger than 16 MiB, the most outrig reads of a YAML file");
	resources_free(&rs);
	diag_clear(&d);
	free(path);
	free(text);
}
END_TEST

/* ---- item 16: nesting depth ---- */

static char *deep(const char *head, size_t levels)
{
	char *text = malloc(strlen(head) + 2 * levels + 2);
	size_t len = strlen(head);

	strcpy(text, head);
	memset(text + len, '[', levels);
	memset(text + len + levels, ']', levels);
	strcpy(text + len + 2 * levels, "\n");
	return text;
}

START_TEST(test_deep_nesting_refused_quickly)
{
	struct res_set rs = { 0 };
	struct configuration c;
	struct diag d = { 0 };
	/* libyaml slows down with each level: 100k levels took 24 s before the bound. */
	char *text =
		deep("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: deep\n"
		     "spec:\n  type: state.in-memory\n  version: v1\n  metadata:\n  - name: x\n    value: ",
		     100000);
	char *path = write_file("deep", "deep.yaml", text), *want;
	const char *paths[1];
	double t0 = now_s();

	ck_assert_uint_ge(resources_load_file(path, "app", &rs, &d), 1);
	ck_assert_msg(now_s() - t0 < 2.0, "took %.2f s", now_s() - t0);
	/* Level 101 is the 97th "[" of line 10 (four levels of mapping and list before it). */
	ck_assert_int_ge(asprintf(&want, "%s:10:108: nested more than 100 levels deep", path), 0);
	ck_diag_has(&d, want);
	resources_free(&rs);
	diag_clear(&d);
	free(want);
	free(path);
	free(text);

	text = deep("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  nameResolution:\n"
		    "    configuration:\n      x: ",
		    100000);
	path = write_file("deep", "config.yaml", text);
	paths[0] = path;
	t0 = now_s();
	ck_assert_uint_ge(configuration_load(paths, 1, &c, &d), 1);
	ck_assert_msg(now_s() - t0 < 2.0, "took %.2f s", now_s() - t0);
	ck_diag_has(&d, "nested more than 100 levels deep");
	configuration_free(&c);
	diag_clear(&d);
	free(path);
	free(text);
}
END_TEST

/* Depth through aliases counts too: an anchor 60 deep used 60 deep is 120 levels. */
START_TEST(test_deep_through_alias)
{
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	char *inner = deep("", 60), *text, *path, open[61], close[61];

	inner[strlen(inner) - 1] = '\0';
	memset(open, '[', 60);
	memset(close, ']', 60);
	open[60] = close[60] = '\0';
	ck_assert_int_ge(
		asprintf(&text, "%s      a: &a %s\n      b: %s*a%s\n", component_head, inner, open, close),
		0);
	path = write_file("deepalias", "deep.yaml", text);
	ck_assert_uint_ge(resources_load_file(path, "app", &rs, &d), 1);
	ck_diag_has(&d, "nested more than 100 levels deep (counting what aliases expand to)");
	resources_free(&rs);
	diag_clear(&d);
	free(path);
	free(text);
	free(inner);
}
END_TEST

/* ---- item 4: access policies of a Configuration: enforced (issue 15), and bad values refused at --check and start-up ---- */

struct policy_case {
	const char *spec; /* the spec section, as YAML */
	int line, column; /* of the node named */
	const char *field;
	const char *message;
};

static const struct policy_case policy_cases[] = {
	{ "  accessControl:\n    defaultAction: alow\n", 7, 20, "spec.accessControl.defaultAction",
	  "expected allow or deny, found \"alow\"" },
	{ "  accessControl:\n    policies:\n    - appId: a\n      trustDomain: public\n", 8, 7,
	  "spec.accessControl.policies[0].namespace", "missing; daprd requires it" },
	{ "  accessControl:\n    policies:\n    - appId: a\n      namespace: n\n      trustDomain: public\n"
	  "      operations:\n      - {name: /x, httpVerb: [get], action: allow}\n",
	  12, 31, "spec.accessControl.policies[0].operations[0].httpVerb", "\"get\" is not an HTTP verb" },
	{ "  api:\n    allowed:\n    - name: state\n      version: v1.0\n", 8, 7, "spec.api.allowed[0]",
	  "protocol missing: write http or grpc" },
	{ "  api:\n    denied:\n    - {name: secret, version: v1.0, protocol: http}\n", 8, 7, "spec.api.denied[0]",
	  "name \"secret\" is not one of Dapr's API groups" },
	{ "  api:\n    denied:\n    - {name: secrets, version: v2, protocol: grpc}\n", 8, 7, "spec.api.denied[0]",
	  "version \"v2\" is not one of Dapr's" },
	{ "  components:\n    deny:\n    - bindings.smtp/v1/x\n", 8, 7, "spec.components.deny",
	  "\"bindings.smtp/v1/x\" is not a component type" },
};

static char *policy_file(size_t i)
{
	char *text, *path, name[32];

	ck_assert_int_ge(asprintf(&text,
				  "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n"
				  "  name: policy\nspec:\n%s",
				  policy_cases[i].spec),
			 0);
	snprintf(name, sizeof(name), "policy-%zu.yaml", i);
	path = write_file("policies", name, text);
	free(text);
	return path;
}

static char *policy_message(size_t i, const char *path)
{
	char *want;

	ck_assert_int_ge(asprintf(&want, "%s:%d:%d: %s: %s", path, policy_cases[i].line, policy_cases[i].column,
				  policy_cases[i].field, policy_cases[i].message),
			 0);
	return want;
}

START_TEST(test_policy_refused_load)
{
	struct configuration c;
	struct diag d = { 0 };
	char *path = policy_file((size_t)_i), *want = policy_message((size_t)_i, path);
	const char *paths[] = { path };

	ck_assert_uint_eq(configuration_load(paths, 1, &c, &d), 1);
	ck_diag_has(&d, want);
	configuration_free(&c);
	diag_clear(&d);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_policy_refused_check)
{
	char *path = policy_file((size_t)_i), *want = policy_message((size_t)_i, path), *out;
	int rc = run_check(&out, "empty", path);

	ck_assert_msg(rc == 1, "rc %d:\n%s", rc, out);
	ck_out_has(out, want);
	free(out);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_policy_refused_startup)
{
	char *path = policy_file((size_t)_i), *want = policy_message((size_t)_i, path), *out;
	int rc = run_startup(&out, "empty", path);

	/* The log writes a message's double quotes as single ones. */
	for (char *q = strchr(want, '"'); q != NULL; q = strchr(q, '"'))
		*q = '\'';
	ck_assert_msg(rc == 1, "outrigd should refuse to start (rc %d):\n%s", rc, out);
	ck_out_has(out, want);
	ck_out_has(out, "not starting");
	free(out);
	free(want);
	free(path);
}
END_TEST

/* Good sections load without a word, and unknown fields are warnings at their file:line. */
START_TEST(test_policy_empty_is_warning)
{
	struct configuration c;
	struct diag d = { 0 };
	char *path = write_file("policies", "empty.yaml",
				"apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n"
				"  api:\n    allowed: []\n  components:\n    deny: []\n"
				"  accessControl:\n    defaultAction: allow\n    defaultActon: deny\n");
	const char *paths[] = { path };
	char *want;

	ck_assert_uint_eq(configuration_load(paths, 1, &c, &d), 0);
	ck_assert_int_ge(asprintf(&want,
				  "warning: %s:10:5: spec.accessControl: unknown field \"defaultActon\"; ignored",
				  path),
			 0);
	ck_diag_has(&d, want);
	ck_assert_uint_eq(d.warnings, 1);
	ck_assert(c.policy.acl.set);
	free(want);
	configuration_free(&c);
	diag_clear(&d);
	free(path);
}
END_TEST

/* ---- item 21: unknown fields of a Resiliency ---- */

START_TEST(test_resiliency_unknown_fields)
{
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	char *path = write_file("resil", "typo.yaml",
				"apiVersion: dapr.io/v1alpha1\n"
				"kind: Resiliency\n"
				"metadata:\n"
				"  name: typo\n"
				"spec:\n"
				"  policies:\n"
				"    retries:\n"
				"      pubsubRetry:\n"
				"        policy: constant\n"
				"        duration: 5s\n"
				"        maxRetires: 10\n"
				"    timeout:\n"
				"      general: 5s\n"
				"  targets:\n"
				"    components:\n"
				"      pubsub:\n"
				"        inbound:\n"
				"          retry: pubsubRetry\n"
				"          retyr: pubsubRetry\n"
				"  target: {}\n");
	char *want;

	ck_assert_uint_eq(resources_load_file(path, "app", &rs, &d), 0);
	ck_assert_int_ge(asprintf(&want,
				  "warning: %s:11:9: spec.policies.retries.pubsubRetry: unknown field "
				  "\"maxRetires\"; ignored (the fields are policy, duration, maxInterval, "
				  "maxRetries and matching)",
				  path),
			 0);
	ck_diag_has(&d, want);
	free(want);
	ck_assert_int_ge(asprintf(&want, "warning: %s:12:5: spec.policies: unknown field \"timeout\"", path),
			 0);
	ck_diag_has(&d, want);
	free(want);
	ck_assert_int_ge(asprintf(&want,
				  "warning: %s:19:11: spec.targets.components.pubsub.inbound: unknown field "
				  "\"retyr\"",
				  path),
			 0);
	ck_diag_has(&d, want);
	free(want);
	ck_assert_int_ge(asprintf(&want, "warning: %s:20:3: spec: unknown field \"target\"", path), 0);
	ck_diag_has(&d, want);
	free(want);
	ck_assert_uint_eq(d.warnings, 4);
	resources_free(&rs);
	diag_clear(&d);
	free(path);
}
END_TEST

/* ---- item 10: --check agrees with start-up ---- */

/* Two secret stores that each take their metadata from the other: neither can ever be made. */
START_TEST(test_check_secret_ref_loop)
{
	static const char store[] = "apiVersion: dapr.io/v1alpha1\n"
				    "kind: Component\n"
				    "metadata:\n"
				    "  name: %s\n"
				    "spec:\n"
				    "  type: secretstores.local.file\n"
				    "  version: v1\n"
				    "  metadata:\n"
				    "  - name: secretsFile\n"
				    "    secretKeyRef: {name: path, key: path}\n"
				    "auth:\n"
				    "  secretStore: %s\n";
	char *text, *out, *want;
	int rc;

	ck_assert_int_ge(asprintf(&text, store, "storea", "storeb"), 0);
	free(write_file("loop", "a.yaml", text));
	free(text);
	ck_assert_int_ge(asprintf(&text, store, "storeb", "storea"), 0);
	free(write_file("loop", "b.yaml", text));
	free(text);
	rc = run_check(&out, "loop", NULL);
	ck_assert_msg(rc == 1, "--check passed a loop start-up refuses (rc %d):\n%s", rc, out);
	ck_assert_int_ge(asprintf(&want,
				  "%s/loop/a.yaml:10:19: component storea: spec.metadata[secretsFile] "
				  "secretKeyRef: secret store storeb was not created before this component",
				  dir),
			 0);
	ck_out_has(out, want);
	free(want);
	free(out);
	/* Start-up says the same. */
	rc = run_startup(&out, "loop", NULL);
	ck_assert_msg(rc == 1, "rc %d:\n%s", rc, out);
	ck_out_has(out, "secret store storeb was not created before this component");
	free(out);
}
END_TEST

/* A store that reads its file path from another store is fine for both. */
START_TEST(test_check_secret_ref_chain_ok)
{
	char *secrets = write_file("chain-secrets", "s.json", "{\"path\": \"/dev/null\"}"), *text, *out;
	int rc;

	ck_assert_int_ge(asprintf(&text,
				  "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: second\n"
				  "spec:\n  type: secretstores.local.file\n  version: v1\n  metadata:\n"
				  "  - name: secretsFile\n    secretKeyRef: {name: path, key: path}\n"
				  "auth:\n  secretStore: first\n---\n"
				  "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: first\n"
				  "spec:\n  type: secretstores.local.file\n  version: v1\n  metadata:\n"
				  "  - name: secretsFile\n    value: %s\n",
				  secrets),
			 0);
	free(write_file("chain", "stores.yaml", text));
	rc = run_check(&out, "chain", NULL);
	ck_assert_msg(rc == 0, "rc %d:\n%s", rc, out);
	free(out);
	free(text);
	free(secrets);
}
END_TEST

START_TEST(test_check_redis_tls_refused)
{
	const char *plugins = getenv("OUTRIG_PLUGIN_PATH");
	char *so, *out, *want;
	int rc;

	ck_assert_int_ge(asprintf(&so, "%s/state_redis.so", plugins != NULL ? plugins : "."), 0);
	if (access(so, R_OK) != 0) {
		fprintf(stderr, "state.redis not built; skipped\n");
		free(so);
		return;
	}
	free(so);
	free(write_file("tls", "redis.yaml",
			"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
			"spec:\n  type: state.redis\n  version: v1\n  metadata:\n"
			"  - name: redisHost\n    value: localhost:6379\n"
			"  - name: enableTLS\n    value: \"true\"\n"));
	rc = run_check(&out, "tls", NULL);
	ck_assert_msg(rc == 1, "--check passed what start-up refuses (rc %d):\n%s", rc, out);
	ck_assert_int_ge(asprintf(&want,
				  "%s/tls/redis.yaml:1:1: component statestore (state.redis): enableTLS is "
				  "true",
				  dir),
			 0);
	ck_out_has(out, want);
	free(want);
	free(out);
}
END_TEST

START_TEST(test_check_subscription_no_false_warning)
{
	char *out;
	int rc;

	free(write_file("sub", "pubsub.yaml",
			"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\n"
			"spec:\n  type: pubsub.in-memory\n  version: v1\n---\n"
			"apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: orders\n"
			"spec:\n  pubsubname: pubsub\n  topic: orders\n  routes:\n    default: /orders\n---\n"
			"apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: lost\n"
			"spec:\n  pubsubname: nowhere\n  topic: lost\n  routes:\n    default: /lost\n"));
	rc = run_check(&out, "sub", NULL);
	ck_assert_msg(rc == 0, "rc %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "\"pubsub\" is not a pub/sub component") == NULL, "%s", out);
	/* A subscription naming no component is still pointed out. */
	ck_out_has(out, "\"nowhere\" is not a pub/sub component here");
	ck_out_has(out, "1 component and 2 subscriptions OK, 1 warning");
	free(out);
}
END_TEST

static Suite *hardening_suite(void)
{
	Suite *s = suite_create("hardening_yaml");
	TCase *aliases = tcase_create("aliases"), *depth = tcase_create("depth"),
	      *policy = tcase_create("policy"), *resil = tcase_create("resiliency"),
	      *agree = tcase_create("check_agrees");
	size_t npolicy = sizeof(policy_cases) / sizeof(policy_cases[0]);

	tcase_add_checked_fixture(aliases, setup, teardown);
	tcase_add_test(aliases, test_bomb_component);
	tcase_add_test(aliases, test_bomb_subscription);
	tcase_add_test(aliases, test_bomb_resiliency);
	tcase_add_test(aliases, test_bomb_configuration);
	tcase_add_test(aliases, test_bomb_check_billion_laughs);
	tcase_add_test(aliases, test_alias_recursive);
	tcase_add_test(aliases, test_few_aliases_accepted);
	tcase_add_test(aliases, test_huge_file_refused);
	suite_add_tcase(s, aliases);
	tcase_add_checked_fixture(depth, setup, teardown);
	tcase_add_test(depth, test_deep_nesting_refused_quickly);
	tcase_add_test(depth, test_deep_through_alias);
	suite_add_tcase(s, depth);
	tcase_add_checked_fixture(policy, setup, teardown);
	tcase_add_loop_test(policy, test_policy_refused_load, 0, (int)npolicy);
	tcase_add_loop_test(policy, test_policy_refused_check, 0, (int)npolicy);
	tcase_add_loop_test(policy, test_policy_refused_startup, 0, (int)npolicy);
	tcase_add_test(policy, test_policy_empty_is_warning);
	suite_add_tcase(s, policy);
	tcase_add_checked_fixture(resil, setup, teardown);
	tcase_add_test(resil, test_resiliency_unknown_fields);
	suite_add_tcase(s, resil);
	tcase_add_checked_fixture(agree, setup, teardown);
	tcase_add_test(agree, test_check_secret_ref_loop);
	tcase_add_test(agree, test_check_secret_ref_chain_ok);
	tcase_add_test(agree, test_check_redis_tls_refused);
	tcase_add_test(agree, test_check_subscription_no_false_warning);
	suite_add_tcase(s, agree);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hardening_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
