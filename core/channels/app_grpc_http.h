/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An HTTP caller of a gRPC app, as daprd bridges them: the caller's headers as the app's gRPC
 * metadata, and the app's InvokeResponse (or gRPC error) as the caller's HTTP answer.
 */
#ifndef OUTRIG_CORE_APP_GRPC_HTTP_H
#define OUTRIG_CORE_APP_GRPC_HTTP_H

#include <stddef.h>

#include "base/kv.h"
#include "channels/app_grpc.h"

/*
 * Adds an HTTP caller's request headers to out as the gRPC metadata of OnInvoke, as daprd does:
 * names lowercased; IANA's permanent request headers (Accept, Content-Type, Content-Length,
 * Cookie, If-Match, ...) renamed "dapr-<name>" so they cannot clash with HTTP/2's own; Host and
 * destination-app-id left out. app_grpc_invoke then leaves out what cannot go on the wire.
 * Returns 0 or -1 (out of memory). Ownership: copied into out, which the caller frees.
 */
int app_grpc_metadata_from_http(const struct kv_list *headers, struct kv_list *out);

/* The HTTP status daprd gives a gRPC code (grpc-gateway's table: NOT_FOUND 404, UNAVAILABLE 503...). */
int app_grpc_http_status(int grpc_code);

/* The HTTP answer for an HTTP caller. */
struct app_grpc_http_answer {
	int status;
	/* NULL: none (daprd's HTTP server then guesses one from the body). */
	const char *content_type;
	const void *body;
	size_t len;
	/* To add to the answer: the app's initial metadata, as daprd turns it into HTTP headers. */
	struct kv_list headers;
	char *owned; /* the body, when it was made here */
};

/*
 * r as daprd answers an HTTP caller: OK gives 200 with InvokeResponse's data and content type
 * ("application/x-protobuf" when the data has a type_url); an error gives
 * app_grpc_http_status(code) with the status as protojson, {"code":5,"message":"..."}, typed
 * "text/plain; charset=utf-8" as Go's server sniffs that body. Headers: the app's initial
 * metadata but "-bin", content-type, content-length and hop-by-hop names; grpc-* renamed
 * "dapr-grpc-*". Returns 0, or -1 when out of memory. Ownership: body and content_type point into
 * r or out->owned: use them before r's callback returns; free with app_grpc_http_answer_free.
 */
int app_grpc_http_answer(const struct app_grpc_invoke_result *r, struct app_grpc_http_answer *out);

void app_grpc_http_answer_free(struct app_grpc_http_answer *a);

#endif /* OUTRIG_CORE_APP_GRPC_HTTP_H */
