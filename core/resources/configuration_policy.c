/* SPDX-License-Identifier: Apache-2.0 */
/* The security sections of a Configuration: spec.accessControl, spec.api and spec.components. */
#include "config.h"

#include "resources/configuration_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resources/resources_yaml.h"

/* One section being read. */
struct pol_reader {
	yaml_document_t *doc;
	const char *path;
	struct diag *d;
	size_t errors;
};

#define pol_err(rd, n, field, ...)                                                                           \
	do {                                                                                                 \
		res_yaml_report((rd)->d, true, (rd)->path, n, field, __VA_ARGS__);                           \
		(rd)->errors++;                                                                              \
	} while (0)
#define pol_warn(rd, n, field, ...) res_yaml_report((rd)->d, false, (rd)->path, n, field, __VA_ARGS__)

static int pol_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

bool cfg_policy_is_section(const char *section)
{
	return strcmp(section, "accessControl") == 0 || strcmp(section, "api") == 0 ||
	       strcmp(section, "components") == 0;
}

static char *pol_strdup(struct pol_reader *rd, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		rd->errors++;
	}
	return copy;
}

/* A text field: NULL (after reporting) when it is there but not text. */
static const char *pol_text(struct pol_reader *rd, yaml_node_t *n, const char *field, const char *example)
{
	if (res_yaml_is_null(n))
		return "";
	if (!res_yaml_is_scalar(n)) {
		pol_err(rd, n, field, "expected text, found %s; write e.g. %s", res_yaml_kind(n), example);
		return NULL;
	}
	return res_yaml_text(n);
}

/* allow or deny (any case, as daprd compares them); unset when missing or empty. */
static bool pol_action(struct pol_reader *rd, yaml_node_t *n, const char *field, enum acl_action *out)
{
	const char *t = pol_text(rd, n, field, "allow or deny");

	*out = ACL_UNSET;
	if (t == NULL)
		return false;
	if (*t == '\0')
		return true;
	if (strcasecmp(t, "allow") == 0) {
		*out = ACL_ALLOW;
		return true;
	}
	if (strcasecmp(t, "deny") == 0) {
		*out = ACL_DENY;
		return true;
	}
	/* daprd reads anything but "allow" as deny: a typo would change the policy unseen, so refuse it. */
	pol_err(rd, n, field, "expected allow or deny, found \"%s\"", t);
	return false;
}

static const char *const pol_verbs[] = {
	"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "*", NULL,
};

static void pol_read_verbs(struct pol_reader *rd, yaml_node_t *n, const char *field, struct acl_operation *op)
{
	size_t size;

	if (res_yaml_is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		pol_err(rd, n, field,
			"expected a list of HTTP verbs, found %s; write e.g. [GET, POST] or [\"*\"]",
			res_yaml_kind(n));
		return;
	}
	size = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	op->verbs = calloc(size + 1, sizeof(*op->verbs));
	if (op->verbs == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		rd->errors++;
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(rd->doc, *it);
		const char *t = res_yaml_is_scalar(v) ? res_yaml_text(v) : NULL;
		bool known = false;

		for (size_t i = 0; t != NULL && pol_verbs[i] != NULL; i++)
			known = known || strcmp(t, pol_verbs[i]) == 0;
		if (!known) {
			/* daprd compares verbs as written: "get" would never match a call. */
			pol_err(rd, v, field,
				"\"%s\" is not an HTTP verb as Dapr matches them; write GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, CONNECT, TRACE or \"*\" (upper case)",
				t != NULL ? t : res_yaml_kind(v));
			continue;
		}
		if ((op->verbs[op->nverbs] = pol_strdup(rd, t)) != NULL)
			op->nverbs++;
	}
}

static void pol_read_operation(struct pol_reader *rd, yaml_node_t *n, const char *base, size_t i,
			       struct acl_operation *op)
{
	static const char *const known[] = { "name", "httpVerb", "action", NULL };
	char field[160], sub[200];
	const char *name;
	yaml_node_t *verbs;

	snprintf(field, sizeof(field), "%s.operations[%zu]", base, i);
	op->line = pol_line(n);
	if (n->type != YAML_MAPPING_NODE) {
		pol_err(rd, n, field, "expected a mapping with name, httpVerb and action, found %s",
			res_yaml_kind(n));
		return;
	}
	res_yaml_warn_unknown(rd->doc, n, rd->path, field, known, rd->d);
	snprintf(sub, sizeof(sub), "%s.name", field);
	name = pol_text(rd, res_yaml_get(rd->doc, n, "name"), sub, "/orders/*");
	if (name != NULL && *name == '\0')
		pol_err(rd, n, sub,
			"missing; name the method, e.g. /orders/* (a '*' is one segment, '**' the rest)");
	else if (name != NULL && asprintf(&op->name, "%s%s", *name == '/' ? "" : "/", name) < 0) {
		op->name = NULL;
		diag_error(rd->d, "%s: out of memory", rd->path);
		rd->errors++;
	}
	snprintf(sub, sizeof(sub), "%s.action", field);
	if (pol_action(rd, res_yaml_get(rd->doc, n, "action"), sub, &op->action) && op->action == ACL_UNSET)
		pol_err(rd, n, sub, "missing; write allow or deny");
	snprintf(sub, sizeof(sub), "%s.httpVerb", field);
	verbs = res_yaml_get(rd->doc, n, "httpVerb");
	pol_read_verbs(rd, verbs, sub, op);
	if (res_yaml_is_null(verbs))
		pol_warn(
			rd, n, sub,
			"missing: for an HTTP app this operation then matches no call (daprd's rule); list the verbs, or [\"*\"] for all");
}

static void pol_read_policy(struct pol_reader *rd, yaml_node_t *n, size_t i, struct acl_policy *pol)
{
	static const char *const known[] = { "appId",	  "defaultAction", "trustDomain",
					     "namespace", "operations",	   NULL };
	char field[96], sub[160];
	yaml_node_t *ops;
	const char *t;

	snprintf(field, sizeof(field), "spec.accessControl.policies[%zu]", i);
	pol->line = pol_line(n);
	if (n->type != YAML_MAPPING_NODE) {
		pol_err(rd, n, field,
			"expected a mapping with appId, defaultAction, trustDomain, namespace and operations, found %s",
			res_yaml_kind(n));
		return;
	}
	res_yaml_warn_unknown(rd->doc, n, rd->path, field, known, rd->d);
	snprintf(sub, sizeof(sub), "%s.appId", field);
	t = pol_text(rd, res_yaml_get(rd->doc, n, "appId"), sub, "checkout");
	if (t != NULL && *t == '\0')
		pol_err(rd, n, sub, "missing; name the calling app's id");
	else if (t != NULL)
		pol->app_id = pol_strdup(rd, t);
	snprintf(sub, sizeof(sub), "%s.trustDomain", field);
	t = pol_text(rd, res_yaml_get(rd->doc, n, "trustDomain"), sub, "public");
	if (t != NULL && *t == '\0')
		pol_err(rd, n, sub,
			"missing; daprd requires it: write the caller's trust domain, e.g. public");
	else if (t != NULL)
		pol->trust_domain = pol_strdup(rd, t);
	snprintf(sub, sizeof(sub), "%s.namespace", field);
	t = pol_text(rd, res_yaml_get(rd->doc, n, "namespace"), sub, "default");
	if (t != NULL && *t == '\0')
		pol_err(rd, n, sub,
			"missing; daprd requires it: write the caller's namespace (default when its sidecar has no $NAMESPACE)");
	else if (t != NULL)
		pol->ns = pol_strdup(rd, t);
	snprintf(sub, sizeof(sub), "%s.defaultAction", field);
	pol_action(rd, res_yaml_get(rd->doc, n, "defaultAction"), sub, &pol->default_action);
	ops = res_yaml_get(rd->doc, n, "operations");
	if (res_yaml_is_null(ops))
		return;
	snprintf(sub, sizeof(sub), "%s.operations", field);
	if (ops->type != YAML_SEQUENCE_NODE) {
		pol_err(rd, ops, sub, "expected a list of {name, httpVerb, action}, found %s",
			res_yaml_kind(ops));
		return;
	}
	pol->nops = (size_t)(ops->data.sequence.items.top - ops->data.sequence.items.start);
	pol->ops = calloc(pol->nops + 1, sizeof(*pol->ops));
	if (pol->ops == NULL) {
		pol->nops = 0;
		diag_error(rd->d, "%s: out of memory", rd->path);
		rd->errors++;
		return;
	}
	for (size_t j = 0; j < pol->nops; j++)
		pol_read_operation(rd, yaml_document_get_node(rd->doc, ops->data.sequence.items.start[j]),
				   field, j, &pol->ops[j]);
}

static void pol_read_acl(struct pol_reader *rd, yaml_node_t *key, yaml_node_t *v, struct cfg_policy *out)
{
	static const char *const known[] = { "defaultAction", "trustDomain", "policies", NULL };
	struct access_control acl = { 0 };
	yaml_node_t *list;
	size_t errors = rd->errors;
	const char *t;

	if (res_yaml_is_null(v))
		return;
	if (v->type != YAML_MAPPING_NODE) {
		pol_err(rd, v, "spec.accessControl",
			"expected a mapping with defaultAction, trustDomain and policies, found %s",
			res_yaml_kind(v));
		return;
	}
	res_yaml_warn_unknown(rd->doc, v, rd->path, "spec.accessControl", known, rd->d);
	acl.file = rd->path;
	acl.line = pol_line(key);
	pol_action(rd, res_yaml_get(rd->doc, v, "defaultAction"), "spec.accessControl.defaultAction",
		   &acl.default_action);
	t = pol_text(rd, res_yaml_get(rd->doc, v, "trustDomain"), "spec.accessControl.trustDomain", "public");
	acl.trust_domain = pol_strdup(rd, t != NULL && *t != '\0' ? t : "public");
	acl.set = acl.default_action != ACL_UNSET || (t != NULL && *t != '\0');
	list = res_yaml_get(rd->doc, v, "policies");
	if (!res_yaml_is_null(list) && list->type != YAML_SEQUENCE_NODE) {
		pol_err(rd, list, "spec.accessControl.policies",
			"expected a list of policies ({appId, namespace, trustDomain, defaultAction, operations}), found %s",
			res_yaml_kind(list));
	} else if (!res_yaml_is_null(list)) {
		acl.npolicies = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
		acl.policies = calloc(acl.npolicies + 1, sizeof(*acl.policies));
		if (acl.policies == NULL) {
			acl.npolicies = 0;
			diag_error(rd->d, "%s: out of memory", rd->path);
			rd->errors++;
		}
		for (size_t i = 0; i < acl.npolicies; i++) {
			yaml_node_t *n = yaml_document_get_node(rd->doc, list->data.sequence.items.start[i]);

			pol_read_policy(rd, n, i, &acl.policies[i]);
			for (size_t j = 0; j < i; j++)
				if (acl.policies[i].app_id != NULL && acl.policies[j].app_id != NULL &&
				    acl.policies[i].ns != NULL && acl.policies[j].ns != NULL &&
				    strcmp(acl.policies[i].app_id, acl.policies[j].app_id) == 0 &&
				    strcmp(acl.policies[i].ns, acl.policies[j].ns) == 0)
					pol_warn(
						rd, n, "spec.accessControl.policies",
						"app %s in namespace %s already has a policy at line %d; this later one wins, as in daprd",
						acl.policies[i].app_id, acl.policies[i].ns,
						acl.policies[j].line);
		}
		if (acl.npolicies > 0)
			acl.set = true;
	}
	if (acl.set && acl.default_action == ACL_UNSET) {
		if (acl.npolicies > 0) {
			pol_warn(
				rd, key, "spec.accessControl.defaultAction",
				"not set while policies are: callers without a policy are denied (daprd's rule); write defaultAction: deny (or allow) to say so");
			acl.default_action = ACL_DENY;
		} else {
			acl.default_action = ACL_ALLOW;
		}
	}
	if (rd->errors != errors) {
		access_control_free(&acl);
		return;
	}
	access_control_free(&out->acl);
	out->acl = acl;
}

static void pol_read_rules(struct pol_reader *rd, yaml_node_t *n, const char *field, struct api_rule **out,
			   size_t *count)
{
	static const char *const known[] = { "name", "version", "protocol", NULL };
	struct api_rule *rules;
	size_t size, errors = rd->errors;

	if (res_yaml_is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		pol_err(rd, n, field,
			"expected a list of {name, version, protocol}, found %s; write e.g. - {name: state, version: v1, protocol: http}",
			res_yaml_kind(n));
		return;
	}
	size = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	rules = calloc(size + 1, sizeof(*rules));
	if (rules == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		rd->errors++;
		return;
	}
	for (size_t i = 0; i < size; i++) {
		yaml_node_t *item = yaml_document_get_node(rd->doc, n->data.sequence.items.start[i]);
		struct api_rule *r = &rules[i];
		const char *name, *version, *proto, *gv;
		char sub[160];

		snprintf(sub, sizeof(sub), "%s[%zu]", field, i);
		r->line = pol_line(item);
		if (item->type != YAML_MAPPING_NODE) {
			pol_err(rd, item, sub, "expected a mapping with name, version and protocol, found %s",
				res_yaml_kind(item));
			continue;
		}
		res_yaml_warn_unknown(rd->doc, item, rd->path, sub, known, rd->d);
		name = pol_text(rd, res_yaml_get(rd->doc, item, "name"), sub, "state");
		version = pol_text(rd, res_yaml_get(rd->doc, item, "version"), sub, "v1");
		proto = pol_text(rd, res_yaml_get(rd->doc, item, "protocol"), sub, "http");
		if (name == NULL || version == NULL || proto == NULL)
			continue;
		if (!api_lists_known_group(name)) {
			pol_err(rd, item, sub,
				"name \"%s\" is not one of Dapr's API groups (invoke, state, publish, bindings, secrets, actors, metadata, configuration, lock, unlock, crypto, subtlecrypto, workflows, healthz, jobs, shutdown, conversation, subscribe)",
				name);
			continue;
		}
		gv = api_lists_group_version(version);
		if (gv == NULL) {
			pol_err(rd, item, sub,
				"version \"%s\" is not one of Dapr's; write v1, v1alpha1, v1alpha2 or v1beta1 (or v1.0, v1.0-alpha1, ...)",
				version);
			continue;
		}
		if (strcasecmp(proto, "http") == 0) {
			r->proto = API_PROTO_HTTP;
		} else if (strcasecmp(proto, "grpc") == 0) {
			r->proto = API_PROTO_GRPC;
			if (strcmp(version, gv) != 0)
				pol_warn(
					rd, item, sub,
					"read as version %s; daprd matches gRPC rules on the group version only, so write %s for it to mean the same there",
					gv, gv);
		} else {
			/* daprd would apply a rule without a protocol to neither front end, unseen. */
			pol_err(rd, item, sub,
				"protocol %s%s%s: write http or grpc (a rule applies to one front end)",
				*proto == '\0' ? "missing" : "\"", proto,
				*proto == '\0' ? "" : "\" is neither");
			continue;
		}
		if (strcmp(name, "healthz") == 0)
			pol_warn(rd, item, sub,
				 "healthz is always served (as by daprd); this rule changes nothing");
		r->name = pol_strdup(rd, name);
		r->version = pol_strdup(rd, gv);
	}
	if (rd->errors != errors) {
		struct api_lists tmp = { .allowed = rules, .nallowed = size };

		api_lists_free(&tmp);
		return;
	}
	if (*out != NULL) {
		struct api_lists tmp = { .allowed = *out, .nallowed = *count };

		api_lists_free(&tmp);
	}
	*out = rules;
	*count = size;
}

static void pol_read_api(struct pol_reader *rd, yaml_node_t *v, struct cfg_policy *out)
{
	static const char *const known[] = { "allowed", "denied", NULL };

	if (res_yaml_is_null(v))
		return;
	if (v->type != YAML_MAPPING_NODE) {
		pol_err(rd, v, "spec.api", "expected a mapping with allowed and denied, found %s",
			res_yaml_kind(v));
		return;
	}
	res_yaml_warn_unknown(rd->doc, v, rd->path, "spec.api", known, rd->d);
	pol_read_rules(rd, res_yaml_get(rd->doc, v, "allowed"), "spec.api.allowed", &out->api.allowed,
		       &out->api.nallowed);
	pol_read_rules(rd, res_yaml_get(rd->doc, v, "denied"), "spec.api.denied", &out->api.denied,
		       &out->api.ndenied);
	out->api.file = rd->path;
}

static void pol_deny_free(struct cfg_deny *deny, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(deny[i].type);
		free(deny[i].version);
	}
	free(deny);
}

static void pol_read_components(struct pol_reader *rd, yaml_node_t *v, struct cfg_policy *out)
{
	static const char *const known[] = { "deny", NULL };
	struct cfg_deny *deny;
	yaml_node_t *list;
	size_t size, errors = rd->errors;

	if (res_yaml_is_null(v))
		return;
	if (v->type != YAML_MAPPING_NODE) {
		pol_err(rd, v, "spec.components", "expected a mapping with deny, found %s", res_yaml_kind(v));
		return;
	}
	res_yaml_warn_unknown(rd->doc, v, rd->path, "spec.components", known, rd->d);
	list = res_yaml_get(rd->doc, v, "deny");
	if (res_yaml_is_null(list))
		return;
	if (list->type != YAML_SEQUENCE_NODE) {
		pol_err(rd, list, "spec.components.deny",
			"expected a list of component types, found %s; write e.g. [bindings.smtp, secretstores.local.file/v1]",
			res_yaml_kind(list));
		return;
	}
	size = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
	deny = calloc(size + 1, sizeof(*deny));
	if (deny == NULL) {
		diag_error(rd->d, "%s: out of memory", rd->path);
		rd->errors++;
		return;
	}
	for (size_t i = 0; i < size; i++) {
		yaml_node_t *item = yaml_document_get_node(rd->doc, list->data.sequence.items.start[i]);
		const char *t = res_yaml_is_scalar(item) ? res_yaml_text(item) : NULL;
		const char *slash = t != NULL ? strchr(t, '/') : NULL;

		deny[i].line = pol_line(item);
		if (t == NULL || *t == '\0' || slash == t ||
		    (slash != NULL && (slash[1] == '\0' || strchr(slash + 1, '/') != NULL))) {
			/* daprd skips such an entry without a word: it would deny nothing. */
			pol_err(rd, item, "spec.components.deny",
				"\"%s\" is not a component type; write type or type/version, e.g. bindings.smtp or bindings.smtp/v1",
				t != NULL ? t : res_yaml_kind(item));
			continue;
		}
		deny[i].type = slash != NULL ? strndup(t, (size_t)(slash - t)) : strdup(t);
		deny[i].version = slash != NULL ? strdup(slash + 1) : NULL;
		if (deny[i].type == NULL || (slash != NULL && deny[i].version == NULL)) {
			diag_error(rd->d, "%s: out of memory", rd->path);
			rd->errors++;
		}
	}
	if (rd->errors != errors) {
		pol_deny_free(deny, size);
		return;
	}
	pol_deny_free(out->deny, out->ndeny);
	out->deny = deny;
	out->ndeny = size;
	out->deny_file = rd->path;
}

size_t cfg_policy_read(yaml_document_t *doc, const char *path, const char *section, yaml_node_t *key,
		       yaml_node_t *value, struct cfg_policy *out, struct diag *d)
{
	struct pol_reader rd = { doc, path, d, 0 };

	if (strcmp(section, "accessControl") == 0)
		pol_read_acl(&rd, key, value, out);
	else if (strcmp(section, "api") == 0)
		pol_read_api(&rd, value, out);
	else
		pol_read_components(&rd, value, out);
	return rd.errors;
}

size_t cfg_policy_finish(struct cfg_policy *p, struct diag *d)
{
	if (access_control_compile(&p->acl) != 0) {
		diag_error(d, "spec.accessControl: out of memory");
		return 1;
	}
	return 0;
}

void cfg_policy_free(struct cfg_policy *p)
{
	access_control_free(&p->acl);
	api_lists_free(&p->api);
	pol_deny_free(p->deny, p->ndeny);
	memset(p, 0, sizeof(*p));
}

size_t cfg_policy_check_components(const struct cfg_policy *p, const struct res_set *rs, struct diag *d)
{
	size_t errors = 0;

	for (size_t i = 0; i < rs->count; i++) {
		const struct res_component *c = &rs->components[i];
		/* outrig reads a component without spec.version as v1. */
		const char *version = c->version != NULL && *c->version != '\0' ? c->version : "v1";

		if (c->type == NULL)
			continue;
		for (size_t j = 0; j < p->ndeny; j++) {
			const struct cfg_deny *e = &p->deny[j];

			if (strcmp(e->type, c->type) != 0 ||
			    (e->version != NULL && strcmp(e->version, version) != 0))
				continue;
			diag_error(
				d,
				"%s:%d:%d: component %s (%s/%s) is denied by spec.components.deny at %s:%d; remove the component, or its type from that list",
				c->type_pos.file != NULL ? c->type_pos.file : c->file, c->type_pos.line,
				c->type_pos.column, c->name != NULL ? c->name : "?", c->type, version,
				p->deny_file != NULL ? p->deny_file : "?", e->line);
			errors++;
			break;
		}
	}
	return errors;
}
