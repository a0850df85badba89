/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's InvokeBinding over gRPC. */
#ifndef OUTRIG_CORE_GRPC_API_BINDINGS_H
#define OUTRIG_CORE_GRPC_API_BINDINGS_H

/* Registers the methods with the gRPC server. Thread: the loop's, before it runs. */
void api_bindings_grpc_register(void);

#endif /* OUTRIG_CORE_GRPC_API_BINDINGS_H */
