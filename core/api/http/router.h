/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP API's listener and router (Dapr's /v1.0 paths, and invocation by header). */
#ifndef OUTRIG_CORE_HTTP_ROUTER_H
#define OUTRIG_CORE_HTTP_ROUTER_H

struct server;

/*
 * Binds the HTTP API on every --dapr-listen-addresses address at --dapr-http-port.
 * Returns 0, or -1 after logging which address failed and why.
 */
int http_api_listen(struct server *srv);

/* Frees what http_api_listen made. */
void http_api_close(struct server *srv);

#endif /* OUTRIG_CORE_HTTP_ROUTER_H */
