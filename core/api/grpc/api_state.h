/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's state API over gRPC: GetState, GetBulkState, SaveState, DeleteState, DeleteBulkState,
 * ExecuteStateTransaction and QueryStateAlpha1, each an unpack, one call of the state block, a pack. */
#ifndef OUTRIG_CORE_API_GRPC_STATE_H
#define OUTRIG_CORE_API_GRPC_STATE_H

/* Registers the state methods with the gRPC server. Thread: the loop, before it accepts. */
void api_state_grpc_register(void);

#endif /* OUTRIG_CORE_API_GRPC_STATE_H */
