/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/api/grpc/grpc_nul.c: NULs inside string fields, found by their path, on hand-made wire bytes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc/grpc_nul.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"

#define SAVE (&dapr__proto__runtime__v1__save_state_request__descriptor)

static char field[128];

/* SaveStateRequest{store_name "s", states [StateItem{key "a\0b"}]} as protobuf puts it on the wire. */
static const uint8_t nul_key[] = { 0x0a, 0x01, 's', 0x12, 0x05, 0x0a, 0x03, 'a', 0x00, 'b' };

START_TEST(test_nul_in_nested_key)
{
	ck_assert(grpc_msg_find_nul(SAVE, nul_key, sizeof(nul_key), field, sizeof(field)));
	ck_assert_str_eq(field, "states[0].key");
}
END_TEST

/* Two states; the second's metadata entry holds "k" = "v\0". */
static const uint8_t nul_md[] = { 0x0a, 0x01, 's',  0x12, 0x03, 0x0a, 0x01, 'a',  0x12, 0x0c, 0x0a,
				  0x01, 'b',  0x22, 0x07, 0x0a, 0x01, 'k',  0x12, 0x02, 'v',  0x00 };

START_TEST(test_nul_in_map_value)
{
	ck_assert(grpc_msg_find_nul(SAVE, nul_md, sizeof(nul_md), field, sizeof(field)));
	ck_assert_str_eq(field, "states[1].metadata[0].value");
}
END_TEST

/* A NUL in bytes (a value) is data, not a cut string. */
static const uint8_t nul_value[] = { 0x0a, 0x01, 's', 0x12, 0x07, 0x0a, 0x01, 'a', 0x12, 0x02, 0x00, 0x01 };

START_TEST(test_nul_in_bytes_is_fine)
{
	ck_assert(!grpc_msg_find_nul(SAVE, nul_value, sizeof(nul_value), field, sizeof(field)));
}
END_TEST

/* A length past the end: not this check's business (unpacking refuses it). */
static const uint8_t truncated[] = { 0x0a, 0x09, 's' };

START_TEST(test_truncated)
{
	ck_assert(!grpc_msg_find_nul(SAVE, truncated, sizeof(truncated), field, sizeof(field)));
	ck_assert(!grpc_msg_find_nul(SAVE, NULL, 0, field, sizeof(field)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grpc_nul");
	TCase *tc = tcase_create("grpc_nul");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_nul_in_nested_key);
	tcase_add_test(tc, test_nul_in_map_value);
	tcase_add_test(tc, test_nul_in_bytes_is_fine);
	tcase_add_test(tc, test_truncated);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
