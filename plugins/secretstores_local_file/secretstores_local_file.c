/* SPDX-License-Identifier: Apache-2.0 */
/* secretstores.local.file: placeholder until the plugin lands (refused by the loader: no operations). */
#include <outrig/plugin.h>

static const struct outrig_plugin placeholder = {
	OUTRIG_PLUGIN_HEADER,
	.type = "secretstores.local.file",
};

OUTRIG_PLUGIN(placeholder)
