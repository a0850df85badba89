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

#include "secret_flatten.h"

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
	rc = multi ? lf_flatten_multi(doc, s->secrets, s->sep, err)
		   : lf_flatten_single(doc, s->secrets, s->sep, err);
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
