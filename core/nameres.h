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

#endif /* OUTRIG_CORE_NAMERES_H */
