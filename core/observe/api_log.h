/* SPDX-License-Identifier: Apache-2.0 */
/*
 * API logging (--enable-api-logging, spec.logging.apiLogging): one info line per call to the
 * HTTP or gRPC API, with daprd's message, scope and fields (method, code, duration in ms,
 * useragent), in the log's format (text, or JSON with --log-as-json).
 */
#ifndef OUTRIG_CORE_OBSERVE_API_LOG_H
#define OUTRIG_CORE_OBSERVE_API_LOG_H

#include <stdbool.h>

/* Scopes of the lines, daprd's. */
#define API_LOG_HTTP_SCOPE "dapr.runtime.http-info"
#define API_LOG_GRPC_SCOPE "dapr.runtime.grpc-info"

/*
 * Turns API logging on or off; omit_health leaves out health probes (/v1.0/healthz...);
 * obfuscate logs the endpoint's name (SaveState, InvokeService/app) instead of its URL.
 * Thread: start-up.
 */
void api_log_setup(bool enabled, bool omit_health, bool obfuscate);

/* Whether API calls are logged. Thread: any. */
bool api_log_enabled(void);

/*
 * One HTTP API call: method and path as received (path without the query), its status,
 * duration in ms and User-Agent (NULL: none). Thread: the loop.
 */
void api_log_http(const char *method, const char *path, int status, double ms, const char *useragent);

/* One gRPC API call: method "/pkg.Service/Method", grpc-status code, duration, user-agent (or NULL). */
void api_log_grpc(const char *method, int code, double ms, const char *useragent);

/* The name daprd gives the HTTP endpoint of method and path when URLs are obfuscated. */
const char *api_log_endpoint_name(const char *method, const char *path, char *buf, unsigned size);

#endif /* OUTRIG_CORE_OBSERVE_API_LOG_H */
