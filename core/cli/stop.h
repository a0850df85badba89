/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig stop --app-id X`: stops a run started by `outrig run`, like `dapr stop`. */
#ifndef OUTRIG_CLI_STOP_H
#define OUTRIG_CLI_STOP_H

#include <stdio.h>

/* argv[0] is "stop". Returns 0 once every named app stopped, 1 otherwise, 2 for usage errors. */
int stop_main(int argc, char **argv);

void stop_usage(FILE *f);

#endif /* OUTRIG_CLI_STOP_H */
