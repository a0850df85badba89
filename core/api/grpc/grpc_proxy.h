/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC proxying (Dapr's service invocation for gRPC services): a call to a method outrig does not
 * serve, with dapr-app-id metadata, is passed through byte for byte, streams included, to that
 * app's gRPC server: this sidecar's own app, or another sidecar's internal port, which passes it on
 * to its app. See core/api/internal/internal_protocol.md, "gRPC proxying".
 */
#ifndef OUTRIG_CORE_GRPC_PROXY_H
#define OUTRIG_CORE_GRPC_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct grpc_call;
struct grpc_proxy;
struct grpc_server;

/*
 * The call's headers are in and it names no method outrig serves: on the API port, with
 * dapr-app-id it is proxied; on the internal port, every call is (to this sidecar's app). Returns
 * true when the call is now the proxy's (call->proxy), false when it was answered with an error.
 * Thread: the loop (inside the connection's nghttp2 callbacks).
 */
bool grpc_proxy_start(struct grpc_call *call);

/* Request bytes from the client; their stream window is given back once they went upstream. */
void grpc_proxy_request_data(struct grpc_proxy *p, const uint8_t *data, size_t len);

/* The client ended its request (END_STREAM). */
void grpc_proxy_request_end(struct grpc_proxy *p);

/* The client's stream is gone (closed, reset, or its connection dropped): the upstream one is cancelled. */
void grpc_proxy_downstream_gone(struct grpc_proxy *p);

/* Frees the proxies a stopped loop left (waiting for name resolution). Thread: the main thread, after the loop. */
void grpc_proxy_free_all(struct grpc_server *gs);

#endif /* OUTRIG_CORE_GRPC_PROXY_H */
