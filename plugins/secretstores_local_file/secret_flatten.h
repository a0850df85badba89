/* SPDX-License-Identifier: Apache-2.0 */
/* secretstores.local.file: turning the secrets file's JSON into secrets, with no I/O (fuzzed alone). */
#ifndef OUTRIG_SECRET_FLATTEN_H
#define OUTRIG_SECRET_FLATTEN_H

#include <jansson.h>
#include <outrig/status.h>

/*
 * Default mode: every leaf of doc is a secret of one value, both named by its path, the keys of
 * nested objects and the indexes of arrays joined with sep (Dapr's "db:password", "list:0").
 * Adds to secrets (name -> {name: text}). Returns 0, or an OUTRIG_E* code with err set (a name
 * made twice, out of memory).
 * Ownership: doc stays the caller's; secrets holds what is added. Thread: any.
 */
int lf_flatten_single(json_t *doc, json_t *secrets, const char *sep, struct outrig_error *err);

/*
 * multiValued: each top-level key of doc (an object) is a secret; an object's leaves (flattened
 * below it) are its values, a scalar is one value named like the secret. Dapr drops top-level
 * arrays and nulls. Returns and owns as lf_flatten_single.
 */
int lf_flatten_multi(json_t *doc, json_t *secrets, const char *sep, struct outrig_error *err);

#endif /* OUTRIG_SECRET_FLATTEN_H */
