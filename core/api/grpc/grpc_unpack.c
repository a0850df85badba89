/* SPDX-License-Identifier: Apache-2.0 */
/* Unpacking a gRPC request for its handler, refusing what protobuf-c would not hand over faithfully. */
#include "config.h"

#include "api/grpc/grpc_unpack.h"

#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_errors.h"
#include "api/grpc/grpc_nul.h"
#include "blocks/errors.h"

void grpc_call_fail_unmarshal(struct grpc_call *call, const ProtobufCMessageDescriptor *d)
{
	/* grpc-go's code and prefix, so clients that match on them (and daprd's tests) agree. */
	grpc_call_fail(call, GRPC_INTERNAL, NULL,
		       "grpc: error unmarshalling request: the bytes are not a valid %s message; check the "
		       "client's Dapr protos",
		       d->name);
}

void *grpc_call_unpack(struct grpc_call *call, const ProtobufCMessageDescriptor *d, const uint8_t *msg,
		       size_t len)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, msg);
	struct block_error err;
	char field[sizeof(err.field)];

	if (m == NULL) {
		grpc_call_fail_unmarshal(call, d);
		return NULL;
	}
	if (grpc_msg_find_nul(d, msg, len, field, sizeof(field))) {
		protobuf_c_message_free_unpacked(m, NULL);
		block_fail(
			&err, API_ERR_MALFORMED_REQUEST, field,
			"%s holds a NUL character (\\u0000), which names, keys, metadata and other strings "
			"of a Dapr request cannot carry; remove it",
			field);
		grpc_call_fail_block(call, &err);
		return NULL;
	}
	return m;
}
