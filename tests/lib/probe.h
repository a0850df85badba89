/* SPDX-License-Identifier: Apache-2.0 */
/* A big request in progress must not hold up anyone else: healthz probes while it runs. */
#ifndef OUTRIG_TESTS_PROBE_H
#define OUTRIG_TESTS_PROBE_H

#include <stddef.h>

/*
 * Runs send(arg) on a thread and, while outrigd works on it, asks GET /v1.0/healthz on port ten
 * times (100 ms apart). Returns the slowest healthz answer in ms, or -1 when one was not 204.
 */
long probe_while(int port, void (*send)(void *arg), void *arg);

/* probe_while of one HTTP POST of body to path; *status and *answer (malloc'd or NULL) are its result. */
long probe_post(int port, const char *path, const char *body, size_t len, int *status, char **answer);

#endif /* OUTRIG_TESTS_PROBE_H */
