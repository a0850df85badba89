/* SPDX-License-Identifier: Apache-2.0 */
/* core/channels/app_grpc_pb.c alone: JSON to google.protobuf.Struct, packed and read back with protobuf-c. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "channels/app_grpc_pb.h"

static const Google__Protobuf__Value *field(const Google__Protobuf__Struct *s, const char *key)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if (strcmp(s->fields[i]->key, key) == 0)
			return s->fields[i]->value;
	ck_abort_msg("no field %s", key);
	return NULL;
}

START_TEST(test_struct_round_trip)
{
	json_t *obj = json_loads("{\"s\":\"text\",\"i\":3,\"r\":0.5,\"t\":true,\"f\":false,\"z\":null,"
				 "\"o\":{\"deep\":[1,\"two\",{\"k\":\"v\"}]},\"e\":{}}",
				 0, NULL);
	struct pb_arena a = { 0 };
	Google__Protobuf__Struct *s = pb_struct_from_json(&a, obj), *back;
	const Google__Protobuf__Value *v, *list;
	uint8_t *buf;
	size_t len;

	ck_assert_ptr_nonnull(s);
	ck_assert(!a.failed);
	buf = malloc(google__protobuf__struct__get_packed_size(s) + 1);
	len = google__protobuf__struct__pack(s, buf);
	pb_arena_free(&a);
	back = google__protobuf__struct__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back->n_fields, 8);
	v = field(back, "s");
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
	ck_assert_str_eq(v->string_value, "text");
	v = field(back, "i");
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
	ck_assert(v->number_value == 3.0);
	ck_assert(field(back, "r")->number_value == 0.5);
	ck_assert_int_eq(field(back, "t")->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE);
	ck_assert(field(back, "t")->bool_value);
	ck_assert(!field(back, "f")->bool_value);
	ck_assert_int_eq(field(back, "z")->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
	v = field(back, "o");
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
	list = field(v->struct_value, "deep");
	ck_assert_int_eq(list->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE);
	ck_assert_uint_eq(list->list_value->n_values, 3);
	ck_assert(list->list_value->values[0]->number_value == 1.0);
	ck_assert_str_eq(list->list_value->values[1]->string_value, "two");
	ck_assert_str_eq(field(list->list_value->values[2]->struct_value, "k")->string_value, "v");
	v = field(back, "e");
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
	ck_assert_uint_eq(v->struct_value->n_fields, 0);
	google__protobuf__struct__free_unpacked(back, NULL);
	free(buf);
	json_decref(obj);
}
END_TEST

/* An object nested n deep: {"a":{"a":...{}}}. */
static json_t *nested(int n)
{
	json_t *o = json_object();

	for (int i = 0; i < n; i++) {
		json_t *outer = json_object();

		json_object_set_new(outer, "a", o);
		o = outer;
	}
	return o;
}

START_TEST(test_struct_refused)
{
	struct pb_arena a = { 0 };
	json_t *arr = json_array(), *deep = nested(PB_STRUCT_MAX_DEPTH + 1),
	       *ok = nested(PB_STRUCT_MAX_DEPTH);

	ck_assert_ptr_null(pb_struct_from_json(&a, arr));
	pb_arena_free(&a);
	ck_assert_ptr_null(pb_struct_from_json(&a, deep));
	pb_arena_free(&a);
	ck_assert_ptr_nonnull(pb_struct_from_json(&a, ok));
	pb_arena_free(&a);
	json_decref(arr);
	json_decref(deep);
	json_decref(ok);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("app_grpc_pb");
	TCase *tc = tcase_create("struct");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_struct_round_trip);
	tcase_add_test(tc, test_struct_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
