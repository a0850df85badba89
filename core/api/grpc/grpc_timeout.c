/* SPDX-License-Identifier: Apache-2.0 */
/* The grpc-timeout request header: how long the client waits for the answer. */
#include "api/grpc/grpc_timeout.h"

#include <string.h>

int grpc_timeout_parse(const char *value, int64_t *ms)
{
	size_t n = strlen(value);
	int64_t amount = 0;

	if (n < 2 || n > 9)
		return -1;
	for (size_t i = 0; i + 1 < n; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		amount = amount * 10 + (value[i] - '0');
	}
	switch (value[n - 1]) {
	case 'H': *ms = amount * 3600 * 1000; return 0;
	case 'M': *ms = amount * 60 * 1000; return 0;
	case 'S': *ms = amount * 1000; return 0;
	case 'm': *ms = amount; return 0;
	case 'u': *ms = (amount + 999) / 1000; return 0;
	case 'n': *ms = (amount + 999999) / 1000000; return 0;
	default: return -1;
	}
}
