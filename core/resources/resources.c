/* SPDX-License-Identifier: Apache-2.0 */
/* Loading Dapr resource YAML (Component, Subscription, Resiliency) from --resources-path folders. */
#include "config.h"

#include "resources/resources.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/duration.h"
#include "base/log.h"
#include "resources/resources_yaml.h"
#include "resources/resources_yaml_limits.h"

#define RES_SCOPE "resources"
#define RES_DEFAULT_INIT_TIMEOUT_MS 5000

/* One YAML document being read, and where its findings go. */
struct res_loader {
	const char *path;
	const char *app_id;
	yaml_document_t *yd;
	struct res_set *out;
	struct diag *d;
};

static struct res_pos res_pos_of(const char *file, const yaml_node_t *n)
{
	struct res_pos pos = { file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };

	return pos;
}

/* Every finding in a resource document is an error at a node: "file:line:column: field: message". */
#define res_err(ld, n, field, ...) res_yaml_report((ld)->d, true, (ld)->path, n, field, __VA_ARGS__)

/* Reports a node of the wrong type; returns false so callers can "return res_expected(...)". */
static bool res_expected(const struct res_loader *ld, const yaml_node_t *n, const char *field,
			 const char *want, const char *todo)
{
	res_err(ld, n, field, "expected %s, found %s; %s", want, res_yaml_kind(n), todo);
	return false;
}

/*
 * Reads an optional text field: *out stays NULL when it is absent or null.
 * Returns false (after reporting) when it is there but not text.
 */
static bool res_get_text(const struct res_loader *ld, const yaml_node_t *map, const char *key,
			 const char *field, char **out, yaml_node_t **node)
{
	yaml_node_t *n = res_yaml_get(ld->yd, map, key);

	*out = NULL;
	if (node != NULL)
		*node = n;
	if (res_yaml_is_null(n))
		return true;
	if (n->type != YAML_SCALAR_NODE)
		return res_expected(ld, n, field, "text", "write a single value");
	*out = strdup(res_yaml_text(n));
	return *out != NULL;
}

/* ---- one component ---- */

static void res_metadata_free(struct res_metadata *m)
{
	free(m->name);
	free(m->value);
	free(m->secret_store_key_name);
	free(m->secret_store_key);
}

static void res_component_free(struct res_component *c)
{
	for (size_t i = 0; i < c->metadata_count; i++)
		res_metadata_free(&c->metadata[i]);
	free(c->metadata);
	free(c->name);
	free(c->type);
	free(c->version);
	free(c->secret_store);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

/* Variables a component must not read: the sidecar's own secrets and settings. */
static bool res_env_forbidden(const char *var)
{
	return strcmp(var, "APP_API_TOKEN") == 0 || strncmp(var, "DAPR_", 5) == 0;
}

static bool res_read_secret_ref(const struct res_loader *ld, const yaml_node_t *ref, const char *field,
				const char *name, struct res_metadata *m)
{
	char sub[128];
	yaml_node_t *n;

	if (ref->type != YAML_MAPPING_NODE) {
		res_err(ld, ref, field,
			"expected a mapping with name and key for \"%s\", found %s; "
			"write secretKeyRef: {name: SECRET, key: KEY}",
			name, res_yaml_kind(ref));
		return false;
	}
	snprintf(sub, sizeof(sub), "%s.name", field);
	if (!res_get_text(ld, ref, "name", sub, &m->secret_store_key_name, &n))
		return false;
	if (m->secret_store_key_name == NULL || *m->secret_store_key_name == '\0') {
		res_err(ld, n != NULL ? n : ref, sub, "missing for \"%s\"; name the secret to read", name);
		return false;
	}
	snprintf(sub, sizeof(sub), "%s.key", field);
	if (!res_get_text(ld, ref, "key", sub, &m->secret_store_key, NULL))
		return false;
	/* As in daprd: without a key, the secret's name is the key. */
	if (m->secret_store_key == NULL || *m->secret_store_key == '\0') {
		free(m->secret_store_key);
		m->secret_store_key = strdup(m->secret_store_key_name);
	}
	return m->secret_store_key != NULL;
}

static bool res_read_env_ref(const struct res_loader *ld, const yaml_node_t *ref, const char *field,
			     const char *name, struct res_metadata *m)
{
	const char *var, *value;

	if (ref->type != YAML_SCALAR_NODE || *res_yaml_text(ref) == '\0') {
		res_err(ld, ref, field,
			"expected the name of an environment variable for \"%s\"; "
			"write envRef: VARIABLE",
			name);
		return false;
	}
	var = res_yaml_text(ref);
	if (res_env_forbidden(var)) {
		res_err(ld, ref, field,
			"%s is reserved for the sidecar and cannot be passed to a component (\"%s\"); "
			"use a variable of your own",
			var, name);
		return false;
	}
	value = getenv(var);
	if (value == NULL) {
		res_err(ld, ref, field,
			"environment variable %s is not set (\"%s\"); set it before starting outrigd, "
			"or use value",
			var, name);
		return false;
	}
	m->value = strdup(value);
	return m->value != NULL;
}

/* Reads spec.metadata[i] into m; false (after reporting) if it is unusable. */
static bool res_read_metadata_entry(const struct res_loader *ld, const struct res_component *c,
				    const yaml_node_t *e, size_t i, struct res_metadata *m)
{
	static const char *const sources[] = { "value", "secretKeyRef", "envRef" };
	const yaml_node_t *src = NULL;
	const char *src_key = NULL;
	char field[64], sub[96];
	yaml_node_t *name_node;

	snprintf(field, sizeof(field), "spec.metadata[%zu]", i);
	if (e->type != YAML_MAPPING_NODE) {
		res_err(ld, e, field,
			"expected a mapping with name and value, found %s; "
			"write the entry as \"- name: NAME\" with \"value: VALUE\" under it",
			res_yaml_kind(e));
		return false;
	}
	snprintf(sub, sizeof(sub), "%s.name", field);
	if (!res_get_text(ld, e, "name", sub, &m->name, &name_node))
		return false;
	if (m->name == NULL || *m->name == '\0') {
		res_err(ld, name_node != NULL ? name_node : e, sub,
			"missing; give every metadata entry a name");
		return false;
	}
	for (size_t k = 0; k < sizeof(sources) / sizeof(sources[0]); k++) {
		yaml_node_t *n = res_yaml_get(ld->yd, e, sources[k]);

		if (n == NULL)
			continue;
		if (src != NULL) {
			snprintf(sub, sizeof(sub), "%s.%s", field, sources[k]);
			res_err(ld, n, sub, "\"%s\" has both %s and %s; keep only one", m->name, src_key,
				sources[k]);
			return false;
		}
		src = n;
		src_key = sources[k];
	}
	m->pos = res_pos_of(c->file, src != NULL ? src : e);
	if (src == NULL) {
		/* "- name: x" alone is an empty value for daprd too. */
		m->value = strdup("");
		return m->value != NULL;
	}
	snprintf(sub, sizeof(sub), "%s.%s", field, src_key);
	if (strcmp(src_key, "secretKeyRef") == 0)
		return res_read_secret_ref(ld, src, sub, m->name, m);
	if (strcmp(src_key, "envRef") == 0)
		return res_read_env_ref(ld, src, sub, m->name, m);
	{
		const char *why = NULL;

		m->value = res_yaml_value_text(ld->yd, src, &why);
		if (m->value == NULL) {
			res_err(ld, src, sub,
				"the value of \"%s\" cannot be turned into JSON: %s; "
				"write it as plain YAML data",
				m->name, why != NULL ? why : "out of memory");
			return false;
		}
	}
	return true;
}

static void res_read_metadata(const struct res_loader *ld, const yaml_node_t *spec, struct res_component *c)
{
	yaml_node_t *list = res_yaml_get(ld->yd, spec, "metadata");
	size_t n;

	if (res_yaml_is_null(list))
		return;
	if (list->type != YAML_SEQUENCE_NODE) {
		res_expected(ld, list, "spec.metadata", "a list of {name, value} entries",
			     "write each entry as \"- name: NAME\" with \"value: VALUE\" under it");
		return;
	}
	n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
	if (n == 0)
		return;
	c->metadata = calloc(n, sizeof(*c->metadata));
	if (c->metadata == NULL) {
		diag_error(ld->d, "%s: out of memory", ld->path);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = yaml_document_get_node(ld->yd, list->data.sequence.items.start[i]);
		struct res_metadata *m = &c->metadata[c->metadata_count];

		if (!res_read_metadata_entry(ld, c, e, i, m)) {
			res_metadata_free(m);
			memset(m, 0, sizeof(*m));
			continue;
		}
		/* Components match names ignoring case, so which of two would win is unclear. */
		for (size_t k = 0; k < c->metadata_count; k++) {
			if (strcasecmp(c->metadata[k].name, m->name) == 0)
				diag_warn(ld->d,
					  "%s:%zu:%zu: spec.metadata[%zu]: \"%s\" is already set "
					  "at line %d (names are matched ignoring case); keep only one",
					  ld->path, e->start_mark.line + 1, e->start_mark.column + 1, i,
					  m->name, c->metadata[k].pos.line);
		}
		c->metadata_count++;
	}
}

/* A name is used in URLs (/v1.0/state/NAME) and in the "||" of actor keys. */
static const char *res_name_problem(const char *name)
{
	if (*name == '\0')
		return "is empty";
	if (strchr(name, '/') != NULL)
		return "contains '/'";
	if (strstr(name, "||") != NULL)
		return "contains \"||\"";
	for (const char *p = name; *p != '\0'; p++) {
		if (isspace((unsigned char)*p))
			return "contains whitespace";
	}
	return NULL;
}

static void res_read_name(const struct res_loader *ld, const yaml_node_t *root, struct res_component *c)
{
	yaml_node_t *meta = res_yaml_get(ld->yd, root, "metadata");
	yaml_node_t *n;
	const char *problem;

	if (res_yaml_is_null(meta)) {
		meta = NULL;
	} else if (meta->type != YAML_MAPPING_NODE) {
		res_expected(ld, meta, "metadata", "a mapping with name",
			     "write \"metadata:\" with \"name: NAME\" under it");
		return;
	}
	if (!res_get_text(ld, meta, "name", "metadata.name", &c->name, &n))
		return;
	if (c->name == NULL) {
		/* Point at the empty "name:" if there is one, else at what should hold it. */
		res_err(ld,
			n != NULL      ? n
			: meta != NULL ? meta
				       : root,
			"metadata.name", "missing; give the component a name, e.g. \"statestore\"");
		return;
	}
	c->name_pos = res_pos_of(c->file, n);
	problem = res_name_problem(c->name);
	if (problem != NULL)
		res_err(ld, n, "metadata.name",
			"\"%s\" %s, but it is used in URLs; use letters, digits, '-' and '.'", c->name,
			problem);
}

static void res_read_spec(const struct res_loader *ld, const yaml_node_t *root, struct res_component *c)
{
	yaml_node_t *spec = res_yaml_get(ld->yd, root, "spec");
	const yaml_node_t *where;
	yaml_node_t *n;
	char *text;

	if (res_yaml_is_null(spec)) {
		spec = NULL;
	} else if (spec->type != YAML_MAPPING_NODE) {
		res_expected(ld, spec, "spec", "a mapping with type and version",
			     "write \"spec:\" with \"type: TYPE\" and \"version: v1\" under it");
		return;
	}
	where = spec != NULL ? spec : root;

	if (res_get_text(ld, spec, "type", "spec.type", &c->type, &n)) {
		if (c->type == NULL || *c->type == '\0')
			res_err(ld, n != NULL ? n : where, "spec.type",
				"missing; add the component type, e.g. \"state.sqlite\"");
		else
			c->type_pos = res_pos_of(c->file, n);
	}

	if (res_get_text(ld, spec, "version", "spec.version", &c->version, &n)) {
		if (c->version != NULL && *c->version != '\0') {
			c->version_pos = res_pos_of(c->file, n);
		} else {
			free(c->version);
			c->version = strdup("v1");
			c->version_pos = res_pos_of(c->file, n != NULL ? n : where);
			if (spec != NULL)
				diag_warn(ld->d,
					  "%s:%d:%d: spec.version: missing, assuming \"v1\"; "
					  "add \"version: v1\" (Dapr requires it)",
					  ld->path, c->version_pos.line, c->version_pos.column);
		}
	}

	if (res_get_text(ld, spec, "initTimeout", "spec.initTimeout", &text, &n) && text != NULL) {
		int64_t ms;

		if (!duration_parse_ms(text, &ms))
			res_err(ld, n, "spec.initTimeout",
				"\"%s\" is not a duration; "
				"write a Go duration such as \"5s\" or \"1m30s\"",
				text);
		else if (ms <= 0)
			res_err(ld, n, "spec.initTimeout",
				"\"%s\" must be more than zero; "
				"write a Go duration such as \"5s\"",
				text);
		else
			c->init_timeout_ms = ms;
		free(text);
	}

	n = res_yaml_get(ld->yd, spec, "ignoreErrors");
	if (!res_yaml_is_null(n)) {
		/* A quoted "true" is a string to daprd's decoder, which then rejects the file. */
		if (n->type != YAML_SCALAR_NODE)
			res_expected(ld, n, "spec.ignoreErrors", "true or false", "write true or false");
		else if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
			 !res_yaml_bool(res_yaml_text(n), &c->ignore_errors))
			res_err(ld, n, "spec.ignoreErrors",
				"expected true or false, found \"%s\"; "
				"write true or false without quotes",
				res_yaml_text(n));
	}

	res_read_metadata(ld, spec, c);
}

static void res_read_auth(const struct res_loader *ld, const yaml_node_t *root, struct res_component *c)
{
	yaml_node_t *auth = res_yaml_get(ld->yd, root, "auth");

	if (res_yaml_is_null(auth))
		return;
	if (auth->type != YAML_MAPPING_NODE) {
		res_expected(ld, auth, "auth", "a mapping with secretStore",
			     "write \"auth:\" with \"secretStore: STORE\" under it");
		return;
	}
	res_get_text(ld, auth, "secretStore", "auth.secretStore", &c->secret_store, NULL);
}

/* False when scopes name other apps only; an app started without an ID counts as "" here. */
static bool res_in_scope(const struct res_loader *ld, const yaml_node_t *root)
{
	return res_yaml_in_scope(ld->yd, root, ld->app_id != NULL ? ld->app_id : "", ld->path, ld->d);
}

static const struct res_component *res_find(const struct res_set *set, const char *name)
{
	for (size_t i = 0; i < set->count; i++) {
		if (strcmp(set->components[i].name, name) == 0)
			return &set->components[i];
	}
	return NULL;
}

/* The name, for log lines about documents that are not read further. */
static const char *res_peek_name(const struct res_loader *ld, const yaml_node_t *root)
{
	yaml_node_t *n = res_yaml_get(ld->yd, res_yaml_get(ld->yd, root, "metadata"), "name");

	return res_yaml_is_scalar(n) && !res_yaml_is_null(n) ? res_yaml_text(n) : "unnamed";
}

static void res_load_component(const struct res_loader *ld, const yaml_node_t *root)
{
	struct res_component c = { 0 };
	size_t errors = ld->d->errors;
	const struct res_component *other;
	struct res_component *grown;

	if (!res_in_scope(ld, root)) {
		log_debug(RES_SCOPE, "%s:%zu: component %s is scoped to other apps; skipped", ld->path,
			  root->start_mark.line + 1, res_peek_name(ld, root));
		return;
	}
	c.file = strdup(ld->path);
	if (c.file == NULL) {
		diag_error(ld->d, "%s: out of memory", ld->path);
		return;
	}
	c.pos = res_pos_of(c.file, root);
	c.init_timeout_ms = RES_DEFAULT_INIT_TIMEOUT_MS;
	res_read_name(ld, root, &c);
	res_read_spec(ld, root, &c);
	res_read_auth(ld, root, &c);
	if (ld->d->errors != errors)
		goto drop;

	other = res_find(ld->out, c.name);
	if (other != NULL) {
		diag_error(ld->d,
			   "%s:%d:%d: metadata.name: component \"%s\" is already defined at "
			   "%s:%d:%d; give each component a unique name",
			   ld->path, c.name_pos.line, c.name_pos.column, c.name, other->file,
			   other->name_pos.line, other->name_pos.column);
		goto drop;
	}
	grown = realloc(ld->out->components, (ld->out->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		diag_error(ld->d, "%s: out of memory", ld->path);
		goto drop;
	}
	ld->out->components = grown;
	ld->out->components[ld->out->count++] = c;
	log_debug(RES_SCOPE, "%s:%d: component %s (%s/%s) loaded", ld->path, c.pos.line, c.name, c.type,
		  c.version);
	return;
drop:
	res_component_free(&c);
}

/* A field's value for a message: "\"text\"", "missing", or "a list". */
static const char *res_describe(const yaml_node_t *n, char *buf, size_t size)
{
	if (n == NULL)
		return "missing";
	if (n->type != YAML_SCALAR_NODE)
		return res_yaml_kind(n);
	snprintf(buf, size, "\"%s\"", res_yaml_text(n));
	return buf;
}

static void res_load_document(const struct res_loader *ld)
{
	yaml_node_t *root = yaml_document_get_root_node(ld->yd);
	yaml_node_t *api, *kind;

	if (root == NULL || res_yaml_is_null(root))
		return;
	api = res_yaml_get(ld->yd, root, "apiVersion");
	kind = res_yaml_get(ld->yd, root, "kind");
	if (!res_yaml_is_scalar(api) || strncmp(res_yaml_text(api), "dapr.io/", 8) != 0 ||
	    !res_yaml_is_scalar(kind) || *res_yaml_text(kind) == '\0') {
		char api_text[128], kind_text[128];

		diag_warn(ld->d, "%s:%zu:%zu: not a Dapr resource (apiVersion %s, kind %s); skipped",
			  ld->path, root->start_mark.line + 1, root->start_mark.column + 1,
			  res_describe(api, api_text, sizeof(api_text)),
			  res_describe(kind, kind_text, sizeof(kind_text)));
		return;
	}
	if (strcmp(res_yaml_text(kind), "Component") == 0) {
		res_load_component(ld, root);
	} else if (strcmp(res_yaml_text(kind), "Subscription") == 0) {
		subscriptions_parse_yaml(ld->yd, root, ld->path, ld->app_id, &ld->out->subscriptions, ld->d);
	} else if (strcmp(res_yaml_text(kind), "Resiliency") == 0) {
		if (res_in_scope(ld, root))
			resiliency_parse_yaml(ld->yd, root, ld->path, &ld->out->resiliency, ld->d);
		else
			log_debug(RES_SCOPE, "%s:%zu: resiliency %s is scoped to other apps; skipped",
				  ld->path, root->start_mark.line + 1, res_peek_name(ld, root));
	} else {
		log_info(RES_SCOPE, "%s:%zu: kind %s (%s) is not supported yet; ignored", ld->path,
			 root->start_mark.line + 1, res_yaml_text(kind), res_peek_name(ld, root));
	}
}

/* ---- files and folders ---- */

size_t resources_load_file(const char *path, const char *app_id, struct res_set *out, struct diag *d)
{
	size_t errors = d->errors;
	struct res_loader ld = { path, app_id, NULL, out, d };
	yaml_parser_t parser;
	unsigned char *text;
	struct stat st;
	size_t len;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL) {
		diag_error(d, "%s: cannot open it: %s; check the path and its permissions", path,
			   strerror(errno));
		return d->errors - errors;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		diag_error(d, "%s: is a folder, not a YAML file; give the path of a file", path);
		fclose(f);
		return d->errors - errors;
	}
	/* Nesting and aliases are bounded before libyaml builds a tree of them. */
	if (!res_yaml_read_bounded(f, path, &text, &len, d)) {
		fclose(f);
		return d->errors - errors;
	}
	fclose(f);
	if (!yaml_parser_initialize(&parser)) {
		diag_error(d, "%s: out of memory while reading it", path);
		free(text);
		return d->errors - errors;
	}
	yaml_parser_set_input_string(&parser, text, len);
	for (;;) {
		yaml_document_t doc;
		bool end;

		if (!yaml_parser_load(&parser, &doc)) {
			/* libyaml cannot resync after an error: the rest of the file is lost. */
			res_yaml_syntax_error(path, &parser, d);
			break;
		}
		end = yaml_document_get_root_node(&doc) == NULL;
		if (!end) {
			ld.yd = &doc;
			res_load_document(&ld);
		}
		yaml_document_delete(&doc);
		if (end)
			break;
	}
	yaml_parser_delete(&parser);
	free(text);
	return d->errors - errors;
}

static bool res_is_yaml_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int res_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml and *.yml entries of dir, sorted; NULL with *n = 0 if there are none. */
static char **res_list_dir(DIR *dir, const char *path, size_t *n, struct diag *d)
{
	char **names = NULL;
	struct dirent *e;

	*n = 0;
	while ((e = readdir(dir)) != NULL) {
		char **grown;

		if (!res_is_yaml_name(e->d_name))
			continue;
		grown = realloc(names, (*n + 1) * sizeof(*names));
		if (grown != NULL) {
			names = grown;
			names[*n] = strdup(e->d_name);
		}
		if (grown == NULL || names[*n] == NULL) {
			/* Counted as an error, so a partial listing cannot pass as a full one. */
			diag_error(d, "%s: out of memory while listing it", path);
			break;
		}
		(*n)++;
	}
	if (*n > 0)
		qsort(names, *n, sizeof(*names), res_name_cmp);
	return names;
}

static char *res_join_path(const char *dir, const char *name)
{
	size_t len = strlen(dir);
	const char *sep = len > 0 && dir[len - 1] == '/' ? "" : "/";
	size_t size = len + strlen(sep) + strlen(name) + 1;
	char *path = malloc(size);

	if (path != NULL)
		snprintf(path, size, "%s%s%s", dir, sep, name);
	return path;
}

static void res_load_dir(const char *dir, const char *app_id, struct res_set *out, struct diag *d)
{
	size_t n, loaded = 0;
	char **names;
	DIR *dh;

	dh = opendir(dir);
	if (dh == NULL) {
		diag_error(d, "%s: cannot read the resources folder: %s; check --resources-path", dir,
			   strerror(errno));
		return;
	}
	names = res_list_dir(dh, dir, &n, d);
	closedir(dh);
	for (size_t i = 0; i < n; i++) {
		char *path = res_join_path(dir, names[i]);
		struct stat st;

		if (path == NULL) {
			diag_error(d, "%s: out of memory", dir);
		} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			/* A folder named like a file: daprd skips folders too. */
			log_debug(RES_SCOPE, "%s: is a folder; skipped", path);
		} else {
			resources_load_file(path, app_id, out, d);
			loaded++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	if (loaded == 0)
		log_info(RES_SCOPE, "%s: no *.yaml or *.yml files; no components from here", dir);
}

size_t resources_load(const char *const *dirs, size_t ndirs, const char *app_id, struct res_set *out,
		      struct diag *d)
{
	size_t errors = d->errors;

	for (size_t i = 0; i < ndirs; i++)
		res_load_dir(dirs[i], app_id, out, d);
	return d->errors - errors;
}

void resources_free(struct res_set *out)
{
	for (size_t i = 0; i < out->count; i++)
		res_component_free(&out->components[i]);
	free(out->components);
	out->components = NULL;
	out->count = 0;
	subscriptions_free(&out->subscriptions);
	resiliency_free(&out->resiliency);
}
