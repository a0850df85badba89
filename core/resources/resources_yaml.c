/* SPDX-License-Identifier: Apache-2.0 */
/* Reading libyaml's document tree the way Dapr's YAML decoder sees it, and reporting on it. */
#include "config.h"

#include "resources/resources_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deep enough for any real metadata value; stops alias loops such as "&a [*a]". */
#define RES_YAML_MAX_DEPTH 64

bool res_yaml_is_null(const yaml_node_t *n)
{
	const char *t;

	if (n == NULL)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	t = res_yaml_text(n);
	return *t == '\0' || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 || strcmp(t, "Null") == 0 ||
	       strcmp(t, "NULL") == 0;
}

const char *res_yaml_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "text";
	}
}

yaml_node_t *res_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	yaml_node_t *found = NULL;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (res_yaml_is_scalar(k) && strcmp(res_yaml_text(k), key) == 0)
			found = yaml_document_get_node(doc, p->value);
	}
	return found;
}

bool res_yaml_bool(const char *text, bool *value)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					   "on",   "On",   "ON",   "y",	  "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
					  "off",   "Off",   "OFF",   "n",  "N" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*value = true;
			return true;
		}
		if (strcmp(text, no[i]) == 0) {
			*value = false;
			return true;
		}
	}
	return false;
}

/* A plain scalar gets the JSON type Dapr's YAML-to-JSON conversion would give it. */
static json_t *res_yaml_scalar_json(const yaml_node_t *n)
{
	const char *t = res_yaml_text(n);
	const char *p = t;
	bool b, digit = false;
	char *end;
	double real;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_string(t);
	if (res_yaml_is_null(n))
		return json_null();
	if (res_yaml_bool(t, &b))
		return json_boolean(b);
	if (*p == '-' || *p == '+')
		p++;
	for (const char *q = p; *q != '\0'; q++) {
		if (isdigit((unsigned char)*q))
			digit = true;
		else if (strchr(".eE+-", *q) == NULL)
			return json_string(t);
	}
	if (!digit)
		return json_string(t);
	if (strpbrk(p, ".eE") == NULL) {
		long long i;

		errno = 0;
		i = strtoll(t, &end, 10);
		if (*end == '\0' && errno == 0)
			return json_integer(i);
	}
	errno = 0;
	real = strtod(t, &end);
	if (*end == '\0' && errno == 0)
		return json_real(real);
	return json_string(t);
}

/* Builds the JSON for a node; on failure sets *why and returns NULL. */
static json_t *res_yaml_to_json(yaml_document_t *doc, const yaml_node_t *n, int depth, const char **why)
{
	json_t *j;

	if (depth > RES_YAML_MAX_DEPTH) {
		*why = "it is nested too deeply (a recursive alias?)";
		return NULL;
	}
	if (n->type == YAML_SCALAR_NODE) {
		j = res_yaml_scalar_json(n);
	} else if (n->type == YAML_SEQUENCE_NODE) {
		j = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     j != NULL && it < n->data.sequence.items.top; it++) {
			json_t *item =
				res_yaml_to_json(doc, yaml_document_get_node(doc, *it), depth + 1, why);

			if (item == NULL || json_array_append_new(j, item) != 0) {
				json_decref(j);
				j = NULL;
			}
		}
	} else {
		j = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     j != NULL && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			json_t *v;

			if (!res_yaml_is_scalar(k)) {
				*why = "a mapping key is not text";
				json_decref(j);
				return NULL;
			}
			v = res_yaml_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1, why);
			if (v == NULL || json_object_set_new(j, res_yaml_text(k), v) != 0) {
				json_decref(j);
				j = NULL;
			}
		}
	}
	if (j == NULL && *why == NULL)
		*why = "out of memory";
	return j;
}

char *res_yaml_value_text(yaml_document_t *doc, const yaml_node_t *n, const char **why)
{
	json_t *j;
	char *text;

	*why = NULL;
	if (n->type == YAML_SCALAR_NODE) {
		text = strdup(res_yaml_text(n));
		if (text == NULL)
			*why = "out of memory";
		return text;
	}
	j = res_yaml_to_json(doc, n, 0, why);
	if (j == NULL)
		return NULL;
	/* Sorted keys: Go's json.Marshal of the decoded map, which daprd passes on, sorts them. */
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	json_decref(j);
	if (text == NULL)
		*why = "out of memory";
	return text;
}

void res_yaml_syntax_error(const char *path, const yaml_parser_t *p, struct diag *d)
{
	const char *problem = p->problem != NULL ? p->problem : "cannot be parsed";

	if (p->error == YAML_MEMORY_ERROR) {
		diag_error(d, "%s: out of memory while reading it", path);
	} else if (p->error == YAML_READER_ERROR) {
		/* The reader has no line yet, only a byte offset. */
		diag_error(d, "%s: cannot read it: %s (at byte %zu); save it as UTF-8 text", path, problem,
			   p->problem_offset);
	} else if (p->context != NULL) {
		diag_error(d,
			   "%s:%zu:%zu: YAML syntax error: %s (%s at %zu:%zu); "
			   "fix the indentation or quoting",
			   path, p->problem_mark.line + 1, p->problem_mark.column + 1, problem, p->context,
			   p->context_mark.line + 1, p->context_mark.column + 1);
	} else {
		diag_error(d, "%s:%zu:%zu: YAML syntax error: %s; fix the indentation or quoting", path,
			   p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
	}
}

void res_yaml_report(struct diag *d, bool error, const char *file, const yaml_node_t *n, const char *field,
		     const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (error)
		diag_error(d, "%s:%zu:%zu: %s: %s", file, n->start_mark.line + 1, n->start_mark.column + 1,
			   field, msg != NULL ? msg : "out of memory");
	else
		diag_warn(d, "%s:%zu:%zu: %s: %s", file, n->start_mark.line + 1, n->start_mark.column + 1,
			  field, msg != NULL ? msg : "out of memory");
	free(msg);
}

bool res_yaml_in_scope(yaml_document_t *doc, const yaml_node_t *root, const char *app_id, const char *file,
		       struct diag *d)
{
	yaml_node_t *scopes = res_yaml_get(doc, root, "scopes");
	bool any = false;

	if (res_yaml_is_null(scopes))
		return true;
	if (scopes->type != YAML_SEQUENCE_NODE) {
		res_yaml_report(
			d, true, file, scopes, "scopes",
			"expected a list of app IDs, found %s; write scopes: [app1, app2], or leave it "
			"out for every app",
			res_yaml_kind(scopes));
		return true;
	}
	for (yaml_node_item_t *it = scopes->data.sequence.items.start; it < scopes->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(doc, *it);

		if (n->type != YAML_SCALAR_NODE) {
			res_yaml_report(d, true, file, n, "scopes",
					"expected an app ID, found %s; write one app ID per entry",
					res_yaml_kind(n));
			return true;
		}
		if (app_id != NULL && strcmp(res_yaml_text(n), app_id) == 0)
			return true;
		any = true;
	}
	return !any;
}

void res_yaml_warn_unknown(yaml_document_t *doc, const yaml_node_t *map, const char *file, const char *field,
			   const char *const *known, struct diag *d)
{
	char list[256] = "";
	size_t used = 0;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return;
	for (size_t i = 0; known[i] != NULL; i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s",
				 i == 0			? ""
				 : known[i + 1] == NULL ? " and "
							: ", ",
				 known[i]);

		if (n > 0 && (size_t)n < sizeof(list) - used)
			used += (size_t)n;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		bool found = false;

		for (size_t i = 0; known[i] != NULL && res_yaml_is_scalar(k); i++)
			found = found || strcmp(res_yaml_text(k), known[i]) == 0;
		if (!found)
			res_yaml_report(d, false, file, k, field,
					"unknown field \"%s\"; ignored (the fields are %s)",
					res_yaml_is_scalar(k) ? res_yaml_text(k) : res_yaml_kind(k), list);
	}
}
