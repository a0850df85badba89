/* SPDX-License-Identifier: Apache-2.0 */
/* A Configuration's spec.tracing: sampling and exporters, read into trace settings. */
#ifndef OUTRIG_CORE_CONFIGURATION_TRACING_H
#define OUTRIG_CORE_CONFIGURATION_TRACING_H

#include <yaml.h>

#include "base/diag.h"
#include "observe/trace.h"

/*
 * Reads spec.tracing (value) of path into out, replacing what an earlier file set. Settings
 * outrig cannot honour (otel over gRPC, isSecure: true, https endpoints) are errors at their
 * file:line; unknown fields are warnings. Returns the number of errors added.
 */
size_t cfg_tracing_read(yaml_document_t *doc, const char *path, yaml_node_t *value, struct trace_settings *out,
			struct diag *d);

/* Frees what out holds. */
void cfg_tracing_free(struct trace_settings *out);

#endif /* OUTRIG_CORE_CONFIGURATION_TRACING_H */
