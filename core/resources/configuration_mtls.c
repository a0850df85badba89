/* SPDX-License-Identifier: Apache-2.0 */
/* A Configuration's spec.mtls: what outrigd's mTLS between sidecars obeys. */
#include "config.h"

#include "resources/configuration_mtls.h"

#include <stdio.h>
#include <string.h>

#include "base/duration.h"
#include "resources/resources_yaml.h"

void cfg_mtls_read(yaml_document_t *doc, const char *path, yaml_node_t *value, struct cfg_mtls *out,
		   struct diag *d)
{
	if (res_yaml_is_null(value))
		return;
	if (value->type != YAML_MAPPING_NODE) {
		res_yaml_report(d, true, path, value, "spec.mtls",
				"expected a mapping, found %s; write enabled: true under it",
				res_yaml_kind(value));
		return;
	}
	for (yaml_node_pair_t *p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *name = res_yaml_is_scalar(k) ? res_yaml_text(k) : "";
		int64_t ms;

		if (strcmp(name, "enabled") == 0) {
			if (!res_yaml_is_scalar(v) || !res_yaml_bool(res_yaml_text(v), &out->enabled))
				res_yaml_report(d, true, path, v, "spec.mtls.enabled",
						"expected true or false");
		} else if (strcmp(name, "allowedClockSkew") == 0) {
			if (!res_yaml_is_scalar(v) || !duration_parse_ms(res_yaml_text(v), &ms) || ms < 0)
				res_yaml_report(d, true, path, v, "spec.mtls.allowedClockSkew",
						"expected a duration such as 15m or 30s");
			else
				out->skew_set = true, out->clock_skew_ms = ms;
		} else if (strcmp(name, "workloadCertTTL") == 0) {
			if (!res_yaml_is_scalar(v) || !duration_parse_ms(res_yaml_text(v), &ms) || ms <= 0)
				res_yaml_report(d, true, path, v, "spec.mtls.workloadCertTTL",
						"expected a duration such as 24h");
			else
				res_yaml_report(
					d, false, path, k, "spec.mtls.workloadCertTTL",
					"has no effect on outrigd, which issues no certificates (they come from files); give the lifetime to outrig cert issue --ttl");
		} else if (strcmp(name, "controlPlaneTrustDomain") == 0) {
			if (!res_yaml_is_scalar(v) || *res_yaml_text(v) == '\0')
				res_yaml_report(d, true, path, v, "spec.mtls.controlPlaneTrustDomain",
						"expected a trust domain");
			else
				snprintf(out->trust_domain, sizeof(out->trust_domain), "%s",
					 res_yaml_text(v));
		} else if (strcmp(name, "sentryAddress") == 0) {
			res_yaml_report(
				d, true, path, k, "spec.mtls.sentryAddress",
				"outrig has no Sentry: sidecar certificates come from files (--mtls-cert-file, --mtls-key-file, --trust-anchors-file; outrig cert makes them); remove the field");
		} else {
			res_yaml_report(
				d, false, path, k, "spec.mtls",
				"unknown field \"%s\"; ignored (outrig reads enabled, allowedClockSkew, workloadCertTTL, controlPlaneTrustDomain)",
				name);
		}
	}
}
