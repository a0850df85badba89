/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: bindings.cron's schedule parser and next-fire search, from any text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron_schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct cron_schedule s;
	struct outrig_error err = { 0 };
	int64_t ns;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cron_schedule_parse(text, &s, &err) == 0) {
		/* A fixed "now" (2026-01-01 UTC) keeps runs reproducible. */
		int64_t next = cron_schedule_next(&s, INT64_C(1767225600000));

		if (next != -1 && next <= INT64_C(1767225600000))
			abort();
	}
	cron_parse_go_duration(text, &ns);
	free(text);
	return 0;
}
