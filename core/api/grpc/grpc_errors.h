/* SPDX-License-Identifier: Apache-2.0 */
/* A block's error (blocks/errors.h) rendered for gRPC: its gRPC code, message and ErrorInfo. */
#ifndef OUTRIG_CORE_GRPC_ERRORS_H
#define OUTRIG_CORE_GRPC_ERRORS_H

#include "blocks/errors.h"

struct grpc_call;

/*
 * Completes call with err's gRPC code and message; rows with an ErrorInfo reason carry it in
 * grpc-status-details-bin, with the app id as daprd puts it. Thread: the loop.
 */
void grpc_call_fail_block(struct grpc_call *call, const struct block_error *err);

#endif /* OUTRIG_CORE_GRPC_ERRORS_H */
