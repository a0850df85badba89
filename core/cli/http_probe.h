/* SPDX-License-Identifier: Apache-2.0 */
/* Tiny blocking HTTP/1.1 client and free-port finder for talking to the sidecar on loopback. */
#ifndef OUTRIG_CLI_HTTP_PROBE_H
#define OUTRIG_CLI_HTTP_PROBE_H

/*
 * Sends one request to host:port (host is a numeric IPv4 or IPv6 address) and returns the
 * response's status code, or -1 with errno set when no status line came back within
 * timeout_ms (refused, timed out, garbled). body may be NULL; it is sent as text/plain.
 * $DAPR_API_TOKEN, when set, goes along as the dapr-api-token header, as the sidecar wants.
 */
int probe_http(const char *host, int port, const char *method, const char *path, const char *body,
	       int timeout_ms);

/*
 * Returns a TCP port that was free on host a moment ago (bind to port 0, read it back,
 * close), or -1 with errno set. Someone else may take it before the sidecar binds it;
 * the sidecar then fails to start and says so.
 */
int probe_free_port(const char *host);

#endif /* OUTRIG_CLI_HTTP_PROBE_H */
