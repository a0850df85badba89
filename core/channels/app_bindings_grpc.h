/* SPDX-License-Identifier: Apache-2.0 */
/* Input bindings' calls to a gRPC app (ListInputBindings, OnBindingEvent), behind app_bindings.h's functions. */
#ifndef OUTRIG_CORE_CHANNELS_APP_BINDINGS_GRPC_H
#define OUTRIG_CORE_CHANNELS_APP_BINDINGS_GRPC_H

#include <stddef.h>

#include <outrig/metadata.h>

#include "channels/app_bindings.h"

struct app_grpc;

/*
 * app_bindings_ask for a gRPC app: ListInputBindings, WANTED when its names hold name, the
 * binding's. As daprd, a failed listing is an empty list: the binding is DECLINED, and detail says
 * why. Returns 0 or -1 (out of memory). Ownership: route and name must stay valid until cb runs.
 * Thread: the loop.
 */
int app_bindings_grpc_ask(struct app_grpc *ag, const char *route, const char *name,
			  struct app_bindings_call *call, app_bindings_asked_fn cb, void *arg);

/*
 * app_bindings_deliver for a gRPC app: OnBindingEvent(name, data, md as the request's metadata),
 * acknowledged when the app answers OK. The answer's data, to and states are not acted on (as the
 * HTTP channel ignores the body of its answer). Returns 0 or -1 (out of memory). Thread: the loop.
 */
int app_bindings_grpc_deliver(struct app_grpc *ag, const char *route, const char *name,
			      const struct outrig_metadata *md, const void *data, size_t len,
			      struct app_bindings_call *call, app_bindings_delivered_fn cb, void *arg);

#endif /* OUTRIG_CORE_CHANNELS_APP_BINDINGS_GRPC_H */
