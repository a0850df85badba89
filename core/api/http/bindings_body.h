/* SPDX-License-Identifier: Apache-2.0 */
/* The `data` of an output binding request as the component gets it: the client's JSON text, compacted. */
#ifndef OUTRIG_CORE_HTTP_BINDINGS_BODY_H
#define OUTRIG_CORE_HTTP_BINDINGS_BODY_H

#include <stddef.h>

#include <jansson.h>

/*
 * The request's `data` for the component as JSON text, as daprd re-marshals it (a string "hi"
 * arrives as the 4 bytes "hi", quotes included), compacted but otherwise as the client wrote it
 * (re-encoding could change numbers). body (len bytes) is the request body, already parsed by
 * jansson into an object whose member "data" is data.
 * Absent or null: no data (*out NULL). Returns 0 or -1 (out of memory).
 * Ownership: the caller frees *out. Thread: any.
 */
int bindings_body_data(const char *body, size_t len, json_t *data, char **out, size_t *out_len);

#endif /* OUTRIG_CORE_HTTP_BINDINGS_BODY_H */
