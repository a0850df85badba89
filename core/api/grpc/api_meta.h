/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's GetMetadata, SetMetadata and Shutdown over gRPC. */
#ifndef OUTRIG_CORE_GRPC_API_META_H
#define OUTRIG_CORE_GRPC_API_META_H

/* Registers the methods with the gRPC server. Thread: the loop's, before it runs. */
void api_meta_grpc_register(void);

#endif /* OUTRIG_CORE_GRPC_API_META_H */
