/* SPDX-License-Identifier: Apache-2.0 */
/* What app_grpc.c needs to build protobuf-c messages: an arena for their parts, JSON to google.protobuf.Struct. */
#ifndef OUTRIG_CORE_APP_GRPC_PB_H
#define OUTRIG_CORE_APP_GRPC_PB_H

#include <stddef.h>

#include <jansson.h>

#include "google/protobuf/struct.pb-c.h"

/*
 * Every part of one message being built: freed at once when it is packed, so a half-built
 * message never needs a walk to be freed. Start with { 0 }.
 */
struct pb_arena {
	void **blocks;
	size_t count;
	size_t cap;
	int failed; /* an allocation failed; the message must not be packed */
};

/* size zeroed bytes owned by the arena; NULL (and a->failed set) when out of memory. */
void *pb_alloc(struct pb_arena *a, size_t size);

/* A NUL-terminated copy of s (len bytes) owned by the arena; NULL when out of memory. */
char *pb_strndup(struct pb_arena *a, const char *s, size_t len);

/* A copy of s (NULL gives ""), owned by the arena; NULL when out of memory. */
char *pb_strdup(struct pb_arena *a, const char *s);

void pb_arena_free(struct pb_arena *a);

/* How deep a JSON value may nest before it is refused as a Struct (protobuf's own default limit is 100). */
#define PB_STRUCT_MAX_DEPTH 64

/*
 * obj, a JSON object, as google.protobuf.Struct: strings, numbers (as doubles), booleans, null,
 * arrays and objects, as protojson reads the same JSON. NULL when out of memory, when obj is
 * not an object or nests deeper than PB_STRUCT_MAX_DEPTH. Ownership: the arena's.
 */
Google__Protobuf__Struct *pb_struct_from_json(struct pb_arena *a, json_t *obj);

#endif /* OUTRIG_CORE_APP_GRPC_PB_H */
