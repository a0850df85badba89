/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a value's own JSON text inside a request body, so a state value is stored as the client wrote it. */
#ifndef OUTRIG_CORE_STATE_JSON_TEXT_H
#define OUTRIG_CORE_STATE_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * These walk text that jansson has already accepted as JSON; they never read at or past end,
 * and answer NULL where the text is not what they expect, so a caller can fall back.
 * Re-encoding through jansson would turn 2.5e3 into 2500.0 and 0.1 into 0.10000000000000001.
 */

/* p past any JSON whitespace. */
const char *sjt_ws(const char *p, const char *end);

/* Past the value that starts at p (after whitespace), or NULL. */
const char *sjt_skip(const char *p, const char *end);

/* The value of the last member called name of the object at obj, its end in *vend; or NULL. */
const char *sjt_member(const char *obj, const char *end, const char *name, const char **vend);

/* The first element of the array at arr, or NULL when it is empty or not an array. */
const char *sjt_first(const char *arr, const char *end);

/* The element after the one at elem, or NULL after the last. */
const char *sjt_next(const char *elem, const char *end);

/*
 * The value text [p, vend) without whitespace outside strings; strings, numbers and member
 * order stay as written. *len is its length. malloc'd (NUL-terminated); NULL on ENOMEM.
 */
char *sjt_compact(const char *p, const char *vend, size_t *len);

#endif /* OUTRIG_CORE_STATE_JSON_TEXT_H */
