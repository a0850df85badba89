/* SPDX-License-Identifier: Apache-2.0 */
/* The core's side of struct outrig_kv_sink: name/value lists plugins fill (binding metadata, secrets). */
#include "config.h"

#include "base/kv_sink.h"

#include <outrig/status.h>

int kv_sink_put(struct outrig_kv_sink *out, const char *group, const char *name, const char *value)
{
	json_t *target;

	if (out == NULL || name == NULL || value == NULL)
		return OUTRIG_EINVAL;
	if (out->root == NULL && (out->root = json_object()) == NULL)
		return OUTRIG_ENOMEM;
	target = out->root;
	if (group != NULL) {
		target = json_object_get(out->root, group);
		if (target == NULL) {
			target = json_object();
			if (target == NULL || json_object_set_new(out->root, group, target) != 0)
				return OUTRIG_ENOMEM;
		}
	}
	/* json_string refuses text that is not UTF-8: secrets and metadata must be text in Dapr's JSON. */
	return json_object_set_new(target, name, json_string(value)) == 0 ? 0 : OUTRIG_EINVAL;
}
