/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig list`: the apps `outrig run` runs now, with their ports, like `dapr list`. */
#ifndef OUTRIG_CLI_LIST_H
#define OUTRIG_CLI_LIST_H

#include <stdio.h>

/* argv[0] is "list". Returns the process exit code: 0, 1 on failure, 2 for usage errors. */
int list_main(int argc, char **argv);

void list_usage(FILE *f);

#endif /* OUTRIG_CLI_LIST_H */
