/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation over gRPC (Dapr's InvokeService): decode the request, call the block, encode its answer as daprd does. */
#ifndef OUTRIG_CORE_GRPC_API_INVOKE_H
#define OUTRIG_CORE_GRPC_API_INVOKE_H

/* Registers /dapr.proto.runtime.v1.Dapr/InvokeService. Thread: the loop, before the listener accepts. */
void api_invoke_grpc_register(void);

#endif /* OUTRIG_CORE_GRPC_API_INVOKE_H */
