/* SPDX-License-Identifier: Apache-2.0 */
/* secretstores.local.file: secrets from a JSON file, read once at create() (Dapr's local file store). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <outrig/plugin.h>

#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.0.0"
#endif

/*
 * The secrets: an object of secret name -> object of value name -> string. Built once and only
 * read afterwards, so operations may run at the same time (jansson reads do not write).
 */
struct lf_store {
	const struct outrig_host *host;
	json_t *secrets;
	char *sep;
};

static const struct outrig_field lf_fields[] = {
	{ "secretsFile", OUTRIG_FIELD_STRING, NULL, true,
	  "path of the JSON file (relative paths from outrigd's working directory)", NULL },
	{ "nestedSeparator", OUTRIG_FIELD_STRING, ":", false, "joins the keys of nested objects in names",
	  NULL },
	{ "multiValued", OUTRIG_FIELD_BOOL, "false", false,
	  "each top-level key is one secret, its object the secret's values", NULL },
	{ NULL, 0, NULL, false, NULL, NULL },
};

/* A leaf as text: strings as they are, numbers, booleans and null as JSON writes them (null as ""). */
static char *lf_text(json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_null(v))
		return strdup("");
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* Adds name=leaf to the values object into; a name made twice (a:b and {a:{b}}) is an error. */
static int lf_put(json_t *into, const char *name, json_t *leaf, struct outrig_error *err)
{
	char *text;
	int rc;

	if (json_object_get(into, name) != NULL)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"the secrets file gives \"%s\" twice once nested keys are joined; rename one", name);
	text = lf_text(leaf);
	if (text == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	rc = json_object_set_new(into, name, json_string(text)) == 0 ? 0 : OUTRIG_ENOMEM;
	free(text);
	return rc == 0 ? 0 : outrig_err(err, rc, "out of memory");
}

/*
 * Flattens v, found at path, into leaves of the object into: objects' keys and arrays' indexes
 * joined to path with sep (Dapr's "db:password", "list:0").
 */
static int lf_flatten(json_t *into, const char *path, json_t *v, const char *sep, struct outrig_error *err)
{
	char *child;
	int rc = 0;

	if (json_is_object(v)) {
		const char *k;
		json_t *sub;

		json_object_foreach(v, k, sub)
		{
			if (path == NULL)
				child = strdup(k);
			else if (asprintf(&child, "%s%s%s", path, sep, k) < 0)
				child = NULL;
			if (child == NULL)
				return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
			rc = lf_flatten(into, child, sub, sep, err);
			free(child);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *sub;

		json_array_foreach(v, i, sub)
		{
			if (path == NULL ? asprintf(&child, "%zu", i) < 0
					 : asprintf(&child, "%s%s%zu", path, sep, i) < 0)
				return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
			rc = lf_flatten(into, child, sub, sep, err);
			free(child);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	return lf_put(into, path != NULL ? path : "", v, err);
}

/* Default mode: every leaf is a secret of one value, both named by its flattened path. */
static int lf_build_single(json_t *doc, json_t *secrets, const char *sep, struct outrig_error *err)
{
	json_t *flat = json_object();
	const char *name;
	json_t *value;
	int rc;

	if (flat == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	rc = lf_flatten(flat, NULL, doc, sep, err);
	json_object_foreach(flat, name, value)
	{
		json_t *one = json_object();

		if (rc != 0)
			break;
		if (one == NULL || json_object_set(one, name, value) != 0 ||
		    json_object_set_new(secrets, name, one) != 0)
			rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	json_decref(flat);
	return rc;
}

/*
 * multiValued: each top-level key is a secret; an object's leaves (flattened below it) are its
 * values, a scalar is one value named like the secret. Dapr drops top-level arrays and nulls.
 */
static int lf_build_multi(json_t *doc, json_t *secrets, const char *sep, struct outrig_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(doc, key, v)
	{
		json_t *values;
		int rc;

		if (json_is_array(v) || json_is_null(v))
			continue;
		if ((values = json_object()) == NULL || json_object_set_new(secrets, key, values) != 0)
			return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		rc = json_is_object(v) ? lf_flatten(values, NULL, v, sep, err) : lf_put(values, key, v, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void lf_destroy(void *instance)
{
	struct lf_store *s = instance;

	if (s == NULL)
		return;
	json_decref(s->secrets);
	free(s->sep);
	free(s);
}

static int lf_create(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	const char *path = outrig_config_string(cfg, "secretsFile", "");
	const char *sep = outrig_config_string(cfg, "nestedSeparator", ":");
	bool multi = outrig_config_int(cfg, "multiValued", 0) != 0;
	struct lf_store *s;
	json_error_t jerr;
	json_t *doc;
	int rc;

	(void)self;
	if (*path == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "secretsFile is empty; give the path of a JSON file of secrets");
	doc = json_load_file(path, 0, &jerr);
	if (doc == NULL) {
		FILE *f = fopen(path, "r");

		if (f == NULL)
			return outrig_err(
				err, OUTRIG_EINVAL,
				"secretsFile %s cannot be opened: %s (relative paths start from outrigd's "
				"working directory)",
				path, strerror(errno));
		fclose(f);
		return outrig_err(err, OUTRIG_EINVAL, "secretsFile %s:%d:%d: not valid JSON: %s", path,
				  jerr.line, jerr.column, jerr.text);
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		return outrig_err(err, OUTRIG_EINVAL,
				  "secretsFile %s holds no JSON object; write {\"name\": \"value\", ...}",
				  path);
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->secrets = json_object()) == NULL ||
	    (s->sep = strdup(*sep != '\0' ? sep : ":")) == NULL) {
		json_decref(doc);
		lf_destroy(s);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	s->host = host;
	rc = multi ? lf_build_multi(doc, s->secrets, s->sep, err)
		   : lf_build_single(doc, s->secrets, s->sep, err);
	json_decref(doc);
	if (rc != 0) {
		lf_destroy(s);
		return rc;
	}
	*instance = s;
	return 0;
}

static int lf_put_secret(const struct lf_store *s, struct outrig_kv_sink *out, const char *group,
			 json_t *values, struct outrig_error *err)
{
	const char *name;
	json_t *v;

	json_object_foreach(values, name, v)
	{
		if (s->host->kv_put(out, group, name, json_string_value(v)) != 0)
			return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	return 0;
}

static int lf_get(void *instance, const struct outrig_secret_request *req, struct outrig_kv_sink *out,
		  struct outrig_error *err)
{
	const struct lf_store *s = instance;
	/* A name looked up in the table read at create(): never a path, whatever it holds. */
	json_t *values = json_object_get(s->secrets, req->key);

	if (values == NULL)
		return outrig_err(err, OUTRIG_ENOTFOUND, "secret %s not found", req->key);
	return lf_put_secret(s, out, NULL, values, err);
}

static int lf_bulk_get(void *instance, const struct outrig_metadata *metadata, struct outrig_kv_sink *out,
		       struct outrig_error *err)
{
	const struct lf_store *s = instance;
	const char *key;
	json_t *values;

	(void)metadata;
	json_object_foreach(s->secrets, key, values)
	{
		int rc = lf_put_secret(s, out, key, values, err);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static const struct outrig_secretstore_ops lf_ops = {
	.struct_size = sizeof(struct outrig_secretstore_ops),
	.get = lf_get,
	.bulk_get = lf_bulk_get,
};

static const char *const lf_versions[] = { "v1", NULL };

static const struct outrig_plugin lf_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "secretstores.local.file",
	.versions = lf_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "secrets from a local JSON file (development)",
	.fields = lf_fields,
	.create = lf_create,
	.destroy = lf_destroy,
	.secretstore = &lf_ops,
};

OUTRIG_PLUGIN(lf_plugin)
