/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation's request shaping (paths, headers, targets) and its last hop: the call to the local app. */
#ifndef OUTRIG_CORE_INVOKE_REQUEST_H
#define OUTRIG_CORE_INVOKE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct server;

/* The marker header of the internal protocol's answers (core/internal_protocol.md). */
#define INVOKE_STATUS_HEADER "outrig-status"

/*
 * The method path the app is called on: "/" + raw with "." and ".." segments and empty segments
 * removed as Go's path.Clean does, never climbing above the root; percent-escapes are kept as they
 * came ("%2e%2e" is a segment of that name, "%2F" stays inside its segment); a trailing '/' is kept.
 * Returns NULL when out of memory. Ownership: the caller frees.
 */
char *invoke_clean_path(const char *raw);

/*
 * Splits "app-id.namespace" at its last '.' into id and ns ("" when there is no '.').
 * Returns false when a part does not fit its buffer or the id is empty.
 */
bool invoke_split_target(const char *target, char *id, size_t id_size, char *ns, size_t ns_size);

/*
 * The app id of an "Authorization: Basic base64(dapr-app-id:<id>)" header, or NULL when the header
 * is of another kind. Ownership: the caller frees.
 */
char *invoke_basic_app_id(const char *authorization);

/*
 * Copies the request headers in that travel to the callee into out: all but hop-by-hop ones
 * (and those the Connection header names), Host and Content-Length (the next hop sets its own),
 * Expect (this sidecar has read the whole body already: a 100-continue is over),
 * dapr-app-id, dapr-api-token, caller-supplied dapr-caller-* and dapr-callee-*, outrig-*
 * (the internal protocol's own) and an Authorization header of the dapr-app-id form.
 */
void invoke_copy_request_headers(const struct evkeyvalq *in, struct evkeyvalq *out);

/*
 * Copies response headers into out: all but hop-by-hop ones, outrig-*, and Content-Length
 * unless keep_length (a HEAD answer, whose length evhttp does not recompute).
 */
void invoke_copy_response_headers(const struct evkeyvalq *in, struct evkeyvalq *out, bool keep_length);

/*
 * Adds what an invocation tells the callee about where it came from: X-Forwarded-For (appended),
 * X-Forwarded-Host and Forwarded (for=client;by=this sidecar;host=Host header), from req; and a
 * traceparent of a new, unsampled trace when out has no valid one (a valid one travels as is).
 */
void invoke_add_forwarded(struct evhttp_request *req, struct evkeyvalq *out);

/*
 * Calls this sidecar's app with method path?query, headers (as invoke_copy_request_headers left
 * them) plus dapr-caller-app-id (caller_id), dapr-caller-namespace (caller_ns, when not empty) and
 * dapr-callee-app-id (own app id), and the body of req; then answers req with the app's status,
 * headers and body, or with a 500 ERR_DIRECT_INVOKE naming the app id when the app cannot be
 * reached or is unhealthy or its answer is past --max-body-size / --read-buffer-size, a 502 when
 * its answer is not valid HTTP (a status outside 200..599). http is the listener req came in on (its default Content-Type is
 * suspended for a passthrough). internal: req came over the internal protocol, so every answer
 * carries the outrig-status marker.
 * Ownership: headers is copied. Thread: the loop.
 */
void invoke_to_app(struct server *srv, struct evhttp *http, struct evhttp_request *req, const char *path,
		   const struct evkeyvalq *headers, const char *caller_id, const char *caller_ns,
		   bool internal);

/*
 * Answers req with the status, headers (filtered as above) and body of the response from, moving
 * its body. default_ct: what http's default Content-Type is to be restored to afterwards.
 * Thread: the loop.
 */
void invoke_pass_response(struct evhttp *http, const char *default_ct, struct evhttp_request *req,
			  struct evhttp_request *from, const char *marker);

/* The namespace this sidecar runs in ($NAMESPACE, as daprd), or "". */
const char *invoke_own_namespace(void);

#endif /* OUTRIG_CORE_INVOKE_REQUEST_H */
