/* SPDX-License-Identifier: Apache-2.0 */
/* A list of problems found while checking configuration, so all of them can be reported at once. */
#ifndef OUTRIG_CORE_DIAG_H
#define OUTRIG_CORE_DIAG_H

#include <stddef.h>

struct diag {
	char **lines; /* each "file:line:column: what: why; what to do" or similar */
	size_t count;
	size_t warnings; /* how many lines are warnings rather than errors */
	size_t errors;
};

/* Appends an error line. Never fails visibly: on ENOMEM the line is dropped but counted. */
void diag_error(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends a warning line (prefixed "warning: "). */
void diag_warn(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees every line; the struct can be reused. */
void diag_clear(struct diag *d);

#endif /* OUTRIG_CORE_DIAG_H */
