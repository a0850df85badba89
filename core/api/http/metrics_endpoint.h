/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus endpoint: GET /metrics on --metrics-listen-address:--metrics-port. */
#ifndef OUTRIG_CORE_HTTP_METRICS_ENDPOINT_H
#define OUTRIG_CORE_HTTP_METRICS_ENDPOINT_H

struct server;

/*
 * Serves the metrics when they are on. A --metrics-port given and not bindable is an error
 * (-1, logged naming the flag); the default port taken is one warning, and no metrics are
 * served (many sidecars share a host). Returns 0 otherwise. Thread: the loop.
 */
int metrics_endpoint_listen(struct server *srv);

/* The port serving metrics, or 0 when none. */
int metrics_endpoint_port(void);

/* Frees what metrics_endpoint_listen made. */
void metrics_endpoint_close(void);

#endif /* OUTRIG_CORE_HTTP_METRICS_ENDPOINT_H */
