/* SPDX-License-Identifier: Apache-2.0 */
/* Opt-in app health checks (API.md §3.4): probing the app, and what stops while it is unhealthy. */
#ifndef OUTRIG_CORE_APP_HEALTH_H
#define OUTRIG_CORE_APP_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct server;
struct app_health;

/*
 * Whether calls may go to the app now: true unless health checks are enabled
 * (--enable-app-health-check) and the app failed --app-health-threshold probes in a row.
 * As in daprd, an app counts as unhealthy until its first probe succeeds.
 * Thread: the event loop.
 */
bool app_health_ok(const struct server *srv);

/*
 * With --enable-app-health-check and an app channel, sets srv->health and starts probing:
 * GET {app}{--app-health-check-path} at once and then every --app-health-probe-interval
 * seconds, each bounded by --app-health-probe-timeout ms, on connections of its own.
 * Changes of state are logged. Returns 0, or -1 when out of memory. Thread: the loop (it may
 * not run yet).
 */
int app_health_start(struct server *srv);

/* Stops probing and frees srv->health; fine when it was never started. Thread: the loop's thread. */
void app_health_free(struct server *srv);

/*
 * Calls fn(arg) on the loop each time the app becomes healthy, so that what paused while it was
 * not can resume. Without health checks it does nothing. Returns 0, or -1 when out of memory.
 * Thread: the event loop.
 */
int app_health_watch(struct server *srv, void (*fn)(void *arg), void *arg);

/* Forgets a watch made with the same fn and arg; fine when there is none. */
void app_health_unwatch(struct server *srv, void (*fn)(void *arg), void *arg);

/*
 * appConnectionProperties.health of GET /v1.0/metadata (healthCheckPath, healthProbeInterval
 * "5s", healthProbeTimeout "500ms", healthThreshold), or NULL when health checks are off.
 * Ownership: a new reference, the caller's.
 */
json_t *app_health_describe(const struct server *srv);

/* A duration as Go prints it ("500ms", "5s", "1.5s", "1m30s"), into buf. Returns buf. */
const char *app_health_go_duration(int64_t ms, char *buf, size_t size);

#endif /* OUTRIG_CORE_APP_HEALTH_H */
