/* SPDX-License-Identifier: Apache-2.0 */
/* The grpc-timeout request header: how long the client waits for the answer. */
#ifndef OUTRIG_CORE_GRPC_TIMEOUT_H
#define OUTRIG_CORE_GRPC_TIMEOUT_H

#include <stdint.h>

/*
 * Parses a grpc-timeout value (1 to 8 digits and a unit: H, M, S, m, u or n) into milliseconds,
 * rounded up so a tiny timeout still expires. Returns 0, or -1 when value is malformed.
 */
int grpc_timeout_parse(const char *value, int64_t *ms);

#endif /* OUTRIG_CORE_GRPC_TIMEOUT_H */
