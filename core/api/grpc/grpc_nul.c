/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a NUL inside a string field of a gRPC request, which protobuf-c's C strings would cut short. */
#include "api/grpc/grpc_nul.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nested messages deeper than this are not looked into (Dapr's requests nest three deep). */
#define GRPC_NUL_MAX_DEPTH 16

/* The varint at *off, moving past it. False when it runs past len or over 10 bytes. */
static bool grpc_nul_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 70 && *off < len; shift += 7) {
		uint8_t b = p[(*off)++];

		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* The field's name after prefix, with its index when repeated, into field. */
static void grpc_nul_name(const char *prefix, const ProtobufCFieldDescriptor *f, unsigned index, char *field,
			  size_t size)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		snprintf(field, size, "%s%s[%u]", prefix, f->name, index);
	else
		snprintf(field, size, "%s%s", prefix, f->name);
}

static bool grpc_nul_walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
			  const char *prefix, char *field, size_t size, int depth)
{
	unsigned *seen = calloc(d->n_fields > 0 ? d->n_fields : 1, sizeof(*seen));
	bool found = false;
	size_t off = 0;

	while (seen != NULL && !found && off < len) {
		const ProtobufCFieldDescriptor *f;
		uint64_t key, n;
		unsigned index;

		if (!grpc_nul_varint(p, len, &off, &key))
			break;
		switch (key & 7) {
		case 0:
			if (!grpc_nul_varint(p, len, &off, &n))
				goto out;
			continue;
		case 1: off += 8; continue;
		case 5: off += 4; continue;
		case 2: break;
		default: goto out; /* groups: not in any proto3 message */
		}
		if (!grpc_nul_varint(p, len, &off, &n) || n > len - off)
			break;
		f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
		if (f != NULL) {
			index = seen[f - d->fields]++;
			if (f->type == PROTOBUF_C_TYPE_STRING && memchr(p + off, 0, n) != NULL) {
				grpc_nul_name(prefix, f, index, field, size);
				found = true;
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < GRPC_NUL_MAX_DEPTH) {
				char inner[256];

				grpc_nul_name(prefix, f, index, inner, sizeof(inner) - 1);
				strcat(inner, ".");
				found = grpc_nul_walk(f->descriptor, p + off, n, inner, field, size,
						      depth + 1);
			}
		}
		off += n;
	}
out:
	free(seen);
	return found;
}

bool grpc_msg_find_nul(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len, char *field,
		       size_t size)
{
	return grpc_nul_walk(d, msg, len, "", field, size, 0);
}
