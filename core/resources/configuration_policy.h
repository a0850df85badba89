/* SPDX-License-Identifier: Apache-2.0 */
/* The security sections of a Configuration: spec.accessControl, spec.api and spec.components. */
#ifndef OUTRIG_CORE_CONFIGURATION_POLICY_H
#define OUTRIG_CORE_CONFIGURATION_POLICY_H

#include <stdbool.h>
#include <yaml.h>

#include "base/diag.h"
#include "resources/resources.h"
#include "security/access_control.h"
#include "security/api_lists.h"

/* One entry of spec.components.deny: a component type, and a version or NULL for all of them. */
struct cfg_deny {
	char *type;
	char *version;
	int line;
};

struct cfg_policy {
	struct access_control acl; /* spec.accessControl, from the last file that set it */
	struct api_lists api;	   /* spec.api.allowed and denied, from the last file that set them */
	struct cfg_deny *deny;	   /* spec.components.deny, from the last file that set it */
	size_t ndeny;
	const char *deny_file; /* not owned */
};

/* True for the spec sections that carry access policies (accessControl, api, components). */
bool cfg_policy_is_section(const char *section);

/*
 * Reads section (value; key is its name's node) of the Configuration file path into out, replacing
 * what an earlier file set there. Unknown fields are warnings, bad values errors, each at its
 * file:line. path must outlive out. Returns the number of errors added.
 */
size_t cfg_policy_read(yaml_document_t *doc, const char *path, const char *section, yaml_node_t *key,
		       yaml_node_t *value, struct cfg_policy *out, struct diag *d);

/* After the last file: builds what evaluation needs. Returns the number of errors added. */
size_t cfg_policy_finish(struct cfg_policy *p, struct diag *d);

void cfg_policy_free(struct cfg_policy *p);

/*
 * Reports as an error each component of rs whose type (and version) spec.components.deny lists,
 * naming the component, its file:line and the Configuration's. Returns the number of errors added.
 */
size_t cfg_policy_check_components(const struct cfg_policy *p, const struct res_set *rs, struct diag *d);

#endif /* OUTRIG_CORE_CONFIGURATION_POLICY_H */
