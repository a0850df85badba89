/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig init`: the user's default components and Configuration, as `dapr init --slim` writes them. */
#ifndef OUTRIG_CLI_INIT_H
#define OUTRIG_CLI_INIT_H

#include <stddef.h>
#include <stdio.h>

/*
 * The folder `outrig init` writes and `outrig run` reads: ~/.outrig, holding components/ and
 * config.yaml as ~/.dapr does for dapr. Returns 0, or -1 with errno set (no absolute $HOME).
 */
int init_home(char *buf, size_t size);

/* argv[0] is "init". Returns the exit code. */
int init_main(int argc, char **argv);

void init_usage(FILE *f);

#endif /* OUTRIG_CLI_INIT_H */
