/* SPDX-License-Identifier: Apache-2.0 */
/* secretstores.local.env: outrigd's environment variables as secrets (Dapr's local env store). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <outrig/plugin.h>

#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.0.0"
#endif

extern char **environ;

struct le_store {
	const struct outrig_host *host;
	struct outrig_handle *self;
	char *prefix; /* "" when none */
};

static const struct outrig_field le_fields[] = {
	{ "prefix", OUTRIG_FIELD_STRING, "", false,
	  "only variables starting with it are secrets, named without it (case-sensitive)", NULL },
	{ NULL, 0, NULL, false, NULL, NULL },
};

/* As daprd: the sidecar's own token and settings are never secrets, whatever the case. */
static bool le_allowed(const char *name, size_t len)
{
	return !(len == strlen("APP_API_TOKEN") && strncasecmp(name, "APP_API_TOKEN", len) == 0) &&
	       !(len >= 5 && strncasecmp(name, "DAPR_", 5) == 0);
}

static int le_create(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	struct le_store *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->prefix = strdup(outrig_config_string(cfg, "prefix", ""))) == NULL) {
		free(s);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	s->host = host;
	s->self = self;
	*instance = s;
	return 0;
}

static void le_destroy(void *instance)
{
	struct le_store *s = instance;

	if (s != NULL)
		free(s->prefix);
	free(s);
}

static int le_get(void *instance, const struct outrig_secret_request *req, struct outrig_kv_sink *out,
		  struct outrig_error *err)
{
	const struct le_store *s = instance;
	size_t plen = strlen(s->prefix), klen = strlen(req->key);
	char *name = malloc(plen + klen + 1);
	const char *value;
	int rc;

	if (name == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	memcpy(name, s->prefix, plen);
	memcpy(name + plen, req->key, klen + 1);
	if (!le_allowed(name, plen + klen)) {
		s->host->log(s->self, OUTRIG_LOG_WARN, "access to environment variable %s is forbidden",
			     name);
		free(name);
		return outrig_err(
			err, OUTRIG_EINVAL,
			"environment variable %s is not a secret (APP_API_TOKEN and DAPR_* never are)",
			req->key);
	}
	/*
	 * daprd answers an unset variable with an empty value; outrig says it is not there, so that a
	 * secretKeyRef to a misspelt variable stops start-up instead of passing "".
	 */
	value = getenv(name);
	free(name);
	if (value == NULL)
		return outrig_err(err, OUTRIG_ENOTFOUND, "environment variable %s%s is not set", s->prefix,
				  req->key);
	rc = s->host->kv_put(out, NULL, req->key, value);
	if (rc == OUTRIG_EINVAL)
		return outrig_err(err, OUTRIG_EINVAL, "environment variable %s%s is not UTF-8 text",
				  s->prefix, req->key);
	return rc == 0 ? 0 : outrig_err(err, rc, "out of memory");
}

static int le_bulk_get(void *instance, const struct outrig_metadata *metadata, struct outrig_kv_sink *out,
		       struct outrig_error *err)
{
	const struct le_store *s = instance;
	size_t plen = strlen(s->prefix);

	(void)metadata;
	for (char **e = environ; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		size_t len = eq != NULL ? (size_t)(eq - *e) : 0;
		char *name;
		int rc;

		if (eq == NULL || len <= plen || strncmp(*e, s->prefix, plen) != 0 || !le_allowed(*e, len))
			continue;
		name = strndup(*e + plen, len - plen);
		if (name == NULL)
			return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		rc = s->host->kv_put(out, name, name, eq + 1);
		free(name);
		/* A variable that is not UTF-8 text cannot go into Dapr's JSON answer: left out. */
		if (rc != 0 && rc != OUTRIG_EINVAL)
			return outrig_err(err, rc, "out of memory");
	}
	return 0;
}

static const struct outrig_secretstore_ops le_ops = {
	.struct_size = sizeof(struct outrig_secretstore_ops),
	.get = le_get,
	.bulk_get = le_bulk_get,
};

static const char *const le_versions[] = { "v1", NULL };

static const struct outrig_plugin le_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "secretstores.local.env",
	.versions = le_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "outrigd's environment variables as secrets (development)",
	.fields = le_fields,
	.create = le_create,
	.destroy = le_destroy,
	.secretstore = &le_ops,
};

OUTRIG_PLUGIN(le_plugin)
