/* SPDX-License-Identifier: Apache-2.0 */
/* The components outrigd serves when given no --resources-path: SQLite state and in-memory pub/sub, as `dapr init`. */
#ifndef OUTRIG_CORE_EMBEDDED_H
#define OUTRIG_CORE_EMBEDDED_H

#include "base/diag.h"
#include "resources/resources.h"

/*
 * Adds a component "statestore" of type state.sqlite whose database is
 * data_dir/state.db (data_dir NULL: $XDG_DATA_HOME/outrig, else ~/.local/share/outrig),
 * creating the folder if needed, and a component "pubsub" of type pubsub.in-memory.
 * Returns the number of errors added to d.
 */
size_t embedded_components(const char *data_dir, struct res_set *out, struct diag *d);

#endif /* OUTRIG_CORE_EMBEDDED_H */
