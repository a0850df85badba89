/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the YAML readers (Component, Subscription, Resiliency, Configuration) on any bytes. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "resources/configuration.h"
#include "base/diag.h"
#include "base/log.h"
#include "resources/resiliency.h"
#include "resources/resources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The readers take paths: each input is written to one in-memory file, read through /proc. */
static int fuzz_fd = -1;
static char fuzz_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setup(OUTRIG_LOG_FATAL, false, "fuzz");
	fuzz_fd = memfd_create("fuzz.yaml", MFD_CLOEXEC);
	if (fuzz_fd < 0) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *paths[] = { fuzz_path };
	struct res_set rs = { 0 };
	struct configuration cfg;
	struct diag d = { 0 };

	if (ftruncate(fuzz_fd, 0) != 0 || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
		abort();
	resources_load_file(fuzz_path, "fuzz", &rs, &d);
	/* What delivery asks of the Resiliency documents read. */
	for (size_t i = 0; i < rs.resiliency.ntargets; i++) {
		const struct retry_policy *p =
			resiliency_component_retry(&rs, rs.resiliency.targets[i].component, true);

		for (unsigned a = 0; p != NULL && a < 70; a += 7)
			if (retry_policy_delay_ms(p, a) < 0)
				abort();
	}
	resources_free(&rs);
	diag_clear(&d);
	configuration_load(paths, 1, &cfg, &d);
	configuration_free(&cfg);
	diag_clear(&d);
	return 0;
}
