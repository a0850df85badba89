/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar-to-sidecar listener: calls from other outrigd instances to this sidecar's app (see core/internal_protocol.md). */
#ifndef OUTRIG_CORE_INTERNAL_SERVER_H
#define OUTRIG_CORE_INTERNAL_SERVER_H

struct cfg_mtls;
struct event_base;
struct options;
struct server;

/*
 * mTLS as the flags (o) and the Configuration's spec.mtls (cm) ask: nothing when neither turns it
 * on; else the certificate, key and trust anchors are loaded and checked (they must name this
 * app), and with a base mTLS is turned on for this process. base NULL: check only
 * (outrigd --check). Returns 0, or -1 after logging what is wrong and what to do.
 */
int internal_mtls_load(const struct options *o, const struct cfg_mtls *cm, struct event_base *base);

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
