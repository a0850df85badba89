/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving secretKeyRef entries of a component's metadata from a secret store, before create(). */
#include "config.h"

#include "components/secret_refs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <outrig/plugin.h>

#include "components/component.h"
#include "base/kv_sink.h"

bool secret_refs_any(const struct res_component *rc)
{
	for (size_t i = 0; i < rc->metadata_count; i++)
		if (rc->metadata[i].value == NULL && rc->metadata[i].secret_store_key_name != NULL)
			return true;
	return false;
}

const char *secret_refs_store(const struct res_component *rc)
{
	return rc->secret_store != NULL && rc->secret_store[0] != '\0' ? rc->secret_store
								       : SECRET_REFS_DEFAULT_STORE;
}

#define secret_refs_err(d, rc, m, fmt, ...)                                                                  \
	diag_error(d, "%s:%d:%d: component %s: spec.metadata[%s] secretKeyRef: " fmt, (rc)->file,            \
		   (m)->pos.line, (m)->pos.column, (rc)->name, (m)->name, __VA_ARGS__)

/* Why the declared store (of type, when found) cannot serve rc's references, or NULL when it can. */
static const char *secret_refs_store_problem(const struct res_component *rc, const char *type, bool found,
					     char *buf, size_t size)
{
	const char *store = secret_refs_store(rc);

	if (!found && rc->secret_store == NULL)
		snprintf(
			buf, size,
			"the component has no auth.secretStore, and Dapr's default store \"%s\" exists only on "
			"Kubernetes; add \"auth: {secretStore: NAME}\" naming a secretstores.* component",
			SECRET_REFS_DEFAULT_STORE);
	else if (!found)
		snprintf(
			buf, size,
			"auth.secretStore \"%s\" is not a component here; declare a secretstores.* component "
			"named %s in a --resources-path folder (and check its scopes)",
			store, store);
	else if (strncmp(type, "secretstores.", 13) != 0)
		snprintf(buf, size, "auth.secretStore \"%s\" is a %s component, not a secret store", store,
			 type);
	else
		return NULL;
	return buf;
}

/* A value config_map accepts for a field of this name, so --check can go on without the secret. */
static const char *secret_refs_placeholder(const struct outrig_field *fields, const char *name)
{
	for (const struct outrig_field *f = fields; f != NULL && f->name != NULL; f++) {
		if (strcasecmp(f->name, name) != 0 && (f->alias == NULL || strcasecmp(f->alias, name) != 0))
			continue;
		switch (f->type) {
		case OUTRIG_FIELD_INT: return "0";
		case OUTRIG_FIELD_BOOL: return "false";
		case OUTRIG_FIELD_DURATION: return "0s";
		default: return "";
		}
	}
	return "";
}

static const struct res_component *secret_refs_declared(const struct res_set *rs, const char *name)
{
	for (size_t i = 0; i < rs->count; i++)
		if (strcmp(rs->components[i].name, name) == 0)
			return &rs->components[i];
	return NULL;
}

/* The names a secret has, for a message: "a, b, c" (names only, never values). */
static void secret_refs_names(json_t *secret, char *buf, size_t size)
{
	const char *name;
	json_t *value;
	size_t used = 0;

	buf[0] = '\0';
	json_object_foreach(secret, name, value)
	{
		int n = snprintf(buf + used, size - used, "%s%s", used > 0 ? ", " : "", name);

		(void)value;
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

/* Reads one reference's value; returns a copy, or NULL after reporting. */
static char *secret_refs_read(struct component *store, const struct res_component *rc,
			      const struct res_metadata *m, struct diag *d)
{
	const struct outrig_secretstore_ops *ops = store->plugin->desc.secretstore;
	struct outrig_secret_request req = { .key = m->secret_store_key_name };
	struct outrig_kv_sink out = { NULL };
	struct outrig_error err = { "" };
	char names[256];
	json_t *value;
	char *copy = NULL;
	int rc_get;

	if (store->instance == NULL) {
		secret_refs_err(d, rc, m, "secret store %s failed to initialise (%s); fix it first",
				store->name, store->failure != NULL ? store->failure : "no instance");
		return NULL;
	}
	rc_get = ops->get(store->instance, &req, &out, &err);
	if (rc_get == OUTRIG_ENOTFOUND) {
		secret_refs_err(
			d, rc, m, "secret store %s has no secret \"%s\" (%s); add it, or fix the name",
			store->name, m->secret_store_key_name, err.message[0] ? err.message : "not found");
	} else if (rc_get != 0) {
		secret_refs_err(d, rc, m, "reading secret \"%s\" from secret store %s failed: %s",
				m->secret_store_key_name, store->name,
				err.message[0] ? err.message : outrig_status_name(rc_get));
	} else if ((value = json_object_get(out.root, m->secret_store_key)) == NULL) {
		secret_refs_names(out.root, names, sizeof(names));
		secret_refs_err(
			d, rc, m,
			"secret \"%s\" of secret store %s has no key \"%s\" (its keys: %s); set key to one "
			"of them, or leave it out to use the secret's name",
			m->secret_store_key_name, store->name, m->secret_store_key,
			names[0] ? names : "none");
	} else if ((copy = strdup(json_string_value(value))) == NULL) {
		diag_error(d, "%s: out of memory", rc->file);
	}
	json_decref(out.root);
	return copy;
}

size_t secret_refs_resolve(const struct components *cs, const struct res_set *rs,
			   const struct res_component *rc, const struct outrig_field *fields, bool create,
			   struct secret_refs_view *out, struct diag *d)
{
	const char *store_name = secret_refs_store(rc);
	const struct res_component *decl;
	const char *problem;
	struct component *store = NULL;
	char why[512];
	size_t errors = 0;

	memset(out, 0, sizeof(*out));
	out->rc = *rc;
	if (!secret_refs_any(rc))
		return 0;
	out->metadata = calloc(rc->metadata_count, sizeof(*out->metadata));
	out->values = calloc(rc->metadata_count, sizeof(*out->values));
	if (out->metadata == NULL || out->values == NULL) {
		diag_error(d, "%s: out of memory", rc->file);
		return 1;
	}
	memcpy(out->metadata, rc->metadata, rc->metadata_count * sizeof(*out->metadata));
	out->rc.metadata = out->metadata;
	decl = secret_refs_declared(rs, store_name);
	problem =
		secret_refs_store_problem(rc, decl != NULL ? decl->type : "", decl != NULL, why, sizeof(why));
	/* --check lists what it passed in cs too, so that a store made too late is found there as well. */
	if (problem == NULL && (store = components_find(cs, store_name)) == NULL) {
		snprintf(why, sizeof(why),
			 "secret store %s was not created before this component (it was skipped, or it takes "
			 "its own metadata from a store that needs this one)",
			 store_name);
		problem = why;
	}
	for (size_t i = 0; i < rc->metadata_count; i++) {
		struct res_metadata *m = &out->metadata[i];

		if (m->value != NULL || m->secret_store_key_name == NULL)
			continue;
		if (problem != NULL) {
			secret_refs_err(d, rc, m, "%s", problem);
			errors++;
			continue;
		}
		if (!create) {
			m->value = (char *)secret_refs_placeholder(fields, m->name);
			continue;
		}
		out->values[out->nvalues] = secret_refs_read(store, rc, m, d);
		if (out->values[out->nvalues] == NULL) {
			errors++;
			continue;
		}
		m->value = out->values[out->nvalues++];
	}
	return errors;
}

void secret_refs_view_free(struct secret_refs_view *out)
{
	for (size_t i = 0; i < out->nvalues; i++) {
		/* A password should not linger in freed memory for a core dump to show. */
		explicit_bzero(out->values[i], strlen(out->values[i]));
		free(out->values[i]);
	}
	free(out->values);
	free(out->metadata);
	memset(out, 0, sizeof(*out));
}
