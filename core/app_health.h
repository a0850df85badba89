/* SPDX-License-Identifier: Apache-2.0 */
/* Opt-in app health checks (API.md §3.4): probing the app, and what stops while it is unhealthy. */
#ifndef OUTRIG_CORE_APP_HEALTH_H
#define OUTRIG_CORE_APP_HEALTH_H

#include <stdbool.h>

struct server;

/*
 * Whether calls may go to the app now: true unless health checks are enabled
 * (--enable-app-health-check) and the app failed --app-health-threshold probes in a row.
 * Thread: the event loop.
 */
bool app_health_ok(const struct server *srv);

#endif /* OUTRIG_CORE_APP_HEALTH_H */
