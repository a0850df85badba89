/* SPDX-License-Identifier: Apache-2.0 */
/* nameresolution.kubernetes: placeholder until the plugin lands (refused by the loader: no operations). */
#include <outrig/plugin.h>

static const struct outrig_plugin placeholder = {
	OUTRIG_PLUGIN_HEADER,
	.type = "nameresolution.kubernetes",
};

OUTRIG_PLUGIN(placeholder)
