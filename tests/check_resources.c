/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/resources/resources.c: Dapr resource YAML (components, subscriptions, resiliency) in, models and exact messages out. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/log.h"
#include "resources/resources.h"

#ifndef RES_TEST_DATA
#define RES_TEST_DATA "tests/data"
#endif

/* ---- helpers ---- */

static char tmp_root[1024];
static char tmp_dir[2048];
static char captured[65536];
static int saved_stdout = -1;

/* A fixture under tests/data: $OUTRIG_TEST_DATA under make check, else the source tree's. */
static const char *data_path(const char *rel)
{
	static char path[8192];
	const char *base = getenv("OUTRIG_TEST_DATA");

	snprintf(path, sizeof(path), "%s/%s", base != NULL ? base : RES_TEST_DATA, rel);
	return path;
}

static char *data_dup(const char *rel)
{
	char *p = strdup(data_path(rel));

	ck_assert_ptr_nonnull(p);
	return p;
}

/* The fixture folder of component YAML, tests/data/resources. */
static char *fixture_dup(const char *rel)
{
	char sub[4096];

	snprintf(sub, sizeof(sub), "resources/%s", rel);
	return data_dup(sub);
}

/* Removes path and what it holds; the tests nest folders one level deep at most. */
static void remove_tree(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;

	while (dir != NULL && (e = readdir(dir)) != NULL) {
		char sub[8192];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(sub);
		else
			unlink(sub);
	}
	if (dir != NULL)
		closedir(dir);
	rmdir(path);
}

/* Each test gets a fresh folder inside tmp_root; main() removes tmp_root, which also
 * cleans up after failed tests, whose teardown check does not run. */
static void tmp_setup(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/test.XXXXXX", tmp_root);
	ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void tmp_teardown(void)
{
	remove_tree(tmp_dir);
}

/* Writes name (relative to the temp folder) and returns its full path (static buffer). */
static const char *tmp_write(const char *name, const char *text)
{
	static char path[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Log lines go to stdout: send them to a file while the code under test runs. */
static void capture_start(void)
{
	char path[8192];
	int fd;

	fflush(stdout);
	snprintf(path, sizeof(path), "%s/.stdout", tmp_dir);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	saved_stdout = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
}

static const char *capture_end(void)
{
	char path[8192];
	FILE *f;
	size_t n;

	fflush(stdout);
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	snprintf(path, sizeof(path), "%s/.stdout", tmp_dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(captured, 1, sizeof(captured) - 1, f);
	captured[n] = '\0';
	fclose(f);
	remove(path);
	return captured;
}

/* Copies tmpl with every '@' replaced by dir, so expected lines read like the real ones. */
static void expand(char *buf, size_t size, const char *tmpl, const char *dir)
{
	size_t n = 0, dlen = strlen(dir);

	for (const char *p = tmpl; *p != '\0' && n + dlen + 1 < size; p++) {
		if (*p == '@') {
			memcpy(buf + n, dir, dlen);
			n += dlen;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
}

/* Checks that d holds exactly the expected lines ('@' standing for dir), in order. */
static void assert_lines(const struct diag *d, const char *dir, size_t n, ...)
{
	char want[8192];
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n && i < d->count; i++) {
		expand(want, sizeof(want), va_arg(ap, const char *), dir);
		ck_assert_str_eq(d->lines[i], want);
	}
	va_end(ap);
	for (size_t i = n; i < d->count; i++)
		ck_abort_msg("unexpected extra line: %s", d->lines[i]);
	ck_assert_uint_eq(d->count, n);
}

/* Checks that the captured log holds tmpl ('@' standing for dir). */
static void assert_logged(const char *log, const char *dir, const char *tmpl)
{
	char want[8192];

	expand(want, sizeof(want), tmpl, dir);
	ck_assert_msg(strstr(log, want) != NULL, "log lacks \"%s\"; it has:\n%s", want, log);
}

static const struct res_metadata *find_meta(const struct res_component *c, const char *name)
{
	for (size_t i = 0; i < c->metadata_count; i++) {
		if (strcmp(c->metadata[i].name, name) == 0)
			return &c->metadata[i];
	}
	ck_abort_msg("metadata %s not found in %s", name, c->name);
	return NULL;
}

static void assert_pos(struct res_pos pos, const char *file, int line, int column)
{
	ck_assert_str_eq(pos.file, file);
	ck_assert_int_eq(pos.line, line);
	ck_assert_int_eq(pos.column, column);
}

/* Loads one YAML text written to the temp folder as name. */
static size_t load_text(const char *name, const char *text, const char *app_id, struct res_set *set,
			struct diag *d)
{
	return resources_load_file(tmp_write(name, text), app_id, set, d);
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
	static char bufs[4][8192];
	static int next;
	char *buf = bufs[next++ % 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return buf;
}

/* ---- the tests ---- */

START_TEST(test_valid_component)
{
	char *file = fixture_dup("valid/component.yaml");
	struct res_set set = { 0 };
	struct diag d = { 0 };
	const struct res_component *c;
	const struct res_metadata *m;

	ck_assert_uint_eq(resources_load_file(file, "orders-app", &set, &d), 0);
	assert_lines(&d, "", 0);
	ck_assert_uint_eq(set.count, 1);
	c = &set.components[0];
	ck_assert_str_eq(c->file, file);
	assert_pos(c->pos, file, 2, 1);
	ck_assert_str_eq(c->name, "orders");
	assert_pos(c->name_pos, file, 5, 9);
	ck_assert_str_eq(c->type, "state.sqlite");
	assert_pos(c->type_pos, file, 8, 9);
	ck_assert_str_eq(c->version, "v2");
	assert_pos(c->version_pos, file, 9, 12);
	ck_assert_int_eq(c->init_timeout_ms, 90000);
	ck_assert(c->ignore_errors);
	ck_assert_str_eq(c->secret_store, "local-secrets");
	ck_assert_uint_eq(c->metadata_count, 10);

	/* Every scalar as written; quotes are YAML's, not the value's. */
	m = &c->metadata[0];
	ck_assert_str_eq(m->name, "connectionString");
	ck_assert_str_eq(m->value, "file:orders.db");
	ck_assert_ptr_null(m->secret_store_key_name);
	ck_assert_ptr_null(m->secret_store_key);
	assert_pos(m->pos, file, 14, 12);
	ck_assert_str_eq(find_meta(c, "timeout")->value, "5s");
	ck_assert_str_eq(find_meta(c, "actorStateStore")->value, "true");
	ck_assert_str_eq(find_meta(c, "maxConns")->value, "42");
	ck_assert_str_eq(find_meta(c, "ratio")->value, "0.50");
	ck_assert_str_eq(find_meta(c, "quoted")->value, "it's quoted");

	/* A mapping becomes compact JSON, keys sorted and scalars typed as daprd does. */
	m = find_meta(c, "options");
	ck_assert_str_eq(m->value, "{\"a\":[1,2.5,\"3\",true,null],\"nested\":{\"k\":\"v\"},"
				   "\"z\":\"last\"}");
	assert_pos(m->pos, file, 27, 7);

	m = find_meta(c, "password");
	ck_assert_ptr_null(m->value);
	ck_assert_str_eq(m->secret_store_key_name, "db-secret");
	ck_assert_str_eq(m->secret_store_key, "password");
	assert_pos(m->pos, file, 32, 7);

	/* Without a key, daprd reads the key named like the secret. */
	m = find_meta(c, "token");
	ck_assert_ptr_null(m->value);
	ck_assert_str_eq(m->secret_store_key_name, "api-token");
	ck_assert_str_eq(m->secret_store_key, "api-token");

	m = find_meta(c, "empty");
	ck_assert_str_eq(m->value, "");
	assert_pos(m->pos, file, 36, 5);

	resources_free(&set);
	ck_assert_uint_eq(set.count, 0);
	ck_assert_ptr_null(set.components);
	diag_clear(&d);
	free(file);
}
END_TEST

START_TEST(test_multi_document)
{
	char *file = fixture_dup("multi/resources.yaml");
	struct res_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(resources_load_file(file, "app", &set, &d), 0);
	/* The empty document says nothing; the Deployment gets a warning, not an error. */
	assert_lines(&d, file, 1,
		     "warning: @:20:1: not a Dapr resource (apiVersion \"apps/v1\", "
		     "kind \"Deployment\"); skipped");
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(set.count, 2);
	ck_assert_str_eq(set.components[0].name, "first");
	ck_assert_str_eq(set.components[0].type, "state.in-memory");
	assert_pos(set.components[0].pos, file, 1, 1);
	ck_assert_str_eq(set.components[1].name, "second");
	ck_assert_str_eq(set.components[1].type, "pubsub.in-memory");
	assert_pos(set.components[1].pos, file, 25, 1);
	assert_pos(set.components[1].name_pos, file, 28, 9);
	ck_assert_uint_eq(set.components[1].metadata_count, 0);
	ck_assert_int_eq(set.components[1].init_timeout_ms, 5000);
	ck_assert(!set.components[1].ignore_errors);
	ck_assert_ptr_null(set.components[1].secret_store);

	/* Subscriptions and Resiliency documents are read alongside. */
	ck_assert_uint_eq(set.subscriptions.count, 1);
	ck_assert_str_eq(set.subscriptions.items[0].name, "orders-sub");
	ck_assert_str_eq(set.subscriptions.items[0].origin, str_printf("%s:10", file));
	ck_assert_str_eq(set.subscriptions.items[0].rules[0].path, "/orders");
	ck_assert_uint_eq(set.resiliency.ntargets, 0);
	resources_free(&set);
	ck_assert_uint_eq(set.subscriptions.count, 0);
	diag_clear(&d);
	free(file);
}
END_TEST

START_TEST(test_dapr_init_files)
{
	char *dir = fixture_dup("dapr-init");
	const char *dirs[] = { dir };
	struct res_set set = { 0 };
	struct diag d = { 0 };
	const struct res_component *c;

	ck_assert_uint_eq(resources_load(dirs, 1, "myapp", &set, &d), 0);
	assert_lines(&d, "", 0);
	ck_assert_uint_eq(set.count, 2);
	/* Files are read in name order. */
	ck_assert_str_eq(set.components[0].name, "pubsub");
	ck_assert_str_eq(set.components[0].type, "pubsub.redis");
	c = &set.components[1];
	ck_assert_str_eq(c->file, str_printf("%s/statestore.yaml", dir));
	ck_assert_str_eq(c->name, "statestore");
	ck_assert_str_eq(c->type, "state.redis");
	ck_assert_str_eq(c->version, "v1");
	ck_assert_int_eq(c->init_timeout_ms, 5000);
	ck_assert_uint_eq(c->metadata_count, 3);
	ck_assert_str_eq(c->metadata[0].name, "redisHost");
	ck_assert_str_eq(c->metadata[0].value, "localhost:6379");
	ck_assert_str_eq(c->metadata[1].name, "redisPassword");
	ck_assert_str_eq(c->metadata[1].value, "");
	ck_assert_str_eq(c->metadata[2].name, "actorStateStore");
	ck_assert_str_eq(c->metadata[2].value, "true");
	assert_pos(c->metadata[2].pos, c->file, 14, 12);
	resources_free(&set);
	diag_clear(&d);
	free(dir);
}
END_TEST

START_TEST(test_syntax_error)
{
	struct res_set set = { 0 };
	struct diag d = { 0 };
	size_t n;

	/* The document before the error still counts; libyaml cannot read past the error. */
	n = load_text("x.yaml",
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata: {name: good}\n"
		      "spec: {type: state.in-memory, version: v1}\n"
		      "---\n"
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata:\n"
		      "  name: store\n"
		      "spec:\n"
		      "  type: state.sqlite\n"
		      " version: v1\n",
		      "app", &set, &d);
	ck_assert_uint_eq(n, 1);
	assert_lines(&d, tmp_dir, 1,
		     "@/x.yaml:12:2: YAML syntax error: did not find expected key "
		     "(while parsing a block mapping at 6:1); fix the indentation or "
		     "quoting");
	ck_assert_uint_eq(set.count, 1);
	ck_assert_str_eq(set.components[0].name, "good");
	diag_clear(&d);

	n = load_text("y.yaml", "spec:\n  metadata:\n  - name: a\n    value: \"unterminated\n", "app", &set,
		      &d);
	ck_assert_uint_eq(n, 1);
	assert_lines(&d, tmp_dir, 1,
		     "@/y.yaml:5:1: YAML syntax error: found unexpected end of stream "
		     "(while scanning a quoted scalar at 4:12); fix the indentation or "
		     "quoting");
	resources_free(&set);
	diag_clear(&d);
}
END_TEST

START_TEST(test_missing_type_and_name)
{
	struct res_set set = { 0 };
	struct diag d = { 0 };
	size_t n;

	n = load_text("store.yaml",
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata:\n"
		      "  name: statestore\n"
		      "spec:\n"
		      "  version: v1\n"
		      "---\n"
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata:\n"
		      "  namespace: default\n"
		      "spec:\n"
		      "  type: \"\"\n"
		      "  version: v1\n"
		      "---\n"
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n",
		      "app", &set, &d);
	ck_assert_uint_eq(n, 5);
	assert_lines(&d, tmp_dir, 5,
		     "@/store.yaml:6:3: spec.type: missing; add the component type, "
		     "e.g. \"state.sqlite\"",
		     "@/store.yaml:11:3: metadata.name: missing; give the component a "
		     "name, e.g. \"statestore\"",
		     "@/store.yaml:13:9: spec.type: missing; add the component type, "
		     "e.g. \"state.sqlite\"",
		     "@/store.yaml:16:1: metadata.name: missing; give the component a "
		     "name, e.g. \"statestore\"",
		     "@/store.yaml:16:1: spec.type: missing; add the component type, "
		     "e.g. \"state.sqlite\"");
	ck_assert_uint_eq(set.count, 0);
	resources_free(&set);
	diag_clear(&d);
}
END_TEST

START_TEST(test_duplicate_name)
{
	char *dir = fixture_dup("duplicate");
	const char *dirs[] = { dir };
	struct res_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(resources_load(dirs, 1, "app", &set, &d), 1);
	assert_lines(&d, dir, 1,
		     "@/b.yaml:4:18: metadata.name: component \"statestore\" is already "
		     "defined at @/a.yaml:4:9; give each component a unique name");
	/* The first one stays. */
	ck_assert_uint_eq(set.count, 1);
	ck_assert_str_eq(set.components[0].type, "state.in-memory");
	resources_free(&set);
	diag_clear(&d);
	free(dir);
}
END_TEST

static const char scoped_yaml[] = "apiVersion: dapr.io/v1alpha1\n"
				  "kind: Component\n"
				  "metadata:\n"
				  "  name: statestore\n"
				  "spec:\n"
				  "  type: state.redis\n"
				  "  version: v1\n"
				  "  metadata:\n"
				  "  - name: redisPassword\n"
				  "    envRef: SCOPED_TEST_UNSET_VARIABLE\n"
				  "scopes: [app1, app2]\n"
				  "---\n"
				  "apiVersion: dapr.io/v1alpha1\n"
				  "kind: Component\n"
				  "metadata:\n"
				  "  name: statestore\n"
				  "spec:\n"
				  "  type: state.in-memory\n"
				  "  version: v1\n"
				  "scopes:\n"
				  "- app3\n";

START_TEST(test_scopes_exclude)
{
	struct res_set set = { 0 };
	struct diag d = { 0 };
	const char *log;

	unsetenv("SCOPED_TEST_UNSET_VARIABLE");
	log_setup(OUTRIG_LOG_DEBUG, false, "app3");
	capture_start();
	/* The first is for other apps: neither its envRef nor its name are checked. */
	ck_assert_uint_eq(load_text("s.yaml", scoped_yaml, "app3", &set, &d), 0);
	log = capture_end();
	log_setup(OUTRIG_LOG_INFO, false, "");
	assert_lines(&d, "", 0);
	ck_assert_uint_eq(set.count, 1);
	ck_assert_str_eq(set.components[0].type, "state.in-memory");
	assert_logged(log, tmp_dir, "@/s.yaml:1: component statestore is scoped to other apps; skipped");
	resources_free(&set);
	diag_clear(&d);
}
END_TEST

START_TEST(test_scopes_include)
{
	struct res_set set = { 0 };
	struct diag d = { 0 };

	setenv("SCOPED_TEST_UNSET_VARIABLE", "s3cret", 1);
	ck_assert_uint_eq(load_text("s.yaml", scoped_yaml, "app2", &set, &d), 0);
	unsetenv("SCOPED_TEST_UNSET_VARIABLE");
	assert_lines(&d, "", 0);
	ck_assert_uint_eq(set.count, 1);
	ck_assert_str_eq(set.components[0].type, "state.redis");
	ck_assert_str_eq(set.components[0].metadata[0].value, "s3cret");
	resources_free(&set);
	diag_clear(&d);

	/* No app id: only unscoped components. */
	ck_assert_uint_eq(load_text("s.yaml", scoped_yaml, NULL, &set, &d), 0);
	ck_assert_uint_eq(set.count, 0);
	resources_free(&set);
	diag_clear(&d);
}
END_TEST

START_TEST(test_env_ref)
{
	struct res_set set = { 0 };
	struct diag d = { 0 };
	const struct res_metadata *m;
	size_t n;

	setenv("OUTRIG_TEST_REDIS_HOST", "redis.example:6380", 1);
	setenv("OUTRIG_TEST_EMPTY", "", 1);
	n = load_text("env.yaml",
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata:\n"
		      "  name: cache\n"
		      "spec:\n"
		      "  type: state.redis\n"
		      "  version: v1\n"
		      "  metadata:\n"
		      "  - name: redisHost\n"
		      "    envRef: OUTRIG_TEST_REDIS_HOST\n"
		      "  - {name: redisUsername, envRef: OUTRIG_TEST_EMPTY}\n",
		      "app", &set, &d);
	ck_assert_uint_eq(n, 0);
	assert_lines(&d, "", 0);
	ck_assert_uint_eq(set.count, 1);
	m = find_meta(&set.components[0], "redisHost");
	ck_assert_str_eq(m->value, "redis.example:6380");
	ck_assert_ptr_null(m->secret_store_key_name);
	assert_pos(m->pos, set.components[0].file, 10, 13);
	ck_assert_str_eq(find_meta(&set.components[0], "redisUsername")->value, "");
	resources_free(&set);

	unsetenv("OUTRIG_TEST_UNSET");
	setenv("DAPR_API_TOKEN", "sidecar-secret", 1);
	setenv("APP_API_TOKEN", "app-secret", 1);
	n = load_text("env.yaml",
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata: {name: cache}\n"
		      "spec:\n"
		      "  type: state.redis\n"
		      "  version: v1\n"
		      "  metadata:\n"
		      "  - name: redisHost\n"
		      "    envRef: OUTRIG_TEST_UNSET\n"
		      "  - name: redisPassword\n"
		      "    envRef: DAPR_API_TOKEN\n"
		      "  - name: token\n"
		      "    envRef: APP_API_TOKEN\n"
		      "  - name: nothing\n"
		      "    envRef: [A, B]\n",
		      "app", &set, &d);
	unsetenv("DAPR_API_TOKEN");
	unsetenv("APP_API_TOKEN");
	ck_assert_uint_eq(n, 4);
	assert_lines(&d, tmp_dir, 4,
		     "@/env.yaml:9:13: spec.metadata[0].envRef: environment variable "
		     "OUTRIG_TEST_UNSET is not set (\"redisHost\"); set it before "
		     "starting outrigd, or use value",
		     "@/env.yaml:11:13: spec.metadata[1].envRef: DAPR_API_TOKEN is "
		     "reserved for the sidecar and cannot be passed to a component "
		     "(\"redisPassword\"); use a variable of your own",
		     "@/env.yaml:13:13: spec.metadata[2].envRef: APP_API_TOKEN is "
		     "reserved for the sidecar and cannot be passed to a component "
		     "(\"token\"); use a variable of your own",
		     "@/env.yaml:15:13: spec.metadata[3].envRef: expected the name of "
		     "an environment variable for \"nothing\"; write envRef: VARIABLE");
	ck_assert_uint_eq(set.count, 0);
	resources_free(&set);
	diag_clear(&d);
}
END_TEST

START_TEST(test_field_errors)
{
	struct res_set set = { 0 };
	struct diag d = { 0 };
	size_t n;

	/*
	 * One document with many problems: all of them are listed, none stops the others. (A
	 * self-containing alias is refused before the file is read: check_hardening_yaml.)
	 */
	n = load_text("bad.yaml",
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata:\n"
		      "  name: my store\n"
		      "spec:\n"
		      "  type: state.sqlite\n"
		      "  version: v1\n"
		      "  initTimeout: soon\n"
		      "  ignoreErrors: \"true\"\n"
		      "  metadata:\n"
		      "  - just text\n"
		      "  - value: no name\n"
		      "  - name: both\n"
		      "    value: x\n"
		      "    secretKeyRef: {name: s, key: k}\n"
		      "  - name: ref\n"
		      "    secretKeyRef: {key: k}\n"
		      "  - name: [odd]\n"
		      "auth: my-store\n"
		      "scopes: app1\n"
		      "---\n"
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata: {name: a/b}\n"
		      "spec:\n"
		      "  type: state.sqlite\n"
		      "  version: v1\n"
		      "  initTimeout: -5s\n"
		      "  ignoreErrors: [yes]\n"
		      "  metadata: {name: x, value: y}\n"
		      "---\n"
		      "apiVersion: dapr.io/v1alpha1\n"
		      "kind: Component\n"
		      "metadata: {name: \"x||y\"}\n"
		      "spec: [state.sqlite]\n",
		      "app", &set, &d);
	assert_lines(&d, tmp_dir, 16,
		     "@/bad.yaml:20:9: scopes: expected a list of app IDs, found text; "
		     "write scopes: [app1, app2], or leave it out for every app",
		     "@/bad.yaml:4:9: metadata.name: \"my store\" contains whitespace, "
		     "but it is used in URLs; use letters, digits, '-' and '.'",
		     "@/bad.yaml:8:16: spec.initTimeout: \"soon\" is not a duration; "
		     "write a Go duration such as \"5s\" or \"1m30s\"",
		     "@/bad.yaml:9:17: spec.ignoreErrors: expected true or false, found "
		     "\"true\"; write true or false without quotes",
		     "@/bad.yaml:11:5: spec.metadata[0]: expected a mapping with name "
		     "and value, found text; write the entry as \"- name: NAME\" with "
		     "\"value: VALUE\" under it",
		     "@/bad.yaml:12:5: spec.metadata[1].name: missing; give every "
		     "metadata entry a name",
		     "@/bad.yaml:15:19: spec.metadata[2].secretKeyRef: \"both\" has both "
		     "value and secretKeyRef; keep only one",
		     "@/bad.yaml:17:19: spec.metadata[3].secretKeyRef.name: missing for "
		     "\"ref\"; name the secret to read",
		     "@/bad.yaml:18:11: spec.metadata[4].name: expected text, found a "
		     "list; write a single value",
		     "@/bad.yaml:19:7: auth: expected a mapping with secretStore, found "
		     "text; write \"auth:\" with \"secretStore: STORE\" under it",
		     "@/bad.yaml:24:18: metadata.name: \"a/b\" contains '/', but it is "
		     "used in URLs; use letters, digits, '-' and '.'",
		     "@/bad.yaml:28:16: spec.initTimeout: \"-5s\" must be more than "
		     "zero; write a Go duration such as \"5s\"",
		     "@/bad.yaml:29:17: spec.ignoreErrors: expected true or false, found "
		     "a list; write true or false",
		     "@/bad.yaml:30:13: spec.metadata: expected a list of {name, value} "
		     "entries, found a mapping; write each entry as \"- name: NAME\" with "
		     "\"value: VALUE\" under it",
		     "@/bad.yaml:34:18: metadata.name: \"x||y\" contains \"||\", but it "
		     "is used in URLs; use letters, digits, '-' and '.'",
		     "@/bad.yaml:35:7: spec: expected a mapping with type and version, "
		     "found a list; write \"spec:\" with \"type: TYPE\" and \"version: v1\" "
		     "under it");
	ck_assert_uint_eq(n, 16);
	ck_assert_uint_eq(d.errors, 16);
	ck_assert_uint_eq(set.count, 0);
	resources_free(&set);
	diag_clear(&d);
}
END_TEST

START_TEST(test_version_default_and_duplicate_metadata)
{
	struct res_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(load_text("v.yaml",
				    "apiVersion: dapr.io/v1alpha1\n"
				    "kind: Component\n"
				    "metadata:\n"
				    "  name: store\n"
				    "spec:\n"
				    "  type: state.sqlite\n"
				    "  initTimeout: 30\n"
				    "  ignoreErrors: false\n"
				    "  metadata:\n"
				    "  - name: tableName\n"
				    "    value: a\n"
				    "  - name: TableName\n"
				    "    value: b\n",
				    "app", &set, &d),
			  0);
	assert_lines(&d, tmp_dir, 2,
		     "warning: @/v.yaml:6:3: spec.version: missing, assuming \"v1\"; "
		     "add \"version: v1\" (Dapr requires it)",
		     "warning: @/v.yaml:12:5: spec.metadata[1]: \"TableName\" is already "
		     "set at line 11 (names are matched ignoring case); keep only one");
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(set.count, 1);
	ck_assert_str_eq(set.components[0].version, "v1");
	/* A bare number is seconds, as in daprd. */
	ck_assert_int_eq(set.components[0].init_timeout_ms, 30000);
	ck_assert(!set.components[0].ignore_errors);
	ck_assert_uint_eq(set.components[0].metadata_count, 2);
	resources_free(&set);
	diag_clear(&d);
}
END_TEST

START_TEST(test_extensions)
{
	char *dir = fixture_dup("extensions");
	const char *dirs[] = { dir };
	struct res_set set = { 0 };
	struct diag d = { 0 };

	/* c.txt, d.yaml.bak, e.json, sub/ and the folder folder.yaml/ are all passed over. */
	ck_assert_uint_eq(resources_load(dirs, 1, "app", &set, &d), 0);
	assert_lines(&d, "", 0);
	ck_assert_uint_eq(set.count, 2);
	ck_assert_str_eq(set.components[0].name, "from-a");
	ck_assert_str_eq(set.components[0].file, str_printf("%s/a.yaml", dir));
	ck_assert_str_eq(set.components[1].name, "from-b");
	ck_assert_str_eq(set.components[1].file, str_printf("%s/b.yml", dir));
	resources_free(&set);
	diag_clear(&d);
	free(dir);
}
END_TEST

START_TEST(test_several_dirs_and_missing)
{
	char *init = fixture_dup("dapr-init");
	char *missing = strdup(str_printf("%s/no-such-folder", tmp_dir));
	char *empty = strdup(tmp_dir);
	const char *dirs[] = { init, missing, empty };
	struct res_set set = { 0 };
	struct diag d = { 0 };
	const char *log;

	tmp_write("notes.txt", "not yaml\n");
	capture_start();
	ck_assert_uint_eq(resources_load(dirs, 3, "app", &set, &d), 1);
	log = capture_end();
	assert_lines(&d, missing, 1,
		     "@: cannot read the resources folder: No such file or directory; "
		     "check --resources-path");
	/* The folder that is there is still loaded; the empty one is only mentioned. */
	ck_assert_uint_eq(set.count, 2);
	assert_logged(log, empty, "@: no *.yaml or *.yml files; no components from here");
	diag_clear(&d);

	ck_assert_uint_eq(resources_load_file(missing, "app", &set, &d), 1);
	assert_lines(&d, missing, 1,
		     "@: cannot open it: No such file or directory; check the path "
		     "and its permissions");
	diag_clear(&d);
	ck_assert_uint_eq(resources_load_file(empty, "app", &set, &d), 1);
	assert_lines(&d, empty, 1, "@: is a folder, not a YAML file; give the path of a file");
	ck_assert_uint_eq(set.count, 2);
	resources_free(&set);
	diag_clear(&d);
	free(init);
	free(missing);
	free(empty);
}
END_TEST

START_TEST(test_not_dapr_and_empty)
{
	struct res_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(load_text("e.yaml", "# only a comment\n", "app", &set, &d), 0);
	ck_assert_uint_eq(load_text("f.yaml", "", "app", &set, &d), 0);
	ck_assert_uint_eq(load_text("g.yaml", "---\n~\n---\n", "app", &set, &d), 0);
	assert_lines(&d, "", 0);
	ck_assert_uint_eq(load_text("h.yaml", "- a\n- b\n---\nkind: Component\n", "app", &set, &d), 0);
	assert_lines(&d, tmp_dir, 2,
		     "warning: @/h.yaml:1:1: not a Dapr resource (apiVersion missing, "
		     "kind missing); skipped",
		     "warning: @/h.yaml:4:1: not a Dapr resource (apiVersion missing, "
		     "kind \"Component\"); skipped");
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(set.count, 0);
	resources_free(&set);
	diag_clear(&d);
}
END_TEST

/* ---- kind: Subscription ---- */

START_TEST(test_subscriptions_loaded)
{
	char *dir = data_dup("subscriptions/valid");
	char *file = strdup(str_printf("%s/subscriptions.yaml", dir));
	const char *dirs[] = { dir };
	struct res_set set = { 0 };
	struct diag d = { 0 };
	const struct subscription *s;

	ck_assert_uint_eq(resources_load(dirs, 1, "checkout", &set, &d), 0);
	assert_lines(&d, "", 0);
	ck_assert_uint_eq(set.count, 0);
	ck_assert_uint_eq(set.subscriptions.count, 2);
	s = &set.subscriptions.items[0];
	ck_assert_int_eq(s->type, SUB_DECLARATIVE);
	ck_assert_str_eq(s->name, "order-sub");
	ck_assert_str_eq(s->origin, str_printf("%s:1", file));
	ck_assert_str_eq(s->pubsub, "pubsub");
	ck_assert_str_eq(s->topic, "orders");
	ck_assert_uint_eq(s->nrules, 3);
	ck_assert_str_eq(s->rules[1].path, "/big-orders");
	ck_assert_str_eq(s->rules[2].path, "/orders");
	ck_assert_str_eq(s->dead_letter_topic, "poison");
	s = &set.subscriptions.items[1];
	ck_assert_str_eq(s->name, "legacy");
	ck_assert_str_eq(s->origin, str_printf("%s:19", file));
	ck_assert_uint_eq(s->nrules, 1);
	ck_assert_str_eq(s->rules[0].path, "/legacy");
	ck_assert(s->raw_payload);
	resources_free(&set);

	/* Scopes pick per app. */
	ck_assert_uint_eq(resources_load(dirs, 1, "billing", &set, &d), 0);
	ck_assert_uint_eq(set.subscriptions.count, 2);
	ck_assert_str_eq(set.subscriptions.items[0].name, "legacy");
	ck_assert_str_eq(set.subscriptions.items[1].name, "someone-elses");
	resources_free(&set);
	diag_clear(&d);
	free(file);
	free(dir);
}
END_TEST

START_TEST(test_subscription_bad_rule)
{
	char *file = data_dup("subscriptions/bad/subs.yaml");
	struct res_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(resources_load_file(file, "app", &set, &d), 1);
	assert_lines(
		&d, file, 1,
		"@:12:14: spec.routes.rules[1].match: unsupported CEL: function call \"startsWith\" at column "
		"12 in 'event.type.startsWith(\"a\")'; outrig supports ==, !=, &&, ||, ! and parentheses over "
		"event fields");
	ck_assert_uint_eq(set.subscriptions.count, 0);
	resources_free(&set);
	diag_clear(&d);
	free(file);
}
END_TEST

/* ---- kind: Resiliency ---- */

static void assert_retry(const struct retry_policy *p, enum retry_kind kind, int64_t duration_ms,
			 int64_t max_interval_ms, int64_t max_retries)
{
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->kind, kind);
	ck_assert_int_eq(p->duration_ms, duration_ms);
	ck_assert_int_eq(p->max_interval_ms, max_interval_ms);
	ck_assert_int_eq(p->max_retries, max_retries);
}

START_TEST(test_resiliency_loaded)
{
	char *dir = data_dup("resiliency/valid");
	const char *dirs[] = { dir };
	struct res_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(resources_load(dirs, 1, "checkout", &set, &d), 0);
	/* Actor targets are read and said to apply to nothing yet. */
	assert_lines(&d, dir, 1,
		     "warning: @/resiliency.yaml:39:7: spec.targets.actors.myActor: outrig has no actors yet, so "
		     "this applies to nothing until actors land");
	ck_assert_uint_eq(set.count, 3);
	ck_assert_uint_eq(set.resiliency.ntargets, 3);
	ck_assert_int_eq(set.resiliency.targets[0].kind, RESIL_TARGET_APP);
	ck_assert_str_eq(set.resiliency.targets[0].component, "appB");
	ck_assert_str_eq(set.resiliency.targets[1].policy_name, "pubsubRetry");
	ck_assert_str_eq(set.resiliency.targets[1].origin, str_printf("%s/resiliency.yaml:34:11", dir));
	{
		const struct retry_policy *r;
		const struct breaker_policy *b;
		int64_t timeout;
		struct breaker_counts c = { .consecutive_failures = 9 };

		/* An app target: its own timeout and retry; the breaker only where named. */
		ck_assert_ptr_nonnull(resiliency_lookup(&set.resiliency, RESIL_TARGET_APP, "appB", NULL, false, &r,
							&timeout, &b));
		assert_retry(r, RETRY_EXPONENTIAL, 5000, 15000, -1);
		ck_assert_int_eq(timeout, 5000);
		ck_assert_ptr_null(b);
		/* Another app: DefaultRetryPolicy, no timeout. */
		ck_assert_ptr_null(resiliency_lookup(&set.resiliency, RESIL_TARGET_APP, "appC", NULL, false, &r,
						     &timeout, &b));
		assert_retry(r, RETRY_EXPONENTIAL, 5000, 60000, 5);
		ck_assert_int_eq(timeout, 0);
		/* The outbound pubsub target has the general timeout. */
		resiliency_lookup(&set.resiliency, RESIL_TARGET_COMPONENT, "pubsub", "pubsub.in-memory", false, &r,
				  &timeout, &b);
		ck_assert_int_eq(timeout, 5000);
		/* DefaultCircuitBreakerPolicy is not defined: no breaker. */
		ck_assert_ptr_null(b);
		(void)c;
	}

	/* A target naming the component wins. */
	assert_retry(resiliency_component_retry(&set, "pubsub", true), RETRY_CONSTANT, 2000, 60000, 10);
	assert_retry(resiliency_component_retry(&set, "pubsub", false), RETRY_EXPONENTIAL, 5000, 15000, -1);
	/* Else the most specific Default...RetryPolicy, by the component's type and direction. */
	assert_retry(resiliency_component_retry(&set, "other-pubsub", true), RETRY_CONSTANT, 1000, 60000, 3);
	assert_retry(resiliency_component_retry(&set, "other-pubsub", false), RETRY_EXPONENTIAL, 5000, 60000,
		     5);
	assert_retry(resiliency_component_retry(&set, "statestore", false), RETRY_EXPONENTIAL, 5000, 60000,
		     5);
	assert_retry(resiliency_component_retry(&set, "unknown", true), RETRY_EXPONENTIAL, 5000, 60000, 5);
	resources_free(&set);
	ck_assert_uint_eq(set.resiliency.ntargets, 0);
	ck_assert_uint_eq(set.resiliency.ndefaults, 0);
	diag_clear(&d);

	/* The other app sees only the document scoped to it. */
	ck_assert_uint_eq(resources_load(dirs, 1, "billing", &set, &d), 0);
	assert_lines(&d, "", 0);
	assert_retry(resiliency_component_retry(&set, "pubsub", true), RETRY_CONSTANT, 5000, 60000, 0);
	ck_assert_ptr_null(resiliency_component_retry(&set, "pubsub", false));
	ck_assert_ptr_null(resiliency_component_retry(&set, "other-pubsub", true));
	resources_free(&set);
	diag_clear(&d);
	free(dir);
}
END_TEST

START_TEST(test_resiliency_errors)
{
	char *file = data_dup("resiliency/bad/resiliency.yaml");
	struct res_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_uint_eq(resources_load_file(file, "app", &set, &d), 5);
	assert_lines(
		&d, file, 5,
		"@:9:17: spec.policies.retries.slow.policy: expected constant or exponential, found \"linear\"; "
		"write one of them",
		"@:10:19: spec.policies.retries.slow.duration: \"soon\" is not a duration; write a Go duration "
		"such as \"5s\" or \"1m30s\"",
		"@:11:21: spec.policies.retries.slow.maxRetries: expected a whole number, found "
		"\"-2\"; write -1 (retry forever), 0 (never) or a count of retries",
		"@:14:22: spec.policies.retries.ok.maxInterval: \"0s\" must be more than zero; write a Go "
		"duration such as \"5s\"",
		"@:19:18: spec.targets.components.pubsub.inbound.retry: no retry policy named \"pubsubRetry\" in "
		"spec.policies.retries of this document; define it there or fix the name");
	/* A document with errors adds nothing. */
	ck_assert_uint_eq(set.resiliency.ntargets, 0);
	ck_assert_uint_eq(set.resiliency.ndefaults, 0);
	resources_free(&set);
	diag_clear(&d);

	ck_assert_uint_eq(load_text("r.yaml",
				    "apiVersion: dapr.io/v2alpha1\n"
				    "kind: Resiliency\n"
				    "spec: {}\n"
				    "---\n"
				    "apiVersion: dapr.io/v1alpha1\n"
				    "kind: Resiliency\n"
				    "metadata: {name: x}\n"
				    "---\n"
				    "apiVersion: dapr.io/v1alpha1\n"
				    "kind: Resiliency\n"
				    "spec:\n"
				    "  policies:\n"
				    "    retries:\n"
				    "      r: {maxRetries: 2, matching: {httpStatusCodes: \"500,502-504\", gRPCStatusCodes: \"14\"}}\n"
				    "      plain: {}\n"
				    "  targets:\n"
				    "    apps:\n"
				    "      c: {retry: r, colour: red}\n"
				    "    components:\n"
				    "      c:\n"
				    "        sideways: {retry: plain}\n"
				    "        inbound: {retry: plain}\n",
				    "app", &set, &d),
			  2);
	assert_lines(
		&d, tmp_dir, 4,
		"@/r.yaml:1:13: apiVersion: kind Resiliency is dapr.io/v1alpha1, found \"dapr.io/v2alpha1\"; "
		"write apiVersion: dapr.io/v1alpha1",
		"@/r.yaml:5:1: spec: missing; add \"spec:\" with \"policies:\" and \"targets:\" under it",
		"warning: @/r.yaml:18:21: spec.targets.apps.c: unknown field \"colour\"; ignored (the fields are "
		"retry, timeout, circuitBreaker and circuitBreakerCacheSize)",
		"warning: @/r.yaml:21:9: spec.targets.components.c: \"sideways\" is not a direction; Dapr knows "
		"inbound and outbound, so it is ignored");
	{
		const struct retry_policy *r;

		resiliency_lookup(&set.resiliency, RESIL_TARGET_APP, "c", NULL, false, &r, NULL, NULL);
		ck_assert_ptr_nonnull(r);
		ck_assert(retry_policy_matches(r, true, 500));
		ck_assert(!retry_policy_matches(r, true, 501));
		ck_assert(retry_policy_matches(r, true, 503));
		ck_assert(!retry_policy_matches(r, true, 404));
		ck_assert(retry_policy_matches(r, false, 14));
		ck_assert(!retry_policy_matches(r, false, 2));
	}
	/* Warnings do not stop a document. */
	assert_retry(resiliency_component_retry(&set, "c", true), RETRY_CONSTANT, 5000, 60000, -1);
	resources_free(&set);
	diag_clear(&d);
	free(file);
}
END_TEST

START_TEST(test_retry_delay)
{
	struct retry_policy constant = { RETRY_CONSTANT, 5000, 60000, 3 };
	struct retry_policy exponential = { RETRY_EXPONENTIAL, 5000, 15000, -1 };
	static const int64_t waits[] = { 500,  500,  750,  1125,  1687,	 2530,
					 3795, 5692, 8538, 12807, 15000, 15000 };

	ck_assert_int_eq(retry_policy_delay_ms(&constant, 1), 5000);
	ck_assert_int_eq(retry_policy_delay_ms(&constant, 100), 5000);
	/* Dapr's backoff: 500 ms, times 1.5 (truncated to whole ms as Go does), up to maxInterval. */
	for (unsigned i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
		ck_assert_msg(retry_policy_delay_ms(&exponential, i) == waits[i],
			      "attempt %u: %lld, expected %lld", i,
			      (long long)retry_policy_delay_ms(&exponential, i), (long long)waits[i]);
	ck_assert_int_eq(retry_policy_delay_ms(&exponential, 4000000000u), 15000);
	exponential.max_interval_ms = 0;
	ck_assert_int_eq(retry_policy_delay_ms(&exponential, 4000000000u), 60000);
	exponential.max_interval_ms = 100;
	ck_assert_int_eq(retry_policy_delay_ms(&exponential, 1), 100);

	ck_assert(retry_policy_allows(&constant, 3));
	ck_assert(!retry_policy_allows(&constant, 4));
	ck_assert(retry_policy_allows(&exponential, 4000000000u));
	constant.max_retries = 0;
	ck_assert(!retry_policy_allows(&constant, 1));
}
END_TEST

/* ---- outrigd --check ---- */

START_TEST(test_check_fails_on_bad_files)
{
	const char *outrigd = getenv("OUTRIGD");
	char *subs = data_dup("subscriptions/bad");
	char *resil = data_dup("resiliency/bad");
	char cmd[16384], out[16384];
	size_t n;
	FILE *f;
	int status;

	/* A test that passes without running outrigd would prove nothing: make check sets OUTRIGD. */
	ck_assert_msg(outrigd != NULL, "OUTRIGD is not set; run this test through make check");
	snprintf(cmd, sizeof(cmd),
		 "'%s' --check --app-id app --resources-path '%s' --resources-path '%s' 2>&1", outrigd, subs,
		 resil);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	status = pclose(f);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d, output:\n%s", status, out);
	ck_assert_msg(
		strstr(out, str_printf("%s/subs.yaml:12:14: spec.routes.rules[1].match: unsupported CEL: "
				       "function call \"startsWith\"",
				       subs)) != NULL,
		"got:\n%s", out);
	ck_assert_msg(
		strstr(out,
		       str_printf("%s/resiliency.yaml:19:18: spec.targets.components.pubsub.inbound.retry: "
				  "no retry policy named \"pubsubRetry\"",
				  resil)) != NULL,
		"got:\n%s", out);
	ck_assert_msg(strstr(out, "outrigd --check: 6 errors, 0 warnings") != NULL, "got:\n%s", out);
	free(subs);
	free(resil);
}
END_TEST

static Suite *resources_suite(void)
{
	Suite *s = suite_create("resources");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_valid_component);
	tcase_add_test(tc, test_multi_document);
	tcase_add_test(tc, test_dapr_init_files);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_missing_type_and_name);
	tcase_add_test(tc, test_duplicate_name);
	tcase_add_test(tc, test_scopes_exclude);
	tcase_add_test(tc, test_scopes_include);
	tcase_add_test(tc, test_env_ref);
	tcase_add_test(tc, test_field_errors);
	tcase_add_test(tc, test_version_default_and_duplicate_metadata);
	tcase_add_test(tc, test_extensions);
	tcase_add_test(tc, test_several_dirs_and_missing);
	tcase_add_test(tc, test_not_dapr_and_empty);
	tcase_add_test(tc, test_subscriptions_loaded);
	tcase_add_test(tc, test_subscription_bad_rule);
	tcase_add_test(tc, test_resiliency_loaded);
	tcase_add_test(tc, test_resiliency_errors);
	tcase_add_test(tc, test_retry_delay);
	tcase_add_test(tc, test_check_fails_on_bad_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	snprintf(tmp_root, sizeof(tmp_root), "%s/check_resources.XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(tmp_root) == NULL) {
		perror(tmp_root);
		return EXIT_FAILURE;
	}
	sr = srunner_create(resources_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_tree(tmp_root);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
