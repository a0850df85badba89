/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration files (--config): parsing, errors, merge order, outrigd --check; and core/blocks/invoke/nameres.c with a fake resolver. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "resources/configuration.h"
#include "blocks/invoke/nameres.h"
#include "runtime.h"

static char *fixture(const char *name)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s/configuration/%s", CFG_TEST_DATA, name), 0);
	return path;
}

/* Every diag line joined, for failure messages. */
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

/* The number of diag lines that contain want. */
static size_t count_lines(const struct diag *d, const char *want)
{
	size_t n = 0;

	for (size_t i = 0; i < d->count; i++)
		if (strstr(d->lines[i], want) != NULL)
			n++;
	return n;
}

#define ck_line(d, want)                                                                                     \
	do {                                                                                                 \
		char *all_ = all_lines(d);                                                                   \
		ck_assert_msg(count_lines(d, want) == 1, "expected one line with\n  %s\ngot:\n%s", want,     \
			      all_);                                                                         \
		free(all_);                                                                                  \
	} while (0)

static const struct res_metadata *meta(const struct configuration *c, const char *name)
{
	for (size_t i = 0; i < c->resolver.metadata_count; i++)
		if (strcmp(c->resolver.metadata[i].name, name) == 0)
			return &c->resolver.metadata[i];
	return NULL;
}

/* Loads the fixtures named, NULL-terminated, in order. Returns the errors. */
static size_t load(struct configuration *c, struct diag *d, ...)
{
	const char *paths[8];
	char *owned[8];
	size_t n = 0, errors;
	va_list ap;
	const char *name;

	va_start(ap, d);
	while ((name = va_arg(ap, const char *)) != NULL && n < 8) {
		owned[n] = fixture(name);
		paths[n] = owned[n];
		n++;
	}
	va_end(ap);
	errors = configuration_load(paths, n, c, d);
	for (size_t i = 0; i < n; i++)
		free(owned[i]);
	return errors;
}

START_TEST(test_default_without_files)
{
	struct configuration c;
	struct diag d = { 0 };

	ck_assert_uint_eq(configuration_load(NULL, 0, &c, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert(!c.resolver_configured);
	ck_assert_str_eq(c.resolver.type, "nameresolution.sqlite");
	ck_assert_str_eq(c.resolver.version, "v1");
	ck_assert_str_eq(c.resolver.name, "nameresolution");
	ck_assert_str_eq(c.resolver.file, "(default name resolution)");
	ck_assert_uint_eq(c.resolver.metadata_count, 0);
	ck_assert_int_eq(c.resolver.init_timeout_ms, 5000);
	configuration_free(&c);
	diag_clear(&d);
}
END_TEST

START_TEST(test_good_file)
{
	struct configuration c;
	struct diag d = { 0 };
	const struct res_metadata *m;
	char *path = fixture("good.yaml"), *want;

	ck_assert_uint_eq(load(&c, &d, "good.yaml", NULL), 0);
	ck_assert(c.resolver_configured);
	ck_assert_str_eq(c.resolver.type, "nameresolution.sqlite");
	ck_assert_str_eq(c.resolver.version, "v1");
	ck_assert_str_eq(c.resolver.file, path);
	ck_assert_int_eq(c.resolver.type_pos.line, 11);
	ck_assert_int_eq(c.resolver.type_pos.column, 16);
	ck_assert_uint_eq(c.resolver.metadata_count, 3);
	m = meta(&c, "connectionString");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->value, "/tmp/outrig-nr-test.db");
	ck_assert_int_eq(m->pos.line, 14);
	ck_assert_int_eq(m->pos.column, 25);
	ck_assert_str_eq(meta(&c, "timeout")->value, "2s");
	/* Maps and lists reach the resolver as JSON text, as component metadata does. */
	ck_assert_str_eq(meta(&c, "tableName")->value, "{\"prefix\":\"outrig\",\"shards\":[1,2]}");
	/* Sections outrig does not serve yet: warnings, never errors. */
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(d.warnings, 1);
	ck_assert_int_ge(
		asprintf(&want, "warning: %s:7:5: spec.tracing: no exporter set", path),
		0);
	ck_line(&d, want);
	free(want);
	/* spec.metric is read (issue 14): enabled: true is the default. */
	ck_assert(!c.observe.metrics_disabled);
	free(path);
	configuration_free(&c);
	diag_clear(&d);
}
END_TEST

START_TEST(test_unsupported_reported_once)
{
	struct configuration c;
	struct diag d = { 0 };

	ck_assert_uint_eq(load(&c, &d, "good.yaml", "kubernetes.yaml", "good.yaml", NULL), 0);
	ck_assert_uint_eq(count_lines(&d, "spec.tracing"), 2); /* good.yaml, read twice, has no exporter */
	ck_assert_uint_eq(count_lines(&d, "spec.metric:"), 0);
	configuration_free(&c);
	diag_clear(&d);
}
END_TEST

/* spec.metric and spec.logging (issue 14): read field by field, a later file over an earlier one. */
START_TEST(test_observe_sections)
{
	struct configuration c;
	struct diag d = { 0 };
	char *path = fixture("observe.yaml"), *want;

	ck_assert_uint_eq(load(&c, &d, "observe.yaml", NULL), 0);
	ck_assert(c.observe.metrics_disabled);
	ck_assert(c.observe.low_cardinality);
	ck_assert(c.observe.exclude_verbs);
	ck_assert_uint_eq(c.observe.nbuckets, 3);
	ck_assert(c.observe.buckets[2] == 250.0);
	ck_assert_uint_eq(c.observe.npath_matching, 2);
	ck_assert_str_eq(c.observe.path_matching[1], "/v1.0/invoke/{app}/method/{rest...}");
	ck_assert(c.observe.api_logging);
	ck_assert(c.observe.omit_health_checks);
	ck_assert(!c.observe.obfuscate_urls);
	/* rules cannot be honoured: one warning naming file:line, never silence. */
	ck_assert_int_ge(
		asprintf(&want, "warning: %s:16:7: spec.metric.rules: regular-expression rewrites", path), 0);
	ck_line(&d, want);
	free(want);
	configuration_free(&c);
	diag_clear(&d);
	/* A wrong type is an error with its position. */
	ck_assert_uint_eq(load(&c, &d, "bad-observe.yaml", NULL), 2);
	ck_assert_uint_eq(count_lines(&d, "spec.metric.latencyDistributionBuckets: expected ascending"), 1);
	ck_assert_uint_eq(count_lines(&d, "spec.logging.apiLogging.enabled: expected true or false"), 1);
	free(path);
	configuration_free(&c);
	diag_clear(&d);
}
END_TEST

/* spec.mtls (issue 15): read; workloadCertTTL has no effect on outrigd (a warning), sentryAddress is refused. */
START_TEST(test_mtls_section)
{
	struct configuration c;
	struct diag d = { 0 };
	char *path = fixture("mtls.yaml"), *want;

	ck_assert_uint_eq(load(&c, &d, "mtls.yaml", NULL), 0);
	ck_assert(c.mtls.enabled);
	ck_assert(c.mtls.skew_set);
	ck_assert_int_eq(c.mtls.clock_skew_ms, 30000);
	ck_assert_str_eq(c.mtls.trust_domain, "example.org");
	ck_assert_int_ge(asprintf(&want, "warning: %s:11:5: spec.mtls.workloadCertTTL: has no effect on outrigd", path),
			 0);
	ck_line(&d, want);
	free(want);
	free(path);
	configuration_free(&c);
	diag_clear(&d);
	ck_assert_uint_eq(load(&c, &d, "bad-mtls.yaml", NULL), 3);
	ck_assert_uint_eq(count_lines(&d, "spec.mtls.enabled: expected true or false"), 1);
	ck_assert_uint_eq(count_lines(&d, "spec.mtls.allowedClockSkew: expected a duration"), 1);
	ck_assert_uint_eq(count_lines(&d, "spec.mtls.sentryAddress: outrig has no Sentry"), 1);
	configuration_free(&c);
	diag_clear(&d);
}
END_TEST

START_TEST(test_merge_order)
{
	struct configuration c;
	struct diag d = { 0 };
	char *k8s = fixture("kubernetes.yaml"), *good = fixture("good.yaml");

	/* The later file wins, and its configuration replaces the earlier one whole. */
	ck_assert_uint_eq(load(&c, &d, "good.yaml", "kubernetes.yaml", NULL), 0);
	ck_assert_str_eq(c.resolver.type, "nameresolution.kubernetes");
	ck_assert_str_eq(c.resolver.version, "v1");
	ck_assert_uint_eq(c.resolver.metadata_count, 1);
	ck_assert_str_eq(meta(&c, "clusterDomain")->value, "example.org");
	ck_assert_ptr_null(meta(&c, "connectionString"));
	ck_assert_str_eq(c.resolver.file, k8s);
	configuration_free(&c);
	diag_clear(&d);

	ck_assert_uint_eq(load(&c, &d, "kubernetes.yaml", "good.yaml", NULL), 0);
	ck_assert_str_eq(c.resolver.type, "nameresolution.sqlite");
	ck_assert_uint_eq(c.resolver.metadata_count, 3);
	ck_assert_ptr_null(meta(&c, "clusterDomain"));
	configuration_free(&c);
	diag_clear(&d);

	/* A file that sets only the version keeps the earlier component and configuration. */
	ck_assert_uint_eq(load(&c, &d, "good.yaml", "version-only.yaml", NULL), 0);
	ck_assert_str_eq(c.resolver.type, "nameresolution.sqlite");
	ck_assert_str_eq(c.resolver.version, "v2");
	ck_assert_uint_eq(c.resolver.metadata_count, 3);
	ck_assert_str_eq(c.resolver.file, good);
	configuration_free(&c);
	diag_clear(&d);

	/* Version alone: still the default resolver, not one a file chose. */
	ck_assert_uint_eq(load(&c, &d, "version-only.yaml", NULL), 0);
	ck_assert(!c.resolver_configured);
	ck_assert_str_eq(c.resolver.type, "nameresolution.sqlite");
	ck_assert_str_eq(c.resolver.version, "v2");
	configuration_free(&c);
	diag_clear(&d);
	free(k8s);
	free(good);
}
END_TEST

START_TEST(test_bad_kind)
{
	struct configuration c;
	struct diag d = { 0 };
	char *path = fixture("bad-kind.yaml"), *want;

	ck_assert_uint_eq(load(&c, &d, "bad-kind.yaml", NULL), 1);
	ck_assert_int_ge(
		asprintf(
			&want,
			"%s:2:7: kind: expected Configuration, found \"Component\"; --config takes a Dapr Configuration file",
			path),
		0);
	ck_line(&d, want);
	ck_assert(!c.resolver_configured);
	free(want);
	free(path);
	configuration_free(&c);
	diag_clear(&d);
}
END_TEST

START_TEST(test_bad_nameresolution)
{
	struct configuration c;
	struct diag d = { 0 };
	char *path = fixture("bad-nameresolution.yaml"), *want;

	ck_assert_uint_eq(load(&c, &d, "bad-nameresolution.yaml", NULL), 2);
	ck_assert_int_ge(
		asprintf(&want, "%s:5:16: spec.nameResolution.component: expected text, found a list", path),
		0);
	ck_line(&d, want);
	free(want);
	ck_assert_int_ge(
		asprintf(&want, "%s:6:20: spec.nameResolution.configuration: expected a mapping, found text",
			 path),
		0);
	ck_line(&d, want);
	free(want);
	/* Unknown fields are warnings: daprd's decoder ignores them too. */
	ck_assert_int_ge(
		asprintf(&want, "warning: %s:7:5: spec.nameResolution: unknown field \"port\"", path), 0);
	ck_line(&d, want);
	free(want);
	ck_assert_int_ge(asprintf(&want, "warning: %s:8:3: spec: unknown section \"frobnicate\"", path), 0);
	ck_line(&d, want);
	free(want);
	free(path);
	configuration_free(&c);
	diag_clear(&d);
}
END_TEST

START_TEST(test_bad_name_and_syntax_and_missing)
{
	struct configuration c;
	struct diag d = { 0 };
	char *path = fixture("bad-name.yaml"), *syntax = fixture("bad-syntax.yaml"), *want;
	const char *missing[] = { "/nonexistent/outrig-config.yaml" };

	/* The component names a plugin file: nothing that could leave the plugin folder. */
	ck_assert_uint_eq(load(&c, &d, "bad-name.yaml", NULL), 1);
	ck_assert_int_ge(
		asprintf(&want, "%s:5:16: spec.nameResolution.component: \"../../tmp/evil\" is not", path),
		0);
	ck_line(&d, want);
	ck_assert_str_eq(c.resolver.type, "nameresolution.sqlite");
	free(want);
	configuration_free(&c);
	diag_clear(&d);

	ck_assert_uint_eq(load(&c, &d, "bad-syntax.yaml", NULL), 1);
	ck_assert_int_ge(asprintf(&want, "%s:6:", syntax), 0);
	ck_line(&d, want);
	ck_assert_uint_eq(count_lines(&d, "YAML syntax error"), 1);
	free(want);
	configuration_free(&c);
	diag_clear(&d);

	ck_assert_uint_eq(configuration_load(missing, 1, &c, &d), 1);
	ck_line(&d,
		"/nonexistent/outrig-config.yaml: cannot open the --config file: No such file or directory");
	configuration_free(&c);
	diag_clear(&d);
	free(path);
	free(syntax);
}
END_TEST

/* ---- outrigd --check ---- */

/* Runs outrigd --check with the fixtures as --config; returns its exit code and its output in *out. */
static int run_check(char **out, const char *const *names, size_t n)
{
	char *cmd, *dir = strdup("/tmp/outrig-cfg-check-XXXXXX"), *tmp;
	const char *outrigd = getenv("OUTRIGD");
	char buf[4096];
	size_t len = 0;
	FILE *p;
	int status;

	ck_assert_msg(outrigd != NULL, "OUTRIGD is not set; run through make check");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_ge(asprintf(&cmd, "'%s' --check --resources-path '%s'", outrigd, dir), 0);
	for (size_t i = 0; i < n; i++) {
		char *path = fixture(names[i]);

		ck_assert_int_ge(asprintf(&tmp, "%s --config '%s'", cmd, path), 0);
		free(cmd);
		free(path);
		cmd = tmp;
	}
	ck_assert_int_ge(asprintf(&tmp, "%s 2>&1", cmd), 0);
	free(cmd);
	p = popen(tmp, "r");
	ck_assert_ptr_nonnull(p);
	*out = calloc(1, 1);
	while (fgets(buf, sizeof(buf), p) != NULL) {
		*out = realloc(*out, len + strlen(buf) + 1);
		strcpy(*out + len, buf);
		len += strlen(buf);
	}
	status = pclose(p);
	rmdir(dir);
	free(dir);
	free(tmp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_check_good)
{
	const char *names[] = { "good.yaml", "kubernetes.yaml" };
	char *out;
	int rc = run_check(&out, names, 2);

	ck_assert_msg(rc == 0, "outrigd --check failed:\n%s", out);
	ck_assert_msg(strstr(out, "2 configuration files OK") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "spec.tracing: no exporter set") != NULL, "%s", out);
	free(out);
}
END_TEST

START_TEST(test_check_bad)
{
	const char *bad_kind[] = { "bad-kind.yaml" }, *bad_timeout[] = { "bad-timeout.yaml" },
		   *missing[] = { "missing-plugin.yaml" };
	char *out, *path = fixture("bad-timeout.yaml"), *want;
	int rc;

	rc = run_check(&out, bad_kind, 1);
	ck_assert_msg(rc == 1 && strstr(out, "bad-kind.yaml:2:7: kind: expected Configuration") != NULL,
		      "rc %d:\n%s", rc, out);
	free(out);

	/* The resolver's metadata is checked against its plugin's fields, named as the file names them. */
	rc = run_check(&out, bad_timeout, 1);
	ck_assert_int_ge(
		asprintf(
			&want,
			"%s:7:16: spec.nameResolution.configuration.timeout: \"soon\" is not a valid duration",
			path),
		0);
	ck_assert_msg(rc == 1 && strstr(out, want) != NULL, "rc %d, expected\n  %s\nin:\n%s", rc, want, out);
	free(want);
	free(out);

	/* A resolver a file chose must exist; only the default may be missing. */
	rc = run_check(&out, missing, 1);
	ck_assert_msg(
		rc == 1 &&
			strstr(out,
			       "missing-plugin.yaml:5:16: spec.nameResolution.component: cannot be used:") !=
				NULL &&
			strstr(out, "nameresolution_nosuchresolver.so") != NULL,
		"rc %d:\n%s", rc, out);
	free(out);
	free(path);
}
END_TEST

/* ---- core/blocks/invoke/nameres.c with a fake resolver ---- */

struct fake_resolver {
	int registered;
	int unregistered;
	char app_id[64], ns[64], host[64];
	int port, app_port;
	int64_t pid;
	char query_ns[64];
};

static int fake_register(void *instance, const struct outrig_nr_self *self, struct outrig_error *err)
{
	struct fake_resolver *f = instance;

	f->registered++;
	snprintf(f->app_id, sizeof(f->app_id), "%s", self->app_id);
	snprintf(f->ns, sizeof(f->ns), "%s", self->ns);
	snprintf(f->host, sizeof(f->host), "%s", self->host);
	f->port = self->port;
	f->app_port = self->app_port;
	f->pid = self->pid;
	return 0;
}

static int fake_resolve(void *instance, const struct outrig_nr_query *q, struct outrig_nr_address *out,
			struct outrig_error *err)
{
	struct fake_resolver *f = instance;

	snprintf(f->query_ns, sizeof(f->query_ns), "%s", q->ns);
	if (strcmp(q->app_id, "other") != 0)
		return outrig_err(err, OUTRIG_ENOTFOUND, "app id %s is not running", q->app_id);
	snprintf(out->host, sizeof(out->host), "10.0.0.7");
	out->port = 47301;
	return 0;
}

static void fake_unregister(void *instance)
{
	((struct fake_resolver *)instance)->unregistered++;
}

static const struct outrig_nr_ops fake_ops = {
	.struct_size = sizeof(struct outrig_nr_ops),
	.register_self = fake_register,
	.resolve = fake_resolve,
	.unregister_self = fake_unregister,
};

struct resolved {
	bool called;
	int rc;
	char host[256];
	int port;
	char error[600];
	struct event_base *base;
};

static void on_resolved(void *arg, int rc, const struct outrig_nr_address *addr, const char *error)
{
	struct resolved *r = arg;

	r->called = true;
	r->rc = rc;
	if (addr != NULL) {
		snprintf(r->host, sizeof(r->host), "%s", addr->host);
		r->port = addr->port;
	}
	snprintf(r->error, sizeof(r->error), "%s", error != NULL ? error : "");
	event_base_loopbreak(r->base);
}

/* Runs the loop until done (or 5 s). */
static void run_until(struct event_base *base, const bool *done)
{
	for (int i = 0; i < 500 && !*done; i++) {
		struct timeval tv = { 0, 10000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

struct fake_setup {
	struct fake_resolver f;
	struct plugin p;
	struct component c;
	struct components cs;
	struct options opts;
	struct server srv;
};

static void fake_init(struct fake_setup *s, const char *app_id)
{
	memset(s, 0, sizeof(*s));
	s->p.desc.nameresolution = &fake_ops;
	s->c.plugin = &s->p;
	s->c.instance = &s->f;
	s->c.name = "nameresolution";
	s->c.type = "nameresolution.fake";
	s->c.lane.limit = 1;
	s->cs.resolver = &s->c;
	s->opts.app_id = app_id;
	s->opts.app_port = 3000;
	s->opts.internal_listen_address = "0.0.0.0";
	s->srv.opts = &s->opts;
	s->srv.components = &s->cs;
	s->srv.internal_port = 47302;
	evthread_use_pthreads();
	s->srv.base = event_base_new();
	s->srv.workers = workers_start(s->srv.base, 2);
	ck_assert_ptr_nonnull(s->srv.workers);
}

static void fake_fini(struct fake_setup *s)
{
	workers_stop(s->srv.workers);
	nameres_stop(&s->srv);
	nameres_free(&s->srv);
	event_base_free(s->srv.base);
}

START_TEST(test_nameres_self_host)
{
	ck_assert_str_eq(nameres_self_host("0.0.0.0"), "127.0.0.1");
	ck_assert_str_eq(nameres_self_host("::"), "127.0.0.1");
	ck_assert_str_eq(nameres_self_host(""), "127.0.0.1");
	ck_assert_str_eq(nameres_self_host(NULL), "127.0.0.1");
	ck_assert_str_eq(nameres_self_host("192.0.2.4"), "192.0.2.4");
	ck_assert_str_eq(nameres_self_host("fd00::1"), "fd00::1");
}
END_TEST

START_TEST(test_nameres_register_resolve_unregister)
{
	struct fake_setup s;
	struct resolved r = { 0 };

	setenv("NAMESPACE", "prod", 1);
	fake_init(&s, "me");
	r.base = s.srv.base;
	ck_assert_int_eq(nameres_start(&s.srv), 0);
	ck_assert_ptr_nonnull(s.srv.nameres);
	/* Resolving on the same lane comes after the announcement. */
	ck_assert_int_eq(nameres_resolve(&s.srv, "other", "", on_resolved, &r), 0);
	ck_assert(!r.called);
	run_until(s.srv.base, &r.called);
	ck_assert(r.called);
	ck_assert_int_eq(s.f.registered, 1);
	ck_assert_str_eq(s.f.app_id, "me");
	ck_assert_str_eq(s.f.ns, "prod");
	ck_assert_str_eq(s.f.host, "127.0.0.1");
	ck_assert_int_eq(s.f.port, 47302);
	ck_assert_int_eq(s.f.app_port, 3000);
	ck_assert_int_eq(s.f.pid, getpid());
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.host, "10.0.0.7");
	ck_assert_int_eq(r.port, 47301);
	/* "" is this sidecar's own namespace, told to the plugin. */
	ck_assert_str_eq(s.f.query_ns, "prod");

	memset(&r, 0, sizeof(r));
	r.base = s.srv.base;
	ck_assert_int_eq(nameres_resolve(&s.srv, "ghost", "staging", on_resolved, &r), 0);
	run_until(s.srv.base, &r.called);
	ck_assert_int_eq(r.rc, OUTRIG_ENOTFOUND);
	ck_assert_str_eq(r.error, "app id ghost is not running");
	ck_assert_str_eq(s.f.query_ns, "staging");

	ck_assert_int_eq(s.f.unregistered, 0);
	workers_stop(s.srv.workers);
	s.srv.workers = NULL;
	nameres_stop(&s.srv);
	ck_assert_int_eq(s.f.unregistered, 1);
	/* Once only. */
	nameres_stop(&s.srv);
	ck_assert_int_eq(s.f.unregistered, 1);
	fake_fini(&s);
	unsetenv("NAMESPACE");
}
END_TEST

START_TEST(test_nameres_without_app_id_or_resolver)
{
	struct fake_setup s;
	struct resolved r = { 0 };

	/* No --app-id: nothing announced, but other apps can still be found. */
	fake_init(&s, "");
	r.base = s.srv.base;
	ck_assert_int_eq(nameres_start(&s.srv), 0);
	ck_assert_ptr_null(s.srv.nameres);
	ck_assert_int_eq(nameres_resolve(&s.srv, "other", "", on_resolved, &r), 0);
	run_until(s.srv.base, &r.called);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(s.f.registered, 0);
	fake_fini(&s);
	ck_assert_int_eq(s.f.unregistered, 0);

	/* No resolver: an answer all the same, on the loop, never from inside the call. */
	fake_init(&s, "me");
	s.cs.resolver = NULL;
	memset(&r, 0, sizeof(r));
	r.base = s.srv.base;
	ck_assert_int_eq(nameres_start(&s.srv), 0);
	ck_assert_int_eq(nameres_resolve(&s.srv, "other", "", on_resolved, &r), 0);
	ck_assert(!r.called);
	run_until(s.srv.base, &r.called);
	ck_assert_int_eq(r.rc, OUTRIG_EUNAVAIL);
	ck_assert_msg(strstr(r.error, "no name resolver is running, so app id other cannot be found") != NULL,
		      "%s", r.error);
	fake_fini(&s);
}
END_TEST

static Suite *configuration_suite(void)
{
	Suite *s = suite_create("configuration");
	TCase *parse = tcase_create("parse"), *check = tcase_create("check"), *nr = tcase_create("nameres");

	tcase_add_test(parse, test_default_without_files);
	tcase_add_test(parse, test_good_file);
	tcase_add_test(parse, test_observe_sections);
	tcase_add_test(parse, test_unsupported_reported_once);
	tcase_add_test(parse, test_merge_order);
	tcase_add_test(parse, test_mtls_section);
	tcase_add_test(parse, test_bad_kind);
	tcase_add_test(parse, test_bad_nameresolution);
	tcase_add_test(parse, test_bad_name_and_syntax_and_missing);
	suite_add_tcase(s, parse);
	tcase_add_test(check, test_check_good);
	tcase_add_test(check, test_check_bad);
	suite_add_tcase(s, check);
	tcase_add_test(nr, test_nameres_self_host);
	tcase_add_test(nr, test_nameres_register_resolve_unregister);
	tcase_add_test(nr, test_nameres_without_app_id_or_resolver);
	suite_add_tcase(s, nr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(configuration_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
