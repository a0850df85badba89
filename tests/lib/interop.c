/* SPDX-License-Identifier: Apache-2.0 */
/* Running a check suite that needs node (see interop.h). */
#include "interop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server.h"

const char *interop_srcdir(void)
{
	const char *s = getenv("OUTRIG_SRCDIR");

	return s != NULL ? s : ".";
}

/* NULL when node and every module are there, else why not. */
static const char *interop_missing(const char *const *modules)
{
	static char why[700];
	char path[600];
	struct stat st;

	if (!server_available("node"))
		return "node is not on PATH";
	for (; *modules != NULL; modules++) {
		snprintf(path, sizeof(path), "%s/tests/interop/node_modules/%s/package.json",
			 interop_srcdir(), *modules);
		if (stat(path, &st) != 0) {
			snprintf(why, sizeof(why), "%s is missing; run: npm ci --prefix tests/interop", path);
			return why;
		}
	}
	return NULL;
}

int interop_run(Suite *s, const char *const *modules)
{
	const char *why = interop_missing(modules);
	const char *require = getenv("OUTRIG_REQUIRE_INTEROP");
	SRunner *sr;
	int failed;

	if (why != NULL) {
		if (require != NULL && strcmp(require, "1") == 0) {
			fprintf(stderr,
				"FAIL: this test needs node and its modules (OUTRIG_REQUIRE_INTEROP=1), but %s\n",
				why);
			return 1;
		}
		printf("SKIP: %s\n", why);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
