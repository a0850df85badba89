/* SPDX-License-Identifier: Apache-2.0 */
/* Running a check suite whose test apps are node programs (tests/app_grpc): node and the npm modules come from
 * outside the build (`npm ci --prefix tests/interop`), so without them the suite skips, unless the run demands
 * them with OUTRIG_REQUIRE_INTEROP=1. */
#ifndef OUTRIG_TESTS_INTEROP_H
#define OUTRIG_TESTS_INTEROP_H

#include <check.h>

/* Runs s and frees it; its status is the test program's: 0 when every test passed, 77 (skip) when node or one
 * of modules (NULL-terminated, e.g. "@grpc/grpc-js") under $OUTRIG_SRCDIR/tests/interop/node_modules is
 * missing, 1 otherwise. SIGPIPE is ignored while it runs, as apps that die mid-answer must not end the test. */
int interop_run(Suite *s, const char *const *modules);

/* The source tree: $OUTRIG_SRCDIR (make check sets it), else ".". */
const char *interop_srcdir(void);

#endif
