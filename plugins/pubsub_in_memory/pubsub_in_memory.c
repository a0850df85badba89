/* SPDX-License-Identifier: Apache-2.0 */
/* pubsub.in-memory: placeholder until the plugin lands (refused by the loader: no pub/sub operations). */
#include <outrig/plugin.h>

static const struct outrig_plugin placeholder = {
	OUTRIG_PLUGIN_HEADER,
	.type = "pubsub.in-memory",
};

OUTRIG_PLUGIN(placeholder)
