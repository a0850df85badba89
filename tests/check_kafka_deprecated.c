/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.kafka reads Dapr's deprecated authRequired as daprd does (issue 11, item 25), in check() and create(). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "components/host.h"
#include "kafka_mock_driver.h"
#include "plugin_host.h"

static const struct outrig_host *test_host;
static const struct outrig_plugin *plugin;
static struct outrig_handle handle = { .name = "kafka-binding", .component = NULL };

static void setup(void)
{
	static const struct plugin_host_options options = { .min_level = OUTRIG_LOG_INFO };

	test_host = plugin_host_start(&options);
	plugin = plugin_host_load("bindings.kafka");
}

static void teardown(void)
{
	plugin_host_stop();
}

/* check() on brokers that are never dialled, with metadata (name, value pairs, NULL-terminated). */
static int try_check(const char *const *metadata, struct outrig_error *err)
{
	static const char *const base[] = { "brokers", "127.0.0.1:1", NULL };
	struct plugin_host_config tc;

	ck_assert_msg(plugin->check != NULL,
		      "bindings.kafka has no check(): outrigd --check cannot see what create() refuses");
	plugin_host_config(&tc, plugin, "bindings.kafka", "kafka-binding", base, metadata);
	err->message[0] = '\0';
	return plugin->check(test_host, &handle, &tc.config, err);
}

#define ck_refused(md, want)                                                                                 \
	do {                                                                                                 \
		struct outrig_error err_;                                                                    \
		int rc_ = try_check(md, &err_);                                                              \
		ck_assert_msg(rc_ == OUTRIG_EINVAL && strstr(err_.message, want) != NULL,                    \
			      "rc %d, expected \"%s\" in: %s", rc_, want, err_.message);                     \
	} while (0)

/* The Kafka file of Dapr's bindings tutorial: authRequired "false", no authType. */
START_TEST(test_auth_required_false_is_none)
{
	const char *md[] = { "authRequired", "false", NULL };
	struct outrig_error err;
	int rc = try_check(md, &err);

	ck_assert_msg(rc == OUTRIG_OK, "refused: %s", err.message);
	ck_assert(plugin_host_log_has("authRequired is deprecated (in Dapr too) and read as authType: none; "
				      "write \"authType: none\" instead"));
}
END_TEST

/* daprd: true with a saslPassword is password authentication (so the user name is needed too). */
START_TEST(test_auth_required_true_with_password)
{
	const char *md[] = { "authRequired", "true", "saslPassword", "secret", NULL };
	const char *both[] = { "authRequired", "True", "saslPassword", "secret", "saslUsername", "me", NULL };
	struct outrig_error err;
	int rc;

	ck_refused(md, "authType is password (from authRequired: true with saslPassword) but saslUsername "
		       "is not set");
	rc = try_check(both, &err);
	ck_assert_msg(rc == OUTRIG_OK, "refused: %s", err.message);
	ck_assert(plugin_host_log_has("read as authType: password"));
}
END_TEST

/* daprd: true without a saslPassword is mTLS. */
START_TEST(test_auth_required_true_without_password)
{
	const char *md[] = { "authRequired", "1", "clientCert", "PEM", NULL };

	ck_refused(md, "authType is mtls (from authRequired: true without saslPassword) but only clientCert "
		       "is set");
}
END_TEST

START_TEST(test_auth_required_invalid_or_missing)
{
	const char *maybe[] = { "authRequired", "maybe", NULL };
	const char *none[] = { NULL };

	ck_refused(maybe, "authRequired is \"maybe\", not true or false");
	ck_refused(none, "authType is not set; set it to none, password or mtls");
}
END_TEST

/* authType, when set, wins over authRequired without a word, as in daprd. */
START_TEST(test_auth_type_wins)
{
	const char *md[] = { "authType", "none", "authRequired", "true", NULL };
	struct outrig_error err;
	int rc = try_check(md, &err);

	ck_assert_msg(rc == OUTRIG_OK, "refused: %s", err.message);
	ck_assert(!plugin_host_log_has("deprecated"));
}
END_TEST

/* create(), what start-up runs, accepts the tutorial's file too and serves on the mock cluster. */
START_TEST(test_create_with_auth_required_false)
{
	struct kafka_mock km;
	const char *md[] = { "authRequired", "false", NULL };
	struct plugin_host_config tc;
	struct outrig_error err = { "" };
	void *inst = NULL;
	int rc;

	ck_assert_int_eq(kafka_mock_start(&km, 1), 0);
	{
		const char *base[] = { "brokers", km.bootstrap, NULL };

		plugin_host_config(&tc, plugin, "bindings.kafka", "kafka-binding", base, md);
		rc = plugin->create(test_host, &handle, &tc.config, &inst, &err);
	}
	ck_assert_msg(rc == OUTRIG_OK, "create refused: %s", err.message);
	ck_assert(plugin_host_log_has("read as authType: none"));
	plugin->destroy(inst);
	kafka_mock_stop(&km);
}
END_TEST

static Suite *kafka_deprecated_suite(void)
{
	Suite *s = suite_create("kafka_deprecated");
	TCase *tc = tcase_create("authRequired");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_auth_required_false_is_none);
	tcase_add_test(tc, test_auth_required_true_with_password);
	tcase_add_test(tc, test_auth_required_true_without_password);
	tcase_add_test(tc, test_auth_required_invalid_or_missing);
	tcase_add_test(tc, test_auth_type_wins);
	tcase_add_test(tc, test_create_with_auth_required_false);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kafka_deprecated_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
