/* SPDX-License-Identifier: Apache-2.0 */
/* Unpacking a gRPC request for its handler, refusing what protobuf-c would not hand over faithfully. */
#ifndef OUTRIG_CORE_API_GRPC_UNPACK_H
#define OUTRIG_CORE_API_GRPC_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

struct grpc_call;

/*
 * msg/len unpacked as a message d, or NULL after failing the call. Bytes that do not parse answer
 * INTERNAL "grpc: error unmarshalling request: ...", as grpc-go (and so daprd) does; a string
 * field holding a NUL, which protobuf-c's C strings would cut short ("k1\0evil" arriving as "k1"),
 * answers INVALID_ARGUMENT (ERR_MALFORMED_REQUEST) naming the field, as the HTTP API refuses it.
 * Ownership: free the message with its generated __free_unpacked (or protobuf_c_message_free_unpacked
 * with a NULL allocator). Thread: the loop.
 */
void *grpc_call_unpack(struct grpc_call *call, const ProtobufCMessageDescriptor *d, const uint8_t *msg,
		       size_t len);

/* Fails call as grpc-go does a request that does not unmarshal as d. Thread: the loop. */
void grpc_call_fail_unmarshal(struct grpc_call *call, const ProtobufCMessageDescriptor *d);

#endif /* OUTRIG_CORE_API_GRPC_UNPACK_H */
