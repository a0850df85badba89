/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig run`: starts outrigd, waits until it is ready, runs the app beside it, stops both. */
#ifndef OUTRIG_CLI_RUN_H
#define OUTRIG_CLI_RUN_H

#include <stdbool.h>
#include <stdio.h>

/* What an app of a run file adds to a plain `outrig run` (see runfile.c). */
struct run_ctx {
	const char *tag;	    /* the app id: in prefixes ("== APP - id == ") and notes */
	const char *run_file;	    /* the run file's absolute path, kept in the run's record */
	const char *const *app_env; /* NULL-terminated name, value, ... set for the app only */
	int app_log_fd;		    /* a log file for the app's lines, or -1 */
	int sidecar_log_fd;	    /* a log file for outrigd's lines, or -1 */
	bool app_no_console;	    /* the app's lines to its log file only */
	bool sidecar_no_console;    /* outrigd's lines to its log file only */
};

/*
 * argv[0] is "run". Returns the process exit code: the app's status, 2 for usage errors.
 * With -f, runs a run file (runfile_run).
 */
int run_main(int argc, char **argv);

/* run_main for one app of a run file; ctx stays valid throughout. */
int run_main_ctx(int argc, char **argv, const struct run_ctx *ctx);

void run_usage(FILE *f);

#endif /* OUTRIG_CLI_RUN_H */
