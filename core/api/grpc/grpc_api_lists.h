/* SPDX-License-Identifier: Apache-2.0 */
/* spec.api.allowed and denied on the gRPC front end: which group each of Dapr's gRPC methods belongs to. */
#ifndef OUTRIG_CORE_GRPC_API_LISTS_H
#define OUTRIG_CORE_GRPC_API_LISTS_H

#include <stdbool.h>

struct grpc_call;

/*
 * Whether the API lists let call's method through (methods outside dapr.proto.runtime, such as
 * health checks and proxied calls to apps, always). Otherwise answers daprd's UNIMPLEMENTED
 * "Not Implemented" (ErrorInfo http.code 501, "requested endpoint is not available") and returns false.
 */
bool grpc_api_lists_ok(struct grpc_call *call);

#endif
