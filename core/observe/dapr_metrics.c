/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar's metrics under Dapr's names and labels (see dapr_metrics.h). */
#include "config.h"

#include "observe/dapr_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "observe/metrics.h"
#include "resources/configuration_observe.h"

/* How many pathMatching patterns are kept; more are warned about at start-up. */
#define DM_MAX_PATTERNS 64

static const char *const dm_http_labels[] = { "app_id", "method", "path", "status", NULL };
static const char *const dm_grpc_server_labels[] = { "app_id", "grpc_server_method", "grpc_server_status",
						     NULL };
static const char *const dm_grpc_client_labels[] = { "app_id", "grpc_client_method", "grpc_client_status",
						     NULL };
static const char *const dm_app_labels[] = { "app_id", NULL };
static const char *const dm_grpc_server_method[] = { "app_id", "grpc_server_method", NULL };
static const char *const dm_grpc_client_method[] = { "app_id", "grpc_client_method", NULL };
static const char *const dm_op_labels[] = {
	"app_id", "component", "namespace", "operation", "success", NULL
};
static const char *const dm_input_labels[] = { "app_id", "component", "namespace", "success", NULL };
static const char *const dm_egress_labels[] = {
	"app_id", "component", "namespace", "success", "topic", NULL
};
static const char *const dm_ingress_labels[] = { "app_id", "component", "namespace", "process_status",
						 "status", "topic",	NULL };
static const char *const dm_runtime_labels[] = { "app_id", "namespace", NULL };
static const char *const dm_init_labels[] = { "app_id", "namespace", "component", NULL };
static const char *const dm_resil_labels[] = { "app_id", "namespace", "flow_direction", "target", "policy",
					       "status", NULL };
static const char *const dm_init_fail_labels[] = { "app_id", "namespace", "component", "reason", NULL };

static struct {
	char app_id[256];
	char ns[256];
	bool on;
	bool low_cardinality, exclude_verbs;
	char *patterns[DM_MAX_PATTERNS];
	size_t npatterns;
	struct metric *http_count, *http_latency, *http_responses;
	struct metric *client_count, *client_latency;
	struct metric *grpc_count, *grpc_latency, *grpc_client_count, *grpc_client_latency;
	struct metric *http_req_bytes, *http_resp_bytes, *client_sent_bytes, *client_received_bytes;
	struct metric *grpc_received_bytes, *grpc_sent_bytes, *grpc_client_sent_bytes, *grpc_client_received_bytes;
	struct metric *count[DM_PUBSUB_EGRESS + 1], *latency[DM_PUBSUB_EGRESS + 1];
	struct metric *ingress_count, *ingress_latency;
	struct metric *loaded, *init, *init_fail;
	struct metric *resil_count, *resil_activations;
} dm;

/* Canonical gRPC code names, as opencensus's ocgrpc labels them. */
static const char *const dm_grpc_codes[] = {
	"OK",	     "CANCELLED",	"UNKNOWN",	     "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS",	"PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED",   "OUT_OF_RANGE",	"UNIMPLEMENTED",     "INTERNAL",	   "UNAVAILABLE",
	"DATA_LOSS", "UNAUTHENTICATED",
};

/* Dapr's size distribution (bytes), whatever spec.metric.latencyDistributionBuckets says. */
static const double dm_size_buckets[] = { 1024,	    2048,      4096,	   16384,      65536,	    262144,    1048576,
					  4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296.0 };
#define DM_SIZES dm_size_buckets, sizeof(dm_size_buckets) / sizeof(dm_size_buckets[0])

/* The byte metrics, Dapr's names and labels (pkg/diagnostics/http_monitoring.go, grpc_monitoring.go). */
static void dm_setup_bytes(void)
{
	dm.http_req_bytes = metric_histogram_bounds(
		"dapr_http_server_request_bytes",
		"HTTP request body size if set as ContentLength (uncompressed) in server.", dm_app_labels, DM_SIZES);
	dm.http_resp_bytes = metric_histogram_bounds("dapr_http_server_response_bytes",
						     "HTTP response body size (uncompressed) in server.", dm_app_labels,
						     DM_SIZES);
	dm.client_sent_bytes = metric_histogram_bounds("dapr_http_client_sent_bytes",
						       "Total bytes sent in request body (not including headers)",
						       dm_http_labels, DM_SIZES);
	dm.client_received_bytes = metric_histogram_bounds(
		"dapr_http_client_received_bytes",
		"Total bytes received in response bodies (not including headers but including error responses with bodies)",
		dm_app_labels, DM_SIZES);
	dm.grpc_received_bytes = metric_histogram_bounds("dapr_grpc_io_server_received_bytes_per_rpc",
							 "Total bytes received across all messages per RPC.",
							 dm_grpc_server_method, DM_SIZES);
	dm.grpc_sent_bytes = metric_histogram_bounds("dapr_grpc_io_server_sent_bytes_per_rpc",
						     "Total bytes sent in across all response messages per RPC.",
						     dm_grpc_server_method, DM_SIZES);
	dm.grpc_client_sent_bytes = metric_histogram_bounds("dapr_grpc_io_client_sent_bytes_per_rpc",
							    "Total bytes sent across all request messages per RPC.",
							    dm_grpc_client_method, DM_SIZES);
	dm.grpc_client_received_bytes = metric_histogram_bounds(
		"dapr_grpc_io_client_received_bytes_per_rpc", "Total bytes received across all response messages per RPC.",
		dm_grpc_client_method, DM_SIZES);
}

void dm_setup(const char *app_id, const struct cfg_observe *cfg, bool enabled)
{
	const char *ns = getenv("NAMESPACE");

	snprintf(dm.app_id, sizeof(dm.app_id), "%s", app_id != NULL ? app_id : "");
	snprintf(dm.ns, sizeof(dm.ns), "%s", ns != NULL ? ns : "");
	dm.on = enabled;
	metrics_set_enabled(enabled);
	for (size_t i = 0; i < dm.npatterns; i++)
		free(dm.patterns[i]);
	dm.npatterns = 0;
	if (cfg != NULL) {
		dm.low_cardinality = cfg->low_cardinality;
		dm.exclude_verbs = cfg->exclude_verbs;
		if (cfg->nbuckets > 0)
			metrics_set_buckets(cfg->buckets, cfg->nbuckets);
		for (size_t i = 0; i < cfg->npath_matching; i++) {
			if (dm.npatterns == DM_MAX_PATTERNS) {
				log_warn("runtime",
					 "spec.metric.http.pathMatching: only the first %d patterns are used",
					 DM_MAX_PATTERNS);
				break;
			}
			if ((dm.patterns[dm.npatterns] = strdup(cfg->path_matching[i])) != NULL)
				dm.npatterns++;
		}
	}
	if (!enabled)
		return;
	dm.http_count = metric_counter("dapr_http_server_request_count",
				       "Number of HTTP requests started in server.", dm_http_labels);
	dm.http_latency = metric_histogram("dapr_http_server_latency",
					   "HTTP request end to end latency in server.", dm_http_labels);
	dm.http_responses = metric_counter("dapr_http_server_response_count",
					   "Number of HTTP responses in server.", dm_http_labels);
	dm.client_count = metric_counter("dapr_http_client_completed_count", "Count of completed requests.",
					 dm_http_labels);
	dm.client_latency = metric_histogram(
		"dapr_http_client_roundtrip_latency",
		"Time between first byte of request headers sent to last byte of response received, or terminal error.",
		dm_http_labels);
	dm.grpc_count = metric_counter("dapr_grpc_io_server_completed_rpcs",
				       "Count of RPCs by method and status.", dm_grpc_server_labels);
	dm.grpc_latency = metric_histogram("dapr_grpc_io_server_server_latency",
					   "Distribution of server latency in milliseconds, by method.",
					   dm_grpc_server_labels);
	dm.grpc_client_count = metric_counter("dapr_grpc_io_client_completed_rpcs",
					      "Count of RPCs by method and status.", dm_grpc_client_labels);
	dm.grpc_client_latency =
		metric_histogram("dapr_grpc_io_client_roundtrip_latency",
				 "Distribution of round-trip latency, by method.", dm_grpc_client_labels);
	dm_setup_bytes();
	dm.resil_count =
		metric_counter("dapr_resiliency_count",
			       "Number of times a resiliency policy has been applied.", dm_resil_labels);
	dm.resil_activations =
		metric_counter("dapr_resiliency_activations_total",
			       "Number of times a resiliency policy has been activated.", dm_resil_labels);
	dm.count[DM_STATE] =
		metric_counter("dapr_component_state_count",
			       "The number of operations performed on the state component.", dm_op_labels);
	dm.latency[DM_STATE] =
		metric_histogram("dapr_component_state_latencies",
				 "The latency of the response from the state component.", dm_op_labels);
	dm.count[DM_SECRET] =
		metric_counter("dapr_component_secret_count",
			       "The number of operations performed on the secret component.", dm_op_labels);
	dm.latency[DM_SECRET] =
		metric_histogram("dapr_component_secret_latencies",
				 "The latency of the response from the secret component.", dm_op_labels);
	dm.count[DM_OUTPUT_BINDING] = metric_counter(
		"dapr_component_output_binding_count",
		"The number of operations invoked on the output binding component.", dm_op_labels);
	dm.latency[DM_OUTPUT_BINDING] = metric_histogram(
		"dapr_component_output_binding_latencies",
		"The latency of the response from the output binding component.", dm_op_labels);
	dm.count[DM_INPUT_BINDING] = metric_counter(
		"dapr_component_input_binding_count",
		"The number of incoming events arriving from the input binding component.", dm_input_labels);
	dm.latency[DM_INPUT_BINDING] =
		metric_histogram("dapr_component_input_binding_latencies",
				 "The triggered app event processing latency.", dm_input_labels);
	dm.count[DM_PUBSUB_EGRESS] = metric_counter(
		"dapr_component_pubsub_egress_count",
		"The number of outgoing messages published to the pub/sub component.", dm_egress_labels);
	dm.latency[DM_PUBSUB_EGRESS] =
		metric_histogram("dapr_component_pubsub_egress_latencies",
				 "The latency of the response from the pub/sub component.", dm_egress_labels);
	dm.ingress_count = metric_counter(
		"dapr_component_pubsub_ingress_count",
		"The number of incoming messages arriving from the pub/sub component.", dm_ingress_labels);
	dm.ingress_latency =
		metric_histogram("dapr_component_pubsub_ingress_latencies",
				 "The consuming app event processing latency.", dm_ingress_labels);
	dm.loaded = metric_counter("dapr_runtime_component_loaded",
				   "The number of successfully loaded components.", dm_runtime_labels);
	dm.init = metric_counter("dapr_runtime_component_init_total", "The number of initialized components.",
				 dm_init_labels);
	dm.init_fail =
		metric_counter("dapr_runtime_component_init_fail_total",
			       "The number of component initialization failures.", dm_init_fail_labels);
}

/*
 * Whether path matches pattern: "{name}" takes one segment, "{name...}" the rest (as Go's
 * ServeMux patterns, which Dapr's pathMatching uses); other segments match exactly.
 */
static bool dm_match(const char *pattern, const char *path)
{
	const char *p = pattern, *s = path;

	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			const char *close = strchr(p, '}');

			if (close == NULL)
				return false;
			if (close - p > 4 && strncmp(close - 3, "...", 3) == 0)
				return close[1] == '\0';
			if (*s == '/' || *s == '\0')
				return false; /* an empty segment */
			s += strcspn(s, "/");
			p = close + 1;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*p == '{') {
		const char *close = strchr(p, '}');

		return close != NULL && close[1] == '\0' && close - p > 4 &&
		       strncmp(close - 3, "...", 3) == 0;
	}
	return *p == '\0' && *s == '\0';
}

const char *dm_http_path(const char *path, char *buf, size_t size)
{
	static const char *const static_paths[] = { "/dapr/config", "/dapr/metrics", "/dapr/subscribe",
						    "/healthz", NULL };
	const char *rest;

	for (int i = 0; static_paths[i] != NULL; i++)
		if (strcmp(path, static_paths[i]) == 0)
			return path;
	for (size_t i = 0; i < dm.npatterns; i++)
		if (dm_match(dm.patterns[i], path))
			return dm.patterns[i];
	if (dm.low_cardinality)
		return "";
	/* Dapr's legacy label: /v1.0/state/{store} and /v1.0/secrets/{store}, without the keys. */
	if (strncmp(path, "/v1.0/state/", 12) == 0)
		rest = path + 12;
	else if (strncmp(path, "/v1.0/secrets/", 14) == 0)
		rest = path + 14;
	else
		return path;
	rest += strcspn(rest, "/");
	if (*rest == '\0' || (size_t)(rest - path) >= size)
		return path;
	memcpy(buf, path, (size_t)(rest - path));
	buf[rest - path] = '\0';
	return buf;
}

static const char *dm_method(const char *method)
{
	static const char *const verbs[] = { "GET",  "PUT",	"POST",	   "PATCH", "DELETE",
					     "HEAD", "OPTIONS", "CONNECT", "TRACE", NULL };

	if (dm.exclude_verbs)
		return "";
	for (int i = 0; verbs[i] != NULL; i++)
		if (strcmp(method, verbs[i]) == 0)
			return verbs[i];
	return "UNKNOWN";
}

/* An HTTP status as text, without snprintf's cost on every request. */
static void dm_status_text(int status, char code[16])
{
	if (status >= 100 && status <= 999) {
		code[0] = (char)('0' + status / 100);
		code[1] = (char)('0' + status / 10 % 10);
		code[2] = (char)('0' + status % 10);
		code[3] = '\0';
	} else {
		snprintf(code, 16, "%d", status);
	}
}

/* The labels of an HTTP metric: app id, method, path (bounded as Dapr bounds it), status. */
static void dm_http_values(const char *method, const char *path, int status, char *buf, size_t size,
			   char code[16], const char *values[4])
{
	dm_status_text(status, code);
	values[0] = dm.app_id;
	values[1] = dm_method(method);
	values[2] = dm_http_path(path, buf, size);
	values[3] = code;
}

void dm_http_server(const char *method, const char *path, int status, double ms)
{
	char buf[512], code[16];
	const char *values[4];

	if (!dm.on)
		return;
	dm_http_values(method, path, status, buf, sizeof(buf), code, values);
	metric_add(dm.http_count, values, 1);
	metric_observe(dm.http_latency, values, ms);
	/* Dapr counts responses separately only with path matching or increased cardinality. */
	if (dm.npatterns > 0 || !dm.low_cardinality)
		metric_add(dm.http_responses, values, 1);
}

void dm_http_server_bytes(size_t request, size_t response)
{
	const char *values[] = { dm.app_id };

	if (!dm.on)
		return;
	metric_observe(dm.http_req_bytes, values, (double)request);
	metric_observe(dm.http_resp_bytes, values, (double)response);
}

void dm_http_client_bytes(const char *method, const char *path, size_t sent, size_t received)
{
	char buf[512];
	/* daprd records the bytes sent as the call starts: its status label stays empty. */
	const char *values[] = { dm.app_id, dm_method(method), dm_http_path(path, buf, sizeof(buf)), "" };

	if (!dm.on)
		return;
	metric_observe(dm.client_sent_bytes, values, (double)sent);
	metric_observe(dm.client_received_bytes, values, (double)received);
}

void dm_http_client(const char *method, const char *path, int status, double ms)
{
	char buf[512], code[16];
	const char *values[4];

	if (!dm.on)
		return;
	dm_http_values(method, path, status, buf, sizeof(buf), code, values);
	metric_add(dm.client_count, values, 1);
	metric_observe(dm.client_latency, values, ms);
}

static const char *dm_code(int code)
{
	return code >= 0 && code < (int)(sizeof(dm_grpc_codes) / sizeof(dm_grpc_codes[0]))
		       ? dm_grpc_codes[code]
		       : "UNKNOWN";
}

void dm_grpc_server(const char *method, int code, double ms)
{
	const char *values[] = { dm.app_id, method, dm_code(code) };

	if (!dm.on)
		return;
	metric_add(dm.grpc_count, values, 1);
	metric_observe(dm.grpc_latency, values, ms);
}

void dm_grpc_server_bytes(const char *method, size_t received, size_t sent)
{
	const char *values[] = { dm.app_id, method };

	if (!dm.on)
		return;
	metric_observe(dm.grpc_received_bytes, values, (double)received);
	metric_observe(dm.grpc_sent_bytes, values, (double)sent);
}

void dm_grpc_client_bytes(const char *method, size_t sent, size_t received)
{
	const char *values[] = { dm.app_id, method };

	if (!dm.on)
		return;
	metric_observe(dm.grpc_client_sent_bytes, values, (double)sent);
	metric_observe(dm.grpc_client_received_bytes, values, (double)received);
}

void dm_grpc_client(const char *method, int code, double ms)
{
	const char *values[] = { dm.app_id, method, dm_code(code) };

	if (!dm.on)
		return;
	metric_add(dm.grpc_client_count, values, 1);
	metric_observe(dm.grpc_client_latency, values, ms);
}

void dm_component(enum dm_kind kind, const char *component, const char *what, bool success, double ms)
{
	const char *ok = success ? "true" : "false";
	const char *values[5];

	if (!dm.on)
		return;
	values[0] = dm.app_id;
	values[1] = component;
	values[2] = dm.ns;
	switch (kind) {
	case DM_INPUT_BINDING: values[3] = ok; break;
	case DM_PUBSUB_EGRESS:
		values[3] = ok;
		values[4] = what;
		break;
	default:
		values[3] = what;
		values[4] = ok;
		break;
	}
	metric_add(dm.count[kind], values, 1);
	metric_observe(dm.latency[kind], values, ms);
}

void dm_pubsub_ingress(const char *component, const char *topic, const char *process_status, double ms)
{
	const char *status = strcmp(process_status, "success") == 0 ? "success" : "failed";
	const char *values[] = { dm.app_id, component, dm.ns, process_status, status, topic };

	if (!dm.on)
		return;
	metric_add(dm.ingress_count, values, 1);
	metric_observe(dm.ingress_latency, values, ms);
}

void dm_resiliency(bool activation, const char *policy, bool inbound, const char *target, const char *status)
{
	const char *values[] = { dm.app_id, dm.ns, inbound ? "inbound" : "outbound", target, policy, status };

	if (!dm.on)
		return;
	metric_add(activation ? dm.resil_activations : dm.resil_count, values, 1);
}

void dm_component_init(const char *type, bool failed)
{
	const char *runtime[] = { dm.app_id, dm.ns };
	const char *init[] = { dm.app_id, dm.ns, type, "init" };

	if (!dm.on)
		return;
	if (failed) {
		metric_add(dm.init_fail, init, 1);
		return;
	}
	metric_add(dm.init, init, 1);
	metric_add(dm.loaded, runtime, 1);
}
