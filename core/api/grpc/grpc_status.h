/* SPDX-License-Identifier: Apache-2.0 */
/* How a gRPC status travels in trailers: grpc-message percent-encoding and grpc-status-details-bin. */
#ifndef OUTRIG_CORE_GRPC_STATUS_H
#define OUTRIG_CORE_GRPC_STATUS_H

#include <stddef.h>

/* The domain daprd puts in every ErrorInfo. */
#define GRPC_ERROR_DOMAIN "dapr.io"

/*
 * msg percent-encoded for a grpc-message trailer (bytes outside printable ASCII, and '%', as %XX).
 * Returns a malloc'd string or NULL when out of memory. Ownership: the caller frees.
 */
char *grpc_percent_encode(const char *msg);

/*
 * The value of a grpc-status-details-bin trailer: base64 of google.rpc.Status {code, message,
 * details: [Any(google.rpc.ErrorInfo {reason, domain, metadata})]}. meta holds n_meta key/value
 * pairs (meta[2*i] key, meta[2*i+1] value) and may be NULL when n_meta is 0.
 * Returns a malloc'd string or NULL when out of memory. Ownership: the caller frees.
 */
char *grpc_status_details_bin(int code, const char *message, const char *reason, const char *domain,
			      const char *const *meta, size_t n_meta);

/* Standard base64 (with padding) of data. Returns a malloc'd string or NULL. The caller frees. */
char *grpc_base64(const unsigned char *data, size_t len);

/* Decodes standard base64 with or without padding. Returns the byte count, or -1 if malformed. */
long grpc_unbase64(const char *text, unsigned char *out, size_t out_cap);

#endif /* OUTRIG_CORE_GRPC_STATUS_H */
