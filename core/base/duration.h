/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of Go-style durations ("1h30m", "500ms") as Dapr's YAML uses them. */
#ifndef OUTRIG_CORE_DURATION_H
#define OUTRIG_CORE_DURATION_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parses a Go duration ("5s", "1h30m", "250ms", "1.5h", "0") or a bare integer, which
 * Dapr's metadata decoder reads as seconds. Negative values are allowed ("-1s").
 * Returns false for anything else, leaving *ms untouched.
 */
bool duration_parse_ms(const char *text, int64_t *ms);

#endif /* OUTRIG_CORE_DURATION_H */
