/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig run`: starts outrigd, waits until it is ready, runs the app beside it, stops both. */
#ifndef OUTRIG_CLI_RUN_H
#define OUTRIG_CLI_RUN_H

#include <stdio.h>

/* argv[0] is "run". Returns the process exit code: the app's status, 2 for usage errors. */
int run_main(int argc, char **argv);

void run_usage(FILE *f);

#endif /* OUTRIG_CLI_RUN_H */
