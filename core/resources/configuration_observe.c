/* SPDX-License-Identifier: Apache-2.0 */
/* A Configuration's spec.metric and spec.logging (see configuration_observe.h). */
#include "config.h"

#include "resources/configuration_observe.h"

#include <stdlib.h>
#include <string.h>

#include "resources/resources_yaml.h"

struct obs_reader {
	yaml_document_t *yd;
	const char *path;
	struct cfg_observe *out;
	struct diag *d;
};

#define obs_err(rd, n, field, ...) res_yaml_report((rd)->d, true, (rd)->path, n, field, __VA_ARGS__)
#define obs_warn(rd, n, field, ...) res_yaml_report((rd)->d, false, (rd)->path, n, field, __VA_ARGS__)

bool cfg_observe_is_section(const char *section)
{
	return strcmp(section, "metric") == 0 || strcmp(section, "metrics") == 0 ||
	       strcmp(section, "logging") == 0;
}

static bool obs_mapping(struct obs_reader *rd, yaml_node_t *n, const char *field)
{
	if (res_yaml_is_null(n))
		return false;
	if (n->type != YAML_MAPPING_NODE) {
		obs_err(rd, n, field, "expected a mapping, found %s", res_yaml_kind(n));
		return false;
	}
	return true;
}

/* A boolean field of map, into *out when present. */
static void obs_bool(struct obs_reader *rd, yaml_node_t *map, const char *key, const char *field, bool *out,
		     bool invert)
{
	yaml_node_t *n = res_yaml_get(rd->yd, map, key);
	bool b;

	if (n == NULL || res_yaml_is_null(n))
		return;
	if (!res_yaml_is_scalar(n) || !res_yaml_bool(res_yaml_text(n), &b)) {
		obs_err(rd, n, field, "expected true or false, found %s", res_yaml_kind(n));
		return;
	}
	*out = invert ? !b : b;
}

static void obs_buckets(struct obs_reader *rd, yaml_node_t *n)
{
	const char *field = "spec.metric.latencyDistributionBuckets";
	size_t size, count = 0;
	double *b;

	if (res_yaml_is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		obs_err(rd, n, field, "expected a list of milliseconds, e.g. [1, 5, 10, 50, 100], found %s",
			res_yaml_kind(n));
		return;
	}
	size = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (size > 64) {
		obs_err(rd, n, field, "%zu buckets; outrig keeps at most 64", size);
		return;
	}
	b = calloc(size > 0 ? size : 1, sizeof(*b));
	if (b == NULL)
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(rd->yd, *it);
		char *end;
		double v = res_yaml_is_scalar(item) ? strtod(res_yaml_text(item), &end) : 0;

		if (!res_yaml_is_scalar(item) || *end != '\0' || end == res_yaml_text(item) || !(v > 0) ||
		    (count > 0 && v <= b[count - 1])) {
			obs_err(rd, item, field,
				"expected ascending positive numbers of milliseconds; this entry is not one");
			free(b);
			return;
		}
		b[count++] = v;
	}
	free(rd->out->buckets);
	rd->out->buckets = count > 0 ? b : NULL;
	rd->out->nbuckets = count;
	if (count == 0)
		free(b);
}

static void obs_paths(struct obs_reader *rd, yaml_node_t *n)
{
	const char *field = "spec.metric.http.pathMatching";
	struct cfg_observe *out = rd->out;

	if (res_yaml_is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		obs_err(rd, n, field, "expected a list of paths such as /orders/{orderID}, found %s",
			res_yaml_kind(n));
		return;
	}
	for (size_t i = 0; i < out->npath_matching; i++)
		free(out->path_matching[i]);
	free(out->path_matching);
	out->path_matching = NULL;
	out->npath_matching = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(rd->yd, *it);
		char **grown;

		if (!res_yaml_is_scalar(item) || res_yaml_text(item)[0] != '/') {
			obs_err(rd, item, field,
				"expected a path that starts with /, such as /orders/{orderID}");
			continue;
		}
		grown = realloc(out->path_matching, (out->npath_matching + 1) * sizeof(*grown));
		if (grown == NULL)
			return;
		out->path_matching = grown;
		if ((grown[out->npath_matching] = strdup(res_yaml_text(item))) != NULL)
			out->npath_matching++;
	}
}

static void obs_metric(struct obs_reader *rd, yaml_node_t *m, const char *section)
{
	static const char *const known[] = { "enabled", "latencyDistributionBuckets", "http",
					     "rules",	"recordErrorCodes",	      NULL };
	static const char *const http_known[] = { "increasedCardinality", "pathMatching", "excludeVerbs",
						  NULL };
	char field[64];
	yaml_node_t *http, *n;
	bool b = false;

	snprintf(field, sizeof(field), "spec.%s", section);
	if (!obs_mapping(rd, m, field))
		return;
	res_yaml_warn_unknown(rd->yd, m, rd->path, field, known, rd->d);
	obs_bool(rd, m, "enabled", "spec.metric.enabled", &rd->out->metrics_disabled, true);
	obs_buckets(rd, res_yaml_get(rd->yd, m, "latencyDistributionBuckets"));
	n = res_yaml_get(rd->yd, m, "rules");
	if (n != NULL && !res_yaml_is_null(n))
		obs_warn(rd, n, "spec.metric.rules",
			 "regular-expression rewrites of label values are not supported by outrig; they have "
			 "no effect (bound paths with spec.metric.http.pathMatching instead)");
	n = res_yaml_get(rd->yd, m, "recordErrorCodes");
	obs_bool(rd, m, "recordErrorCodes", "spec.metric.recordErrorCodes", &b, false);
	if (b)
		obs_warn(rd, n, "spec.metric.recordErrorCodes",
			 "outrig does not record error_code_total yet; the field has no effect");
	http = res_yaml_get(rd->yd, m, "http");
	if (!obs_mapping(rd, http, "spec.metric.http"))
		return;
	res_yaml_warn_unknown(rd->yd, http, rd->path, "spec.metric.http", http_known, rd->d);
	obs_bool(rd, http, "increasedCardinality", "spec.metric.http.increasedCardinality",
		 &rd->out->low_cardinality, true);
	obs_bool(rd, http, "excludeVerbs", "spec.metric.http.excludeVerbs", &rd->out->exclude_verbs, false);
	obs_paths(rd, res_yaml_get(rd->yd, http, "pathMatching"));
}

static void obs_logging(struct obs_reader *rd, yaml_node_t *l)
{
	static const char *const known[] = { "apiLogging", NULL };
	static const char *const api_known[] = { "enabled", "obfuscateURLs", "omitHealthChecks", NULL };
	yaml_node_t *api;

	if (!obs_mapping(rd, l, "spec.logging"))
		return;
	res_yaml_warn_unknown(rd->yd, l, rd->path, "spec.logging", known, rd->d);
	api = res_yaml_get(rd->yd, l, "apiLogging");
	if (!obs_mapping(rd, api, "spec.logging.apiLogging"))
		return;
	res_yaml_warn_unknown(rd->yd, api, rd->path, "spec.logging.apiLogging", api_known, rd->d);
	obs_bool(rd, api, "enabled", "spec.logging.apiLogging.enabled", &rd->out->api_logging, false);
	obs_bool(rd, api, "obfuscateURLs", "spec.logging.apiLogging.obfuscateURLs", &rd->out->obfuscate_urls,
		 false);
	obs_bool(rd, api, "omitHealthChecks", "spec.logging.apiLogging.omitHealthChecks",
		 &rd->out->omit_health_checks, false);
}

void cfg_observe_read(yaml_document_t *doc, const char *path, const char *section, yaml_node_t *key,
		      yaml_node_t *value, struct cfg_observe *out, struct diag *d)
{
	struct obs_reader rd = { doc, path, out, d };

	(void)key;
	if (strcmp(section, "logging") == 0)
		obs_logging(&rd, value);
	else
		obs_metric(&rd, value, section);
}

void cfg_observe_free(struct cfg_observe *out)
{
	free(out->buckets);
	for (size_t i = 0; i < out->npath_matching; i++)
		free(out->path_matching[i]);
	free(out->path_matching);
	memset(out, 0, sizeof(*out));
}
