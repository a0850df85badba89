/* SPDX-License-Identifier: Apache-2.0 */
/* The plugin loader refuses each kind of broken plugin with a message naming the file and the reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "components/loader.h"

/* The core's ABI as the refusals print it, e.g. "1.1". */
#define ABI_TEXT_(major, minor) #major "." #minor
#define ABI_TEXT(major, minor) ABI_TEXT_(major, minor)
#define CORE_ABI ABI_TEXT(OUTRIG_ABI_MAJOR, OUTRIG_ABI_MINOR)

static const char *plugin_dir;
static struct loader ld;
static char err[1024];
static char expected[2048];

static void setup(void)
{
	plugin_dir = getenv("OUTRIG_TEST_PLUGIN_DIR");
	ck_assert_msg(plugin_dir != NULL, "OUTRIG_TEST_PLUGIN_DIR is not set; run through make check");
	ck_assert_int_eq(loader_init(&ld, plugin_dir), 0);
	err[0] = '\0';
}

static void teardown(void)
{
	loader_close(&ld);
}

/* Loads type (v1) and asserts the refusal reads exactly as fmt says, with the file path for %s. */
static void assert_refused(const char *type, const char *file, const char *fmt_after_path)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", plugin_dir, file);
	snprintf(expected, sizeof(expected), "%s: %s", path, fmt_after_path);
	ck_assert_ptr_null(loader_get(&ld, type, "v1", true, err, sizeof(err)));
	ck_assert_str_eq(err, expected);
}

START_TEST(test_good_plugin_loads)
{
	struct plugin *p = loader_get(&ld, "state.test-good", "v1", true, err, sizeof(err));

	ck_assert_msg(p != NULL, "refused: %s", err);
	ck_assert_str_eq(p->desc.type, "state.test-good");
	ck_assert_uint_eq(p->desc.abi_major, OUTRIG_ABI_MAJOR);
	ck_assert(p->initialized);
	/* A second request reuses the opened plugin. */
	ck_assert_ptr_eq(loader_get(&ld, "state.test-good", "v1", true, err, sizeof(err)), p);
}
END_TEST

START_TEST(test_file_name_from_type)
{
	char *name = loader_file_name("state.in-memory");

	ck_assert_str_eq(name, "state_in_memory.so");
	free(name);
	name = loader_file_name("secretstores.local.file");
	ck_assert_str_eq(name, "secretstores_local_file.so");
	free(name);
}
END_TEST

START_TEST(test_missing_file)
{
	const char *env = getenv("OUTRIG_PLUGIN_PATH");
	char searched[1024];

	/* Every folder searched is named: the test's, then $OUTRIG_PLUGIN_PATH's, then the built-in one. */
	snprintf(searched, sizeof(searched), "%s%s%s, %s", plugin_dir, env != NULL ? ", " : "",
		 env != NULL ? env : "", OUTRIG_PLUGINDIR);
	snprintf(
		expected, sizeof(expected),
		"no plugin for type \"state.nothere\": state_nothere.so is not in %s; install the plugin there or point --plugin-dir (or OUTRIG_PLUGIN_PATH) at its folder",
		searched);
	ck_assert_ptr_null(loader_get(&ld, "state.nothere", "v1", true, err, sizeof(err)));
	ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(test_bad_magic)
{
	assert_refused(
		"state.bad-magic", "state_bad_magic.so",
		"descriptor field magic is 0xdeadbeef, expected 0x4f555452; the file is not an outrig plugin or is corrupt");
}
END_TEST

START_TEST(test_other_major)
{
	assert_refused(
		"state.other-major", "state_other_major.so",
		"built for plugin ABI 2.0 (field abi_major is 2), but this outrigd speaks ABI " CORE_ABI
		"; rebuild the plugin against outrig-plugin 1.x");
}
END_TEST

START_TEST(test_newer_minor)
{
	assert_refused(
		"state.newer-minor", "state_newer_minor.so",
		"built for plugin ABI 1.7 (field abi_minor is 7), newer than this outrigd's ABI " CORE_ABI
		"; upgrade outrigd or rebuild the plugin against this SDK");
}
END_TEST

START_TEST(test_short_struct)
{
	char tail[512];

	snprintf(
		tail, sizeof(tail),
		"descriptor field struct_size is 16 bytes, smaller than the %zu bytes of ABI 1.0; the plugin was built with a broken SDK: rebuild it",
		offsetof(struct outrig_plugin, state) + sizeof(void *));
	assert_refused("state.short-struct", "state_short_struct.so", tail);
}
END_TEST

START_TEST(test_no_entry_symbol)
{
	assert_refused(
		"state.no-entry", "state_no_entry.so",
		"no outrig_plugin_entry symbol; it is not an outrig plugin (define one with OUTRIG_PLUGIN() from <outrig/plugin.h>)");
}
END_TEST

START_TEST(test_missing_create)
{
	assert_refused("state.no-create", "state_no_create.so",
		       "missing mandatory callback create; implement it in the plugin");
}
END_TEST

START_TEST(test_pubsub_without_operations)
{
	assert_refused(
		"pubsub.before-1.2", "pubsub_before_1_2.so",
		"type pubsub.before-1.2 is a pub/sub broker but the descriptor has no pub/sub operations (field \"pubsub\" is NULL, or the plugin was built for ABI 1.1, before ABI 1.2 added it); set .pubsub and rebuild against the outrig-plugin SDK");
}
END_TEST

START_TEST(test_missing_state_get)
{
	assert_refused("state.no-get", "state_no_get.so",
		       "missing mandatory callback state->get; implement it in the plugin");
}
END_TEST

START_TEST(test_type_mismatch)
{
	assert_refused(
		"state.wrong-type", "state_wrong_type.so",
		"provides type \"state.something-else\", not \"state.wrong-type\"; the file name does not match the plugin inside");
}
END_TEST

START_TEST(test_version_not_provided)
{
	snprintf(
		expected, sizeof(expected),
		"%s/state_test_good.so: type state.test-good has no version \"v2\" (it provides: v1); set spec.version to one of them",
		plugin_dir);
	ck_assert_ptr_null(loader_get(&ld, "state.test-good", "v2", true, err, sizeof(err)));
	ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(test_undefined_symbol)
{
	char prefix[512];

	snprintf(prefix, sizeof(prefix), "%s/state_undefined_symbol.so: cannot load: ", plugin_dir);
	ck_assert_ptr_null(loader_get(&ld, "state.undefined-symbol", "v1", true, err, sizeof(err)));
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "got: %s", err);
	ck_assert_msg(strstr(err, "outrig_test_no_such_function") != NULL, "got: %s", err);
	/* dlopen's own text, then how to have the linker catch it at build time. */
	ck_assert_msg(
		strstr(err,
		       "; the plugin calls a function no library it links provides: link the library that defines it, and build with -Wl,-z,defs (libtool: -no-undefined) so the linker reports this instead of outrigd") !=
			NULL,
		"got: %s", err);
}
END_TEST

START_TEST(test_no_versions)
{
	assert_refused(
		"state.no-versions", "state_no_versions.so",
		"the descriptor lists no versions (field versions is empty), so no component can use it; set .versions to the spec.version values it serves, e.g. { \"v1\", NULL }");
}
END_TEST

START_TEST(test_transactional_without_transact)
{
	assert_refused(
		"state.tx-no-transact", "state_tx_no_transact.so",
		"missing mandatory callback state->transact (the plugin declares OUTRIG_STATE_TRANSACTIONAL); implement it in the plugin, or clear OUTRIG_STATE_TRANSACTIONAL from state->features");
}
END_TEST

START_TEST(test_init_fails)
{
	assert_refused("state.init-fails", "state_init_fails.so",
		       "init failed: the test plugin refuses to start");
}
END_TEST

START_TEST(test_not_a_shared_object)
{
	char dir[] = "/tmp/outrig-loader-XXXXXX";
	char path[512], prefix[600];
	struct loader other;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state_garbage.so", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is a text file that someone named like a plugin\n", f);
	fclose(f);
	ck_assert_int_eq(loader_init(&other, dir), 0);
	ck_assert_ptr_null(loader_get(&other, "state.garbage", "v1", true, err, sizeof(err)));
	snprintf(prefix, sizeof(prefix), "%s: cannot load: ", path);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "got: %s", err);
	loader_close(&other);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_search_path_from_environment)
{
	char path[1024];
	struct loader other;
	struct plugin *p;

	/* The first folder lacks the plugin; the second has it. The built-in folder comes last. */
	snprintf(path, sizeof(path), "/nonexistent/outrig:%s", plugin_dir);
	setenv("OUTRIG_PLUGIN_PATH", path, 1);
	ck_assert_int_eq(loader_init(&other, NULL), 0);
	ck_assert_uint_eq(other.ndirs, 3);
	ck_assert_str_eq(other.dirs[2], OUTRIG_PLUGINDIR);
	p = loader_get(&other, "state.test-good", "v1", false, err, sizeof(err));
	ck_assert_msg(p != NULL, "refused: %s", err);
	snprintf(path, sizeof(path), "%s/state_test_good.so", plugin_dir);
	ck_assert_str_eq(p->path, path);
	loader_close(&other);
}
END_TEST

/* --plugin-dir adds folders (a colon list) before $OUTRIG_PLUGIN_PATH and the built-in folder. */
START_TEST(test_plugin_dir_adds_to_builtin)
{
	struct loader other;
	struct plugin *p;
	char path[1024];

	setenv("OUTRIG_PLUGIN_PATH", "/nonexistent/env", 1);
	snprintf(path, sizeof(path), "/nonexistent/a::%s:" OUTRIG_PLUGINDIR, plugin_dir);
	ck_assert_int_eq(loader_init(&other, path), 0);
	ck_assert_uint_eq(other.ndirs, 4);
	ck_assert_str_eq(other.dirs[0], "/nonexistent/a");
	ck_assert_str_eq(other.dirs[1], plugin_dir);
	/* The built-in folder, named in the list, is searched once, where the list puts it. */
	ck_assert_str_eq(other.dirs[2], OUTRIG_PLUGINDIR);
	ck_assert_str_eq(other.dirs[3], "/nonexistent/env");
	p = loader_get(&other, "state.test-good", "v1", false, err, sizeof(err));
	ck_assert_msg(p != NULL, "refused: %s", err);
	loader_close(&other);
	unsetenv("OUTRIG_PLUGIN_PATH");
	ck_assert_int_eq(loader_init(&other, "/nonexistent/only"), 0);
	ck_assert_uint_eq(other.ndirs, 2);
	ck_assert_str_eq(other.dirs[1], OUTRIG_PLUGINDIR);
	loader_close(&other);
}
END_TEST

#define CHECK_DIR "/tmp/outrig-check-SCRUBD"

/* Runs outrigd with mode (--check, --check-create) on one component file; returns its exit status and output. */
static int run_mode(const char *mode, const char *yaml, char *out, size_t outlen)
{
	char dir[] = "/tmp/outrig-check-XXXXXX";
	char path[512], cmd[2048];
	const char *outrigd = getenv("OUTRIGD");
	size_t n;
	FILE *f;
	int status;

	ck_assert_ptr_nonnull(outrigd);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.yaml", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(yaml, f);
	fclose(f);
	/* The data folder is the scratch folder's own, so --check-create leaves nothing behind. */
	snprintf(cmd, sizeof(cmd),
		 "'%s' %s --app-id app --resources-path '%s' --plugin-dir '%s' --data-dir '%s/data' 2>&1",
		 outrigd, mode, dir, plugin_dir, dir);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	status = pclose(f);
	unlink(path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/data'", dir);
	ck_assert_int_eq(system(cmd), 0);
	rmdir(dir);
	/* Messages name the file; tests compare against a stable name of the same length. */
	for (char *p; (p = strstr(out, dir)) != NULL;)
		memcpy(p, CHECK_DIR, strlen(CHECK_DIR));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int run_check(const char *yaml, char *out, size_t outlen)
{
	return run_mode("--check", yaml, out, outlen);
}

static const char component_head[] = "apiVersion: dapr.io/v1alpha1\n"
				     "kind: Component\n"
				     "metadata:\n"
				     "  name: store\n"
				     "spec:\n";

START_TEST(test_check_reports_abi_with_position)
{
	char yaml[1024], out[4096], line[1024];

	snprintf(yaml, sizeof(yaml), "%s  type: state.other-major\n  version: v1\n", component_head);
	ck_assert_int_eq(run_check(yaml, out, sizeof(out)), 1);
	snprintf(
		line, sizeof(line),
		CHECK_DIR
		"/store.yaml:6:9: spec.type: %s/state_other_major.so: built for plugin ABI 2.0 (field abi_major is 2), but this outrigd speaks ABI " CORE_ABI
		"; rebuild the plugin against outrig-plugin 1.x\n",
		plugin_dir);
	ck_assert_msg(strstr(out, line) != NULL, "expected:\n%s\ngot:\n%s", line, out);
	ck_assert_msg(strstr(out, "outrigd --check: 1 error, 0 warnings") != NULL, "got:\n%s", out);
}
END_TEST

START_TEST(test_check_reports_metadata_problems)
{
	char yaml[1024], out[4096];

	snprintf(
		yaml, sizeof(yaml),
		"%s  type: state.test-good\n  version: v1\n  metadata:\n  - name: size\n    value: big\n  - name: colour\n    value: blue\n",
		component_head);
	ck_assert_int_eq(run_check(yaml, out, sizeof(out)), 1);
	ck_assert_msg(
		strstr(out, CHECK_DIR
		       "/store.yaml:10:12: spec.metadata[size]: \"big\" is not a valid integer; use a whole number such as 10\n") !=
			NULL,
		"got:\n%s", out);
	ck_assert_msg(
		strstr(out, CHECK_DIR
		       "/store.yaml:6:9: spec.metadata: state.test-good needs \"path\" (where it lives); add it as {name: path, value: ...}\n") !=
			NULL,
		"got:\n%s", out);
	ck_assert_msg(
		strstr(out,
		       "warning: " CHECK_DIR
		       "/store.yaml:12:12: spec.metadata[colour]: state.test-good does not use this key; it is ignored") !=
			NULL,
		"got:\n%s", out);
	ck_assert_msg(strstr(out, "outrigd --check: 2 errors, 1 warning") != NULL, "got:\n%s", out);
}
END_TEST

START_TEST(test_check_accepts_good_component)
{
	char yaml[1024], out[4096];

	snprintf(yaml, sizeof(yaml),
		 "%s  type: state.test-good\n  version: v1\n  metadata:\n  - name: path\n    value: /x\n",
		 component_head);
	ck_assert_int_eq(run_check(yaml, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "outrigd --check: 1 component and 0 subscriptions OK, 0 warnings\n");
}
END_TEST

/* A folder that create() alone finds missing: --check cannot see it, --check-create must. */
START_TEST(test_check_create_runs_create)
{
	char yaml[1024], out[4096];

	snprintf(
		yaml, sizeof(yaml),
		"%s  type: state.create-fails\n  version: v1\n  metadata:\n  - name: path\n    value: /nonexistent/x\n",
		component_head);
	ck_assert_int_eq(run_check(yaml, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "outrigd --check: 1 component and 0 subscriptions OK, 0 warnings\n");
	ck_assert_int_eq(run_mode("--check-create", yaml, out, sizeof(out)), 1);
	ck_assert_msg(
		strstr(out, CHECK_DIR
		       "/store.yaml:1:1: component store (state.create-fails): cannot open /nonexistent/x: No such file or directory; create the folder\n") !=
			NULL,
		"got:\n%s", out);
	ck_assert_msg(strstr(out, "outrigd --check-create: 1 error, 0 warnings\n") != NULL, "got:\n%s", out);
}
END_TEST

START_TEST(test_check_create_accepts_good_component)
{
	char yaml[1024], out[4096];

	snprintf(yaml, sizeof(yaml),
		 "%s  type: state.test-good\n  version: v1\n  metadata:\n  - name: path\n    value: /x\n",
		 component_head);
	ck_assert_int_eq(run_mode("--check-create", yaml, out, sizeof(out)), 0);
	ck_assert_msg(
		strstr(out, "outrigd --check-create: 1 component and 0 subscriptions OK, 0 warnings\n") !=
			NULL,
		"got:\n%s", out);
}
END_TEST

/* --describe-plugin prints what GET /v1.0/metadata would list for the plugin's components. */
START_TEST(test_describe_prints_capabilities)
{
	char cmd[1024], out[4096];
	const char *outrigd = getenv("OUTRIGD");
	size_t n;
	FILE *f;

	ck_assert_ptr_nonnull(outrigd);
	snprintf(cmd, sizeof(cmd), "'%s' --describe-plugin state.in-memory 2>&1", outrigd);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_msg(strstr(out, "\ncapabilities: ETAG TRANSACTIONAL TTL ACTOR\n") != NULL, "got:\n%s", out);
	ck_assert_msg(strstr(out, "\nconcurrency: parallel") != NULL, "got:\n%s", out);
	snprintf(cmd, sizeof(cmd), "'%s' --describe-plugin state.test-good --plugin-dir '%s' 2>&1", outrigd,
		 plugin_dir);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_msg(strstr(out, "\ncapabilities: none\n") != NULL, "got:\n%s", out);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("refusals");
	TCase *check = tcase_create("outrigd --check");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good_plugin_loads);
	tcase_add_test(tc, test_file_name_from_type);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_test(tc, test_other_major);
	tcase_add_test(tc, test_newer_minor);
	tcase_add_test(tc, test_short_struct);
	tcase_add_test(tc, test_no_entry_symbol);
	tcase_add_test(tc, test_missing_create);
	tcase_add_test(tc, test_missing_state_get);
	tcase_add_test(tc, test_pubsub_without_operations);
	tcase_add_test(tc, test_type_mismatch);
	tcase_add_test(tc, test_version_not_provided);
	tcase_add_test(tc, test_undefined_symbol);
	tcase_add_test(tc, test_init_fails);
	tcase_add_test(tc, test_not_a_shared_object);
	tcase_add_test(tc, test_search_path_from_environment);
	tcase_add_test(tc, test_plugin_dir_adds_to_builtin);
	tcase_add_test(tc, test_no_versions);
	tcase_add_test(tc, test_transactional_without_transact);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(check, setup, teardown);
	tcase_add_test(check, test_check_reports_abi_with_position);
	tcase_add_test(check, test_check_reports_metadata_problems);
	tcase_add_test(check, test_check_accepts_good_component);
	tcase_add_test(check, test_check_create_runs_create);
	tcase_add_test(check, test_check_create_accepts_good_component);
	tcase_add_test(check, test_describe_prints_capabilities);
	suite_add_tcase(s, check);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
