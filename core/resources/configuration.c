/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr Configuration files (--config, kind: Configuration): what outrig reads of them, merged in order. */
#include "config.h"

#include "resources/configuration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "resources/configuration_mtls.h"
#include "resources/configuration_observe.h"
#include "resources/configuration_policy.h"
#include "resources/configuration_tracing.h"
#include "resources/resources_yaml.h"
#include "resources/resources_yaml_limits.h"

#define CONFIGURATION_DEFAULT_FILE "(default name resolution)"
#define CONFIGURATION_NAME "nameresolution"
#define CONFIGURATION_INIT_TIMEOUT_MS 5000

/* Sections of a Configuration's spec that daprd reads (API.md §10) and outrig does not serve yet. */
static const char *const cfg_unsupported_sections[] = {
	"httpPipeline", "appHttpPipeline", "features", "workflow", "wasm", NULL,
};

/* One document being read. */
struct cfg_reader {
	const char *path; /* owned by the configuration (its files list) */
	yaml_document_t *yd;
	struct configuration *out;
	struct diag *d;
};

#define cfg_err(rd, n, field, ...) res_yaml_report((rd)->d, true, (rd)->path, n, field, __VA_ARGS__)
#define cfg_warn(rd, n, field, ...) res_yaml_report((rd)->d, false, (rd)->path, n, field, __VA_ARGS__)

static struct res_pos cfg_pos(const char *file, const yaml_node_t *n)
{
	struct res_pos pos = { file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };

	return pos;
}

static void cfg_metadata_free(struct res_component *rc)
{
	for (size_t i = 0; i < rc->metadata_count; i++) {
		free(rc->metadata[i].name);
		free(rc->metadata[i].value);
		free(rc->metadata[i].secret_store_key_name);
		free(rc->metadata[i].secret_store_key);
	}
	free(rc->metadata);
	rc->metadata = NULL;
	rc->metadata_count = 0;
}

/* Keeps path for the positions that point at it; NULL when out of memory. */
static const char *cfg_keep_file(struct configuration *out, const char *path)
{
	char **grown = realloc(out->files, (out->nfiles + 1) * sizeof(*grown));

	if (grown == NULL)
		return NULL;
	out->files = grown;
	out->files[out->nfiles] = strdup(path);
	if (out->files[out->nfiles] == NULL)
		return NULL;
	return out->files[out->nfiles++];
}

/* Reports a spec section outrig ignores, once per section over every file. */
static void cfg_unsupported(struct cfg_reader *rd, const yaml_node_t *key, const char *section)
{
	struct configuration *out = rd->out;
	char field[96], **grown;

	for (size_t i = 0; i < out->nunsupported; i++)
		if (strcmp(out->unsupported[i], section) == 0)
			return;
	grown = realloc(out->unsupported, (out->nunsupported + 1) * sizeof(*grown));
	if (grown != NULL) {
		out->unsupported = grown;
		if ((out->unsupported[out->nunsupported] = strdup(section)) != NULL)
			out->nunsupported++;
	}
	snprintf(field, sizeof(field), "spec.%s", section);
	cfg_warn(rd, key, field, "not supported by outrig yet; ignored");
}

/* A plugin type is a file name (nameresolution.<component> -> nameresolution_<component>.so). */
static bool cfg_component_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

static void cfg_read_component(struct cfg_reader *rd, yaml_node_t *n)
{
	struct res_component *rc = &rd->out->resolver;
	const char *text;
	char *type;

	if (res_yaml_is_null(n))
		return;
	if (n->type != YAML_SCALAR_NODE) {
		cfg_err(rd, n, "spec.nameResolution.component",
			"expected text, found %s; write e.g. \"sqlite\"", res_yaml_kind(n));
		return;
	}
	text = res_yaml_text(n);
	/* Dapr names the resolver by its short name; a full type is understood, with a hint. */
	if (strncmp(text, "nameresolution.", 15) == 0) {
		cfg_warn(rd, n, "spec.nameResolution.component",
			 "\"%s\" is a component type; Dapr expects the short name, write \"%s\"", text,
			 text + 15);
		text += 15;
	}
	if (!cfg_component_ok(text)) {
		cfg_err(rd, n, "spec.nameResolution.component",
			"\"%s\" is not a name resolver's name; use letters, digits, '-', '_' and '.', e.g. \"sqlite\" or \"kubernetes\"",
			text);
		return;
	}
	if (asprintf(&type, "nameresolution.%s", text) < 0) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		return;
	}
	free(rc->type);
	rc->type = type;
	rc->type_pos = cfg_pos(rd->path, n);
	rc->pos = rc->type_pos;
	rd->out->resolver_configured = true;
}

static void cfg_read_version(struct cfg_reader *rd, yaml_node_t *n)
{
	struct res_component *rc = &rd->out->resolver;
	char *version;

	if (res_yaml_is_null(n))
		return;
	if (n->type != YAML_SCALAR_NODE) {
		cfg_err(rd, n, "spec.nameResolution.version", "expected text, found %s; write e.g. \"v1\"",
			res_yaml_kind(n));
		return;
	}
	if (*res_yaml_text(n) == '\0')
		return;
	version = strdup(res_yaml_text(n));
	if (version == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		return;
	}
	free(rc->version);
	rc->version = version;
	rc->version_pos = cfg_pos(rd->path, n);
}

/* Reads one `configuration` entry into m; false (after reporting) when it is unusable. */
static bool cfg_read_entry(struct cfg_reader *rd, yaml_node_t *k, yaml_node_t *v, struct res_metadata *m)
{
	const char *why = NULL;
	char field[160];

	if (!res_yaml_is_scalar(k) || *res_yaml_text(k) == '\0') {
		cfg_err(rd, k, "spec.nameResolution.configuration",
			"expected a name as key, found %s; write \"name: value\" entries",
			res_yaml_is_scalar(k) ? "an empty key" : res_yaml_kind(k));
		return false;
	}
	snprintf(field, sizeof(field), "spec.nameResolution.configuration.%s", res_yaml_text(k));
	m->name = strdup(res_yaml_text(k));
	m->value = res_yaml_value_text(rd->yd, v, &why);
	if (m->name == NULL || m->value == NULL) {
		cfg_err(rd, v, field, "the value cannot be turned into JSON: %s; write it as plain YAML data",
			why != NULL ? why : "out of memory");
		return false;
	}
	m->pos = cfg_pos(rd->path, v);
	return true;
}

static void cfg_read_configuration(struct cfg_reader *rd, yaml_node_t *map)
{
	struct res_component *rc = &rd->out->resolver;
	size_t n, errors = rd->d->errors;
	struct res_metadata *items;
	size_t count = 0;

	if (res_yaml_is_null(map)) {
		/* An explicit empty configuration clears an earlier file's. */
		if (map != NULL)
			cfg_metadata_free(rc);
		return;
	}
	if (map->type != YAML_MAPPING_NODE) {
		cfg_err(rd, map, "spec.nameResolution.configuration",
			"expected a mapping, found %s; write \"name: value\" entries under it",
			res_yaml_kind(map));
		return;
	}
	n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	items = calloc(n + 1, sizeof(*items));
	if (items == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
		yaml_node_t *k = yaml_document_get_node(rd->yd, p->key);
		yaml_node_t *v = yaml_document_get_node(rd->yd, p->value);
		struct res_metadata *m = &items[count];

		if (!cfg_read_entry(rd, k, v, m)) {
			free(m->name);
			free(m->value);
			memset(m, 0, sizeof(*m));
			continue;
		}
		for (size_t j = 0; j < count; j++)
			if (strcasecmp(items[j].name, m->name) == 0)
				cfg_warn(
					rd, k, "spec.nameResolution.configuration",
					"\"%s\" is already set at line %d (names are matched ignoring case); keep only one",
					m->name, items[j].pos.line);
		count++;
	}
	if (rd->d->errors != errors) {
		struct res_component tmp = { .metadata = items, .metadata_count = count };

		cfg_metadata_free(&tmp);
		return;
	}
	cfg_metadata_free(rc);
	rc->metadata = items;
	rc->metadata_count = count;
	/* Messages about these entries name this file. */
	rc->file = (char *)rd->path;
}

static void cfg_read_nameresolution(struct cfg_reader *rd, yaml_node_t *key, yaml_node_t *nr)
{
	if (res_yaml_is_null(nr))
		return;
	if (nr->type != YAML_MAPPING_NODE) {
		cfg_err(rd, nr, "spec.nameResolution",
			"expected a mapping with component, version and configuration, found %s; "
			"write \"component: sqlite\" under it",
			res_yaml_kind(nr));
		return;
	}
	for (yaml_node_pair_t *p = nr->data.mapping.pairs.start; p < nr->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(rd->yd, p->key);
		const char *name = res_yaml_is_scalar(k) ? res_yaml_text(k) : "";

		if (strcmp(name, "component") != 0 && strcmp(name, "version") != 0 &&
		    strcmp(name, "configuration") != 0)
			cfg_warn(
				rd, k, "spec.nameResolution",
				"unknown field \"%s\"; ignored (the fields are component, version and configuration)",
				name);
	}
	cfg_read_component(rd, res_yaml_get(rd->yd, nr, "component"));
	cfg_read_version(rd, res_yaml_get(rd->yd, nr, "version"));
	cfg_read_configuration(rd, res_yaml_get(rd->yd, nr, "configuration"));
	if (rd->out->resolver.file == NULL || strcmp(rd->out->resolver.file, CONFIGURATION_DEFAULT_FILE) == 0)
		rd->out->resolver.file = (char *)rd->path;
	(void)key;
}

/* ---- spec.secrets.scopes (API.md §5.4) ---- */

static void cfg_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void cfg_scopes_free(struct secret_scope *scopes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(scopes[i].store);
		cfg_names_free(scopes[i].allowed, scopes[i].nallowed);
		cfg_names_free(scopes[i].denied, scopes[i].ndenied);
	}
	free(scopes);
}

/* allowedSecrets or deniedSecrets: a list of names. false after reporting. */
static bool cfg_read_names(struct cfg_reader *rd, yaml_node_t *n, const char *field, char ***out,
			   size_t *count)
{
	size_t size;

	if (res_yaml_is_null(n))
		return true;
	if (n->type != YAML_SEQUENCE_NODE) {
		cfg_err(rd, n, field, "expected a list of secret names, found %s; write e.g. [db-password]",
			res_yaml_kind(n));
		return false;
	}
	size = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	*out = calloc(size + 1, sizeof(**out));
	if (*out == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		return false;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(rd->yd, *it);

		if (!res_yaml_is_scalar(item)) {
			cfg_err(rd, item, field, "expected a secret name, found %s; list names as text",
				res_yaml_kind(item));
			return false;
		}
		if (((*out)[*count] = strdup(res_yaml_text(item))) == NULL) {
			diag_error(rd->d, "%s: out of memory", rd->path);
			return false;
		}
		(*count)++;
	}
	return true;
}

static bool cfg_read_scope(struct cfg_reader *rd, yaml_node_t *n, size_t i, struct secret_scope *sc)
{
	char field[96], sub[128];
	yaml_node_t *store, *access;
	bool ok = true;

	snprintf(field, sizeof(field), "spec.secrets.scopes[%zu]", i);
	if (n->type != YAML_MAPPING_NODE) {
		cfg_err(rd, n, field,
			"expected a mapping with storeName, defaultAccess, allowedSecrets and deniedSecrets, found %s",
			res_yaml_kind(n));
		return false;
	}
	sc->pos = cfg_pos(rd->path, n);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(rd->yd, p->key);
		const char *name = res_yaml_is_scalar(k) ? res_yaml_text(k) : "";

		if (strcmp(name, "storeName") != 0 && strcmp(name, "defaultAccess") != 0 &&
		    strcmp(name, "allowedSecrets") != 0 && strcmp(name, "deniedSecrets") != 0)
			cfg_warn(
				rd, k, field,
				"unknown field \"%s\"; ignored (the fields are storeName, defaultAccess, allowedSecrets and deniedSecrets)",
				name);
	}
	store = res_yaml_get(rd->yd, n, "storeName");
	snprintf(sub, sizeof(sub), "%s.storeName", field);
	if (!res_yaml_is_scalar(store) || *res_yaml_text(store) == '\0') {
		cfg_err(rd, store != NULL ? store : n, sub,
			"missing; name the secret store component this scope is for");
		ok = false;
	} else if ((sc->store = strdup(res_yaml_text(store))) == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		return false;
	}
	access = res_yaml_get(rd->yd, n, "defaultAccess");
	snprintf(sub, sizeof(sub), "%s.defaultAccess", field);
	if (res_yaml_is_null(access) || (res_yaml_is_scalar(access) && *res_yaml_text(access) == '\0')) {
		sc->default_deny = false;
	} else if (res_yaml_is_scalar(access) && strcasecmp(res_yaml_text(access), "allow") == 0) {
		sc->default_deny = false;
	} else if (res_yaml_is_scalar(access) && strcasecmp(res_yaml_text(access), "deny") == 0) {
		sc->default_deny = true;
	} else {
		/* daprd reads anything but "deny" as allow: a typo would open every secret, so refuse it. */
		cfg_err(rd, access, sub, "expected allow or deny, found %s",
			res_yaml_is_scalar(access) ? res_yaml_text(access) : res_yaml_kind(access));
		ok = false;
	}
	snprintf(sub, sizeof(sub), "%s.allowedSecrets", field);
	ok &= cfg_read_names(rd, res_yaml_get(rd->yd, n, "allowedSecrets"), sub, &sc->allowed, &sc->nallowed);
	snprintf(sub, sizeof(sub), "%s.deniedSecrets", field);
	ok &= cfg_read_names(rd, res_yaml_get(rd->yd, n, "deniedSecrets"), sub, &sc->denied, &sc->ndenied);
	return ok;
}

/* spec.secrets: a file that sets scopes replaces an earlier file's list. */
static void cfg_read_secrets(struct cfg_reader *rd, yaml_node_t *secrets)
{
	struct secret_scope *scopes;
	yaml_node_t *list;
	size_t n, count = 0;
	bool ok = true;

	if (res_yaml_is_null(secrets))
		return;
	if (secrets->type != YAML_MAPPING_NODE) {
		cfg_err(rd, secrets, "spec.secrets",
			"expected a mapping with scopes, found %s; write \"scopes:\" under it",
			res_yaml_kind(secrets));
		return;
	}
	for (yaml_node_pair_t *p = secrets->data.mapping.pairs.start; p < secrets->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(rd->yd, p->key);
		const char *name = res_yaml_is_scalar(k) ? res_yaml_text(k) : "";

		if (strcmp(name, "scopes") != 0)
			cfg_warn(rd, k, "spec.secrets", "unknown field \"%s\"; ignored (the field is scopes)",
				 name);
	}
	list = res_yaml_get(rd->yd, secrets, "scopes");
	if (res_yaml_is_null(list))
		return;
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(rd, list, "spec.secrets.scopes",
			"expected a list of {storeName, defaultAccess, allowedSecrets, deniedSecrets}, found %s",
			res_yaml_kind(list));
		return;
	}
	n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
	scopes = calloc(n + 1, sizeof(*scopes));
	if (scopes == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_document_get_node(rd->yd, list->data.sequence.items.start[i]);

		count++;
		if (!cfg_read_scope(rd, item, i, &scopes[i])) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (scopes[j].store != NULL && strcmp(scopes[j].store, scopes[i].store) == 0)
				cfg_warn(
					rd, item, "spec.secrets.scopes",
					"store %s is already scoped at line %d; this later entry wins, as in daprd",
					scopes[i].store, scopes[j].pos.line);
	}
	if (!ok) {
		cfg_scopes_free(scopes, count);
		return;
	}
	cfg_scopes_free(rd->out->secret_scopes, rd->out->nsecret_scopes);
	rd->out->secret_scopes = scopes;
	rd->out->nsecret_scopes = count;
}

static bool cfg_name_listed(char *const *names, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], key) == 0)
			return true;
	return false;
}

bool configuration_secret_allowed(const struct configuration *cfg, const char *store, const char *key)
{
	/* From the end: of two entries for one store, daprd keeps the later. */
	for (size_t i = cfg->nsecret_scopes; i-- > 0;) {
		const struct secret_scope *sc = &cfg->secret_scopes[i];

		if (strcmp(sc->store, store) != 0)
			continue;
		if (sc->nallowed > 0)
			return cfg_name_listed(sc->allowed, sc->nallowed, key);
		if (cfg_name_listed(sc->denied, sc->ndenied, key))
			return false;
		return !sc->default_deny;
	}
	return true;
}

static bool cfg_is_unsupported(const char *section)
{
	for (int i = 0; cfg_unsupported_sections[i] != NULL; i++)
		if (strcmp(cfg_unsupported_sections[i], section) == 0)
			return true;
	return false;
}

static void cfg_read_spec(struct cfg_reader *rd, yaml_node_t *spec)
{
	if (res_yaml_is_null(spec))
		return;
	if (spec->type != YAML_MAPPING_NODE) {
		cfg_err(rd, spec, "spec",
			"expected a mapping, found %s; write \"spec:\" with its sections under it",
			res_yaml_kind(spec));
		return;
	}
	for (yaml_node_pair_t *p = spec->data.mapping.pairs.start; p < spec->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(rd->yd, p->key);
		yaml_node_t *v = yaml_document_get_node(rd->yd, p->value);
		const char *name;

		if (!res_yaml_is_scalar(k)) {
			cfg_warn(rd, k, "spec", "a key that is %s is not a Configuration section; ignored",
				 res_yaml_kind(k));
			continue;
		}
		name = res_yaml_text(k);
		if (strcmp(name, "nameResolution") == 0)
			cfg_read_nameresolution(rd, k, v);
		else if (strcmp(name, "secrets") == 0)
			cfg_read_secrets(rd, v);
		else if (strcmp(name, "mtls") == 0)
			cfg_mtls_read(rd->yd, rd->path, v, &rd->out->mtls, rd->d);
		else if (strcmp(name, "tracing") == 0)
			cfg_tracing_read(rd->yd, rd->path, v, &rd->out->tracing, rd->d);
		else if (cfg_observe_is_section(name))
			cfg_observe_read(rd->yd, rd->path, name, k, v, &rd->out->observe, rd->d);
		else if (cfg_policy_is_section(name))
			cfg_policy_read(rd->yd, rd->path, name, k, v, &rd->out->policy, rd->d);
		else if (cfg_is_unsupported(name))
			cfg_unsupported(rd, k, name);
		else
			cfg_warn(
				rd, k, "spec",
				"unknown section \"%s\"; ignored (check its spelling against Dapr's Configuration)",
				name);
	}
}

/* A field's value for a message: "\"text\"", "nothing", or "a list". */
static const char *cfg_describe(const yaml_node_t *n, char *buf, size_t size)
{
	if (n == NULL)
		return "nothing";
	if (n->type != YAML_SCALAR_NODE)
		return res_yaml_kind(n);
	snprintf(buf, size, "\"%s\"", res_yaml_text(n));
	return buf;
}

static void cfg_read_document(struct cfg_reader *rd)
{
	yaml_node_t *root = yaml_document_get_root_node(rd->yd);
	yaml_node_t *api, *kind;
	char buf[128];

	if (root == NULL || res_yaml_is_null(root)) {
		diag_warn(rd->d, "%s: the file is empty; no configuration read from it", rd->path);
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		cfg_err(rd, root, "(document)",
			"expected a mapping with apiVersion, kind and spec, found %s; "
			"write a Dapr Configuration (kind: Configuration)",
			res_yaml_kind(root));
		return;
	}
	api = res_yaml_get(rd->yd, root, "apiVersion");
	kind = res_yaml_get(rd->yd, root, "kind");
	if (!res_yaml_is_scalar(kind) || strcmp(res_yaml_text(kind), "Configuration") != 0) {
		cfg_err(rd, kind != NULL ? kind : root, "kind",
			"expected Configuration, found %s; --config takes a Dapr Configuration file "
			"(components go in a --resources-path folder)",
			cfg_describe(kind, buf, sizeof(buf)));
		return;
	}
	if (!res_yaml_is_scalar(api) || strncmp(res_yaml_text(api), "dapr.io/", 8) != 0) {
		cfg_err(rd, api != NULL ? api : root, "apiVersion",
			"expected dapr.io/v1alpha1, found %s; write \"apiVersion: dapr.io/v1alpha1\"",
			cfg_describe(api, buf, sizeof(buf)));
		return;
	}
	if (strcmp(res_yaml_text(api), "dapr.io/v1alpha1") != 0)
		cfg_warn(rd, api, "apiVersion",
			 "\"%s\" is not the version outrig knows (dapr.io/v1alpha1); read as that",
			 res_yaml_text(api));
	cfg_read_spec(rd, res_yaml_get(rd->yd, root, "spec"));
}

static void cfg_load_file(const char *path, struct configuration *out, struct diag *d)
{
	struct cfg_reader rd = { NULL, NULL, out, d };
	yaml_parser_t parser;
	yaml_document_t doc;
	unsigned char *text;
	struct stat st;
	size_t len;
	FILE *f;

	rd.path = cfg_keep_file(out, path);
	if (rd.path == NULL) {
		diag_error(d, "%s: out of memory", path);
		return;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		diag_error(d, "%s: cannot open the --config file: %s; check the path and its permissions",
			   path, strerror(errno));
		return;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		diag_error(d, "%s: is a folder; --config takes the path of a Configuration YAML file", path);
		fclose(f);
		return;
	}
	/* Nesting and aliases are bounded before libyaml builds a tree of them. */
	if (!res_yaml_read_bounded(f, path, &text, &len, d)) {
		fclose(f);
		return;
	}
	fclose(f);
	if (!yaml_parser_initialize(&parser)) {
		diag_error(d, "%s: out of memory while reading it", path);
		free(text);
		return;
	}
	yaml_parser_set_input_string(&parser, text, len);
	/* daprd decodes one document per file: the first. */
	if (!yaml_parser_load(&parser, &doc)) {
		res_yaml_syntax_error(path, &parser, d);
	} else {
		yaml_document_t next;

		rd.yd = &doc;
		cfg_read_document(&rd);
		if (yaml_parser_load(&parser, &next)) {
			yaml_node_t *root = yaml_document_get_root_node(&next);

			if (root != NULL)
				diag_warn(
					d,
					"%s:%zu:%zu: a second YAML document; ignored (daprd reads only the first)",
					path, root->start_mark.line + 1, root->start_mark.column + 1);
			yaml_document_delete(&next);
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	free(text);
}

/* What no file set: sqlite, v1, no metadata (the plugin's defaults keep it under the data folder). */
static size_t cfg_defaults(struct configuration *out, struct diag *d)
{
	struct res_component *rc = &out->resolver;

	if (rc->file == NULL) {
		rc->file = (char *)cfg_keep_file(out, CONFIGURATION_DEFAULT_FILE);
		if (rc->file == NULL)
			goto oom;
	}
	if (rc->type == NULL && (rc->type = strdup("nameresolution." CONFIGURATION_DEFAULT_RESOLVER)) == NULL)
		goto oom;
	if (rc->version == NULL && (rc->version = strdup("v1")) == NULL)
		goto oom;
	if (rc->name == NULL && (rc->name = strdup(CONFIGURATION_NAME)) == NULL)
		goto oom;
	if (rc->type_pos.file == NULL) {
		rc->type_pos = (struct res_pos){ rc->file, 1, 1 };
		rc->pos = rc->type_pos;
	}
	if (rc->version_pos.file == NULL)
		rc->version_pos = rc->type_pos;
	rc->name_pos = rc->pos;
	rc->init_timeout_ms = CONFIGURATION_INIT_TIMEOUT_MS;
	return 0;
oom:
	diag_error(d, "name resolution: out of memory");
	return 1;
}

size_t configuration_load(const char *const *paths, size_t n, struct configuration *out, struct diag *d)
{
	size_t errors = d->errors;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		cfg_load_file(paths[i], out, d);
	cfg_defaults(out, d);
	cfg_policy_finish(&out->policy, d);
	return d->errors - errors;
}

void configuration_free(struct configuration *out)
{
	cfg_metadata_free(&out->resolver);
	cfg_scopes_free(out->secret_scopes, out->nsecret_scopes);
	cfg_tracing_free(&out->tracing);
	cfg_observe_free(&out->observe);
	cfg_policy_free(&out->policy);
	free(out->resolver.name);
	free(out->resolver.type);
	free(out->resolver.version);
	for (size_t i = 0; i < out->nfiles; i++)
		free(out->files[i]);
	free(out->files);
	for (size_t i = 0; i < out->nunsupported; i++)
		free(out->unsupported[i]);
	free(out->unsupported);
	memset(out, 0, sizeof(*out));
}
