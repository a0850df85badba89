/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes shared by the core and plugins, and the helper that fills an error buffer. */
#ifndef OUTRIG_STATUS_H
#define OUTRIG_STATUS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Functions that act return 0 or one of these negative codes. The core alone turns
 * them into HTTP statuses and Dapr error bodies, so a plugin picks the code that
 * describes what happened and puts the detail in a struct outrig_error.
 */
enum outrig_status {
	OUTRIG_OK = 0,
	OUTRIG_ENOTFOUND = -1, /* the thing asked for does not exist */
	OUTRIG_ECONFLICT = -2, /* etag mismatch, or first-write lost the race */
	OUTRIG_EBADETAG = -3,  /* the etag is not one this store could have issued */
	OUTRIG_EINVAL = -4,    /* the request or configuration is wrong */
	OUTRIG_EUNAVAIL = -5,  /* the backing service cannot be reached */
	OUTRIG_ETIMEDOUT = -6, /* the backing service did not answer in time */
	OUTRIG_ENOTSUP = -7,   /* this plugin does not do that */
	OUTRIG_ENOMEM = -8,    /* out of memory */
	OUTRIG_EINTERNAL = -9, /* anything else: a bug or an unexpected backend answer */
};

#define OUTRIG_ERROR_MAX 512

/* Caller-owned detail for a failed call: one sentence a person can act on. */
struct outrig_error {
	char message[OUTRIG_ERROR_MAX];
};

/*
 * Writes a printf-style message into err (if err is not NULL) and returns code, so a
 * failure reads `return outrig_err(err, OUTRIG_EINVAL, "...", ...);`.
 * Ownership: err is the caller's; the message is truncated to OUTRIG_ERROR_MAX.
 * Thread: any.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline int
outrig_err(struct outrig_error *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

/*
 * The code's symbolic name ("ECONFLICT"), for logs and tests.
 * Ownership: a static string. Thread: any.
 */
static inline const char *outrig_status_name(int code)
{
	switch (code) {
	case OUTRIG_OK: return "OK";
	case OUTRIG_ENOTFOUND: return "ENOTFOUND";
	case OUTRIG_ECONFLICT: return "ECONFLICT";
	case OUTRIG_EBADETAG: return "EBADETAG";
	case OUTRIG_EINVAL: return "EINVAL";
	case OUTRIG_EUNAVAIL: return "EUNAVAIL";
	case OUTRIG_ETIMEDOUT: return "ETIMEDOUT";
	case OUTRIG_ENOTSUP: return "ENOTSUP";
	case OUTRIG_ENOMEM: return "ENOMEM";
	case OUTRIG_EINTERNAL: return "EINTERNAL";
	}
	return "EUNKNOWN";
}

#endif /* OUTRIG_STATUS_H */
