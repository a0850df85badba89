/* SPDX-License-Identifier: Apache-2.0 */
/* A block's error (blocks/errors.h) rendered for gRPC: its gRPC code, message and ErrorInfo. */
#include "config.h"

#include "api/grpc/grpc_errors.h"

#include "api/grpc/grpc_call.h"

void grpc_call_fail_block(struct grpc_call *call, const struct block_error *err)
{
	const struct api_error_def *def = api_error_def(err->error);
	const char *meta[] = { "appID", api_errors_app_id() };

	if (def->reason != NULL)
		grpc_call_fail_info(call, (int)block_error_grpc_code(err), def->reason, meta, 1, "%s",
				    err->message);
	else
		grpc_call_fail(call, (int)block_error_grpc_code(err), NULL, "%s", err->message);
}
