/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dispatch interface of the gRPC API: how a method's handler receives one unary call and
 * answers it. The transport (HTTP/2 framing, deadlines, the API token, size limits) is done
 * before a handler runs; a handler only unpacks its request, does the work and answers.
 *
 * A handler in short (messages from the generated "dapr/proto/runtime/v1/dapr.pb-c.h"):
 *
 *	static void get_state(struct grpc_call *call, const uint8_t *msg, size_t len)
 *	{
 *		Dapr__Proto__Runtime__V1__GetStateRequest *req = grpc_call_unpack(
 *			call, &dapr__proto__runtime__v1__get_state_request__descriptor, msg, len);
 *
 *		if (req == NULL)
 *			return;	(grpc_unpack.h: already failed, undecodable or a NUL in a string)
 *		... hand req's fields to the block; its completion callback, on the loop, later calls
 *		grpc_call_reply(call, &resp.base) or grpc_call_fail(call, code, "ERR_...", "...") ...
 *		dapr__proto__runtime__v1__get_state_request__free_unpacked(req, NULL);
 *	}
 *	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/GetState", get_state);
 *
 * Methods of the Dapr service that are not registered answer UNIMPLEMENTED by name; the
 * completion may come long after the handler returned (grpc_call_alive says whether anyone still
 * waits); calls whose client left are freed once completed.
 */
#ifndef OUTRIG_CORE_GRPC_CALL_H
#define OUTRIG_CORE_GRPC_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

struct server;

/* enum grpc_code, the status codes, is the error table's (blocks/errors.h), which blocks finish with. */
#include "blocks/errors.h"

/* One unary call; owned by the server until it is completed by grpc_call_reply or grpc_call_fail. */
struct grpc_call;

/*
 * A method's handler. msg/len is the request message (without the 5-byte gRPC prefix), valid only
 * until the handler returns: unpack or copy what outlives it. The handler, or whatever it hands
 * the call to, must complete the call exactly once, now or later.
 * Thread: the loop.
 */
typedef void (*grpc_unary_fn)(struct grpc_call *call, const uint8_t *msg, size_t len);

/*
 * Registers the handler of path, "/package.Service/Method". Registering a path again replaces its
 * handler. Call at start-up, before the listener accepts.
 * Ownership: path is kept, not copied: pass a string literal (or one that lives as long).
 * Thread: the loop (or before it runs).
 */
void grpc_methods_register(const char *path, grpc_unary_fn fn);

/*
 * The value of the request's metadata (HTTP/2 header) named lowercase_name, or NULL. Binary
 * metadata ("-bin" names) is returned as sent, base64. The first value wins when repeated.
 * Ownership: the call's; valid until the call is completed.
 * Thread: the loop.
 */
const char *grpc_call_metadata(const struct grpc_call *call, const char *lowercase_name);

/*
 * The i-th entry of the request's metadata (0-based, in the order received; pseudo-headers and
 * content-type are not among them): true with name and value set, false past the last.
 * Ownership: the call's; valid until the call is completed. Thread: the loop.
 */
bool grpc_call_metadata_at(const struct grpc_call *call, size_t i, const char **name, const char **value);

/* The method's path, "/package.Service/Method". Ownership: the call's. Thread: the loop. */
const char *grpc_call_path(const struct grpc_call *call);

/* The request's :authority (host[:port] the client called), or NULL. Ownership: the call's. */
const char *grpc_call_authority(const struct grpc_call *call);

/* The connection's socket (for its addresses), or -1 once the client is gone. Thread: the loop. */
int grpc_call_socket(const struct grpc_call *call);

/* The sidecar the call came to. Thread: the loop. */
struct server *grpc_call_server(const struct grpc_call *call);

/*
 * False once nobody waits for the answer any more: the client reset the stream or closed the
 * connection, or the call's grpc-timeout passed (the client was then told DEADLINE_EXCEEDED).
 * A handler may stop its work early then; it must still complete the call.
 * Thread: the loop.
 */
bool grpc_call_alive(const struct grpc_call *call);

/*
 * Milliseconds left of the caller's grpc-timeout (0 once it passed), or -1 when it set none: work
 * done for the call on another channel need not last longer. Thread: the loop.
 */
int64_t grpc_call_remaining_ms(const struct grpc_call *call);

/*
 * Completes the call with status OK and msg as the response message (msg may be NULL for an
 * empty one, as google.protobuf.Empty). Dropped quietly when the call is no longer alive.
 * Ownership: msg stays the caller's (it is packed before this returns); the call is freed.
 * Thread: the loop.
 */
void grpc_call_reply(struct grpc_call *call, const ProtobufCMessage *msg);

/*
 * Completes the call with grpc_code and the printf-style message. When reason is not NULL, the
 * answer also carries grpc-status-details-bin: google.rpc.Status with one google.rpc.ErrorInfo
 * {reason, domain "dapr.io"}, as daprd's rich errors.
 * Ownership: the call is freed. Thread: the loop.
 */
void grpc_call_fail(struct grpc_call *call, int grpc_code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Same as grpc_call_fail, with ErrorInfo metadata: meta holds n_meta key/value pairs
 * (meta[2*i] is a key, meta[2*i+1] its value). reason must not be NULL.
 * Ownership: meta stays the caller's; the call is freed. Thread: the loop.
 */
void grpc_call_fail_info(struct grpc_call *call, int grpc_code, const char *reason, const char *const *meta,
			 size_t n_meta, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Completes the call with grpc_code, message and, when details_bin is neither NULL nor "",
 * grpc-status-details-bin as it is (base64 of a google.rpc.Status another gRPC server sent): for
 * handing on the status of a call this sidecar made, as daprd does with a gRPC app's error.
 * Ownership: details_bin and message stay the caller's; the call is freed. Thread: the loop.
 */
void grpc_call_fail_details(struct grpc_call *call, int grpc_code, const char *details_bin,
			    const char *message);

struct kv_list;

/*
 * Adds metadata to the call's answer: headers with its response headers, trailers with its
 * trailers (a Trailers-Only answer carries both in its one HEADERS frame), as daprd hands on a gRPC
 * app's metadata. Names gRPC and HTTP/2 keep for themselves (pseudo-headers, grpc-*,
 * content-type, content-length, te, connection-specific ones) and names not in lowercase are
 * left out. Call before completing the call. Returns 0, or -1
 * when out of memory. Ownership: copied. Thread: the loop.
 */
int grpc_call_add_reply_metadata(struct grpc_call *call, const struct kv_list *headers,
				 const struct kv_list *trailers);

#endif /* OUTRIG_CORE_GRPC_CALL_H */
