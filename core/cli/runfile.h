/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig run -f` and `outrig stop -f`: Dapr's multi-app run files (dapr.yaml). */
#ifndef OUTRIG_CLI_RUNFILE_H
#define OUTRIG_CLI_RUNFILE_H

#include <stddef.h>

/*
 * The run file that arg names: arg itself (a .yaml or .yml file) or the dapr.yaml in the
 * folder arg, as an absolute path, into buf. Returns 0, or -1 after saying why on stderr
 * (who: "outrig run" or "outrig stop").
 */
int runfile_path(const char *who, const char *arg, char *buf, size_t size);

/*
 * Runs every app of the run file at arg, each with its own outrigd, as `dapr run -f` does;
 * log_as_json ("true", "false" or NULL) applies to each sidecar. Returns the exit code once
 * all have stopped: 0 when each ended with 0 or was stopped by a signal, else 1; 2 when the
 * file is wrong (nothing is started then).
 */
int runfile_run(const char *arg, const char *log_as_json);

#endif /* OUTRIG_CLI_RUNFILE_H */
