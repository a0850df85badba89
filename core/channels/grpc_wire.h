/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC-over-HTTP/2 wire facts the client needs: grpc-timeout, grpc-status, grpc-message, metadata names. */
#ifndef OUTRIG_CORE_GRPC_WIRE_H
#define OUTRIG_CORE_GRPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The gRPC codes the client chooses itself (blocks/errors.h names them all; channels sit below blocks). */
#define GRPC_WIRE_OK 0
#define GRPC_WIRE_CANCELLED 1
#define GRPC_WIRE_UNKNOWN 2
#define GRPC_WIRE_DEADLINE_EXCEEDED 4
#define GRPC_WIRE_PERMISSION_DENIED 7
#define GRPC_WIRE_RESOURCE_EXHAUSTED 8
#define GRPC_WIRE_UNIMPLEMENTED 12
#define GRPC_WIRE_INTERNAL 13
#define GRPC_WIRE_UNAVAILABLE 14
#define GRPC_WIRE_UNAUTHENTICATED 16

/* Room for a grpc-timeout value: at most 8 digits and a unit (and room the compiler can prove). */
#define GRPC_WIRE_TIMEOUT_SIZE 24

/*
 * Writes the grpc-timeout value for ms milliseconds (> 0): "<n>m" while n fits the 8 digits the
 * protocol allows, else in seconds, minutes or hours, rounded up so the server never ends the
 * call earlier than the client would.
 */
void grpc_wire_timeout(int64_t ms, char out[GRPC_WIRE_TIMEOUT_SIZE]);

/* A grpc-status value: 0..16, or -1 when it is not one of those written in plain decimal digits. */
int grpc_wire_status(const char *text);

/* Decodes grpc-message's percent-encoding in place; a '%' not followed by two hex digits stays as it is. */
void grpc_wire_percent_decode(char *s);

/* The code for an answer with this HTTP status and no grpc-status (gRPC's HTTP-to-gRPC status mapping). */
int grpc_wire_from_http(int http_status);

/* The code for a stream the server reset with this HTTP/2 error code and no grpc-status. */
int grpc_wire_from_h2_error(uint32_t error_code);

/* True when name is a valid metadata name: lowercase letters, digits, '-', '_' and '.'. */
bool grpc_wire_name_ok(const char *name);

/* True for names the client sets itself (content-type, te, grpc-timeout...) or HTTP/2 forbids. */
bool grpc_wire_name_reserved(const char *name);

/* True when value may be sent: printable ASCII (a "-bin" value is sent base64, also printable). */
bool grpc_wire_value_ok(const char *value);

#endif /* OUTRIG_CORE_GRPC_WIRE_H */
