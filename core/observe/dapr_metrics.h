/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sidecar's metrics under Dapr's names and labels (dapr/dapr docs/development/dapr-metrics.md):
 * HTTP and gRPC servers and clients, component operations, component initialisation. Each
 * recorder does nothing while metrics are off. Latencies are milliseconds (metrics_now_ms).
 * Thread: any (metrics.h records lock-free); dm_setup at start-up, before the others.
 */
#ifndef OUTRIG_CORE_OBSERVE_DAPR_METRICS_H
#define OUTRIG_CORE_OBSERVE_DAPR_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct cfg_observe;

/*
 * Makes the metrics for app_id with cfg's settings (NULL: Dapr's defaults): buckets, and how
 * HTTP paths become labels. enabled false turns every recorder off.
 * Ownership: app_id and cfg are read now and not kept.
 */
void dm_setup(const char *app_id, const struct cfg_observe *cfg, bool enabled);

/*
 * The path label of an HTTP path (without its query), bounded as Dapr bounds it: Dapr's own
 * static paths as they are; the first spec.metric.http.pathMatching pattern that matches
 * ("/orders/{id}"); else "" when increasedCardinality is false; else the path, with state and
 * secret keys cut off (/v1.0/state/store). Ownership: the result is path, a pattern or buf.
 */
const char *dm_http_path(const char *path, char *buf, size_t size);

/* One request the HTTP API answered: dapr_http_server_request_count, _latency, _response_count. */
void dm_http_server(const char *method, const char *path, int status, double ms);

/*
 * Body sizes in bytes, as daprd measures them (histograms with Dapr's size buckets):
 * dapr_http_server_request_bytes (the request's Content-Length) and _response_bytes; for a call
 * to the app or another sidecar, dapr_http_client_sent_bytes and _received_bytes; for the gRPC API,
 * dapr_grpc_io_server_received_bytes_per_rpc and _sent_bytes_per_rpc (messages without their
 * 5-byte prefix; 0 sent for an error); for gRPC calls outrig makes, dapr_grpc_io_client_*_bytes_per_rpc.
 */
void dm_http_server_bytes(size_t request, size_t response);
void dm_http_client_bytes(const char *method, const char *path, size_t sent, size_t received);
void dm_grpc_server_bytes(const char *method, size_t received, size_t sent);
void dm_grpc_client_bytes(const char *method, size_t sent, size_t received);

/* One call to the app or another sidecar over HTTP (status 0: no answer): dapr_http_client_*. */
void dm_http_client(const char *method, const char *path, int status, double ms);

/* One call the gRPC API answered (method "/pkg.Service/Method", code its grpc-status): dapr_grpc_io_server_*. */
void dm_grpc_server(const char *method, int code, double ms);

/* One gRPC call to the app or another sidecar: dapr_grpc_io_client_*. */
void dm_grpc_client(const char *method, int code, double ms);

enum dm_kind {
	DM_STATE,	   /* dapr_component_state_count / _latencies, by operation */
	DM_SECRET,	   /* dapr_component_secret_*, by operation */
	DM_OUTPUT_BINDING, /* dapr_component_output_binding_*, by operation */
	DM_INPUT_BINDING,  /* dapr_component_input_binding_* (what is NULL) */
	DM_PUBSUB_EGRESS,  /* dapr_component_pubsub_egress_*, what is the topic */
};

/* One operation on a component: what is the operation (get, set, ...) or the topic, by kind. */
void dm_component(enum dm_kind kind, const char *component, const char *what, bool success, double ms);

/*
 * One message delivered to the app from a pub/sub component: process_status success, retry or
 * drop, as Dapr labels them. dapr_component_pubsub_ingress_count / _latencies.
 */
void dm_pubsub_ingress(const char *component, const char *topic, const char *process_status, double ms);

/*
 * Resiliency (Dapr's names): activation false, dapr_resiliency_count, a policy applied to one
 * attempt; true, dapr_resiliency_activations_total, a policy that acted (a timeout fired, a
 * retry made, a breaker refused). policy is "timeout", "retry" or "circuitbreaker"; target
 * "app_<id>" or "component_<name>" as daprd labels them; status the breaker's ("open") or "".
 */
void dm_resiliency(bool activation, const char *policy, bool inbound, const char *target, const char *status);

/*
 * A component's initialisation at start-up (or reload): dapr_runtime_component_init_total, or
 * _init_fail_total with reason "init" when failed; and dapr_runtime_component_loaded when not.
 */
void dm_component_init(const char *type, bool failed);

#endif /* OUTRIG_CORE_OBSERVE_DAPR_METRICS_H */
