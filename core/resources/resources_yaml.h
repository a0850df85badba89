/* SPDX-License-Identifier: Apache-2.0 */
/* Reading libyaml's document tree the way Dapr's YAML decoder sees it, and reporting on it. */
#ifndef OUTRIG_CORE_RESOURCES_YAML_H
#define OUTRIG_CORE_RESOURCES_YAML_H

#include <stdbool.h>
#include <yaml.h>

#include "base/diag.h"

/* The text of a scalar node. */
static inline const char *res_yaml_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static inline bool res_yaml_is_scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE;
}

/* True for an absent node and for a plain "", "~" or "null": Go's decoder treats both alike. */
bool res_yaml_is_null(const yaml_node_t *n);

/* How a node is named in messages: "text", "a list" or "a mapping". */
const char *res_yaml_kind(const yaml_node_t *n);

/* The value of key in a mapping (the last one, as Go's non-strict decoder); NULL if absent. */
yaml_node_t *res_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key);

/* YAML 1.1 booleans (true/false, yes/no, on/off, y/n), the set go-yaml v2 understands. */
bool res_yaml_bool(const char *text, bool *value);

/*
 * The text a metadata value is passed on as: a scalar exactly as written; a mapping or a list
 * as compact JSON with sorted keys and typed scalars, as daprd hands it to its components.
 * Returns NULL and sets *why (a phrase for a message) when that cannot be done.
 * Ownership: the caller frees the result.
 */
char *res_yaml_value_text(yaml_document_t *doc, const yaml_node_t *n, const char **why);

/*
 * Adds "file:line:column: field: message" about node n to d, as an error or else a warning.
 * Running out of memory for the message still adds the finding, so an error is never lost.
 */
void res_yaml_report(struct diag *d, bool error, const char *file, const yaml_node_t *n, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * False when the `scopes` of root name other apps only (app_id NULL matches no entry).
 * Malformed scopes are reported to d as errors and ignored, so the resource stays in scope.
 */
bool res_yaml_in_scope(yaml_document_t *doc, const yaml_node_t *root, const char *app_id, const char *file,
		       struct diag *d);

/*
 * Warns, at its file:line, of each key of map that is not in known (NULL-terminated): a typo such
 * as "maxRetires" would otherwise be ignored without a word, as Go's decoder does.
 */
void res_yaml_warn_unknown(yaml_document_t *doc, const yaml_node_t *map, const char *file, const char *field,
			   const char *const *known, struct diag *d);

/* Adds the parser's error for path to d as "file:line:column: YAML syntax error: ...". */
void res_yaml_syntax_error(const char *path, const yaml_parser_t *parser, struct diag *d);

#endif /* OUTRIG_CORE_RESOURCES_YAML_H */
