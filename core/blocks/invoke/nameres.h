/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar's name resolver: which plugin (a Configuration's spec.nameResolution), announcing this sidecar, finding others. */
#ifndef OUTRIG_CORE_NAMERES_H
#define OUTRIG_CORE_NAMERES_H

#include <outrig/nameresolution.h>

struct server;
struct nameres;

/*
 * Told where app_id runs: rc 0 with addr, else a negative OUTRIG_E* code (OUTRIG_ENOTFOUND: no
 * such app is running) with error, a sentence naming the app id and the cause.
 * addr and error are valid during the call. Thread: the event loop.
 */
typedef void (*nameres_cb)(void *arg, int rc, const struct outrig_nr_address *addr, const char *error);

/*
 * Resolves app_id in namespace ns ("" = this sidecar's own) through srv->nameres on a worker
 * thread, then calls cb on the loop. Returns 0, or -1 when out of memory (cb is then never called).
 * Thread: the event loop.
 */
int nameres_resolve(struct server *srv, const char *app_id, const char *ns, nameres_cb cb, void *arg);

/*
 * Announces this sidecar through the name resolver (srv->components->resolver) once the internal
 * listener is bound: sets srv->nameres and runs register_self on a worker with the app id,
 * $NAMESPACE, the internal listener's host and port, the app port and the pid. A failed
 * announcement is logged and tried again every NAMERES_RETRY_S. Without --app-id, a resolver or an
 * internal port nothing is announced. Returns 0, or -1 when out of memory. Thread: the loop.
 */
int nameres_start(struct server *srv);

#define NAMERES_RETRY_S 10

/*
 * Withdraws the announcement (the plugin's unregister_self, when it has one). Call once the
 * workers are stopped and before the components are destroyed. Thread: the main thread.
 */
void nameres_stop(struct server *srv);

/* Frees srv->nameres; NULL is fine. Thread: the main thread. */
void nameres_free(struct server *srv);

/*
 * The host other sidecars dial for a listener bound at address: address itself, or 127.0.0.1
 * for a wildcard ("0.0.0.0", "::", "[::]", "" or NULL). Ownership: points at address or a literal.
 */
const char *nameres_self_host(const char *address);

#endif /* OUTRIG_CORE_NAMERES_H */
