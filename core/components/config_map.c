/* SPDX-License-Identifier: Apache-2.0 */
/* Checking a component's spec.metadata against its plugin's declared fields. */
#include "components/config_map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/duration.h"
#include "blocks/pubsub/pubsub_scopes.h"

/* Metadata the runtime itself reads (API.md §9.1); plugins never declare them. */
static const char *const config_runtime_keys[] = {
	"keyPrefix", "actorStateStore", "consumerID", "direction", "route", NULL,
};

/* Read by the runtime for pubsub.* components only: topic scoping (pubsub_scopes.c). */
static const char *const config_pubsub_runtime_keys[] = {
	PUBSUB_SCOPES_PUBLISHING,
	PUBSUB_SCOPES_SUBSCRIPTION,
	PUBSUB_SCOPES_ALLOWED,
	PUBSUB_SCOPES_PROTECTED,
	NULL,
};

const char *config_type_name(enum outrig_field_type type)
{
	switch (type) {
	case OUTRIG_FIELD_STRING: return "string";
	case OUTRIG_FIELD_INT: return "integer";
	case OUTRIG_FIELD_BOOL: return "boolean";
	case OUTRIG_FIELD_DURATION: return "duration";
	}
	return "value";
}

static const char *config_type_example(enum outrig_field_type type)
{
	switch (type) {
	case OUTRIG_FIELD_INT: return "a whole number such as 10";
	case OUTRIG_FIELD_BOOL: return "true or false";
	case OUTRIG_FIELD_DURATION: return "a duration such as 30s, 5m or 1h";
	default: return "text";
	}
}

bool config_value_parse(enum outrig_field_type type, const char *text, int64_t *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	char *end;
	long long n;

	switch (type) {
	case OUTRIG_FIELD_STRING: return true;
	case OUTRIG_FIELD_INT:
		errno = 0;
		n = strtoll(text, &end, 10);
		if (end == text || *end != '\0' || errno != 0)
			return false;
		*out = n;
		return true;
	case OUTRIG_FIELD_BOOL:
		for (int i = 0; yes[i] != NULL; i++) {
			if (strcasecmp(text, yes[i]) == 0) {
				*out = 1;
				return true;
			}
			if (strcasecmp(text, no[i]) == 0) {
				*out = 0;
				return true;
			}
		}
		return false;
	case OUTRIG_FIELD_DURATION: return duration_parse_ms(text, out);
	}
	return false;
}

static const struct res_metadata *config_lookup(const struct res_component *rc, const char *name)
{
	for (size_t i = 0; i < rc->metadata_count; i++)
		if (strcasecmp(rc->metadata[i].name, name) == 0)
			return &rc->metadata[i];
	return NULL;
}

static bool config_is_declared(const struct outrig_field *fields, const char *name)
{
	for (const struct outrig_field *f = fields; f != NULL && f->name != NULL; f++)
		if (strcasecmp(f->name, name) == 0 || (f->alias != NULL && strcasecmp(f->alias, name) == 0))
			return true;
	return false;
}

static bool config_is_runtime_key(const char *type, const char *name)
{
	for (int i = 0; config_runtime_keys[i] != NULL; i++)
		if (strcasecmp(config_runtime_keys[i], name) == 0)
			return true;
	if (strncmp(type, "pubsub.", 7) != 0)
		return false;
	for (int i = 0; config_pubsub_runtime_keys[i] != NULL; i++)
		if (strcasecmp(config_pubsub_runtime_keys[i], name) == 0)
			return true;
	return false;
}

/*
 * Secret references are resolved (core/secret_refs.c) before the config map sees a component; one
 * that reaches it unresolved must fail loudly rather than read as unset.
 */
static bool config_is_secret_ref(const struct res_component *rc, const struct res_metadata *m, struct diag *d)
{
	if (m->value != NULL || m->secret_store_key_name == NULL)
		return false;
	diag_error(
		d,
		"%s:%d:%d: spec.metadata[%s]: secretKeyRef was not resolved; name its secret store in auth.secretStore",
		rc->file, m->pos.line, m->pos.column, m->name);
	return true;
}

/* Fills v from a declared field and what the YAML says of it. Returns 1 on an error. */
static size_t config_fill_declared(const struct res_component *rc, const struct outrig_field *f,
				   struct outrig_config_value *v, struct diag *d)
{
	const struct res_metadata *m = config_lookup(rc, f->name);

	/* The current name wins over an older one when a file has both. */
	if (m == NULL && f->alias != NULL)
		m = config_lookup(rc, f->alias);

	v->name = f->name;
	v->type = f->type;
	v->known = true;
	if (m != NULL && config_is_secret_ref(rc, m, d))
		return 1;
	/* daprd reads an empty number, flag or duration as unset: dapr init's files rely on it. */
	if (m != NULL && m->value != NULL && (m->value[0] != '\0' || f->type == OUTRIG_FIELD_STRING)) {
		v->text = m->value;
		v->is_set = true;
		if (!config_value_parse(f->type, m->value, &v->int_value)) {
			diag_error(d, "%s:%d:%d: spec.metadata[%s]: \"%s\" is not a valid %s; use %s",
				   rc->file, m->pos.line, m->pos.column, m->name, m->value,
				   config_type_name(f->type), config_type_example(f->type));
			return 1;
		}
		return 0;
	}
	if (f->required) {
		diag_error(d,
			   "%s:%d:%d: spec.metadata: %s needs \"%s\" (%s); add it as {name: %s, value: ...}",
			   rc->file, rc->type_pos.line, rc->type_pos.column, rc->type, f->name,
			   f->description != NULL ? f->description : config_type_name(f->type), f->name);
		return 1;
	}
	if (f->default_value != NULL) {
		v->text = f->default_value;
		v->is_set = true;
		/* A default the plugin cannot parse is the plugin's bug; it reads as unset. */
		if (!config_value_parse(f->type, f->default_value, &v->int_value))
			v->is_set = false;
	}
	return 0;
}

size_t config_view_build(const struct res_component *rc, const struct outrig_field *fields,
			 const char *app_id, struct config_view *out, struct diag *d)
{
	size_t nfields = 0, n = 0, errors = 0;

	memset(out, 0, sizeof(*out));
	for (const struct outrig_field *f = fields; f != NULL && f->name != NULL; f++)
		nfields++;
	out->values = calloc(nfields + rc->metadata_count + 1, sizeof(*out->values));
	if (out->values == NULL) {
		diag_error(d, "%s: out of memory", rc->file);
		return 1;
	}
	for (size_t i = 0; i < nfields; i++)
		errors += config_fill_declared(rc, &fields[i], &out->values[n++], d);
	for (size_t i = 0; i < rc->metadata_count; i++) {
		const struct res_metadata *m = &rc->metadata[i];
		struct outrig_config_value *v;

		if (config_is_declared(fields, m->name))
			continue;
		if (config_is_secret_ref(rc, m, d)) {
			errors++;
			continue;
		}
		if (!config_is_runtime_key(rc->type, m->name))
			diag_warn(
				d,
				"%s:%d:%d: spec.metadata[%s]: %s does not use this key; it is ignored (see outrigd --describe-plugin %s)",
				rc->file, m->pos.line, m->pos.column, m->name, rc->type, rc->type);
		v = &out->values[n++];
		v->name = m->name;
		v->text = m->value;
		v->is_set = m->value != NULL;
		v->type = OUTRIG_FIELD_STRING;
	}
	out->config.struct_size = sizeof(out->config);
	out->config.component = rc->name;
	out->config.type = rc->type;
	out->config.version = rc->version;
	out->config.app_id = app_id != NULL ? app_id : "";
	out->config.count = n;
	out->config.values = out->values;
	out->config.init_timeout_ms = rc->init_timeout_ms;
	return errors;
}

void config_view_free(struct config_view *view)
{
	free(view->values);
	memset(view, 0, sizeof(*view));
}

void config_fields_print(const struct outrig_field *fields)
{
	printf("%-24s %-9s %-9s %-12s %s\n", "NAME", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION");
	for (const struct outrig_field *f = fields; f != NULL && f->name != NULL; f++)
		printf("%-24s %-9s %-9s %-12s %s%s%s%s\n", f->name, config_type_name(f->type),
		       f->required ? "yes" : "no", f->default_value != NULL ? f->default_value : "-",
		       f->description != NULL ? f->description : "", f->alias != NULL ? " (also: " : "",
		       f->alias != NULL ? f->alias : "", f->alias != NULL ? ")" : "");
}
