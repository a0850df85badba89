/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC wire helpers of the client: grpc-timeout, grpc-status, grpc-message, status mappings, metadata names. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "channels/grpc_wire.h"

START_TEST(test_timeout)
{
	char out[GRPC_WIRE_TIMEOUT_SIZE];

	grpc_wire_timeout(1500, out);
	ck_assert_str_eq(out, "1500m");
	grpc_wire_timeout(0, out);
	ck_assert_str_eq(out, "1m");
	grpc_wire_timeout(-20, out);
	ck_assert_str_eq(out, "1m");
	grpc_wire_timeout(99999999, out);
	ck_assert_str_eq(out, "99999999m");
	/* Past 8 digits a coarser unit, rounded up: the server must not stop before the client. */
	grpc_wire_timeout(100000000, out);
	ck_assert_str_eq(out, "100000S");
	grpc_wire_timeout(100000001, out);
	ck_assert_str_eq(out, "100001S");
	grpc_wire_timeout(INT64_MAX, out);
	ck_assert_str_eq(out, "99999999H");
}
END_TEST

START_TEST(test_status)
{
	ck_assert_int_eq(grpc_wire_status("0"), 0);
	ck_assert_int_eq(grpc_wire_status("16"), 16);
	ck_assert_int_eq(grpc_wire_status("05"), 5);
	ck_assert_int_eq(grpc_wire_status("17"), -1);
	ck_assert_int_eq(grpc_wire_status(""), -1);
	ck_assert_int_eq(grpc_wire_status("-1"), -1);
	ck_assert_int_eq(grpc_wire_status("1 "), -1);
	ck_assert_int_eq(grpc_wire_status("100"), -1);
	ck_assert_int_eq(grpc_wire_status(NULL), -1);
}
END_TEST

START_TEST(test_percent_decode)
{
	char a[] = "no%20such%20key%0A100%25", b[] = "50% off %zz %4", c[] = "%c3%A4%", d[] = "";

	grpc_wire_percent_decode(a);
	ck_assert_str_eq(a, "no such key\n100%");
	/* Not an escape: left as it is, and nothing read past the end. */
	grpc_wire_percent_decode(b);
	ck_assert_str_eq(b, "50% off %zz %4");
	grpc_wire_percent_decode(c);
	ck_assert_str_eq(c, "\xc3\xa4%");
	grpc_wire_percent_decode(d);
	ck_assert_str_eq(d, "");
}
END_TEST

START_TEST(test_mappings)
{
	ck_assert_int_eq(grpc_wire_from_http(400), GRPC_WIRE_INTERNAL);
	ck_assert_int_eq(grpc_wire_from_http(401), GRPC_WIRE_UNAUTHENTICATED);
	ck_assert_int_eq(grpc_wire_from_http(404), GRPC_WIRE_UNIMPLEMENTED);
	ck_assert_int_eq(grpc_wire_from_http(503), GRPC_WIRE_UNAVAILABLE);
	ck_assert_int_eq(grpc_wire_from_http(500), GRPC_WIRE_UNKNOWN);
	ck_assert_int_eq(grpc_wire_from_h2_error(0x7), GRPC_WIRE_UNAVAILABLE);
	ck_assert_int_eq(grpc_wire_from_h2_error(0x8), GRPC_WIRE_CANCELLED);
	ck_assert_int_eq(grpc_wire_from_h2_error(0xb), GRPC_WIRE_RESOURCE_EXHAUSTED);
	ck_assert_int_eq(grpc_wire_from_h2_error(0x2), GRPC_WIRE_INTERNAL);
}
END_TEST

START_TEST(test_metadata)
{
	ck_assert(grpc_wire_name_ok("dapr-api-token"));
	ck_assert(grpc_wire_name_ok("x_trace.id-bin"));
	ck_assert(!grpc_wire_name_ok("X-Upper"));
	ck_assert(!grpc_wire_name_ok(":path"));
	ck_assert(!grpc_wire_name_ok("a b"));
	ck_assert(!grpc_wire_name_ok(""));
	ck_assert(grpc_wire_name_reserved("te"));
	ck_assert(grpc_wire_name_reserved("grpc-timeout"));
	ck_assert(!grpc_wire_name_reserved("grpc-trace-bin"));
	ck_assert(grpc_wire_value_ok("a b ~!"));
	ck_assert(!grpc_wire_value_ok("a\r\nb"));
	ck_assert(!grpc_wire_value_ok("\xc3\xa4"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grpc_wire");
	TCase *tc = tcase_create("wire");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_percent_decode);
	tcase_add_test(tc, test_mappings);
	tcase_add_test(tc, test_metadata);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
