/* SPDX-License-Identifier: Apache-2.0 */
/* The core's side of struct outrig_kv_sink: name/value lists plugins fill (binding metadata, secrets). */
#ifndef OUTRIG_CORE_KV_SINK_H
#define OUTRIG_CORE_KV_SINK_H

#include <jansson.h>

/*
 * A JSON object: name -> value, or, for entries put with a group, group -> {name -> value}
 * (the shapes of Dapr's secret and bulk secret answers).
 */
struct outrig_kv_sink {
	json_t *root;
};

/* host->kv_put. Returns 0, OUTRIG_EINVAL (NULL name or value) or OUTRIG_ENOMEM. Thread: any (one at a time). */
int kv_sink_put(struct outrig_kv_sink *out, const char *group, const char *name, const char *value);

#endif /* OUTRIG_CORE_KV_SINK_H */
