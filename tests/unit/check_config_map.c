/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/config_map.c: a component's metadata checked against a plugin's field table. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/config.h>

#include "components/config_map.h"
#include "base/diag.h"
#include "resources/resources.h"

#define FILE_NAME "/etc/outrig/components/statestore.yaml"
#define TYPE_NAME "state.test"

static const struct outrig_field test_fields[] = {
	{ "connectionString", OUTRIG_FIELD_STRING, NULL, true, "where the database is" },
	{ "tableName", OUTRIG_FIELD_STRING, "state", false, "the table to use" },
	{ "timeout", OUTRIG_FIELD_DURATION, "20s", false, "how long a call may take" },
	{ "maxRetries", OUTRIG_FIELD_INT, "3", false, "retries before giving up" },
	{ "enableTLS", OUTRIG_FIELD_BOOL, "false", false, "talk TLS" },
	{ "cleanupInterval", OUTRIG_FIELD_DURATION, NULL, false, "how often to purge" },
	{ "badDefault", OUTRIG_FIELD_INT, "many", false, "a default the plugin got wrong" },
	{ NULL },
};

#define TEST_FIELD_COUNT 7

/* ---- a hand-made component ---- */

static struct res_metadata md[16];
static struct res_component rc;
static struct diag d;
static struct config_view view;

static void setup(void)
{
	memset(md, 0, sizeof(md));
	memset(&rc, 0, sizeof(rc));
	memset(&d, 0, sizeof(d));
	memset(&view, 0, sizeof(view));
	rc.file = (char *)FILE_NAME;
	rc.pos = (struct res_pos){ rc.file, 1, 1 };
	rc.name = (char *)"statestore";
	rc.name_pos = (struct res_pos){ rc.file, 4, 9 };
	rc.type = (char *)TYPE_NAME;
	rc.type_pos = (struct res_pos){ rc.file, 7, 9 };
	rc.version = (char *)"v1";
	rc.version_pos = (struct res_pos){ rc.file, 8, 12 };
	rc.init_timeout_ms = 5000;
	rc.metadata = md;
}

static void teardown(void)
{
	config_view_free(&view);
	diag_clear(&d);
}

/* Appends {name, value} written at line:col. */
static void add_md(const char *name, const char *value, int line, int col)
{
	struct res_metadata *m;

	ck_assert_uint_lt(rc.metadata_count, sizeof(md) / sizeof(md[0]));
	m = &md[rc.metadata_count++];
	m->name = (char *)name;
	m->value = (char *)value;
	m->pos = (struct res_pos){ rc.file, line, col };
}

/* Appends {name, secretKeyRef: {name: store_key_name, key: key}}, which has no value. */
static void add_secret(const char *name, const char *secret_name, const char *key, int line, int col)
{
	struct res_metadata *m;

	ck_assert_uint_lt(rc.metadata_count, sizeof(md) / sizeof(md[0]));
	m = &md[rc.metadata_count++];
	m->name = (char *)name;
	m->secret_store_key_name = (char *)secret_name;
	m->secret_store_key = (char *)key;
	m->pos = (struct res_pos){ rc.file, line, col };
}

static const struct outrig_config_value *value_of(const char *name)
{
	const struct outrig_config_value *v = outrig_config_find(&view.config, name);

	ck_assert_msg(v != NULL, "no value named %s in the view", name);
	return v;
}

static void assert_diag_line(size_t i, const char *expected)
{
	ck_assert_msg(i < d.count, "expected a diag line %zu, there are %zu", i, d.count);
	ck_assert_str_eq(d.lines[i], expected);
}

/* ---- config_value_parse and config_type_name ---- */

START_TEST(test_parse_int)
{
	int64_t n = -1;

	ck_assert(config_value_parse(OUTRIG_FIELD_INT, "42", &n));
	ck_assert_int_eq(n, 42);
	ck_assert(config_value_parse(OUTRIG_FIELD_INT, "-7", &n));
	ck_assert_int_eq(n, -7);
	ck_assert(config_value_parse(OUTRIG_FIELD_INT, "0", &n));
	ck_assert_int_eq(n, 0);
	ck_assert(config_value_parse(OUTRIG_FIELD_INT, "9223372036854775807", &n));
	ck_assert(n == INT64_MAX);
	ck_assert(config_value_parse(OUTRIG_FIELD_INT, "-9223372036854775808", &n));
	ck_assert(n == INT64_MIN);

	n = 99;
	ck_assert(!config_value_parse(OUTRIG_FIELD_INT, "", &n));
	ck_assert(!config_value_parse(OUTRIG_FIELD_INT, "ten", &n));
	ck_assert(!config_value_parse(OUTRIG_FIELD_INT, "4.2", &n));
	ck_assert(!config_value_parse(OUTRIG_FIELD_INT, "42abc", &n));
	ck_assert(!config_value_parse(OUTRIG_FIELD_INT, "0x10", &n));
	ck_assert(!config_value_parse(OUTRIG_FIELD_INT, "42 ", &n));
	ck_assert(!config_value_parse(OUTRIG_FIELD_INT, "9223372036854775808", &n));
	ck_assert_int_eq(n, 99);
}
END_TEST

START_TEST(test_parse_bool)
{
	static const char *const yes[] = { "true", "TRUE", "True", "yes", "YES", "on", "On", "1" };
	static const char *const no[] = { "false", "FALSE", "False", "no", "NO", "off", "OFF", "0" };
	static const char *const junk[] = { "", "2", "y", "n", "t", "truee", "enabled", " true" };
	int64_t b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = -1;
		ck_assert_msg(config_value_parse(OUTRIG_FIELD_BOOL, yes[i], &b), "%s refused", yes[i]);
		ck_assert_msg(b == 1, "%s gave %lld", yes[i], (long long)b);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = -1;
		ck_assert_msg(config_value_parse(OUTRIG_FIELD_BOOL, no[i], &b), "%s refused", no[i]);
		ck_assert_msg(b == 0, "%s gave %lld", no[i], (long long)b);
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		b = -1;
		ck_assert_msg(!config_value_parse(OUTRIG_FIELD_BOOL, junk[i], &b), "\"%s\" accepted",
			      junk[i]);
		ck_assert_int_eq(b, -1);
	}
}
END_TEST

START_TEST(test_parse_duration)
{
	int64_t ms = -1;

	ck_assert(config_value_parse(OUTRIG_FIELD_DURATION, "30s", &ms));
	ck_assert_int_eq(ms, 30000);
	ck_assert(config_value_parse(OUTRIG_FIELD_DURATION, "1h30m", &ms));
	ck_assert_int_eq(ms, 5400000);
	ck_assert(config_value_parse(OUTRIG_FIELD_DURATION, "30", &ms));
	ck_assert_int_eq(ms, 30000);
	ck_assert(config_value_parse(OUTRIG_FIELD_DURATION, "250ms", &ms));
	ck_assert_int_eq(ms, 250);
	ms = -1;
	ck_assert(!config_value_parse(OUTRIG_FIELD_DURATION, "5x", &ms));
	ck_assert(!config_value_parse(OUTRIG_FIELD_DURATION, "", &ms));
	ck_assert(!config_value_parse(OUTRIG_FIELD_DURATION, "soon", &ms));
	ck_assert_int_eq(ms, -1);
}
END_TEST

START_TEST(test_parse_string)
{
	int64_t n = 1234;

	ck_assert(config_value_parse(OUTRIG_FIELD_STRING, "anything at all", &n));
	ck_assert(config_value_parse(OUTRIG_FIELD_STRING, "", &n));
	ck_assert_int_eq(n, 1234);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(config_type_name(OUTRIG_FIELD_STRING), "string");
	ck_assert_str_eq(config_type_name(OUTRIG_FIELD_INT), "integer");
	ck_assert_str_eq(config_type_name(OUTRIG_FIELD_BOOL), "boolean");
	ck_assert_str_eq(config_type_name(OUTRIG_FIELD_DURATION), "duration");
}
END_TEST

/* ---- config_view_build ---- */

START_TEST(test_defaults_applied)
{
	const struct outrig_config_value *v;

	add_md("connectionString", "host=db", 10, 12);
	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(d.warnings, 0);

	ck_assert_uint_eq(view.config.struct_size, sizeof(struct outrig_config));
	ck_assert_str_eq(view.config.component, "statestore");
	ck_assert_str_eq(view.config.type, TYPE_NAME);
	ck_assert_str_eq(view.config.version, "v1");
	ck_assert_str_eq(view.config.app_id, "myapp");
	ck_assert_uint_eq(view.config.count, TEST_FIELD_COUNT);
	ck_assert_ptr_eq(view.config.values, view.values);

	/* Every declared field, in the map's order and spelling. */
	for (size_t i = 0; i < TEST_FIELD_COUNT; i++) {
		ck_assert_str_eq(view.values[i].name, test_fields[i].name);
		ck_assert(view.values[i].known);
		ck_assert_int_eq(view.values[i].type, test_fields[i].type);
	}

	v = value_of("connectionString");
	ck_assert(v->is_set);
	ck_assert_str_eq(v->text, "host=db");

	v = value_of("tableName");
	ck_assert(v->is_set);
	ck_assert_str_eq(v->text, "state");
	ck_assert_str_eq(outrig_config_string(&view.config, "tableName", "fallback"), "state");

	v = value_of("timeout");
	ck_assert(v->is_set);
	ck_assert_str_eq(v->text, "20s");
	ck_assert_int_eq(v->int_value, 20000);
	ck_assert_int_eq(outrig_config_int(&view.config, "timeout", -1), 20000);

	ck_assert_int_eq(outrig_config_int(&view.config, "maxRetries", -1), 3);
	v = value_of("enableTLS");
	ck_assert(v->is_set);
	ck_assert_int_eq(v->int_value, 0);
	ck_assert_int_eq(outrig_config_int(&view.config, "enableTLS", -1), 0);

	/* No default and not in the YAML: present but unset. */
	v = value_of("cleanupInterval");
	ck_assert(!v->is_set);
	ck_assert_ptr_null(v->text);
	ck_assert_int_eq(outrig_config_int(&view.config, "cleanupInterval", -5), -5);
	ck_assert_str_eq(outrig_config_string(&view.config, "cleanupInterval", "fb"), "fb");

	/* A default the plugin cannot parse reads as unset. */
	v = value_of("badDefault");
	ck_assert(!v->is_set);
	ck_assert_int_eq(outrig_config_int(&view.config, "badDefault", 77), 77);
	ck_assert_str_eq(outrig_config_string(&view.config, "badDefault", "fb"), "fb");

	/* Absent altogether. */
	ck_assert_ptr_null(outrig_config_find(&view.config, "nosuch"));
	ck_assert_str_eq(outrig_config_string(&view.config, "nosuch", "fb"), "fb");
	ck_assert_int_eq(outrig_config_int(&view.config, "nosuch", 12), 12);
}
END_TEST

START_TEST(test_values_override_defaults)
{
	add_md("connectionString", "host=db", 10, 12);
	add_md("tableName", "orders", 11, 12);
	add_md("timeout", "1m30s", 12, 12);
	add_md("maxRetries", "-2", 13, 12);
	add_md("enableTLS", "YES", 14, 12);
	add_md("cleanupInterval", "45", 15, 12);
	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(view.config.count, TEST_FIELD_COUNT);
	ck_assert_str_eq(outrig_config_string(&view.config, "tableName", NULL), "orders");
	ck_assert_int_eq(outrig_config_int(&view.config, "timeout", -1), 90000);
	ck_assert_str_eq(outrig_config_string(&view.config, "timeout", NULL), "1m30s");
	ck_assert_int_eq(outrig_config_int(&view.config, "maxRetries", 0), -2);
	ck_assert_int_eq(outrig_config_int(&view.config, "enableTLS", -1), 1);
	ck_assert_int_eq(outrig_config_int(&view.config, "cleanupInterval", -1), 45000);
	/* A string field has no number: the fallback comes back. */
	ck_assert_int_eq(outrig_config_int(&view.config, "tableName", 8), 8);
}
END_TEST

/* daprd files write value: "" for numbers they leave alone: that is unset, not an error. */
START_TEST(test_empty_typed_values_are_unset)
{
	add_md("connectionString", "host=db", 10, 12);
	add_md("tableName", "", 11, 12);
	add_md("timeout", "", 12, 12);
	add_md("maxRetries", "", 13, 12);
	add_md("enableTLS", "", 14, 12);
	add_md("cleanupInterval", "", 15, 12);
	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	/* An empty string is still a value; the typed fields take their defaults, or stay unset. */
	ck_assert_str_eq(outrig_config_string(&view.config, "tableName", "fallback"), "");
	ck_assert_int_eq(outrig_config_int(&view.config, "timeout", -1), 20000);
	ck_assert_int_eq(outrig_config_int(&view.config, "maxRetries", -1), 3);
	ck_assert_int_eq(outrig_config_int(&view.config, "enableTLS", -1), 0);
	ck_assert_int_eq(outrig_config_int(&view.config, "cleanupInterval", -1), -1);
}
END_TEST

START_TEST(test_names_case_insensitive)
{
	const struct outrig_config_value *v;

	add_md("CONNECTIONSTRING", "host=db", 10, 12);
	add_md("MaxRetries", "9", 11, 12);
	add_md("KEYPREFIX", "none", 12, 12);
	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	/* The declared spelling names the value; the YAML's matched it anyway. */
	ck_assert_uint_eq(view.config.count, TEST_FIELD_COUNT + 1);
	v = value_of("connectionstring");
	ck_assert_str_eq(v->name, "connectionString");
	ck_assert_str_eq(v->text, "host=db");
	ck_assert(v->is_set);
	ck_assert_int_eq(outrig_config_int(&view.config, "MAXRETRIES", 0), 9);
	ck_assert_str_eq(outrig_config_string(&view.config, "keyPrefix", "x"), "none");
}
END_TEST

START_TEST(test_required_missing)
{
	static const struct outrig_field bare[] = {
		{ "endpoint", OUTRIG_FIELD_STRING, NULL, true, NULL },
		{ "port", OUTRIG_FIELD_INT, "5", true, NULL },
		{ NULL },
	};

	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 1);
	ck_assert_uint_eq(d.errors, 1);
	ck_assert_uint_eq(d.count, 1);
	assert_diag_line(0,
			 FILE_NAME ":7:9: spec.metadata: " TYPE_NAME " needs \"connectionString\" "
				   "(where the database is); add it as {name: connectionString, value: ...}");
	config_view_free(&view);
	diag_clear(&d);

	/* Without a description the type is named; a default does not satisfy "required". */
	ck_assert_uint_eq(config_view_build(&rc, bare, "myapp", &view, &d), 2);
	ck_assert_uint_eq(d.errors, 2);
	assert_diag_line(0, FILE_NAME ":7:9: spec.metadata: " TYPE_NAME " needs \"endpoint\" (string); "
				      "add it as {name: endpoint, value: ...}");
	assert_diag_line(1, FILE_NAME ":7:9: spec.metadata: " TYPE_NAME " needs \"port\" (integer); "
				      "add it as {name: port, value: ...}");
}
END_TEST

START_TEST(test_wrong_types)
{
	add_md("connectionString", "host=db", 10, 12);
	add_md("maxRetries", "ten", 11, 14);
	add_md("enableTLS", "maybe", 12, 15);
	add_md("timeout", "soon", 13, 16);
	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 3);
	ck_assert_uint_eq(d.errors, 3);
	ck_assert_uint_eq(d.warnings, 0);
	ck_assert_uint_eq(d.count, 3);
	/* In the map's order: timeout, maxRetries, enableTLS. */
	assert_diag_line(0, FILE_NAME ":13:16: spec.metadata[timeout]: \"soon\" is not a valid duration; "
				      "use a duration such as 30s, 5m or 1h");
	assert_diag_line(1, FILE_NAME ":11:14: spec.metadata[maxRetries]: \"ten\" is not a valid integer; "
				      "use a whole number such as 10");
	assert_diag_line(2, FILE_NAME ":12:15: spec.metadata[enableTLS]: \"maybe\" is not a valid boolean; "
				      "use true or false");
}
END_TEST

START_TEST(test_unknown_keys_warned)
{
	const struct outrig_config_value *v;

	add_md("connectionString", "host=db", 10, 12);
	add_md("colour", "blue", 20, 12);
	add_md("keyPrefix", "name", 21, 12);
	add_md("actorStateStore", "true", 22, 12);
	add_md("consumerID", "c1", 23, 12);
	add_md("direction", "input", 24, 12);
	add_md("route", "/r", 25, 12);
	add_md("sizzle", "x", 26, 3);
	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 0);
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(d.warnings, 2);
	ck_assert_uint_eq(d.count, 2);
	assert_diag_line(0, "warning: " FILE_NAME ":20:12: spec.metadata[colour]: " TYPE_NAME
			    " does not use this key; it is ignored (see outrigd --describe-plugin " TYPE_NAME
			    ")");
	assert_diag_line(1, "warning: " FILE_NAME ":26:3: spec.metadata[sizzle]: " TYPE_NAME
			    " does not use this key; it is ignored (see outrigd --describe-plugin " TYPE_NAME
			    ")");

	/* Undeclared keys follow the declared ones, as strings, in YAML order. */
	ck_assert_uint_eq(view.config.count, TEST_FIELD_COUNT + 7);
	ck_assert_str_eq(view.values[TEST_FIELD_COUNT].name, "colour");
	ck_assert_str_eq(view.values[TEST_FIELD_COUNT + 6].name, "sizzle");
	v = value_of("colour");
	ck_assert(!v->known);
	ck_assert(v->is_set);
	ck_assert_int_eq(v->type, OUTRIG_FIELD_STRING);
	ck_assert_str_eq(outrig_config_string(&view.config, "colour", NULL), "blue");
	ck_assert_str_eq(outrig_config_string(&view.config, "keyprefix", NULL), "name");
	ck_assert_str_eq(outrig_config_string(&view.config, "actorStateStore", NULL), "true");
	/* Unknown keys are strings: no number even when the text is one. */
	ck_assert_int_eq(outrig_config_int(&view.config, "actorStateStore", -3), -3);
}
END_TEST

START_TEST(test_secret_key_ref_refused)
{
	add_secret("connectionString", "vault", "pg-conn", 9, 7);
	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 1);
	ck_assert_uint_eq(d.errors, 1);
	ck_assert_uint_eq(d.count, 1);
	assert_diag_line(0, FILE_NAME ":9:7: spec.metadata[connectionString]: secretKeyRef was not "
				      "resolved; name its secret store in auth.secretStore");
}
END_TEST

/*
 * keyPrefix is read by the runtime, not the plugin: given as a secretKeyRef it would
 * otherwise be dropped silently and keys stored under the app id instead.
 */
START_TEST(test_secret_key_ref_runtime_key_refused)
{
	add_md("connectionString", "host=db", 10, 12);
	add_secret("keyPrefix", "vault", "prefix", 11, 7);
	ck_assert_uint_eq(config_view_build(&rc, test_fields, "myapp", &view, &d), 1);
	ck_assert_uint_eq(d.errors, 1);
}
END_TEST

START_TEST(test_no_fields_no_app_id)
{
	add_md("colour", "blue", 5, 6);
	ck_assert_uint_eq(config_view_build(&rc, NULL, NULL, &view, &d), 0);
	ck_assert_str_eq(view.config.app_id, "");
	ck_assert_uint_eq(view.config.count, 1);
	ck_assert_uint_eq(d.warnings, 1);
	assert_diag_line(0, "warning: " FILE_NAME ":5:6: spec.metadata[colour]: " TYPE_NAME
			    " does not use this key; it is ignored (see outrigd --describe-plugin " TYPE_NAME
			    ")");
	config_view_free(&view);
	ck_assert_ptr_null(view.values);
	ck_assert_uint_eq(view.config.count, 0);
}
END_TEST

/* ---- aliases: older metadata names Dapr still accepts ---- */

static const struct outrig_field alias_fields[] = {
	{ .name = "timeout",
	  .type = OUTRIG_FIELD_DURATION,
	  .default_value = "20s",
	  .description = "how long a call may take",
	  .alias = "timeoutInSeconds" },
	{ .name = "host",
	  .type = OUTRIG_FIELD_STRING,
	  .required = true,
	  .description = "the server",
	  .alias = "redisHost" },
	{ .name = "db", .type = OUTRIG_FIELD_INT, .default_value = "0" },
	{ NULL },
};

START_TEST(test_alias_read)
{
	const struct outrig_config_value *v;

	add_md("TimeoutInSeconds", "30", 10, 12);
	add_md("redisHost", "cache:6379", 11, 12);
	ck_assert_uint_eq(config_view_build(&rc, alias_fields, "myapp", &view, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	/* The older names are declared: not repeated as unknown keys. */
	ck_assert_uint_eq(view.config.count, 3);
	v = value_of("timeout");
	ck_assert_str_eq(v->name, "timeout");
	ck_assert(v->is_set);
	ck_assert_int_eq(v->int_value, 30000);
	ck_assert_str_eq(outrig_config_string(&view.config, "host", NULL), "cache:6379");
	ck_assert_ptr_null(outrig_config_find(&view.config, "redisHost"));
}
END_TEST

START_TEST(test_alias_name_wins)
{
	add_md("timeoutInSeconds", "99", 10, 12);
	add_md("host", "new", 11, 12);
	add_md("timeout", "5s", 12, 12);
	add_md("redisHost", "old", 13, 12);
	ck_assert_uint_eq(config_view_build(&rc, alias_fields, "myapp", &view, &d), 0);
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(view.config.count, 3);
	ck_assert_int_eq(outrig_config_int(&view.config, "timeout", -1), 5000);
	ck_assert_str_eq(outrig_config_string(&view.config, "host", NULL), "new");
}
END_TEST

START_TEST(test_alias_required_missing)
{
	ck_assert_uint_eq(config_view_build(&rc, alias_fields, "myapp", &view, &d), 1);
	assert_diag_line(0, FILE_NAME ":7:9: spec.metadata: " TYPE_NAME " needs \"host\" (the server); "
				      "add it as {name: host, value: ...}");
}
END_TEST

/* The message names the key the file has, as the secretKeyRef and unknown-key messages do. */
START_TEST(test_alias_wrong_type_names_yaml_key)
{
	add_md("redisHost", "h", 10, 12);
	add_md("timeoutInSeconds", "soon", 11, 14);
	ck_assert_uint_eq(config_view_build(&rc, alias_fields, "myapp", &view, &d), 1);
	assert_diag_line(0, FILE_NAME ":11:14: spec.metadata[timeoutInSeconds]: \"soon\" is not a valid "
				      "duration; use a duration such as 30s, 5m or 1h");
}
END_TEST

/* Runs config_fields_print() with stdout sent to a temporary file, and returns what it wrote. */
static char *capture_fields_print(const struct outrig_field *fields)
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved;
	size_t n;

	ck_assert_ptr_nonnull(tmp);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(tmp), STDOUT_FILENO), 0);
	config_fields_print(fields);
	fflush(stdout);
	ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

START_TEST(test_fields_print)
{
	ck_assert_str_eq(capture_fields_print(alias_fields),
			 "NAME                     TYPE      REQUIRED  DEFAULT      DESCRIPTION\n"
			 "timeout                  duration  no        20s          how long a call may take "
			 "(also: timeoutInSeconds)\n"
			 "host                     string    yes       -            the server "
			 "(also: redisHost)\n"
			 "db                       integer   no        0            \n");
	ck_assert_str_eq(capture_fields_print(NULL),
			 "NAME                     TYPE      REQUIRED  DEFAULT      DESCRIPTION\n");
}
END_TEST

static Suite *config_map_suite(void)
{
	Suite *s = suite_create("config_map");
	TCase *parse = tcase_create("parse");
	TCase *build = tcase_create("view");

	tcase_add_test(parse, test_parse_int);
	tcase_add_test(parse, test_parse_bool);
	tcase_add_test(parse, test_parse_duration);
	tcase_add_test(parse, test_parse_string);
	tcase_add_test(parse, test_type_names);
	suite_add_tcase(s, parse);

	tcase_add_checked_fixture(build, setup, teardown);
	tcase_add_test(build, test_defaults_applied);
	tcase_add_test(build, test_values_override_defaults);
	tcase_add_test(build, test_empty_typed_values_are_unset);
	tcase_add_test(build, test_names_case_insensitive);
	tcase_add_test(build, test_required_missing);
	tcase_add_test(build, test_wrong_types);
	tcase_add_test(build, test_unknown_keys_warned);
	tcase_add_test(build, test_secret_key_ref_refused);
	tcase_add_test(build, test_secret_key_ref_runtime_key_refused);
	tcase_add_test(build, test_no_fields_no_app_id);
	tcase_add_test(build, test_alias_read);
	tcase_add_test(build, test_alias_name_wins);
	tcase_add_test(build, test_alias_required_missing);
	tcase_add_test(build, test_alias_wrong_type_names_yaml_key);
	tcase_add_test(build, test_fields_print);
	suite_add_tcase(s, build);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_map_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
