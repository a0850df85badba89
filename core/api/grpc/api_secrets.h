/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's GetSecret and GetBulkSecret over gRPC. */
#ifndef OUTRIG_CORE_GRPC_API_SECRETS_H
#define OUTRIG_CORE_GRPC_API_SECRETS_H

/* Registers the methods with the gRPC server. Thread: the loop's, before it runs. */
void api_secrets_grpc_register(void);

#endif /* OUTRIG_CORE_GRPC_API_SECRETS_H */
