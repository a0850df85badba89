/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's log: daprd-like text lines or JSON lines, filtered by --log-level. */
#ifndef OUTRIG_CORE_LOG_H
#define OUTRIG_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <outrig/log.h>

/* Sets the threshold and format; call before any thread starts. Defaults: info, text. */
void log_setup(enum outrig_log_level min_level, bool as_json, const char *app_id);

/* Parses "debug", "info", "warn", "error", "fatal". Returns false for anything else. */
bool log_level_parse(const char *text, enum outrig_log_level *level);

bool log_enabled(enum outrig_log_level level);

/* Writes one line tagged with scope (e.g. "runtime", or a component name). Thread-safe. */
void log_write(enum outrig_log_level level, const char *scope, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vwrite(enum outrig_log_level level, const char *scope, const char *fmt, va_list ap);

/* A field added to a line by log_write_fields: text, or a number when str is NULL. */
struct log_field {
	const char *key;
	const char *str;
	long long num;
};

/*
 * Writes one line with msg and the fields, after the usual ones: as JSON members (numbers as
 * numbers), or in text as key=value (quoted when the value holds a space, '"' or '='). Written
 * whatever --log-level says: the caller decides (daprd's API log is at info level whatever the
 * level of its other lines). Thread-safe.
 */
void log_write_fields(enum outrig_log_level level, const char *scope, const char *msg,
		      const struct log_field *fields, size_t n);

#define log_debug(scope, ...) log_write(OUTRIG_LOG_DEBUG, scope, __VA_ARGS__)
#define log_info(scope, ...) log_write(OUTRIG_LOG_INFO, scope, __VA_ARGS__)
#define log_warn(scope, ...) log_write(OUTRIG_LOG_WARN, scope, __VA_ARGS__)
#define log_error(scope, ...) log_write(OUTRIG_LOG_ERROR, scope, __VA_ARGS__)

#endif /* OUTRIG_CORE_LOG_H */
