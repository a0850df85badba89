/* SPDX-License-Identifier: Apache-2.0 */
/* One call of app_call.h's kind to a gRPC app: AppCallback/OnInvoke, answered as daprd answers an HTTP caller. */
#ifndef OUTRIG_CORE_CHANNELS_APP_CALL_GRPC_H
#define OUTRIG_CORE_CHANNELS_APP_CALL_GRPC_H

#include "channels/app_call.h"

struct app_grpc;

/*
 * app_call_send for a gRPC app: rq's path ("/method?query") becomes InvokeRequest.method and the
 * HTTPExtension's querystring, rq's verb its verb (NULL: no HTTPExtension, as a gRPC caller may send), the Content-Type header its content_type, the
 * other headers gRPC metadata (app_grpc_metadata_from_http), the body the data (with
 * rq->data_type_url). The answer is APP_CALL_ANSWERED with app_grpc_http_answer's status, headers
 * (Content-Type among them) and body, and a->grpc the app's own result; a call that never reached
 * the app (UNAVAILABLE before any answer) is APP_CALL_UNREACHABLE. cb is called exactly once on
 * the loop, never from within this function, unless ag is freed first. Returns 0, or -1 when out
 * of memory (cb is then never called). Ownership: rq is copied. Thread: the event loop.
 */
int app_call_send_grpc(struct app_grpc *ag, const struct app_call_request *rq, app_call_cb cb, void *arg);

#endif /* OUTRIG_CORE_CHANNELS_APP_CALL_GRPC_H */
