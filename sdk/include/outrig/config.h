/* SPDX-License-Identifier: Apache-2.0 */
/* A plugin's declared metadata fields, and the typed read-only view of a component's metadata. */
#ifndef OUTRIG_CONFIG_H
#define OUTRIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

/* How the core parses and checks a metadata value before the plugin sees it. */
enum outrig_field_type {
	OUTRIG_FIELD_STRING = 0,
	OUTRIG_FIELD_INT = 1,	   /* decimal integer, 64-bit signed */
	OUTRIG_FIELD_BOOL = 2,	   /* true/false, yes/no, 1/0, on/off (any case) */
	OUTRIG_FIELD_DURATION = 3, /* Go duration ("1h30m", "500ms") or bare seconds ("30") */
};

/*
 * One entry of a plugin's config map, the list of metadata fields it understands.
 * The core validates spec.metadata against it before create(), fills defaults, and
 * prints it for `outrigd --describe-plugin TYPE`. A map ends with an entry whose
 * name is NULL.
 */
struct outrig_field {
	const char *name; /* Dapr's metadata name, matched case-insensitively */
	enum outrig_field_type type;
	const char *default_value; /* text parsed like a YAML value; NULL = no default */
	bool required;
	const char *description; /* one line */
	/*
	 * An older name Dapr still accepts (e.g. "timeoutInSeconds"), or NULL; the core
	 * reads it when the name itself is absent.
	 */
	const char *alias;
};

/* One metadata value after validation. */
struct outrig_config_value {
	const char *name; /* as spelled in the plugin's map (or the YAML, if unknown) */
	const char *text; /* the raw text; NULL when unset and without default */
	bool is_set;	  /* given in the YAML or by a default */
	bool known;	  /* listed in the plugin's map */
	enum outrig_field_type type;
	int64_t int_value; /* INT: the value; BOOL: 0 or 1; DURATION: milliseconds */
};

/*
 * What create() gets: every field of the plugin's map (set or not) followed by the
 * unknown keys of the YAML, all already checked against their declared types.
 * Ownership: the core's; valid only during create(): copy what you keep.
 */
struct outrig_config {
	uint32_t struct_size;
	const char *component; /* metadata.name of the component */
	const char *type;      /* spec.type, e.g. "state.sqlite" */
	const char *version;   /* spec.version, e.g. "v1" */
	const char *app_id;    /* --app-id of this sidecar; "" when none */
	size_t count;
	const struct outrig_config_value *values;
	/*
	 * ABI 1.1: the component's spec.initTimeout (default 5 s), in milliseconds. A plugin
	 * whose create() waits for a server (connecting, retrying) gives up once this has
	 * passed, and says why. Read it only when cfg->struct_size covers it.
	 */
	int64_t init_timeout_ms;
};

/* The init timeout create() should honour: the component's, or 5 s from a 1.0 core. */
static inline int64_t outrig_config_init_timeout_ms(const struct outrig_config *cfg)
{
	return cfg->struct_size >= offsetof(struct outrig_config, init_timeout_ms) + sizeof(int64_t)
		       ? cfg->init_timeout_ms
		       : 5000;
}

/*
 * Finds a value by name (case-insensitively, as Dapr does). NULL if absent.
 * Ownership: points into cfg. Thread: any.
 */
static inline const struct outrig_config_value *outrig_config_find(const struct outrig_config *cfg,
								   const char *name)
{
	for (size_t i = 0; i < cfg->count; i++)
		if (strcasecmp(cfg->values[i].name, name) == 0)
			return &cfg->values[i];
	return NULL;
}

/*
 * The text of a field, or fallback when it is unset.
 * Ownership: points into cfg (valid during create()). Thread: any.
 */
static inline const char *outrig_config_string(const struct outrig_config *cfg, const char *name,
					       const char *fallback)
{
	const struct outrig_config_value *v = outrig_config_find(cfg, name);

	return v != NULL && v->is_set && v->text != NULL ? v->text : fallback;
}

/*
 * The parsed number of an INT, BOOL or DURATION (milliseconds) field, or fallback when unset.
 * Ownership: none. Thread: any.
 */
static inline int64_t outrig_config_int(const struct outrig_config *cfg, const char *name, int64_t fallback)
{
	const struct outrig_config_value *v = outrig_config_find(cfg, name);

	return v != NULL && v->is_set && v->type != OUTRIG_FIELD_STRING ? v->int_value : fallback;
}

#endif /* OUTRIG_CONFIG_H */
