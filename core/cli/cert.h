/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig cert`: a trust anchor and sidecar certificates for mTLS between sidecars (OpenSSL's API). */
#ifndef OUTRIG_CLI_CERT_H
#define OUTRIG_CLI_CERT_H

#include <stdio.h>

/* argv[0] is "cert". Returns the exit code. */
int cert_main(int argc, char **argv);

void cert_usage(FILE *f);

#endif /* OUTRIG_CLI_CERT_H */
