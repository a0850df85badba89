/* SPDX-License-Identifier: Apache-2.0 */
/* Building protobuf-c messages for app_grpc.c: an arena for their parts, JSON to google.protobuf.Struct. */
#include "config.h"

#include "channels/app_grpc_pb.h"

#include <stdlib.h>
#include <string.h>

void *pb_alloc(struct pb_arena *a, size_t size)
{
	void *p;

	if (a->count == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		void **blocks = realloc(a->blocks, cap * sizeof(*blocks));

		if (blocks == NULL) {
			a->failed = 1;
			return NULL;
		}
		a->blocks = blocks;
		a->cap = cap;
	}
	if ((p = calloc(1, size ? size : 1)) == NULL) {
		a->failed = 1;
		return NULL;
	}
	a->blocks[a->count++] = p;
	return p;
}

char *pb_strndup(struct pb_arena *a, const char *s, size_t len)
{
	char *p = pb_alloc(a, len + 1);

	if (p != NULL && len > 0)
		memcpy(p, s, len);
	return p;
}

char *pb_strdup(struct pb_arena *a, const char *s)
{
	if (s == NULL)
		s = "";
	return pb_strndup(a, s, strlen(s));
}

void pb_arena_free(struct pb_arena *a)
{
	for (size_t i = 0; i < a->count; i++)
		free(a->blocks[i]);
	free(a->blocks);
	memset(a, 0, sizeof(*a));
}

static Google__Protobuf__Struct *pb_struct(struct pb_arena *a, json_t *obj, int depth);

static Google__Protobuf__Value *pb_value(struct pb_arena *a, json_t *v, int depth)
{
	Google__Protobuf__Value *out = pb_alloc(a, sizeof(*out));

	if (out == NULL)
		return NULL;
	google__protobuf__value__init(out);
	switch (json_typeof(v)) {
	case JSON_NULL:
		out->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
		out->null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE;
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		out->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
		out->bool_value = json_is_true(v);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		out->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
		out->number_value = json_number_value(v);
		break;
	case JSON_STRING:
		out->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
		if ((out->string_value = pb_strndup(a, json_string_value(v), json_string_length(v))) == NULL)
			return NULL;
		break;
	case JSON_OBJECT:
		out->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
		if ((out->struct_value = pb_struct(a, v, depth + 1)) == NULL)
			return NULL;
		break;
	case JSON_ARRAY: {
		Google__Protobuf__ListValue *list = pb_alloc(a, sizeof(*list));
		size_t n = json_array_size(v);

		if (list == NULL || depth + 1 > PB_STRUCT_MAX_DEPTH)
			return NULL;
		google__protobuf__list_value__init(list);
		if (n > 0 && (list->values = pb_alloc(a, n * sizeof(*list->values))) == NULL)
			return NULL;
		for (size_t i = 0; i < n; i++)
			if ((list->values[i] = pb_value(a, json_array_get(v, i), depth + 1)) == NULL)
				return NULL;
		list->n_values = n;
		out->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
		out->list_value = list;
		break;
	}
	}
	return out;
}

static Google__Protobuf__Struct *pb_struct(struct pb_arena *a, json_t *obj, int depth)
{
	Google__Protobuf__Struct *s;
	const char *key;
	json_t *v;
	size_t i = 0, n;

	if (!json_is_object(obj) || depth > PB_STRUCT_MAX_DEPTH || (s = pb_alloc(a, sizeof(*s))) == NULL)
		return NULL;
	google__protobuf__struct__init(s);
	n = json_object_size(obj);
	if (n > 0 && (s->fields = pb_alloc(a, n * sizeof(*s->fields))) == NULL)
		return NULL;
	json_object_foreach(obj, key, v)
	{
		Google__Protobuf__Struct__FieldsEntry *e = pb_alloc(a, sizeof(*e));

		if (e == NULL)
			return NULL;
		google__protobuf__struct__fields_entry__init(e);
		if ((e->key = pb_strdup(a, key)) == NULL || (e->value = pb_value(a, v, depth)) == NULL)
			return NULL;
		s->fields[i++] = e;
	}
	s->n_fields = i;
	return s;
}

Google__Protobuf__Struct *pb_struct_from_json(struct pb_arena *a, json_t *obj)
{
	return pb_struct(a, obj, 0);
}
