/* SPDX-License-Identifier: Apache-2.0 */
/* One set of state-store cases run through outrigd's HTTP and gRPC APIs against every state plugin. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "conformance.h"

/* One spec.metadata entry, to write table rows on one line. */
#define MD(name, value) "  - name: " name "\n    value: \"" value "\"\n"

#define ALL_CAPS (CAP_ETAG | CAP_TX | CAP_TTL)

/*
 * Adding a plugin is one row. What a column means is in struct plugin_row (conformance.h); why a
 * row differs from the others is said next to it. A server-backed row starts its own server on a
 * free port, so ${PORT} is that server's.
 */
static const struct plugin_row plugins[] = {
	{
		.name = "in_memory",
		.type = "state.in-memory",
		.caps = ALL_CAPS,
		/* Each component is its own hash table. */
		.shared_backend = false,
		/* Etags are decimal counters; anything else is refused (plugin README). */
		.bad_etag = BAD_ETAG_REFUSED,
	},
	{
		.name = "sqlite",
		.type = "state.sqlite",
		.metadata = MD("connectionString", "${DIR}/conformance.db"),
		.caps = ALL_CAPS,
		/* Every component opens the same file and table. */
		.shared_backend = true,
		/* Etags are random UUIDs compared as text, as in Dapr's sqlite store. */
		.bad_etag = BAD_ETAG_MISMATCH,
	},
	{
		.name = "redis",
		.type = "state.redis",
		.metadata = MD("redisHost", "127.0.0.1:${PORT}"),
		.start = server_redis_start,
		.caps = ALL_CAPS,
		.shared_backend = true,
		/* Etags are the hash's integer version; Dapr refuses one that is not an integer. */
		.bad_etag = BAD_ETAG_REFUSED,
		.etag_creates_missing_key = true,
	},
	{
		.name = "postgresql",
		.type = "state.postgresql",
		.metadata = MD("connectionString",
			       "host=127.0.0.1 port=${PORT} user=postgres dbname=postgres sslmode=disable"),
		.start = server_postgres_start,
		.caps = ALL_CAPS,
		/* value is jsonb: it hands back equal JSON, re-rendered ({"a": 1}). */
		.json_normalised = true,
		/*
		 * A btree index entry holds at most 2704 bytes (a third of an 8 KB page, less
		 * headers), so the primary key on key cannot take a 64 KB key.
		 */
		.max_key_bytes = 2600,
		.shared_backend = true,
		/* Etags are xmin, a uint32; Dapr refuses one that does not parse as one. */
		.bad_etag = BAD_ETAG_REFUSED,
	},
};

struct under_test ut;
struct exchange x;

/* Copies s with every ${DIR} and ${PORT} replaced. Ownership: caller frees. */
static char *expand(const char *s)
{
	char port[16];
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	ck_assert_ptr_nonnull(f);
	snprintf(port, sizeof(port), "%d", ut.server.port);
	while (s != NULL && *s != '\0') {
		if (strncmp(s, "${DIR}", 6) == 0) {
			fputs(ut.dmn.dir, f);
			s += 6;
		} else if (strncmp(s, "${PORT}", 7) == 0) {
			fputs(port, f);
			s += 7;
		} else {
			fputc(*s++, f);
		}
	}
	fclose(f);
	return out;
}

/* The row's metadata plus a keyPrefix line (none for NULL). */
static void write_component(const char *name, const char *key_prefix)
{
	char *lines = expand(ut.row->metadata), *all = NULL;

	ck_assert_int_ge(asprintf(&all, "%s%s%s%s", lines,
				  key_prefix ? "  - name: keyPrefix\n    value: \"" : "",
				  key_prefix ? key_prefix : "", key_prefix ? "\"\n" : ""),
			 0);
	ck_assert_int_eq(daemon_write_component(&ut.dmn, name, ut.row->type, all), 0);
	free(all);
	free(lines);
}

/* The capabilities /v1.0/metadata reports for component name, as CAP_* bits. */
static unsigned reported_caps(const char *name)
{
	json_t *meta, *c, *v;
	unsigned caps = 0;
	size_t i, k;
	bool found = false;

	call("GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
	meta = xjson(&x);
	json_array_foreach(json_object_get(meta, "components"), i, c)
	{
		if (strcmp(jstr(json_object_get(c, "name")), name) != 0)
			continue;
		found = true;
		ck_assert_str_eq(jstr(json_object_get(c, "type")), ut.row->type);
		json_array_foreach(json_object_get(c, "capabilities"), k, v)
		{
			caps |= strcmp(jstr(v), "ETAG") == 0 ? CAP_ETAG : 0;
			caps |= strcmp(jstr(v), "TRANSACTIONAL") == 0 ? CAP_TX : 0;
			caps |= strcmp(jstr(v), "TTL") == 0 ? CAP_TTL : 0;
		}
	}
	json_decref(meta);
	ck_assert_msg(found, "component %s is not in /v1.0/metadata: %.400s", name, XBODY(&x));
	return caps;
}

/*
 * Whether configure built the row's plugin: like the loader, "state.in-memory" is state_in_memory.so
 * in $OUTRIG_PLUGIN_PATH. A build without hiredis or libpq has no Redis or PostgreSQL row to run.
 */
static bool plugin_built(const char *type)
{
	const char *dir = getenv("OUTRIG_PLUGIN_PATH");
	char *name = strdup(type), *path = NULL;
	bool found;

	ck_assert_msg(dir != NULL, "OUTRIG_PLUGIN_PATH is not set; run through make check");
	ck_assert_ptr_nonnull(name);
	for (char *p = name; *p != '\0'; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	ck_assert_int_ge(asprintf(&path, "%s/%s.so", dir, name), 0);
	found = access(path, R_OK) == 0;
	if (!found)
		fprintf(stderr, "conformance %s: SKIPPED, %s was not built (see configure's plugin list)\n",
			ut.row->name, path);
	free(path);
	free(name);
	return found;
}

/*
 * Unchecked: one server and one daemon per row, shared by its cases (which use distinct keys).
 * It runs in the main thread, which the daemon and server die with.
 */
static void plugin_up(void)
{
	unsigned caps;
	int rc;

	memset(&ut.server, 0, sizeof(ut.server));
	ut.skipped = !plugin_built(ut.row->type);
	/* CI builds every plugin and installs every server: there a skip would hide a broken setup. */
	ck_assert_msg(!ut.skipped || getenv("OUTRIG_REQUIRE_SERVERS") == NULL,
		      "%s was not built and OUTRIG_REQUIRE_SERVERS is set", ut.row->type);
	ck_assert_int_eq(daemon_init(&ut.dmn, APP_ID), 0);
	if (ut.skipped)
		return;
	if (ut.row->start != NULL) {
		rc = ut.row->start(&ut.server);
		if (rc == SERVER_UNAVAILABLE) {
			ck_assert_msg(getenv("OUTRIG_REQUIRE_SERVERS") == NULL,
				      "%s: its server is not installed and OUTRIG_REQUIRE_SERVERS is set",
				      ut.row->name);
			fprintf(stderr, "conformance %s: SKIPPED, its server is not installed here\n",
				ut.row->name);
			ut.skipped = true;
			return;
		}
		ck_assert_msg(rc == 0, "%s: the %s server did not start (%d); its log is %s", ut.row->name,
			      ut.server.kind, rc, ut.server.log);
	}
	write_component(STORE, NULL);
	write_component(TWIN, "appid");
	write_component(BYNAME, "name");
	write_component(LITERAL, "byname");
	write_component(BARE, "none");
	ut.grpc_port = daemon_free_port();
	ck_assert_msg(daemon_start(&ut.dmn, (const char *const[]){ "--dapr-grpc-port",
								   xfmt("%d", ut.grpc_port), NULL }) == 0,
		      "outrigd did not start with %s (log above)", ut.row->type);
	caps = reported_caps(STORE);
	ck_assert_msg(caps == ut.row->caps, "%s reports capabilities %#x, its row declares %#x", ut.row->type,
		      caps, ut.row->caps);
}

static void plugin_down(void)
{
	xfree(&x);
	/* The daemon before its server, and the server before the scratch directory it may write to. */
	daemon_stop(&ut.dmn);
	if (ut.row->start != NULL && !ut.skipped)
		server_destroy(&ut.server);
	daemon_cleanup(&ut.dmn);
}

/*
 * Generous for a slow 2-core CI machine: the slowest case (50 racing clients, or 20 clients'
 * read-modify-write) takes a few seconds there.
 */
#define CASE_TIMEOUT_S 60

static void plugin_up_http(void)
{
	ut.via = VIA_HTTP;
	plugin_up();
}

static void plugin_up_grpc(void)
{
	ut.via = VIA_GRPC;
	plugin_up();
}

/*
 * The case table twice: through the HTTP API, then through the gRPC API (TCase "<row>_grpc"), each
 * with a fresh daemon and backend, so both front ends must give the same answers from the one block.
 */
static Suite *conformance_suite(const struct plugin_row *p)
{
	Suite *s = suite_create(p->type);
	void (*const up[])(void) = { plugin_up_http, plugin_up_grpc };
	/* check keeps the name's pointer, and one row's suite is run at a time. */
	static char grpc_name[64];
	const char *const names[] = { p->name, grpc_name };

	snprintf(grpc_name, sizeof(grpc_name), "%s_grpc", p->name);

	for (size_t i = 0; i < 2; i++) {
		TCase *tc = tcase_create(names[i]);

		tcase_add_unchecked_fixture(tc, up[i], plugin_down);
		tcase_set_timeout(tc, CASE_TIMEOUT_S);
		add_basic_cases(tc);
		add_etag_cases(tc);
		add_key_cases(tc);
		add_front_end_cases(tc);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	int failed = 0;

	for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		SRunner *sr;

		ut.row = &plugins[i];
		sr = srunner_create(conformance_suite(ut.row));
		srunner_run_all(sr, CK_ENV);
		failed += srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
