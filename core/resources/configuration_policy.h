/* SPDX-License-Identifier: Apache-2.0 */
/* Security settings of a Configuration that outrig cannot enforce yet: refused, never ignored. */
#ifndef OUTRIG_CORE_CONFIGURATION_POLICY_H
#define OUTRIG_CORE_CONFIGURATION_POLICY_H

#include <stdbool.h>
#include <yaml.h>

#include "base/diag.h"

/* True for the spec sections that carry access policies (accessControl, api, components). */
bool cfg_policy_is_section(const char *section);

/*
 * Reports to d, as an error at its file:line, every field of section (value) that would restrict
 * what the sidecar serves: running without it would be a weaker policy than the file sets.
 * Returns the number of errors added; 0 when the section restricts nothing (it may then be ignored).
 */
size_t cfg_policy_refuse(yaml_document_t *doc, const char *path, const char *section, yaml_node_t *key,
			 yaml_node_t *value, struct diag *d);

#endif /* OUTRIG_CORE_CONFIGURATION_POLICY_H */
