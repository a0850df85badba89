/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/blocks/metadata/metadata.c: the document's rules, SetMetadata's, on a sidecar context of its own. */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/metadata/metadata.h"
#include "options.h"
#include "runtime.h"

static struct server srv;
static struct options opts;
static struct components comps;
static struct component failed = {
	.name = "broken", .type = "state.redis", .version = "v1", .failure = "refused"
};
static struct component *items[] = { &failed };

static void setup(void)
{
	memset(&srv, 0, sizeof(srv));
	memset(&opts, 0, sizeof(opts));
	memset(&comps, 0, sizeof(comps));
	opts.app_id = "metaapp";
	opts.app_protocol = "http";
	opts.app_channel_address = "127.0.0.1";
	comps.items = items;
	comps.count = 1;
	srv.opts = &opts;
	srv.components = &comps;
	srv.extended = json_object();
}

static void teardown(void)
{
	json_decref(srv.extended);
}

START_TEST(document)
{
	struct metadata_doc doc;

	ck_assert_int_eq(metadata_describe(&srv, &doc), 0);
	ck_assert_str_eq(doc.id, "metaapp");
	ck_assert_str_eq(doc.runtime_version, PACKAGE_VERSION);
	/* daprd lists only the components it initialised. */
	ck_assert_uint_eq(doc.ncomponents, 0);
	ck_assert_uint_eq(json_array_size(doc.subscriptions), 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc.extended, "daprRuntimeVersion")),
			 PACKAGE_VERSION);
	/* No --app-port: no app connection. */
	ck_assert(!doc.has_app);
	metadata_doc_free(&doc);

	opts.app_port = 3000;
	ck_assert_int_eq(metadata_describe(&srv, &doc), 0);
	ck_assert(doc.has_app);
	ck_assert_int_eq(doc.app.port, 3000);
	ck_assert_str_eq(doc.app.protocol, "http");
	ck_assert_str_eq(doc.app.channel_address, "127.0.0.1");
	ck_assert(!doc.app.has_health);
	metadata_doc_free(&doc);
}
END_TEST

START_TEST(set_metadata)
{
	struct block_error err;
	struct metadata_doc doc;

	ck_assert_int_eq(metadata_set(&srv, "cliPID", "4242", 4, &err), 0);
	ck_assert_int_eq(metadata_set(&srv, "cliPID", "4243", 4, &err), 0);
	/* Text JSON cannot carry is refused as a malformed request (400 / INVALID_ARGUMENT). */
	ck_assert_int_eq(metadata_set(&srv, "blob", "\xff\xfe", 2, &err), -1);
	ck_assert_int_eq(err.error, API_ERR_MALFORMED_REQUEST);
	ck_assert_int_eq(block_error_http_status(&err), 400);
	ck_assert_int_eq(block_error_grpc_code(&err), GRPC_INVALID_ARGUMENT);
	ck_assert_msg(strstr(err.message, "metadata value for blob is not UTF-8 text") != NULL, "%s",
		      err.message);
	ck_assert_int_eq(metadata_describe(&srv, &doc), 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc.extended, "cliPID")), "4243");
	ck_assert_ptr_null(json_object_get(doc.extended, "blob"));
	metadata_doc_free(&doc);
	/* The document is a copy: daprRuntimeVersion does not leak into what SetMetadata keeps. */
	ck_assert_ptr_null(json_object_get(srv.extended, "daprRuntimeVersion"));
}
END_TEST

static Suite *metadata_suite(void)
{
	Suite *s = suite_create("metadata_block");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, document);
	tcase_add_test(tc, set_metadata);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metadata_suite());
	int failed_n;

	srunner_run_all(sr, CK_NORMAL);
	failed_n = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed_n == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
