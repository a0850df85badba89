/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a YAML file for yaml_parser_load within bounds: size, nesting depth and alias expansion. */
#ifndef OUTRIG_CORE_RESOURCES_YAML_LIMITS_H
#define OUTRIG_CORE_RESOURCES_YAML_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/diag.h"

/* A file larger than this is refused unread: Kubernetes keeps objects far smaller (1.5 MiB). */
#define RES_YAML_MAX_FILE_BYTES (16u << 20)
/* Nesting, aliases counted as what they expand to: Dapr resources need a dozen levels. */
#define RES_YAML_MAX_DEPTH_LEVELS 100
/* Anchors and aliases per document; each alias is looked up among the anchors. */
#define RES_YAML_MAX_ANCHORS 1000
#define RES_YAML_MAX_ALIASES 10000
/* What all aliases of one document may add when expanded: nodes, and bytes of text. */
#define RES_YAML_MAX_ALIAS_NODES 100000
#define RES_YAML_MAX_ALIAS_BYTES (4u << 20)

/*
 * Reads f (opened from path) whole and checks every document in it against the limits above,
 * stopping at the first event past one, before libyaml builds any document tree (its scanner
 * slows down with each level of nesting, and a tree's aliases expand when walked). On success
 * *text and *len hold the file for yaml_parser_set_input_string and true is returned. Otherwise
 * an error naming path:line:column, the limit and what to do is added to d and false returned.
 * A YAML syntax error is left for yaml_parser_load to report, where the readers report it.
 * Ownership: the caller frees *text; f stays open. Thread: any.
 */
bool res_yaml_read_bounded(FILE *f, const char *path, unsigned char **text, size_t *len, struct diag *d);

/*
 * The same checks on text already in memory (a fuzz target's input), named path in messages.
 * True when yaml_parser_load may read it. Thread: any.
 */
bool res_yaml_check_text(const unsigned char *text, size_t len, const char *path, struct diag *d);

#endif /* OUTRIG_CORE_RESOURCES_YAML_LIMITS_H */
