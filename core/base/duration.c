/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of Go-style durations as Dapr's YAML uses them. */
#include "base/duration.h"

#include <string.h>

#define NS_PER_MS 1000000ULL

static const struct {
	const char *suffix;
	uint64_t ns;
} duration_units[] = {
	/* "ms" before "m" and "s", so "5ms" is not read as minutes followed by garbage. */
	{ "ns", 1ULL },	      { "us", 1000ULL },      { "\xc2\xb5s", 1000ULL }, { "\xce\xbcs", 1000ULL },
	{ "ms", 1000000ULL }, { "s", 1000000000ULL }, { "m", 60000000000ULL },	{ "h", 3600000000000ULL },
};

static bool duration_unit(const char **p, uint64_t *ns)
{
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		size_t n = strlen(duration_units[i].suffix);

		if (strncmp(*p, duration_units[i].suffix, n) == 0) {
			*ns = duration_units[i].ns;
			*p += n;
			return true;
		}
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads decimal digits into *v; false on overflow past limit. */
static bool duration_digits(const char **p, uint64_t limit, uint64_t *v)
{
	for (*v = 0; is_digit(**p); (*p)++) {
		uint64_t d = (uint64_t)(**p - '0');

		if (*v > (limit - d) / 10)
			return false;
		*v = *v * 10 + d;
	}
	return true;
}

/*
 * Go's grammar, [-+]?([0-9]*(\.[0-9]*)?unit)+, summed in whole nanoseconds as Go does,
 * so "1.001s" is exactly 1001 ms; no exponents, no hex, no overflow.
 */
static bool duration_go(const char *p, uint64_t *total_ns)
{
	const uint64_t max = (uint64_t)INT64_MAX;

	*total_ns = 0;
	if (*p == '\0')
		return false;
	while (*p != '\0') {
		const char *start = p;
		uint64_t whole, frac = 0, scale = 1, unit, ns;

		if (!duration_digits(&p, max, &whole))
			return false;
		if (*p == '.') {
			p++;
			/* Digits past nanosecond precision cannot change the result; skip them. */
			for (; is_digit(*p); p++) {
				if (scale < 1000000000000000000ULL) {
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
			}
		}
		if (p == start || (p == start + 1 && *start == '.'))
			return false;
		if (!duration_unit(&p, &unit) || whole > max / unit)
			return false;
		ns = whole * unit + (uint64_t)((long double)frac * unit / scale);
		if (ns > max - *total_ns)
			return false;
		*total_ns += ns;
	}
	return true;
}

bool duration_parse_ms(const char *text, int64_t *ms)
{
	const char *p = text;
	bool negative = false;
	uint64_t value;

	if (text == NULL)
		return false;
	if (*p == '-' || *p == '+')
		negative = *p++ == '-';
	if (*p == '\0')
		return false;

	/* A bare integer is seconds (Dapr's decoder accepts it for duration fields). */
	if (strspn(p, "0123456789") == strlen(p)) {
		if (!duration_digits(&p, (uint64_t)INT64_MAX / 1000, &value))
			return false;
		*ms = (negative ? -1 : 1) * (int64_t)(value * 1000);
		return true;
	}
	if (!duration_go(p, &value))
		return false;
	*ms = (negative ? -1 : 1) * (int64_t)(value / NS_PER_MS);
	return true;
}
