/* SPDX-License-Identifier: Apache-2.0 */
/* The core's side of the plugin host table. */
#ifndef OUTRIG_CORE_HOST_H
#define OUTRIG_CORE_HOST_H

#include <outrig/host.h>

struct component;

/* What a plugin or component handle is inside the core. */
struct outrig_handle {
	const char *name;	     /* log scope: the plugin type or the component name */
	struct component *component; /* NULL for a plugin's own handle */
};

/* The one host table every plugin receives. */
extern struct outrig_host host_table;

/* Sets the data folder plugins are told about (host->data_dir); call before loading plugins. */
void host_set_data_dir(const char *dir);

#endif /* OUTRIG_CORE_HOST_H */
