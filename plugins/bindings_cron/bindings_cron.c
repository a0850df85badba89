/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.cron: placeholder until the plugin lands (refused by the loader: no operations). */
#include <outrig/plugin.h>

static const struct outrig_plugin placeholder = {
	OUTRIG_PLUGIN_HEADER,
	.type = "bindings.cron",
};

OUTRIG_PLUGIN(placeholder)
