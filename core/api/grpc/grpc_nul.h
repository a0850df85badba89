/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a NUL inside a string field of a gRPC request, which protobuf-c's C strings would cut short. */
#ifndef OUTRIG_CORE_API_GRPC_NUL_H
#define OUTRIG_CORE_API_GRPC_NUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/*
 * Whether a string field anywhere in msg (len bytes of message d, nested messages and map
 * entries included) holds a NUL byte: protobuf-c unpacks strings as C strings, so "acct\0evil"
 * would reach a handler as "acct". When it does, field names the first such field as a path
 * ("states[1].key", "metadata[0].value"). A message that does not parse answers false: unpacking
 * it fails on its own. Thread: any.
 */
bool grpc_msg_find_nul(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len, char *field,
		       size_t size);

#endif /* OUTRIG_CORE_API_GRPC_NUL_H */
