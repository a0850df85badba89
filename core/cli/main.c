/* SPDX-License-Identifier: Apache-2.0 */
/* outrig, the command line: runs apps with their outrigd sidecar, like `dapr run/list/stop`. */
#include "config.h"

#include "cert.h"
#include "init.h"
#include "list.h"
#include "run.h"
#include "stop.h"

#include <stdio.h>
#include <string.h>

static void main_usage(FILE *f)
{
	fputs("Usage: outrig COMMAND [flags]\n"
	      "\n"
	      "Commands:\n"
	      "  run    start outrigd and an app together (see 'outrig run --help'), or the\n"
	      "         apps of a Dapr multi-app run file: outrig run -f dapr.yaml\n"
	      "  list   show the apps 'outrig run' is running, with their ports\n"
	      "  stop   stop a running app and its sidecar: outrig stop --app-id ID, or\n"
	      "         what a run file started: outrig stop -f dapr.yaml\n"
	      "  init   write the default components and configuration to ~/.outrig\n"
	      "  cert   make a trust anchor and sidecar certificates for mTLS between sidecars:\n"
	      "         outrig cert ca ..., outrig cert issue ... (see 'outrig cert --help')\n"
	      "\n"
	      "Flags:\n"
	      "  -h, --help       this help\n"
	      "  -v, --version    print the version\n"
	      "\n"
	      "Example:\n"
	      "  outrig run --app-id myapp --app-port 8080 -- ./myapp\n"
	      "  outrig run --app-id myapp python3 app.py --resources-path ./components\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL) {
		main_usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		if (argc > 2 && strcmp(argv[2], "run") == 0)
			run_usage(stdout);
		else if (argc > 2 && strcmp(argv[2], "list") == 0)
			list_usage(stdout);
		else if (argc > 2 && strcmp(argv[2], "stop") == 0)
			stop_usage(stdout);
		else if (argc > 2 && strcmp(argv[2], "init") == 0)
			init_usage(stdout);
		else if (argc > 2 && strcmp(argv[2], "cert") == 0)
			cert_usage(stdout);
		else
			main_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-v") == 0 || strcmp(cmd, "version") == 0) {
		printf("outrig %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return run_main(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return list_main(argc - 1, argv + 1);
	if (strcmp(cmd, "stop") == 0)
		return stop_main(argc - 1, argv + 1);
	if (strcmp(cmd, "init") == 0)
		return init_main(argc - 1, argv + 1);
	if (strcmp(cmd, "cert") == 0)
		return cert_main(argc - 1, argv + 1);
	if (cmd[0] == '-')
		fprintf(stderr, "outrig: unknown flag '%s'; see 'outrig --help'\n", cmd);
	else
		fprintf(stderr,
			"outrig: unknown command '%s'; the commands are run, list, stop, init and cert "
			"(see 'outrig --help')\n",
			cmd);
	return 2;
}
