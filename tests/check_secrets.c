/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets: the API on both local stores, scopes from a Configuration, and secretKeyRef in components. */
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
#include "exchange.h"
#include "server.h"
#include "server_redis_auth.h"

#ifndef SEC_TEST_DATA
#define SEC_TEST_DATA "tests/data/secrets"
#endif

#define APP "secapp"
#define NESTED SEC_TEST_DATA "/nested.json"
#define SCOPES SEC_TEST_DATA "/scopes.json"

/* Every test runs in its own forked process with its own daemon and scratch directory. */
static struct daemon dmn;
static struct exchange x;

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
}

static int get(const char *path)
{
	return xreq(&x, dmn.port, "GET", path, NULL, NULL);
}

/* A file store named name over file, with extra metadata lines (or ""). */
static void add_file_store(const char *name, const char *file, const char *extra)
{
	ck_assert_int_eq(
		daemon_write_component(&dmn, name, "secretstores.local.file",
				       xfmt("  - name: secretsFile\n    value: \"%s\"\n%s", file, extra)),
		0);
}

/* The body is JSON equal to want (a JSON text). */
static void ck_json(const char *want)
{
	json_t *got = xjson(&x), *exp = json_loads(want, 0, NULL);

	ck_assert_msg(exp != NULL, "bad expectation %s", want);
	ck_assert_msg(got != NULL && json_equal(got, exp), "%s\n  -> body %.600s\n  expected %s", x.req,
		      XBODY(&x), want);
	json_decref(got);
	json_decref(exp);
}

static void start(const char *const *args)
{
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
}

/* Starting must fail; returns the daemon's log (caller frees). */
static char *start_fails(const char *const *args)
{
	char *log;

	ck_assert_msg(daemon_start(&dmn, args) != 0, "outrigd started, but should have refused");
	log = xslurp(dmn.log);
	ck_assert_ptr_nonnull(log);
	return log;
}

/* s in the log, as --check prints it or as the log writes it (logfmt turns double quotes into single). */
static void ck_log_has(const char *log, const char *s)
{
	char *want = strdup(s);

	ck_assert_ptr_nonnull(want);
	for (char *p = want; *p != '\0'; p++)
		if (*p == '"')
			*p = '\'';
	ck_assert_msg(strstr(log, s) != NULL || strstr(log, want) != NULL, "log lacks \"%s\":\n%s", want,
		      log);
	free(want);
}

/* ---- secretstores.local.file ---- */

START_TEST(file_nested_flattened)
{
	add_file_store("fs", NESTED, "");
	start(NULL);
	get("/v1.0/secrets/fs/db:password");
	ck_status(&x, 200);
	ck_assert(xjson_type(&x));
	ck_json("{\"db:password\":\"pw1\"}");
	get("/v1.0/secrets/fs/db:tls:ca");
	ck_json("{\"db:tls:ca\":\"ca-pem\"}");
	get("/v1.0/secrets/fs/list:1");
	ck_json("{\"list:1\":\"second\"}");
	get("/v1.0/secrets/fs/port");
	ck_json("{\"port\":\"5432\"}");
	/* A nested object is no secret in the default mode. */
	get("/v1.0/secrets/fs/db");
	ck_error(&x, 500, "ERR_SECRET_GET");
	get("/v1.0/secrets/fs/bulk");
	ck_status(&x, 200);
	ck_json("{\"db:password\":{\"db:password\":\"pw1\"},\"db:user\":{\"db:user\":\"app\"},"
		"\"db:tls:ca\":{\"db:tls:ca\":\"ca-pem\"},\"list:0\":{\"list:0\":\"first\"},"
		"\"list:1\":{\"list:1\":\"second\"},\"plain\":{\"plain\":\"p\"},\"port\":{\"port\":\"5432\"},"
		"\"enabled\":{\"enabled\":\"true\"},\"../../etc/passwd\":{\"../../etc/passwd\":\"only-a-key\"}}");
}
END_TEST

START_TEST(file_nested_separator)
{
	add_file_store("fs", NESTED, "  - name: nestedSeparator\n    value: \".\"\n");
	start(NULL);
	get("/v1.0/secrets/fs/db.tls.ca");
	ck_json("{\"db.tls.ca\":\"ca-pem\"}");
	get("/v1.0/secrets/fs/db:tls:ca");
	ck_error(&x, 500, "ERR_SECRET_GET");
}
END_TEST

START_TEST(file_multi_valued)
{
	add_file_store("fs", NESTED, "  - name: multiValued\n    value: \"true\"\n");
	start(NULL);
	get("/v1.0/secrets/fs/db");
	ck_status(&x, 200);
	ck_json("{\"password\":\"pw1\",\"user\":\"app\",\"tls:ca\":\"ca-pem\"}");
	get("/v1.0/secrets/fs/plain");
	ck_json("{\"plain\":\"p\"}");
	get("/v1.0/secrets/fs/db:password");
	ck_error(&x, 500, "ERR_SECRET_GET");
	get("/v1.0/secrets/fs/bulk");
	ck_status(&x, 200);
	/* As daprd: a top-level array is no secret in this mode. */
	ck_json("{\"db\":{\"password\":\"pw1\",\"user\":\"app\",\"tls:ca\":\"ca-pem\"},\"plain\":{\"plain\":\"p\"},"
		"\"port\":{\"port\":\"5432\"},\"enabled\":{\"enabled\":\"true\"},"
		"\"../../etc/passwd\":{\"../../etc/passwd\":\"only-a-key\"}}");
}
END_TEST

START_TEST(file_missing_file)
{
	char *log;

	add_file_store("fs", "/nonexistent/secrets.json", "");
	log = start_fails(NULL);
	ck_log_has(log, "component fs (secretstores.local.file)");
	ck_log_has(log, "secretsFile /nonexistent/secrets.json cannot be opened: No such file or directory");
	free(log);
}
END_TEST

START_TEST(file_without_secrets_file)
{
	char *log;

	ck_assert_int_eq(daemon_write_component(&dmn, "fs", "secretstores.local.file", NULL), 0);
	log = start_fails(NULL);
	ck_log_has(log, "needs \"secretsFile\"");
	free(log);
}
END_TEST

/* A key is looked up, never opened: not on the file store, not on the env store. */
START_TEST(traversal_key_is_only_a_key)
{
	add_file_store("fs", NESTED, "");
	ck_assert_int_eq(daemon_write_component(&dmn, "env", "secretstores.local.env", NULL), 0);
	start(NULL);
	get("/v1.0/secrets/fs/..%2F..%2Fetc%2Fpasswd");
	ck_status(&x, 200);
	ck_json("{\"../../etc/passwd\":\"only-a-key\"}");
	get("/v1.0/secrets/fs/..%2F..%2Fetc%2Fhostname");
	ck_error(&x, 500, "ERR_SECRET_GET");
	ck_assert(strstr(XBODY(&x), "root:") == NULL);
	get("/v1.0/secrets/env/..%2F..%2Fetc%2Fpasswd");
	ck_error(&x, 500, "ERR_SECRET_GET");
	ck_assert(strstr(XBODY(&x), "root:") == NULL);
}
END_TEST

/* ---- secretstores.local.env ---- */

START_TEST(env_get_and_bulk)
{
	ck_assert_int_eq(daemon_setenv(&dmn, "SECTEST_FOO", "bar"), 0);
	ck_assert_int_eq(daemon_setenv(&dmn, "SECTEST_EMPTY", ""), 0);
	ck_assert_int_eq(daemon_setenv(&dmn, "DAPR_SECTEST", "hidden"), 0);
	ck_assert_int_eq(daemon_setenv(&dmn, "APP_API_TOKEN", "hidden-too"), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "env", "secretstores.local.env", NULL), 0);
	ck_assert_int_eq(
		daemon_add_component(&dmn, "pre", "secretstores.local.env", "prefix", "SECTEST_", NULL), 0);
	start(NULL);
	get("/v1.0/secrets/env/SECTEST_FOO");
	ck_status(&x, 200);
	ck_json("{\"SECTEST_FOO\":\"bar\"}");
	get("/v1.0/secrets/env/SECTEST_EMPTY");
	ck_json("{\"SECTEST_EMPTY\":\"\"}");
	get("/v1.0/secrets/env/SECTEST_NOT_SET");
	ck_error(&x, 500, "ERR_SECRET_GET");
	get("/v1.0/secrets/env/DAPR_SECTEST");
	ck_error(&x, 500, "ERR_SECRET_GET");
	ck_assert(strstr(XBODY(&x), "hidden") == NULL);
	get("/v1.0/secrets/env/app_api_token");
	ck_error(&x, 500, "ERR_SECRET_GET");
	get("/v1.0/secrets/pre/FOO");
	ck_json("{\"FOO\":\"bar\"}");
	get("/v1.0/secrets/pre/SECTEST_FOO");
	ck_error(&x, 500, "ERR_SECRET_GET");
	get("/v1.0/secrets/pre/bulk");
	ck_status(&x, 200);
	ck_json("{\"FOO\":{\"FOO\":\"bar\"},\"EMPTY\":{\"EMPTY\":\"\"}}");
	get("/v1.0/secrets/env/bulk");
	ck_status(&x, 200);
	{
		json_t *all = xjson(&x);

		ck_assert_ptr_nonnull(all);
		ck_assert_str_eq(jstr(json_object_get(json_object_get(all, "SECTEST_FOO"), "SECTEST_FOO")),
				 "bar");
		ck_assert_ptr_null(json_object_get(all, "DAPR_SECTEST"));
		ck_assert_ptr_null(json_object_get(all, "APP_API_TOKEN"));
		json_decref(all);
	}
}
END_TEST

/* ---- API errors ---- */

START_TEST(api_errors)
{
	/* No secret store at all. */
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	start(NULL);
	get("/v1.0/secrets/fs/a");
	ck_error(&x, 500, "ERR_SECRET_STORES_NOT_CONFIGURED");
	ck_assert_str_eq(
		XBODY(&x),
		"{\"errorCode\":\"ERR_SECRET_STORES_NOT_CONFIGURED\",\"message\":\"secret store is not configured\"}");
	get("/v1.0/secrets/fs/bulk");
	ck_error(&x, 500, "ERR_SECRET_STORES_NOT_CONFIGURED");
	ck_assert_int_eq(daemon_stop(&dmn), 0);

	add_file_store("fs", SCOPES, "");
	start(NULL);
	get("/v1.0/secrets/nostore/a");
	ck_error(&x, 401, "ERR_SECRET_STORE_NOT_FOUND");
	ck_assert_str_eq(
		XBODY(&x),
		"{\"errorCode\":\"ERR_SECRET_STORE_NOT_FOUND\",\"message\":\"failed finding secret store with key nostore\"}");
	/* A component that is not a secret store is no secret store. */
	get("/v1.0/secrets/statestore/bulk");
	ck_error(&x, 401, "ERR_SECRET_STORE_NOT_FOUND");
	get("/v1.0/secrets/fs/zz");
	ck_error(&x, 500, "ERR_SECRET_GET");
	ck_assert_msg(strstr(XBODY(&x), "failed getting secret with key zz from secret store fs: ") != NULL,
		      "%s", XBODY(&x));
	/* metadata.* reaches the store, which ignores what it does not know. */
	get("/v1.0/secrets/fs/a?metadata.version_id=1&metadata.namespace=x");
	ck_json("{\"a\":\"1\"}");
	xreq(&x, dmn.port, "POST", "/v1.0/secrets/fs/a", NULL, "");
	ck_status(&x, 405);
}
END_TEST

/* ---- scopes (API.md §5.4) ---- */

/* Every store reads scopes.json (secrets a, b, c); each has another scope, or none. */
static const struct {
	const char *store;
	const char *scope; /* YAML of the entry's fields, or NULL for no entry */
	const char *allowed;
} scope_cases[] = {
	{ "none", NULL, "abc" },
	{ "allow", "defaultAccess: allow", "abc" },
	{ "deny", "defaultAccess: deny", "" },
	{ "allowdenied", "defaultAccess: allow, deniedSecrets: [b]", "ac" },
	{ "denyallowed", "defaultAccess: deny, allowedSecrets: [a, c]", "ac" },
	{ "denydenied", "defaultAccess: deny, deniedSecrets: [a]", "" },
	{ "allowallowed", "defaultAccess: allow, allowedSecrets: [a]", "a" },
	/* A non-empty allow list decides alone, even over the deny list. */
	{ "both", "defaultAccess: deny, allowedSecrets: [a, b], deniedSecrets: [b]", "ab" },
	{ "nodefault", "deniedSecrets: [c]", "ab" },
	{ "upper", "defaultAccess: Deny, allowedSecrets: [A]", "" },
};

START_TEST(scope_matrix)
{
	char config[DAEMON_PATH_MAX + 16], *yaml = NULL;
	size_t n = sizeof(scope_cases) / sizeof(scope_cases[0]), size = 0;
	const char *args[] = { "--config", config, NULL };
	FILE *f = open_memstream(&yaml, &size);

	snprintf(config, sizeof(config), "%s/config.yaml", dmn.dir);
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: sec\nspec:\n  secrets:\n    scopes:\n");
	for (size_t i = 0; i < n; i++) {
		add_file_store(scope_cases[i].store, SCOPES, "");
		if (scope_cases[i].scope != NULL)
			fprintf(f, "    - {storeName: %s, %s}\n", scope_cases[i].store, scope_cases[i].scope);
	}
	fclose(f);
	f = fopen(config, "w");
	ck_assert_ptr_nonnull(f);
	fputs(yaml, f);
	fclose(f);
	free(yaml);
	start(args);
	for (size_t i = 0; i < n; i++) {
		const char *store = scope_cases[i].store, *allowed = scope_cases[i].allowed;
		json_t *bulk;

		for (const char *k = "abc"; *k != '\0'; k++) {
			char key[2] = { *k, '\0' };

			get(xfmt("/v1.0/secrets/%s/%s", store, key));
			if (strchr(allowed, *k) != NULL) {
				ck_status(&x, 200);
				ck_json(xfmt("{\"%s\":\"%d\"}", key, *k - 'a' + 1));
			} else {
				ck_error(&x, 403, "ERR_PERMISSION_DENIED");
				ck_assert_str_eq(
					XBODY(&x),
					xfmt("{\"errorCode\":\"ERR_PERMISSION_DENIED\",\"message\":\"access "
					     "denied by policy to get \\\"%s\\\" from \\\"%s\\\"\"}",
					     key, store));
			}
		}
		get(xfmt("/v1.0/secrets/%s/bulk", store));
		ck_status(&x, 200);
		bulk = xjson(&x);
		ck_assert_ptr_nonnull(bulk);
		ck_assert_msg(json_object_size(bulk) == strlen(allowed), "%s: bulk %s, allowed only %s",
			      store, XBODY(&x), allowed);
		for (const char *k = allowed; *k != '\0'; k++) {
			char key[2] = { *k, '\0' };

			ck_assert_msg(json_object_get(bulk, key) != NULL, "%s: bulk %s lacks %s", store,
				      XBODY(&x), key);
		}
		json_decref(bulk);
	}
}
END_TEST

START_TEST(scope_bad_default_access)
{
	char config[DAEMON_PATH_MAX + 16], *log;
	const char *args[] = { "--config", config, NULL };
	FILE *f;

	snprintf(config, sizeof(config), "%s/config.yaml", dmn.dir);
	f = fopen(config, "w");
	ck_assert_ptr_nonnull(f);
	fputs("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: sec\nspec:\n  secrets:\n"
	      "    scopes:\n    - storeName: fs\n      defaultAccess: denied\n",
	      f);
	fclose(f);
	add_file_store("fs", SCOPES, "");
	log = start_fails(args);
	ck_log_has(log,
		   xfmt("%s:9:22: spec.secrets.scopes[0].defaultAccess: expected allow or deny, found denied",
			config));
	free(log);
}
END_TEST

/* ---- secretKeyRef ---- */

/* A component resource with auth.secretStore (NULL: none) and the given metadata lines. */
static void write_ref_component(const char *file, const char *name, const char *type, const char *store,
				const char *metadata)
{
	ck_assert_int_eq(daemon_write_resource(
				 &dmn, file,
				 xfmt("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n"
				      "  name: %s\nspec:\n  type: %s\n  version: v1\n  metadata:\n%s%s%s",
				      name, type, metadata, store != NULL ? "auth:\n  secretStore: " : "",
				      store != NULL ? store : "")),
			 0);
}

#define REDIS_PASSWORD "s3cret-from-the-store"

static bool have_redis_plugin(void)
{
	const char *dir = getenv("OUTRIG_PLUGIN_PATH");
	const char *b = getenv("OUTRIG_BUILDDIR");
	char *path = dir != NULL ? xfmt("%s/state_redis.so", dir)
				 : xfmt("%s/plugins/.libs/state_redis.so", b ? b : ".");

	return access(path, R_OK) == 0;
}

/* state.redis takes its password from a store; the state API works only because it is right. */
START_TEST(ref_into_redis)
{
	struct test_server redis;
	int rc;

	if (!have_redis_plugin()) {
		fprintf(stderr, "ref_into_redis: skipped (state_redis plugin not built)\n");
		return;
	}
	rc = server_redis_start_auth(&redis, REDIS_PASSWORD);
	if (rc == SERVER_UNAVAILABLE) {
		fprintf(stderr, "ref_into_redis: skipped (redis-server not installed)\n");
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(daemon_setenv(&dmn, "SECTEST_REDIS_PW", REDIS_PASSWORD), 0);
	/* The component's file sorts before the store's: stores are made first anyway. */
	write_ref_component("a-state.yaml", "statestore", "state.redis", "z-env",
			    xfmt("  - name: redisHost\n    value: \"127.0.0.1:%d\"\n"
				 "  - name: redisPassword\n    secretKeyRef:\n      name: SECTEST_REDIS_PW\n"
				 "      key: SECTEST_REDIS_PW\n",
				 redis.port));
	ck_assert_int_eq(daemon_add_component(&dmn, "z-env", "secretstores.local.env", NULL), 0);
	start(NULL);
	xreq(&x, dmn.port, "POST", "/v1.0/state/statestore", "Content-Type: application/json\r\n",
	     "[{\"key\":\"k\",\"value\":\"v\"}]");
	ck_status(&x, 204);
	get("/v1.0/state/statestore/k");
	ck_status(&x, 200);
	ck_body(&x, "\"v\"");
	ck_assert_int_eq(daemon_stop(&dmn), 0);

	/* The same from a file store, key left out (it defaults to the secret's name). */
	write_ref_component("a-state.yaml", "statestore", "state.redis", "z-file",
			    xfmt("  - name: redisHost\n    value: \"127.0.0.1:%d\"\n"
				 "  - name: redisPassword\n    secretKeyRef: {name: \"redis:password\"}\n",
				 redis.port));
	ck_assert_int_eq(
		daemon_write_resource(&dmn, "pw.json", "{\"redis\": {\"password\": \"" REDIS_PASSWORD "\"}}"),
		0);
	add_file_store("z-file", xfmt("%s/pw.json", dmn.resources), "");
	start(NULL);
	get("/v1.0/state/statestore/k");
	ck_status(&x, 200);
	ck_body(&x, "\"v\"");
	ck_assert_int_eq(daemon_stop(&dmn), 0);

	/* The control: a wrong password in the store, and the component cannot start. */
	ck_assert_int_eq(daemon_write_resource(&dmn, "pw.json", "{\"redis\": {\"password\": \"wrong\"}}"), 0);
	if (daemon_start(&dmn, NULL) == 0) {
		get("/v1.0/state/statestore/k");
		ck_assert_msg(x.r.status >= 500, "a wrong password still read state: %d %s", x.r.status,
			      XBODY(&x));
	}
	server_destroy(&redis);
}
END_TEST

/* A missing store or secret stops start-up, naming the file, line, component and entry. */
START_TEST(ref_startup_errors)
{
	char file[DAEMON_PATH_MAX + 16];
	const char *check[] = { "--check", NULL };
	char *log;

	snprintf(file, sizeof(file), "%s/st.yaml", dmn.resources);
	add_file_store("fs", SCOPES, "");
	/* Line 11, column 7: where the secretKeyRef mapping starts. */
	write_ref_component("st.yaml", "st", "state.in-memory", "nostore",
			    "  - name: keyPrefix\n    secretKeyRef:\n      name: a\n");
	log = start_fails(NULL);
	ck_log_has(log, xfmt("%s:11:7: component st: spec.metadata[keyPrefix] secretKeyRef: auth.secretStore "
			     "\"nostore\" is not a component here",
			     file));
	free(log);
	/* --check knows that too, without creating anything. */
	ck_assert_int_eq(truncate(dmn.log, 0), 0);
	log = start_fails(check);
	ck_log_has(log, xfmt("%s:11:7: component st: spec.metadata[keyPrefix] secretKeyRef: auth.secretStore "
			     "\"nostore\" is not a component here",
			     file));
	ck_log_has(log, "outrigd --check: 1 error");
	free(log);

	/* No auth.secretStore: Dapr's "kubernetes" does not exist here. */
	ck_assert_int_eq(truncate(dmn.log, 0), 0);
	write_ref_component("st.yaml", "st", "state.in-memory", NULL,
			    "  - name: keyPrefix\n    secretKeyRef:\n      name: a\n");
	log = start_fails(NULL);
	ck_log_has(log,
		   xfmt("%s:11:7: component st: spec.metadata[keyPrefix] secretKeyRef: the component has no "
			"auth.secretStore, and Dapr's default store \"kubernetes\"",
			file));
	free(log);

	/* A store that is there, a secret that is not. */
	ck_assert_int_eq(truncate(dmn.log, 0), 0);
	write_ref_component("st.yaml", "st", "state.in-memory", "fs",
			    "  - name: keyPrefix\n    secretKeyRef:\n      name: nosuchsecret\n");
	log = start_fails(NULL);
	ck_log_has(
		log,
		xfmt("%s:11:7: component st: spec.metadata[keyPrefix] secretKeyRef: secret store fs has no "
		     "secret \"nosuchsecret\"",
		     file));
	free(log);
	/* --check cannot read secrets: it accepts what it cannot know. */
	ck_assert_int_eq(truncate(dmn.log, 0), 0);
	log = start_fails(check);
	ck_log_has(log, "outrigd --check: 2 components and 0 subscriptions OK");
	free(log);

	/* A secret that is there, a key that is not. */
	ck_assert_int_eq(truncate(dmn.log, 0), 0);
	write_ref_component("st.yaml", "st", "state.in-memory", "fs",
			    "  - name: keyPrefix\n    secretKeyRef:\n      name: a\n      key: b\n");
	log = start_fails(NULL);
	ck_log_has(
		log,
		xfmt("%s:11:7: component st: spec.metadata[keyPrefix] secretKeyRef: secret \"a\" of secret "
		     "store fs has no key \"b\" (its keys: a)",
		     file));
	free(log);

	/* A store that is not a secret store. */
	ck_assert_int_eq(truncate(dmn.log, 0), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "other", "state.in-memory", NULL), 0);
	write_ref_component("st.yaml", "st", "state.in-memory", "other",
			    "  - name: keyPrefix\n    secretKeyRef:\n      name: a\n");
	log = start_fails(NULL);
	ck_log_has(log, "auth.secretStore \"other\" is a state.in-memory component, not a secret store");
	free(log);

	/* And the reference resolved: the component starts. */
	write_ref_component("st.yaml", "st", "state.in-memory", "fs",
			    "  - name: keyPrefix\n    secretKeyRef:\n      name: a\n");
	start(NULL);
}
END_TEST

static Suite *secrets_suite(void)
{
	Suite *s = suite_create("secrets");
	TCase *stores = tcase_create("stores"), *scopes = tcase_create("scopes"),
	      *refs = tcase_create("refs");

	tcase_add_checked_fixture(stores, setup, teardown);
	tcase_set_timeout(stores, 60);
	tcase_add_test(stores, file_nested_flattened);
	tcase_add_test(stores, file_nested_separator);
	tcase_add_test(stores, file_multi_valued);
	tcase_add_test(stores, file_missing_file);
	tcase_add_test(stores, file_without_secrets_file);
	tcase_add_test(stores, traversal_key_is_only_a_key);
	tcase_add_test(stores, env_get_and_bulk);
	tcase_add_test(stores, api_errors);
	suite_add_tcase(s, stores);

	tcase_add_checked_fixture(scopes, setup, teardown);
	tcase_set_timeout(scopes, 60);
	tcase_add_test(scopes, scope_matrix);
	tcase_add_test(scopes, scope_bad_default_access);
	suite_add_tcase(s, scopes);

	tcase_add_checked_fixture(refs, setup, teardown);
	tcase_set_timeout(refs, 120);
	tcase_add_test(refs, ref_into_redis);
	tcase_add_test(refs, ref_startup_errors);
	suite_add_tcase(s, refs);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(secrets_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
