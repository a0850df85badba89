/* SPDX-License-Identifier: Apache-2.0 */
/* Security settings of a Configuration that outrig cannot enforce yet: refused, never ignored. */
#include "config.h"

#include "resources/configuration_policy.h"

#include <string.h>

#include "resources/resources_yaml.h"

#define CFG_POLICY_TODO                                                                                      \
	"outrig does not enforce it yet and will not serve with a weaker policy than the file sets; "        \
	"remove it to serve without it, or run this app with daprd"

bool cfg_policy_is_section(const char *section)
{
	return strcmp(section, "accessControl") == 0 || strcmp(section, "api") == 0 ||
	       strcmp(section, "components") == 0;
}

/* An empty list or mapping restricts nothing in daprd either (an empty allow list allows all). */
static bool cfg_policy_empty(const yaml_node_t *n)
{
	if (res_yaml_is_null(n))
		return true;
	if (n->type == YAML_SEQUENCE_NODE)
		return n->data.sequence.items.top == n->data.sequence.items.start;
	if (n->type == YAML_MAPPING_NODE)
		return n->data.mapping.pairs.top == n->data.mapping.pairs.start;
	return false;
}

static size_t cfg_policy_field(const char *path, const yaml_node_t *at, const char *field, struct diag *d)
{
	res_yaml_report(d, true, path, at, field, CFG_POLICY_TODO);
	return 1;
}

size_t cfg_policy_refuse(yaml_document_t *doc, const char *path, const char *section, yaml_node_t *key,
			 yaml_node_t *value, struct diag *d)
{
	char field[128];
	size_t errors = 0;

	if (cfg_policy_empty(value))
		return 0;
	/* accessControl (defaultAction, trustDomain, policies) and anything unexpected: the whole section. */
	if (strcmp(section, "accessControl") == 0 || value->type != YAML_MAPPING_NODE) {
		snprintf(field, sizeof(field), "spec.%s", section);
		return cfg_policy_field(path, key, field, d);
	}
	for (yaml_node_pair_t *p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *name = res_yaml_is_scalar(k) ? res_yaml_text(k) : "?";

		if (cfg_policy_empty(v))
			continue;
		/* spec.api.allowed/denied, spec.components.deny, and fields of later Dapr versions. */
		snprintf(field, sizeof(field), "spec.%s.%s", section, name);
		errors += cfg_policy_field(path, k, field, d);
	}
	return errors;
}
