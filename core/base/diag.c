/* SPDX-License-Identifier: Apache-2.0 */
/* A list of problems found while checking configuration. */
#include "base/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void diag_vadd(struct diag *d, const char *prefix, const char *fmt, va_list ap)
{
	char *body = NULL;
	char *line = NULL;
	char **grown;

	if (vasprintf(&body, fmt, ap) < 0)
		return;
	if (asprintf(&line, "%s%s", prefix, body) < 0) {
		free(body);
		return;
	}
	free(body);
	grown = realloc(d->lines, (d->count + 1) * sizeof(*d->lines));
	if (grown == NULL) {
		free(line);
		return;
	}
	d->lines = grown;
	d->lines[d->count++] = line;
}

void diag_error(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	d->errors++;
	va_start(ap, fmt);
	diag_vadd(d, "", fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	d->warnings++;
	va_start(ap, fmt);
	diag_vadd(d, "warning: ", fmt, ap);
	va_end(ap);
}

void diag_clear(struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->lines[i]);
	free(d->lines);
	d->lines = NULL;
	d->count = d->warnings = d->errors = 0;
}
