/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's log: daprd-like text lines or JSON lines, filtered by --log-level. */
#include "config.h"

#include "base/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const log_level_names[] = { "debug", "info", "warn", "error", "fatal" };

static struct {
	enum outrig_log_level min_level;
	bool as_json;
	const char *app_id;
} log_cfg = { OUTRIG_LOG_INFO, false, "" };

void log_setup(enum outrig_log_level min_level, bool as_json, const char *app_id)
{
	log_cfg.min_level = min_level;
	log_cfg.as_json = as_json;
	log_cfg.app_id = app_id != NULL ? app_id : "";
}

bool log_level_parse(const char *text, enum outrig_log_level *level)
{
	for (size_t i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(text, log_level_names[i]) == 0) {
			*level = (enum outrig_log_level)i;
			return true;
		}
	}
	return false;
}

bool log_enabled(enum outrig_log_level level)
{
	return level >= log_cfg.min_level;
}

static void log_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Text lines quote msg="..."; a '"' inside would end it early, so it becomes a '\''. */
static void log_escape_quotes(char *msg)
{
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '"')
			*p = '\'';
}

void log_vwrite(enum outrig_log_level level, const char *scope, const char *fmt, va_list ap)
{
	char when[40];
	char *msg = NULL;
	unsigned lvl = (unsigned)level < 5 ? (unsigned)level : 4;

	if (!log_enabled(level))
		return;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	log_timestamp(when, sizeof(when));
	if (log_cfg.as_json) {
		/* daprd's JSON fields, so the same log pipeline reads both. */
		json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "time", when, "level",
					 log_level_names[lvl], "type", "log", "scope", scope, "msg", msg,
					 "app_id", log_cfg.app_id, "ver", PACKAGE_VERSION);
		char *text = line != NULL ? json_dumps(line, JSON_COMPACT) : NULL;

		if (text != NULL)
			fprintf(stdout, "%s\n", text);
		free(text);
		json_decref(line);
	} else {
		log_escape_quotes(msg);
		fprintf(stdout, "time=\"%s\" level=%s msg=\"%s\" app_id=%s scope=%s\n", when,
			log_level_names[lvl], msg, log_cfg.app_id, scope);
	}
	fflush(stdout);
	free(msg);
}

void log_write(enum outrig_log_level level, const char *scope, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, scope, fmt, ap);
	va_end(ap);
}

/* A text value, quoted and with '"' and '\\' escaped when it would not read back as one word. */
static void log_text_value(FILE *out, const char *v)
{
	if (*v != '\0' && strpbrk(v, " \"=\\\t\n") == NULL) {
		fputs(v, out);
		return;
	}
	fputc('"', out);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
	fputc('"', out);
}

void log_write_fields(enum outrig_log_level level, const char *scope, const char *msg,
		      const struct log_field *fields, size_t n)
{
	char when[40];
	unsigned lvl = (unsigned)level < 5 ? (unsigned)level : 4;

	log_timestamp(when, sizeof(when));
	if (log_cfg.as_json) {
		json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "time", when, "level",
					 log_level_names[lvl], "type", "log", "scope", scope, "msg", msg,
					 "app_id", log_cfg.app_id, "ver", PACKAGE_VERSION);
		char *text;

		for (size_t i = 0; line != NULL && i < n; i++)
			json_object_set_new(line, fields[i].key,
					    fields[i].str != NULL ? json_string(fields[i].str)
								  : json_integer(fields[i].num));
		text = line != NULL ? json_dumps(line, JSON_COMPACT) : NULL;
		flockfile(stdout);
		if (text != NULL)
			fprintf(stdout, "%s\n", text);
		fflush(stdout);
		funlockfile(stdout);
		free(text);
		json_decref(line);
		return;
	}
	flockfile(stdout);
	fprintf(stdout, "time=\"%s\" level=%s msg=", when, log_level_names[lvl]);
	log_text_value(stdout, msg);
	fprintf(stdout, " app_id=%s scope=%s", log_cfg.app_id, scope);
	for (size_t i = 0; i < n; i++) {
		fprintf(stdout, " %s=", fields[i].key);
		if (fields[i].str != NULL)
			log_text_value(stdout, fields[i].str);
		else
			fprintf(stdout, "%lld", fields[i].num);
	}
	fputc('\n', stdout);
	fflush(stdout);
	funlockfile(stdout);
}
