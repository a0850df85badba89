/* SPDX-License-Identifier: Apache-2.0 */
/* A Configuration's spec.tracing: sampling and exporters, read into trace settings. */
#include "config.h"

#include "resources/configuration_tracing.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources_yaml.h"

/* daprd's rate when samplingRate is not set: one trace in ten thousand. */
#define TRACING_DEFAULT_RATE 0.0001

#define trc_err(path, n, field, ...) res_yaml_report(d, true, path, n, field, __VA_ARGS__)
#define trc_warn(path, n, field, ...) res_yaml_report(d, false, path, n, field, __VA_ARGS__)

void cfg_tracing_free(struct trace_settings *out)
{
	free(out->zipkin_url);
	free(out->otlp_url);
	free(out->sampling_text);
	memset(out, 0, sizeof(*out));
}

/* A scalar's text, or NULL (reported) when n is something else. */
static const char *trc_text(const char *path, yaml_node_t *n, const char *field, struct diag *d)
{
	if (res_yaml_is_null(n))
		return NULL;
	if (!res_yaml_is_scalar(n)) {
		trc_err(path, n, field, "expected text, found %s", res_yaml_kind(n));
		return NULL;
	}
	return res_yaml_text(n);
}

static int trc_bool(const char *path, yaml_node_t *n, const char *field, bool *out, struct diag *d)
{
	const char *t = trc_text(path, n, field, d);

	if (t == NULL)
		return 0;
	if (strcmp(t, "true") == 0 || strcmp(t, "True") == 0)
		*out = true;
	else if (strcmp(t, "false") == 0 || strcmp(t, "False") == 0)
		*out = false;
	else {
		trc_err(path, n, field, "expected true or false, found \"%s\"", t);
		return -1;
	}
	return 0;
}

static void trc_unknown(yaml_document_t *doc, const char *path, yaml_node_t *map, const char *field,
			const char *const *known, struct diag *d)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const char *name = res_yaml_is_scalar(k) ? res_yaml_text(k) : "";
		bool ok = false;

		for (int i = 0; known[i] != NULL; i++)
			ok |= strcmp(known[i], name) == 0;
		if (!ok)
			trc_warn(path, k, field, "unknown field \"%s\"; ignored (check its spelling against Dapr's tracing spec)",
				 name);
	}
}

static size_t trc_zipkin(yaml_document_t *doc, const char *path, yaml_node_t *z, struct trace_settings *out,
			 struct diag *d)
{
	static const char *const known[] = { "endpointAddress", NULL };
	yaml_node_t *ep;
	const char *t;

	if (res_yaml_is_null(z))
		return 0;
	if (z->type != YAML_MAPPING_NODE) {
		trc_err(path, z, "spec.tracing.zipkin", "expected a mapping with endpointAddress, found %s",
			res_yaml_kind(z));
		return 1;
	}
	trc_unknown(doc, path, z, "spec.tracing.zipkin", known, d);
	ep = res_yaml_get(doc, z, "endpointAddress");
	t = trc_text(path, ep, "spec.tracing.zipkin.endpointAddress", d);
	if (t == NULL || *t == '\0')
		return 0;
	if (strncmp(t, "https://", 8) == 0) {
		trc_err(path, ep, "spec.tracing.zipkin.endpointAddress",
			"https is not supported by outrig yet; use an http:// address (e.g. of a local collector)");
		return 1;
	}
	if (strncmp(t, "http://", 7) != 0) {
		trc_err(path, ep, "spec.tracing.zipkin.endpointAddress",
			"\"%s\" is not a URL; write e.g. \"http://localhost:9411/api/v2/spans\"", t);
		return 1;
	}
	free(out->zipkin_url);
	out->zipkin_url = strdup(t);
	return 0;
}

static size_t trc_otel(yaml_document_t *doc, const char *path, yaml_node_t *o, struct trace_settings *out,
		       struct diag *d)
{
	static const char *const known[] = { "endpointAddress", "isSecure", "protocol", NULL };
	yaml_node_t *ep, *proto, *secure;
	const char *t, *p;
	bool is_secure = false;

	if (res_yaml_is_null(o))
		return 0;
	if (o->type != YAML_MAPPING_NODE) {
		trc_err(path, o, "spec.tracing.otel",
			"expected a mapping with endpointAddress, isSecure and protocol, found %s", res_yaml_kind(o));
		return 1;
	}
	trc_unknown(doc, path, o, "spec.tracing.otel", known, d);
	ep = res_yaml_get(doc, o, "endpointAddress");
	proto = res_yaml_get(doc, o, "protocol");
	secure = res_yaml_get(doc, o, "isSecure");
	t = trc_text(path, ep, "spec.tracing.otel.endpointAddress", d);
	if (t == NULL || *t == '\0')
		return 0;
	if (trc_bool(path, secure, "spec.tracing.otel.isSecure", &is_secure, d) != 0)
		return 1;
	if (is_secure || strncmp(t, "https://", 8) == 0) {
		trc_err(path, secure != NULL && is_secure ? secure : ep, "spec.tracing.otel.isSecure",
			"TLS to the collector is not supported by outrig yet; set isSecure: false and use a local collector");
		return 1;
	}
	p = trc_text(path, proto, "spec.tracing.otel.protocol", d);
	if (p == NULL || strcmp(p, "http") != 0) {
		trc_err(path, proto != NULL ? proto : o, "spec.tracing.otel.protocol",
			"%s%s%s: outrig exports OTLP over HTTP only (JSON to /v1/traces); write \"protocol: http\" and the collector's HTTP port (4318)",
			p == NULL ? "not set" : "\"", p == NULL ? "" : p,
			p == NULL ? "" : "\" is not supported");
		return 1;
	}
	free(out->otlp_url);
	out->otlp_url = NULL;
	if (strncmp(t, "http://", 7) == 0)
		out->otlp_url = strchr(t + 7, '/') != NULL ? strdup(t) : NULL;
	if (out->otlp_url == NULL &&
	    asprintf(&out->otlp_url, "%s%s/v1/traces", strncmp(t, "http://", 7) == 0 ? "" : "http://", t) < 0)
		out->otlp_url = NULL;
	return 0;
}

size_t cfg_tracing_read(yaml_document_t *doc, const char *path, yaml_node_t *v, struct trace_settings *out,
			struct diag *d)
{
	static const char *const known[] = { "samplingRate", "stdout", "zipkin", "otel", NULL };
	struct trace_settings s = { 0 };
	yaml_node_t *rate;
	const char *t;
	size_t errors = 0;

	if (res_yaml_is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE) {
		trc_err(path, v, "spec.tracing", "expected a mapping (samplingRate, zipkin, otel), found %s",
			res_yaml_kind(v));
		return 1;
	}
	trc_unknown(doc, path, v, "spec.tracing", known, d);
	s.enabled = true;
	s.rate = TRACING_DEFAULT_RATE;
	rate = res_yaml_get(doc, v, "samplingRate");
	t = trc_text(path, rate, "spec.tracing.samplingRate", d);
	if (t != NULL && *t != '\0') {
		char *end;
		double r;

		errno = 0;
		r = strtod(t, &end);
		if (errno != 0 || *end != '\0' || end == t || !isfinite(r) || r < 0 || r > 1) {
			trc_err(path, rate, "spec.tracing.samplingRate",
				"\"%s\" is not a rate between \"0\" and \"1\"; write e.g. \"1\" (every trace) or \"0.1\"", t);
			errors++;
		}
		s.rate = r;
		s.sampling_text = strdup(t);
	}
	if (trc_bool(path, res_yaml_get(doc, v, "stdout"), "spec.tracing.stdout", &s.to_stdout, d) != 0)
		errors++;
	errors += trc_zipkin(doc, path, res_yaml_get(doc, v, "zipkin"), &s, d);
	errors += trc_otel(doc, path, res_yaml_get(doc, v, "otel"), &s, d);
	if (errors > 0) {
		cfg_tracing_free(&s);
		return errors;
	}
	if (s.rate > 0 && s.zipkin_url == NULL && s.otlp_url == NULL && !s.to_stdout) {
		trc_warn(path, v, "spec.tracing",
			 "no exporter set (zipkin.endpointAddress, otel.endpointAddress or stdout: true); no span is recorded, trace context is only passed along");
		s.enabled = false;
	}
	cfg_tracing_free(out);
	*out = s;
	return 0;
}
