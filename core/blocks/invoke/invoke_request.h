/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation's request rules, free of any transport: method paths, targets, which headers travel. */
#ifndef OUTRIG_CORE_INVOKE_REQUEST_H
#define OUTRIG_CORE_INVOKE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/kv.h"

/* The marker header of the internal protocol's answers (core/api/internal/internal_protocol.md). */
#define INVOKE_STATUS_HEADER "outrig-status"

/*
 * The method path the app is called on: "/" + raw with "." and ".." segments and empty segments
 * removed as Go's path.Clean does, never climbing above the root; percent-escapes are kept as they
 * came ("%2e%2e" is a segment of that name, "%2F" stays inside its segment); a trailing '/' is kept.
 * Returns NULL when out of memory. Ownership: the caller frees.
 */
char *invoke_clean_path(const char *raw);

/*
 * invoke_clean_path(method), then "?" + query when query is not NULL (an empty query keeps its
 * '?': the app gets the target exactly as it was named). Returns NULL when out of memory.
 * Ownership: the caller frees.
 */
char *invoke_method_path(const char *method, const char *query);

/*
 * The first byte of s that cannot travel in an HTTP/1.1 request line: a control byte, space or
 * DEL, '#', and in a method (!query) also '?'; NULL when s can travel as it is. Over HTTP these
 * never arrive (the listener refuses such a request line); over gRPC a method or query string is
 * any string, and a CR LF in it would end the request line to the app early.
 */
const char *invoke_bad_byte(const char *s, bool query);

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

/* The first value of the header name in l (names match case-insensitively), or NULL. */
const char *invoke_header(const struct kv_list *l, const char *name);

/* Removes every header name (case-insensitively) from l. */
void invoke_header_remove(struct kv_list *l, const char *name);

/*
 * Appends the request headers of in that travel to the callee to out: all but hop-by-hop ones
 * (and those a Connection header names), Host and Content-Length (the next hop sets its own),
 * Expect (this sidecar has read the whole body already: a 100-continue is over),
 * dapr-app-id, dapr-api-token, caller-supplied dapr-caller-* and dapr-callee-*, outrig-*
 * (the internal protocol's own) and an Authorization header of the dapr-app-id form.
 * Returns 0, or -1 when out of memory.
 */
int invoke_copy_request_headers(const struct kv_list *in, struct kv_list *out);

/*
 * Removes from an answer's headers l what does not travel back: hop-by-hop ones, outrig-*, and
 * Content-Length unless keep_length (a HEAD answer, whose length the next hop cannot recompute).
 */
void invoke_filter_response_headers(struct kv_list *l, bool keep_length);

/*
 * Adds to out what an invocation tells the callee about where it came from: X-Forwarded-For
 * (appended to in's), X-Forwarded-Host and Forwarded (for=client;by=this sidecar;host=in's Host),
 * replacing any out had; and a traceparent of a new, unsampled trace when out has no valid one (a
 * valid one travels as is). client and self: numeric IP addresses of the caller and of this
 * sidecar's end, NULL when unknown. Returns 0, or -1 when out of memory.
 */
int invoke_add_forwarded(struct kv_list *out, const struct kv_list *in, const char *client, const char *self);

/* The namespace this sidecar runs in ($NAMESPACE, as daprd), or "". */
const char *invoke_own_namespace(void);

#endif /* OUTRIG_CORE_INVOKE_REQUEST_H */
