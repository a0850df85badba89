/* SPDX-License-Identifier: Apache-2.0 */
/* secretstores.local.file: turning the secrets file's JSON into secrets, with no I/O (fuzzed alone). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret_flatten.h"

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

int lf_flatten_single(json_t *doc, json_t *secrets, const char *sep, struct outrig_error *err)
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
		json_t *one;

		if (rc != 0)
			break;
		/* json_object_set_new takes one even when it fails; json_object_set does not. */
		one = json_object();
		if (one == NULL || json_object_set(one, name, value) != 0) {
			json_decref(one);
			rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		} else if (json_object_set_new(secrets, name, one) != 0) {
			rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		}
	}
	json_decref(flat);
	return rc;
}

int lf_flatten_multi(json_t *doc, json_t *secrets, const char *sep, struct outrig_error *err)
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
