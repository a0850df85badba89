/* SPDX-License-Identifier: Apache-2.0 */
/* Checking a component's spec.metadata against its plugin's declared fields. */
#ifndef OUTRIG_CORE_CONFIG_MAP_H
#define OUTRIG_CORE_CONFIG_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <outrig/config.h>

#include "base/diag.h"
#include "resources/resources.h"

/* The view handed to create(), with the storage behind it. */
struct config_view {
	struct outrig_config config;
	struct outrig_config_value *values;
};

/*
 * Builds the view of rc's metadata for a plugin with the given fields: each declared
 * field typed and defaulted, then the undeclared keys (a warning each, except the
 * runtime's own keys such as keyPrefix). Problems go into d with file:line:column.
 * Returns the number of errors added; the view is usable only when that is 0.
 */
size_t config_view_build(const struct res_component *rc, const struct outrig_field *fields,
			 const char *app_id, struct config_view *out, struct diag *d);

void config_view_free(struct config_view *view);

/* Parses text as a value of type; false if it is not one. INT/BOOL/DURATION fill *out. */
bool config_value_parse(enum outrig_field_type type, const char *text, int64_t *out);

/* "string", "integer", "boolean", "duration". */
const char *config_type_name(enum outrig_field_type type);

/* Prints a plugin's fields as a table, for --describe-plugin. */
void config_fields_print(const struct outrig_field *fields);

#endif /* OUTRIG_CORE_CONFIG_MAP_H */
