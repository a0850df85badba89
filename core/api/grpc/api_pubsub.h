/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's publish API over gRPC: PublishEvent, BulkPublishEvent and BulkPublishEventAlpha1. */
#ifndef OUTRIG_CORE_GRPC_API_PUBSUB_H
#define OUTRIG_CORE_GRPC_API_PUBSUB_H

/* Registers the pub/sub methods with the gRPC server. Thread: the loop, before it accepts. */
void api_pubsub_grpc_register(void);

#endif /* OUTRIG_CORE_GRPC_API_PUBSUB_H */
