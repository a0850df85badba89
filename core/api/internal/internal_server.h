/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar-to-sidecar listener: calls from other outrigd instances to this sidecar's app (see core/internal_protocol.md). */
#ifndef OUTRIG_CORE_INTERNAL_SERVER_H
#define OUTRIG_CORE_INTERNAL_SERVER_H

struct server;

/*
 * Binds the internal listener on --dapr-internal-grpc-listen-address at
 * --dapr-internal-grpc-port, or, when no port is given, at the port derived from the app id
 * (47300-49347, as daprd) and else at any free port; sets srv->internal_port.
 * Returns 0, or -1 after logging which address failed and why. Thread: the loop, at start-up.
 */
int internal_server_listen(struct server *srv);

/* Frees what internal_server_listen made. */
void internal_server_close(struct server *srv);

#endif /* OUTRIG_CORE_INTERNAL_SERVER_H */
