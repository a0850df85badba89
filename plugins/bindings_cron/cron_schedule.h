/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.cron: parsing a Dapr cron schedule and finding its next fire time. */
#ifndef OUTRIG_CRON_SCHEDULE_H
#define OUTRIG_CRON_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include <outrig/status.h>

/* Set in a field's bits when it was written "*" or "?" (matters for the day-of-month/day-of-week rule). */
#define CRON_STAR (UINT64_C(1) << 63)

/* Which clock the fields are read on. */
enum cron_zone {
	CRON_ZONE_LOCAL = 0, /* the process's time zone (TZ, else /etc/localtime), as daprd's time.Local */
	CRON_ZONE_UTC = 1,   /* a TZ=UTC or CRON_TZ=UTC prefix */
};

struct cron_schedule {
	bool every;	  /* "@every <duration>": a constant delay, not a calendar */
	int64_t every_ms; /* the delay, in milliseconds (at least 1) */
	/* Calendar schedules: bit n set when value n matches, plus CRON_STAR. */
	uint64_t second, minute, hour, dom, month, dow;
	enum cron_zone zone;
};

/*
 * Parses text as dapr/kit/cron does: "[CRON_TZ=zone |TZ=zone ]" then six fields (second minute
 * hour day-of-month month day-of-week), five (no second: it is 0), a descriptor (@yearly,
 * @annually, @monthly, @weekly, @daily, @midnight, @hourly) or "@every <Go duration>".
 * Returns 0, or OUTRIG_EINVAL with what is wrong in err (without the field's name: the caller adds it).
 * Ownership: text stays the caller's; out is the caller's. Thread: any.
 */
int cron_schedule_parse(const char *text, struct cron_schedule *out, struct outrig_error *err);

/*
 * The first fire time strictly after now_ms (milliseconds since the Unix epoch): for a calendar
 * schedule a whole second, for @every now_ms plus the delay. -1 when nothing matches within five
 * years (e.g. "0 0 0 30 2 *"). Ownership: none. Thread: any (localtime_r, mktime).
 */
int64_t cron_schedule_next(const struct cron_schedule *s, int64_t now_ms);

/*
 * Parses a Go duration ("15s", "1h30m", "1.5h", "300ms", "-2m", "0") into nanoseconds.
 * Returns false when text is not one or does not fit in 64 bits. Ownership: none. Thread: any.
 */
bool cron_parse_go_duration(const char *text, int64_t *ns);

#endif /* OUTRIG_CRON_SCHEDULE_H */
