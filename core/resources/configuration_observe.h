/* SPDX-License-Identifier: Apache-2.0 */
/* A Configuration's spec.metric (or spec.metrics) and spec.logging: what outrig's metrics and API logs obey. */
#ifndef OUTRIG_CORE_CONFIGURATION_OBSERVE_H
#define OUTRIG_CORE_CONFIGURATION_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "base/diag.h"

/* Zeroed, it holds Dapr's defaults. A later file's field replaces an earlier file's. */
struct cfg_observe {
	bool metrics_disabled; /* spec.metric.enabled: false */
	double *buckets;       /* spec.metric.latencyDistributionBuckets; NULL = Dapr's */
	size_t nbuckets;
	bool low_cardinality; /* spec.metric.http.increasedCardinality: false (Dapr's default is true) */
	char **path_matching; /* spec.metric.http.pathMatching: "/orders/{id}" patterns */
	size_t npath_matching;
	bool exclude_verbs;	 /* spec.metric.http.excludeVerbs */
	bool api_logging;	 /* spec.logging.apiLogging.enabled */
	bool omit_health_checks; /* spec.logging.apiLogging.omitHealthChecks */
	bool obfuscate_urls;	 /* spec.logging.apiLogging.obfuscateURLs */
};

/* True for the sections read here: metric, metrics, logging. */
bool cfg_observe_is_section(const char *section);

/*
 * Reads section (value, at key) of the file path into out. Problems go into d with file:line:
 * wrong types are errors; unknown fields, and fields outrig does not honour (metric rules,
 * recordErrorCodes), are warnings that say so.
 */
void cfg_observe_read(yaml_document_t *doc, const char *path, const char *section, yaml_node_t *key,
		      yaml_node_t *value, struct cfg_observe *out, struct diag *d);

void cfg_observe_free(struct cfg_observe *out);

#endif /* OUTRIG_CORE_CONFIGURATION_OBSERVE_H */
