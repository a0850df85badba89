/* SPDX-License-Identifier: Apache-2.0 */
/* How state.postgresql turns bytes into Dapr's jsonb/isbinary columns and back, and reads etags. */
#ifndef OUTRIG_STATE_POSTGRESQL_VALUES_H
#define OUTRIG_STATE_POSTGRESQL_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Whether data is JSON text that PostgreSQL's jsonb input accepts as it is: strict
 * RFC 8259 JSON in valid UTF-8, without the escapes jsonb refuses (\u0000, lone
 * surrogates), numbers within numeric's range, and nesting jsonb can hold. When this
 * says no, the value is stored as base64 with isbinary = true, as daprd stores bytes.
 * The server stays the judge: a value it still refuses is retried as binary.
 * Ownership: data stays the caller's. Thread: any.
 */
bool pgv_is_jsonb(const void *data, size_t len);

/*
 * The JSON string of data's standard base64 (with padding, in double quotes): the text
 * daprd writes to value for bytes. Returns a NUL-terminated string, or NULL when out
 * of memory. Ownership: the caller frees. Thread: any.
 */
char *pgv_binary_json(const void *data, size_t len);

/*
 * Decodes what an isbinary row holds: a JSON string (as jsonb prints it) of base64.
 * On success returns true with *out (malloc'd, *out_len bytes; never NULL). False when
 * json is not a JSON string of valid base64, or when out of memory (*out stays NULL).
 * Ownership: the caller frees *out. Thread: any.
 */
bool pgv_binary_decode(const char *json, size_t json_len, unsigned char **out, size_t *out_len);

/*
 * Reads an etag as Dapr's v1 store issues them: the row's xmin, a uint32 in decimal
 * (digits only, as Go's strconv.ParseUint(s, 10, 32)). False for anything else.
 * Ownership: none. Thread: any.
 */
bool pgv_parse_etag(const char *etag, uint32_t *out);

#endif /* OUTRIG_STATE_POSTGRESQL_VALUES_H */
