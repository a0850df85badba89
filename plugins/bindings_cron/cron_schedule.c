/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.cron: parsing a Dapr cron schedule (dapr/kit/cron's grammar) and finding its next fire time. */
#include "cron_schedule.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One field of a calendar schedule: its name for messages, its bounds and its names. */
struct cron_bounds {
	const char *what;
	unsigned min, max;
	const char *const *names; /* names[i] is value min + i; NULL: numbers only */
};

static const char *const cron_month_names[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
						"aug", "sep", "oct", "nov", "dec", NULL };
static const char *const cron_dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct cron_bounds cron_fields[6] = {
	{ "second", 0, 59, NULL },
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, cron_month_names },
	{ "day-of-week", 0, 6, cron_dow_names },
};

#define CRON_MAX_FIELD 64

static uint64_t cron_bits(unsigned lo, unsigned hi, unsigned step)
{
	uint64_t bits = 0;

	for (unsigned i = lo; i <= hi; i += step)
		bits |= UINT64_C(1) << i;
	return bits;
}

static uint64_t cron_all(const struct cron_bounds *b)
{
	return cron_bits(b->min, b->max, 1) | CRON_STAR;
}

/* A decimal number or one of the field's names (any case). */
static bool cron_value(const struct cron_bounds *b, const char *s, size_t len, unsigned *out)
{
	unsigned long v = 0;

	if (len == 0)
		return false;
	if (b->names != NULL)
		for (unsigned i = 0; b->names[i] != NULL; i++)
			if (strlen(b->names[i]) == len && strncasecmp(b->names[i], s, len) == 0) {
				*out = b->min + i;
				return true;
			}
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 1000)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

static const char *cron_names_hint(const struct cron_bounds *b)
{
	if (b->names == cron_month_names)
		return " or JAN-DEC";
	if (b->names == cron_dow_names)
		return " or SUN-SAT (Sunday is 0)";
	return "";
}

/* One range of a list: "*", "?", "N", "N-M", each with an optional "/step". */
static int cron_range(const struct cron_bounds *b, int index, const char *field, const char *s, size_t len,
		      uint64_t *bits, struct outrig_error *err)
{
	const char *slash = memchr(s, '/', len);
	size_t head = slash != NULL ? (size_t)(slash - s) : len;
	const char *dash = memchr(s, '-', head);
	unsigned lo, hi, step = 1;
	uint64_t extra = 0;

	if (slash != NULL && memchr(slash + 1, '/', len - head - 1) != NULL)
		return outrig_err(err, OUTRIG_EINVAL, "field %d (%s) \"%s\": more than one '/' in \"%.*s\"",
				  index, b->what, field, (int)len, s);
	if (head == 1 && (s[0] == '*' || s[0] == '?')) {
		lo = b->min;
		hi = b->max;
		extra = CRON_STAR;
	} else if (dash != NULL) {
		size_t first = (size_t)(dash - s);

		if (!cron_value(b, s, first, &lo) || !cron_value(b, dash + 1, head - first - 1, &hi))
			return outrig_err(err, OUTRIG_EINVAL,
					  "field %d (%s) \"%s\": \"%.*s\" is not a range N-M of numbers%s",
					  index, b->what, field, (int)head, s, cron_names_hint(b));
	} else {
		if (!cron_value(b, s, head, &lo))
			return outrig_err(err, OUTRIG_EINVAL,
					  "field %d (%s) \"%s\": \"%.*s\" is not a number%s, '*' or '?'",
					  index, b->what, field, (int)head, s, cron_names_hint(b));
		hi = lo;
	}
	if (slash != NULL) {
		if (!cron_value(&cron_fields[0], slash + 1, len - head - 1, &step) || step == 0)
			return outrig_err(err, OUTRIG_EINVAL,
					  "field %d (%s) \"%s\": the step \"%.*s\" is not a positive number",
					  index, b->what, field, (int)(len - head - 1), slash + 1);
		/* "N/step" means "N-max/step"; a real step makes "*" a restriction. */
		if (dash == NULL)
			hi = b->max;
		if (step > 1)
			extra = 0;
	}
	if (lo < b->min || hi > b->max)
		return outrig_err(err, OUTRIG_EINVAL,
				  "field %d (%s) \"%s\": %u is out of range; use %u to %u%s", index, b->what,
				  field, lo < b->min ? lo : hi, b->min, b->max, cron_names_hint(b));
	if (lo > hi)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"field %d (%s) \"%s\": the range %u-%u runs backwards; write it low to high", index,
			b->what, field, lo, hi);
	*bits |= cron_bits(lo, hi, step) | extra;
	return OUTRIG_OK;
}

/* A comma-separated list of ranges. */
static int cron_field(const struct cron_bounds *b, int index, const char *field, uint64_t *bits,
		      struct outrig_error *err)
{
	const char *s = field;

	*bits = 0;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		int rc;

		if (len == 0)
			return outrig_err(err, OUTRIG_EINVAL,
					  "field %d (%s) \"%s\": an empty item in the list", index, b->what,
					  field);
		rc = cron_range(b, index, field, s, len, bits, err);
		if (rc != OUTRIG_OK)
			return rc;
		if (comma == NULL)
			return OUTRIG_OK;
		s = comma + 1;
	}
}

bool cron_parse_go_duration(const char *text, int64_t *ns)
{
	static const struct {
		const char *name;
		double ns;
	} units[] = {
		{ "ns", 1 },   { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 },
		{ "ms", 1e6 }, { "s", 1e9 },  { "m", 60e9 },	    { "h", 3600e9 },
	};
	const char *s = text;
	double total = 0;
	bool negative = false;

	if (*s == '-' || *s == '+')
		negative = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return true;
	}
	if (*s == '\0')
		return false;
	while (*s != '\0') {
		double whole = 0, frac = 0, scale = 1;
		bool digits = false;
		size_t ulen = 0;
		size_t u;

		for (; isdigit((unsigned char)*s); s++, digits = true)
			whole = whole * 10 + (*s - '0');
		if (*s == '.')
			for (s++; isdigit((unsigned char)*s); s++, digits = true) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
		if (!digits)
			return false;
		while (s[ulen] != '\0' && s[ulen] != '.' && !isdigit((unsigned char)s[ulen]))
			ulen++;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (strlen(units[u].name) == ulen && strncmp(units[u].name, s, ulen) == 0)
				break;
		if (u == sizeof(units) / sizeof(units[0]))
			return false;
		total += (whole + frac) * units[u].ns;
		s += ulen;
	}
	if (total > 9.2e18)
		return false;
	*ns = (int64_t)total * (negative ? -1 : 1);
	return true;
}

static int cron_descriptor(const char *d, struct cron_schedule *out, struct outrig_error *err)
{
	const struct cron_bounds *f = cron_fields;

	/* Every calendar descriptor fires at second 0 of minute 0 of hour 0 of the chosen days. */
	out->second = UINT64_C(1) << f[0].min;
	out->minute = UINT64_C(1) << f[1].min;
	out->hour = UINT64_C(1) << f[2].min;
	out->dom = cron_all(&f[3]);
	out->month = cron_all(&f[4]);
	out->dow = cron_all(&f[5]);
	if (strcasecmp(d, "@yearly") == 0 || strcasecmp(d, "@annually") == 0) {
		out->dom = UINT64_C(1) << f[3].min;
		out->month = UINT64_C(1) << f[4].min;
	} else if (strcasecmp(d, "@monthly") == 0) {
		out->dom = UINT64_C(1) << f[3].min;
	} else if (strcasecmp(d, "@weekly") == 0) {
		out->dow = UINT64_C(1) << f[5].min;
	} else if (strcasecmp(d, "@daily") == 0 || strcasecmp(d, "@midnight") == 0) {
		/* as set above */
	} else if (strcasecmp(d, "@hourly") == 0) {
		out->hour = cron_all(&f[2]);
	} else if (strncasecmp(d, "@every", 6) == 0 && (d[6] == '\0' || isspace((unsigned char)d[6]))) {
		const char *text = d + 6;
		int64_t ns;

		while (isspace((unsigned char)*text))
			text++;
		if (*text == '\0')
			return outrig_err(
				err, OUTRIG_EINVAL,
				"@every needs a duration after it, e.g. \"@every 15s\" or \"@every 1h30m\"");
		if (!cron_parse_go_duration(text, &ns))
			return outrig_err(
				err, OUTRIG_EINVAL,
				"@every: \"%s\" is not a Go duration; write a number with a unit (ns, us, ms, s, m, h), e.g. 15s, 1m30s, 1.5h",
				text);
		if (ns <= 0)
			return outrig_err(err, OUTRIG_EINVAL, "@every: \"%s\" is not a positive duration",
					  text);
		/* dapr/kit/cron: whole milliseconds, at least one. */
		out->every = true;
		out->every_ms = ns < 1000000 ? 1 : ns / 1000000;
	} else {
		return outrig_err(
			err, OUTRIG_EINVAL,
			"unknown descriptor \"%s\"; use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>",
			d);
	}
	return OUTRIG_OK;
}

/* "CRON_TZ=zone " or "TZ=zone ": only the zones outrig can compute without a zone database. */
static int cron_zone_prefix(const char **text, enum cron_zone *zone, struct outrig_error *err)
{
	const char *s = *text, *eq, *end;
	size_t len;

	if (strncmp(s, "TZ=", 3) != 0 && strncmp(s, "CRON_TZ=", 8) != 0)
		return OUTRIG_OK;
	eq = strchr(s, '=');
	for (end = eq + 1; *end != '\0' && !isspace((unsigned char)*end); end++)
		;
	len = (size_t)(end - eq - 1);
	if (*end == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "the time zone prefix \"%s\" is not followed by a schedule", s);
	if ((len == 3 && strncmp(eq + 1, "UTC", 3) == 0) || (len == 7 && strncmp(eq + 1, "Etc/UTC", 7) == 0))
		*zone = CRON_ZONE_UTC;
	else if (len == 5 && strncmp(eq + 1, "Local", 5) == 0)
		*zone = CRON_ZONE_LOCAL;
	else
		return outrig_err(
			err, OUTRIG_EINVAL,
			"time zone \"%.*s\" is not supported by outrig; use UTC, or drop the prefix and run outrigd with TZ=%.*s",
			(int)len, eq + 1, (int)len, eq + 1);
	while (isspace((unsigned char)*end))
		end++;
	*text = end;
	return OUTRIG_OK;
}

int cron_schedule_parse(const char *text, struct cron_schedule *out, struct outrig_error *err)
{
	char copy[256], *fields[7], *save = NULL, *tok;
	const char *s = text;
	size_t n = 0, len;
	int rc;

	memset(out, 0, sizeof(*out));
	out->zone = CRON_ZONE_LOCAL;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "it is empty; write e.g. \"@every 15s\", \"*/5 * * * * *\" or \"@hourly\"");
	rc = cron_zone_prefix(&s, &out->zone, err);
	if (rc != OUTRIG_OK)
		return rc;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= sizeof(copy))
		return outrig_err(err, OUTRIG_EINVAL, "it is longer than %zu characters", sizeof(copy) - 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	if (copy[0] == '@')
		return cron_descriptor(copy, out, err);

	for (tok = strtok_r(copy, " \t\r\n", &save); tok != NULL; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 6)
			return outrig_err(
				err, OUTRIG_EINVAL,
				"more than 6 fields; write second minute hour day-of-month month day-of-week");
		fields[n++] = tok;
	}
	if (n != 5 && n != 6)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"expected 5 or 6 fields ([second] minute hour day-of-month month day-of-week), found %zu",
			n);
	{
		uint64_t *bits[6] = { &out->second, &out->minute, &out->hour,
				      &out->dom,    &out->month,  &out->dow };
		size_t skip = 6 - n; /* five fields: the seconds are 0 */

		if (skip == 1)
			out->second = UINT64_C(1);
		for (size_t i = skip; i < 6; i++) {
			/* Messages count fields as written: field 1 of a five-field schedule is the minute. */
			rc = cron_field(&cron_fields[i], (int)(i - skip + 1), fields[i - skip], bits[i], err);
			if (rc != OUTRIG_OK)
				return rc;
		}
	}
	return OUTRIG_OK;
}

/* ---- next fire time ---- */

static void cron_tm(enum cron_zone zone, time_t t, struct tm *tm)
{
	if (zone == CRON_ZONE_UTC)
		gmtime_r(&t, tm);
	else
		localtime_r(&t, tm);
}

/* Like Go's time.Date: out-of-range fields roll over into the next unit. */
static time_t cron_date(enum cron_zone zone, int year, int mon, int day, int hour, int min, int sec)
{
	struct tm tm = { 0 };

	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	return zone == CRON_ZONE_UTC ? timegm(&tm) : mktime(&tm);
}

static bool cron_day_matches(const struct cron_schedule *s, const struct tm *tm)
{
	bool dom = (s->dom & (UINT64_C(1) << tm->tm_mday)) != 0;
	bool dow = (s->dow & (UINT64_C(1) << tm->tm_wday)) != 0;

	/* Cron's rule: when both days are restricted, either may match. */
	if ((s->dom & CRON_STAR) != 0 || (s->dow & CRON_STAR) != 0)
		return dom && dow;
	return dom || dow;
}

#define BIT(v) (UINT64_C(1) << (unsigned)(v))

int64_t cron_schedule_next(const struct cron_schedule *s, int64_t now_ms)
{
	enum cron_zone z = s->zone;
	bool added = false;
	int year_limit;
	struct tm tm;
	time_t t;

	if (s->every)
		return now_ms + s->every_ms;
	/* The earliest candidate is the next whole second. */
	t = (time_t)(now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000) + 1;
	cron_tm(z, t, &tm);
	year_limit = tm.tm_year + 5;

	/* dapr/kit/cron's walk: advance the first field that does not match; a wrap starts over. */
wrap:
	cron_tm(z, t, &tm);
	if (tm.tm_year > year_limit)
		return -1;
	while ((s->month & BIT(tm.tm_mon + 1)) == 0) {
		if (!added) {
			added = true;
			t = cron_date(z, tm.tm_year + 1900, tm.tm_mon, 1, 0, 0, 0);
			cron_tm(z, t, &tm);
		}
		t = cron_date(z, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			      tm.tm_sec);
		cron_tm(z, t, &tm);
		if (tm.tm_mon == 0)
			goto wrap;
	}
	while (!cron_day_matches(s, &tm)) {
		if (!added) {
			added = true;
			t = cron_date(z, tm.tm_year + 1900, tm.tm_mon, tm.tm_mday, 0, 0, 0);
			cron_tm(z, t, &tm);
		}
		t = cron_date(z, tm.tm_year + 1900, tm.tm_mon, tm.tm_mday + 1, tm.tm_hour, tm.tm_min,
			      tm.tm_sec);
		cron_tm(z, t, &tm);
		/* Where a DST change moves midnight, get back to it. */
		if (tm.tm_hour != 0) {
			t += tm.tm_hour > 12 ? (time_t)(24 - tm.tm_hour) * 3600 : -(time_t)tm.tm_hour * 3600;
			cron_tm(z, t, &tm);
		}
		if (tm.tm_mday == 1)
			goto wrap;
	}
	while ((s->hour & BIT(tm.tm_hour)) == 0) {
		if (!added) {
			added = true;
			t = cron_date(z, tm.tm_year + 1900, tm.tm_mon, tm.tm_mday, tm.tm_hour, 0, 0);
		}
		t += 3600;
		cron_tm(z, t, &tm);
		if (tm.tm_hour == 0)
			goto wrap;
	}
	while ((s->minute & BIT(tm.tm_min)) == 0) {
		if (!added) {
			added = true;
			t -= tm.tm_sec;
		}
		t += 60;
		cron_tm(z, t, &tm);
		if (tm.tm_min == 0)
			goto wrap;
	}
	while ((s->second & BIT(tm.tm_sec)) == 0) {
		added = true;
		t += 1;
		cron_tm(z, t, &tm);
		if (tm.tm_sec == 0)
			goto wrap;
	}
	return (int64_t)t * 1000;
}
