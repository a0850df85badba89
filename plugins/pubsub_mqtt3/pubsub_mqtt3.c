/* SPDX-License-Identifier: Apache-2.0 */
/* pubsub.mqtt3: placeholder until the plugin lands (refused by the loader: no pub/sub operations). */
#include <outrig/plugin.h>

static const struct outrig_plugin placeholder = {
	OUTRIG_PLUGIN_HEADER,
	.type = "pubsub.mqtt3",
};

OUTRIG_PLUGIN(placeholder)
