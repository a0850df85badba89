/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of Go-style durations as Dapr's YAML uses them. */
#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *suffix;
	double ms;
} duration_units[] = {
	/* Longest first, so "ms" is not read as "m" followed by garbage. */
	{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1.0 },
	{ "s", 1000.0 }, { "m", 60000.0 }, { "h", 3600000.0 },
};

static bool duration_unit(const char **p, double *ms)
{
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		size_t n = strlen(duration_units[i].suffix);

		if (strncmp(*p, duration_units[i].suffix, n) == 0) {
			*ms = duration_units[i].ms;
			*p += n;
			return true;
		}
	}
	return false;
}

bool duration_parse_ms(const char *text, int64_t *ms)
{
	const char *p = text;
	double total = 0;
	bool negative = false;
	char *end;
	long long whole;

	if (text == NULL || *text == '\0')
		return false;
	if (*p == '-' || *p == '+')
		negative = *p++ == '-';

	/* A bare integer is seconds (Dapr's decoder accepts it for duration fields). */
	errno = 0;
	whole = strtoll(p, &end, 10);
	if (end != p && *end == '\0' && errno == 0 && isdigit((unsigned char)*p)) {
		*ms = (negative ? -1 : 1) * whole * 1000;
		return true;
	}
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return true;
	}
	while (*p != '\0') {
		double value, unit;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return false;
		errno = 0;
		value = strtod(p, &end);
		if (end == p || errno != 0)
			return false;
		p = end;
		if (!duration_unit(&p, &unit))
			return false;
		total += value * unit;
	}
	*ms = (int64_t)(negative ? -total : total);
	return true;
}
