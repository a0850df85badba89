/* SPDX-License-Identifier: Apache-2.0 */
/* A Configuration's spec.mtls: mTLS between sidecars (enabled, allowedClockSkew, workloadCertTTL). */
#ifndef OUTRIG_CORE_CONFIGURATION_MTLS_H
#define OUTRIG_CORE_CONFIGURATION_MTLS_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "base/diag.h"

/* Zeroed: nothing set. A later file's field replaces an earlier file's. */
struct cfg_mtls {
	bool enabled;		/* spec.mtls.enabled */
	bool skew_set;		/* spec.mtls.allowedClockSkew was given */
	int64_t clock_skew_ms;	/* its value */
	char trust_domain[256]; /* spec.mtls.controlPlaneTrustDomain, "" when not given */
};

/*
 * Reads spec.mtls (value) of the file path into out. sentryAddress is an error (outrig has no
 * Sentry: certificates come from files); workloadCertTTL a warning naming file:line (outrigd
 * issues no certificates; outrig cert issue --ttl does); unknown fields are warnings.
 */
void cfg_mtls_read(yaml_document_t *doc, const char *path, yaml_node_t *value, struct cfg_mtls *out,
		   struct diag *d);

#endif /* OUTRIG_CORE_CONFIGURATION_MTLS_H */
