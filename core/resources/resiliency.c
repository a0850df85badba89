/* SPDX-License-Identifier: Apache-2.0 */
/* Resiliency resources (`kind: Resiliency`, API.md §11): the retry policies of components. */
#include "config.h"

#include "resources/resiliency.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"
#include "resources/resources.h"
#include "resources/resources_yaml.h"

#define RESIL_API "dapr.io/v1alpha1"
#define RESIL_DEFAULT_DURATION_MS 5000
#define RESIL_DEFAULT_MAX_INTERVAL_MS 60000
/* Dapr's exponential backoff (cenkalti/backoff as configured by dapr/kit/retry). */
#define RESIL_INITIAL_INTERVAL_MS 500
#define RESIL_MULTIPLIER 1.5

/* A named retry policy of the document being read. */
struct resil_named {
	const char *name; /* points into the YAML document */
	struct retry_policy policy;
};

/* One Resiliency document being read; nothing reaches out before it is read without error. */
struct resil_doc {
	yaml_document_t *doc;
	const char *file;
	struct diag *d;
	size_t errors_before;
	struct resil_named *retries;
	size_t nretries;
	struct resiliency_set add;
};

/* A finding at node n of this document, in the wording all resource files share. */
#define resil_report(r, error, ...) res_yaml_report((r)->d, error, (r)->file, __VA_ARGS__)

static bool resil_mapping(const struct resil_doc *r, const yaml_node_t *n, const char *field,
			  const char *todo)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	resil_report(r, true, n, field, "expected a mapping, found %s; %s", res_yaml_kind(n), todo);
	return false;
}

static void resil_oom(const struct resil_doc *r)
{
	diag_error(r->d, "%s: out of memory", r->file);
}

static void resil_target_free(struct resiliency_target *t)
{
	free(t->component);
	free(t->policy_name);
	free(t->origin);
}

static void resil_default_free(struct resiliency_default *d)
{
	free(d->name);
	free(d->origin);
}

/* ---- spec.policies.retries ---- */

static bool resil_duration(const struct resil_doc *r, const yaml_node_t *n, const char *field, int64_t *ms)
{
	if (n->type != YAML_SCALAR_NODE || !duration_parse_ms(res_yaml_text(n), ms)) {
		resil_report(r, true, n, field,
			     "%s%s%s is not a duration; write a Go duration such as \"5s\" or \"1m30s\"",
			     n->type == YAML_SCALAR_NODE ? "\"" : "",
			     n->type == YAML_SCALAR_NODE ? res_yaml_text(n) : res_yaml_kind(n),
			     n->type == YAML_SCALAR_NODE ? "\"" : "");
		return false;
	}
	if (*ms <= 0) {
		resil_report(r, true, n, field,
			     "\"%s\" must be more than zero; write a Go duration such as \"5s\"",
			     res_yaml_text(n));
		return false;
	}
	return true;
}

static bool resil_max_retries(const struct resil_doc *r, const yaml_node_t *n, const char *field,
			      int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = n->type == YAML_SCALAR_NODE ? strtoll(res_yaml_text(n), &end, 10) : 0;
	if (n->type != YAML_SCALAR_NODE || errno != 0 || end == res_yaml_text(n) || *end != '\0' || v < -1) {
		resil_report(
			r, true, n, field,
			"expected a whole number of retries, found %s%s%s; write -1 (retry forever), 0 (never) "
			"or a count",
			n->type == YAML_SCALAR_NODE ? "\"" : "",
			n->type == YAML_SCALAR_NODE ? res_yaml_text(n) : res_yaml_kind(n),
			n->type == YAML_SCALAR_NODE ? "\"" : "");
		return false;
	}
	*out = v;
	return true;
}

/* The fields of each mapping of a Resiliency, as Dapr's types declare them. */
static const char *const resil_spec_fields[] = { "policies", "targets", NULL };
static const char *const resil_policies_fields[] = { "retries", "timeouts", "circuitBreakers", NULL };
static const char *const resil_retry_fields[] = { "policy",	"duration", "maxInterval",
						  "maxRetries", "matching", NULL };
static const char *const resil_targets_fields[] = { "apps", "actors", "components", NULL };
static const char *const resil_direction_fields[] = { "retry", "timeout", "circuitBreaker", NULL };

/* Reads retries.<name>; false after reporting. */
static bool resil_read_retry(const struct resil_doc *r, const char *name, const yaml_node_t *n,
			     struct retry_policy *p)
{
	char field[256];
	yaml_node_t *v;
	bool ok = true;

	*p = (struct retry_policy){ RETRY_CONSTANT, RESIL_DEFAULT_DURATION_MS, RESIL_DEFAULT_MAX_INTERVAL_MS,
				    -1 };
	snprintf(field, sizeof(field), "spec.policies.retries.%s", name);
	if (!resil_mapping(r, n, field, "write \"policy: constant\" with \"duration: 5s\" under the name"))
		return false;

	res_yaml_warn_unknown(r->doc, n, r->file, field, resil_retry_fields, r->d);
	v = res_yaml_get(r->doc, n, "policy");
	snprintf(field, sizeof(field), "spec.policies.retries.%s.policy", name);
	if (!res_yaml_is_null(v)) {
		const char *t = res_yaml_is_scalar(v) ? res_yaml_text(v) : "";

		if (strcmp(t, "exponential") == 0) {
			p->kind = RETRY_EXPONENTIAL;
		} else if (strcmp(t, "constant") != 0) {
			resil_report(r, true, v, field,
				     "expected constant or exponential, found %s%s%s; write one of them",
				     res_yaml_is_scalar(v) ? "\"" : "",
				     res_yaml_is_scalar(v) ? t : res_yaml_kind(v),
				     res_yaml_is_scalar(v) ? "\"" : "");
			ok = false;
		}
	}
	v = res_yaml_get(r->doc, n, "duration");
	snprintf(field, sizeof(field), "spec.policies.retries.%s.duration", name);
	if (!res_yaml_is_null(v))
		ok = resil_duration(r, v, field, &p->duration_ms) && ok;
	v = res_yaml_get(r->doc, n, "maxInterval");
	snprintf(field, sizeof(field), "spec.policies.retries.%s.maxInterval", name);
	if (!res_yaml_is_null(v))
		ok = resil_duration(r, v, field, &p->max_interval_ms) && ok;
	v = res_yaml_get(r->doc, n, "maxRetries");
	snprintf(field, sizeof(field), "spec.policies.retries.%s.maxRetries", name);
	if (!res_yaml_is_null(v))
		ok = resil_max_retries(r, v, field, &p->max_retries) && ok;
	v = res_yaml_get(r->doc, n, "matching");
	snprintf(field, sizeof(field), "spec.policies.retries.%s.matching", name);
	if (!res_yaml_is_null(v))
		resil_report(r, false, v, field, "not supported yet; every failure is retried");
	return ok;
}

static bool resil_add_default(struct resil_doc *r, const char *name, const struct retry_policy *p,
			      const yaml_node_t *n)
{
	struct resiliency_default *grown = NULL;
	struct resiliency_default def = { strdup(name), *p, NULL };

	if (asprintf(&def.origin, "%s:%zu:%zu", r->file, n->start_mark.line + 1, n->start_mark.column + 1) <
	    0)
		def.origin = NULL;
	if (def.name != NULL && def.origin != NULL)
		grown = realloc(r->add.defaults, (r->add.ndefaults + 1) * sizeof(*grown));
	if (grown == NULL) {
		resil_default_free(&def);
		resil_oom(r);
		return false;
	}
	r->add.defaults = grown;
	r->add.defaults[r->add.ndefaults++] = def;
	return true;
}

static void resil_read_retries(struct resil_doc *r, const yaml_node_t *retries)
{
	size_t n;

	if (!resil_mapping(r, retries, "spec.policies.retries",
			   "write each retry policy under its name, e.g. \"pubsubRetry:\""))
		return;
	n = (size_t)(retries->data.mapping.pairs.top - retries->data.mapping.pairs.start);
	r->retries = calloc(n > 0 ? n : 1, sizeof(*r->retries));
	if (r->retries == NULL) {
		resil_oom(r);
		return;
	}
	for (yaml_node_pair_t *p = retries->data.mapping.pairs.start; p < retries->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, p->value);
		struct resil_named *named = &r->retries[r->nretries];

		if (!res_yaml_is_scalar(k)) {
			resil_report(r, true, k, "spec.policies.retries",
				     "a policy name is %s; write names as text", res_yaml_kind(k));
			continue;
		}
		named->name = res_yaml_text(k);
		if (!resil_read_retry(r, named->name, v, &named->policy))
			continue;
		r->nretries++;
		if (strncmp(named->name, "Default", 7) == 0 && strstr(named->name, "RetryPolicy") != NULL)
			resil_add_default(r, named->name, &named->policy, k);
	}
}

static void resil_read_policies(struct resil_doc *r, const yaml_node_t *spec)
{
	yaml_node_t *policies = res_yaml_get(r->doc, spec, "policies");
	yaml_node_t *v;

	if (res_yaml_is_null(policies) ||
	    !resil_mapping(r, policies, "spec.policies", "write \"policies:\" with \"retries:\" under it"))
		return;
	res_yaml_warn_unknown(r->doc, policies, r->file, "spec.policies", resil_policies_fields, r->d);
	v = res_yaml_get(r->doc, policies, "retries");
	if (!res_yaml_is_null(v))
		resil_read_retries(r, v);
	v = res_yaml_get(r->doc, policies, "timeouts");
	if (!res_yaml_is_null(v))
		resil_report(r, false, v, "spec.policies.timeouts",
			     "not supported yet; calls are not cut short");
	v = res_yaml_get(r->doc, policies, "circuitBreakers");
	if (!res_yaml_is_null(v))
		resil_report(r, false, v, "spec.policies.circuitBreakers",
			     "not supported yet; calls are made however often they fail");
}

/* ---- spec.targets ---- */

static const struct resil_named *resil_find(const struct resil_doc *r, const char *name)
{
	for (size_t i = 0; i < r->nretries; i++) {
		if (strcmp(r->retries[i].name, name) == 0)
			return &r->retries[i];
	}
	return NULL;
}

static void resil_add_target(struct resil_doc *r, const char *component, bool inbound,
			     const struct resil_named *named, const yaml_node_t *n)
{
	struct resiliency_target t = { strdup(component), inbound, strdup(named->name), named->policy, NULL };
	struct resiliency_target *grown = NULL;

	if (asprintf(&t.origin, "%s:%zu:%zu", r->file, n->start_mark.line + 1, n->start_mark.column + 1) < 0)
		t.origin = NULL;
	if (t.component != NULL && t.policy_name != NULL && t.origin != NULL)
		grown = realloc(r->add.targets, (r->add.ntargets + 1) * sizeof(*grown));
	if (grown == NULL) {
		resil_target_free(&t);
		resil_oom(r);
		return;
	}
	r->add.targets = grown;
	r->add.targets[r->add.ntargets++] = t;
}

/* components.<component>.inbound or .outbound: {retry, timeout, circuitBreaker}. */
static void resil_read_direction(struct resil_doc *r, const char *component, const char *dir,
				 const yaml_node_t *n)
{
	char field[256];
	yaml_node_t *retry, *other;

	snprintf(field, sizeof(field), "spec.targets.components.%s.%s", component, dir);
	if (!resil_mapping(r, n, field, "write \"retry: POLICY\" under it"))
		return;
	res_yaml_warn_unknown(r->doc, n, r->file, field, resil_direction_fields, r->d);
	retry = res_yaml_get(r->doc, n, "retry");
	if (!res_yaml_is_null(retry)) {
		const struct resil_named *named = NULL;

		snprintf(field, sizeof(field), "spec.targets.components.%s.%s.retry", component, dir);
		if (!res_yaml_is_scalar(retry))
			resil_report(r, true, retry, field, "expected the name of a retry policy, found %s",
				     res_yaml_kind(retry));
		else if ((named = resil_find(r, res_yaml_text(retry))) == NULL)
			resil_report(
				r, true, retry, field,
				"no retry policy named \"%s\" in spec.policies.retries of this document; "
				"define it there or fix the name",
				res_yaml_text(retry));
		else
			resil_add_target(r, component, strcmp(dir, "inbound") == 0, named, retry);
	}
	other = res_yaml_get(r->doc, n, "timeout");
	snprintf(field, sizeof(field), "spec.targets.components.%s.%s.timeout", component, dir);
	if (!res_yaml_is_null(other))
		resil_report(r, false, other, field, "timeouts are not supported yet; ignored");
	other = res_yaml_get(r->doc, n, "circuitBreaker");
	snprintf(field, sizeof(field), "spec.targets.components.%s.%s.circuitBreaker", component, dir);
	if (!res_yaml_is_null(other))
		resil_report(r, false, other, field, "circuit breakers are not supported yet; ignored");
}

static void resil_read_components(struct resil_doc *r, const yaml_node_t *components)
{
	if (!resil_mapping(r, components, "spec.targets.components",
			   "write each component's name with \"inbound:\" or \"outbound:\" under it"))
		return;
	for (yaml_node_pair_t *p = components->data.mapping.pairs.start;
	     p < components->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, p->value);
		char field[256];

		if (!res_yaml_is_scalar(k)) {
			resil_report(r, true, k, "spec.targets.components",
				     "a component name is %s; write names as text", res_yaml_kind(k));
			continue;
		}
		snprintf(field, sizeof(field), "spec.targets.components.%s", res_yaml_text(k));
		if (res_yaml_is_null(v) ||
		    !resil_mapping(r, v, field,
				   "write \"inbound:\" or \"outbound:\" with \"retry: POLICY\" under it"))
			continue;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
			yaml_node_t *dk = yaml_document_get_node(r->doc, q->key);
			yaml_node_t *dv = yaml_document_get_node(r->doc, q->value);
			const char *dir = res_yaml_is_scalar(dk) ? res_yaml_text(dk) : "";

			if (strcmp(dir, "inbound") == 0 || strcmp(dir, "outbound") == 0)
				resil_read_direction(r, res_yaml_text(k), dir, dv);
			else
				resil_report(
					r, false, dk, field,
					"\"%s\" is not a direction; Dapr knows inbound and outbound, so it is "
					"ignored",
					dir);
		}
	}
}

static void resil_read_targets(struct resil_doc *r, const yaml_node_t *spec)
{
	yaml_node_t *targets = res_yaml_get(r->doc, spec, "targets");
	yaml_node_t *v;

	if (res_yaml_is_null(targets) ||
	    !resil_mapping(r, targets, "spec.targets", "write \"targets:\" with \"components:\" under it"))
		return;
	res_yaml_warn_unknown(r->doc, targets, r->file, "spec.targets", resil_targets_fields, r->d);
	v = res_yaml_get(r->doc, targets, "apps");
	if (!res_yaml_is_null(v))
		resil_report(r, false, v, "spec.targets.apps",
			     "service invocation policies are not supported yet; ignored");
	v = res_yaml_get(r->doc, targets, "actors");
	if (!res_yaml_is_null(v))
		resil_report(r, false, v, "spec.targets.actors",
			     "actor policies are not supported yet; ignored");
	v = res_yaml_get(r->doc, targets, "components");
	if (!res_yaml_is_null(v))
		resil_read_components(r, v);
}

/* ---- the set ---- */

void resiliency_free(struct resiliency_set *rs)
{
	for (size_t i = 0; i < rs->ntargets; i++)
		resil_target_free(&rs->targets[i]);
	for (size_t i = 0; i < rs->ndefaults; i++)
		resil_default_free(&rs->defaults[i]);
	free(rs->targets);
	free(rs->defaults);
	memset(rs, 0, sizeof(*rs));
}

/* Moves what the document added into out, saying when it replaces an earlier policy. */
static void resil_commit(struct resil_doc *r, struct resiliency_set *out)
{
	struct resiliency_target *targets;
	struct resiliency_default *defaults;

	for (size_t i = 0; i < r->add.ntargets; i++) {
		const struct resiliency_target *t = &r->add.targets[i];

		for (size_t k = 0; k < out->ntargets; k++) {
			if (strcmp(out->targets[k].component, t->component) == 0 &&
			    out->targets[k].inbound == t->inbound)
				diag_warn(
					r->d,
					"%s: spec.targets.components.%s.%s.retry: the component already has "
					"an %s retry policy at %s; this later one is used",
					t->origin, t->component, t->inbound ? "inbound" : "outbound",
					t->inbound ? "inbound" : "outbound", out->targets[k].origin);
		}
	}
	targets = realloc(out->targets, (out->ntargets + r->add.ntargets + 1) * sizeof(*targets));
	if (targets != NULL)
		out->targets = targets;
	defaults = realloc(out->defaults, (out->ndefaults + r->add.ndefaults + 1) * sizeof(*defaults));
	if (defaults != NULL)
		out->defaults = defaults;
	if (targets == NULL || defaults == NULL) {
		resil_oom(r);
		return;
	}
	/* memcpy from NULL is undefined even for zero bytes. */
	if (r->add.ntargets > 0)
		memcpy(out->targets + out->ntargets, r->add.targets, r->add.ntargets * sizeof(*targets));
	out->ntargets += r->add.ntargets;
	if (r->add.ndefaults > 0)
		memcpy(out->defaults + out->ndefaults, r->add.defaults, r->add.ndefaults * sizeof(*defaults));
	out->ndefaults += r->add.ndefaults;
	free(r->add.targets);
	free(r->add.defaults);
	memset(&r->add, 0, sizeof(r->add));
}

size_t resiliency_parse_yaml(yaml_document_t *doc, yaml_node_t *root, const char *file,
			     struct resiliency_set *out, struct diag *d)
{
	struct resil_doc r = { .doc = doc, .file = file, .d = d, .errors_before = d->errors };
	yaml_node_t *api = res_yaml_get(doc, root, "apiVersion");
	yaml_node_t *spec = res_yaml_get(doc, root, "spec");

	if (!res_yaml_is_scalar(api) || strcmp(res_yaml_text(api), RESIL_API) != 0) {
		resil_report(&r, true, api != NULL ? api : root, "apiVersion",
			     "kind Resiliency is %s, found \"%s\"; write apiVersion: %s", RESIL_API,
			     res_yaml_is_scalar(api) ? res_yaml_text(api) : "", RESIL_API);
		return d->errors - r.errors_before;
	}
	if (res_yaml_is_null(spec)) {
		resil_report(&r, true, root, "spec",
			     "missing; add \"spec:\" with \"policies:\" and \"targets:\" under it");
		return d->errors - r.errors_before;
	}
	if (!resil_mapping(&r, spec, "spec", "write \"spec:\" with \"policies:\" and \"targets:\" under it"))
		return d->errors - r.errors_before;
	res_yaml_warn_unknown(doc, spec, file, "spec", resil_spec_fields, d);
	resil_read_policies(&r, spec);
	resil_read_targets(&r, spec);
	if (d->errors == r.errors_before)
		resil_commit(&r, out);
	resiliency_free(&r.add);
	free(r.retries);
	return d->errors - r.errors_before;
}

/* ---- use ---- */

/* "Pubsub" for "pubsub.redis": the word Dapr's Default...RetryPolicy names use for the type. */
static const char *resil_type_word(const char *type)
{
	static const struct {
		const char *prefix;
		const char *word;
	} words[] = {
		{ "pubsub.", "Pubsub" },
		{ "state.", "Statestore" },
		{ "bindings.", "Binding" },
		{ "secretstores.", "Secretstore" },
		{ "configuration.", "Configuration" },
		{ "lock.", "Lock" },
	};

	for (size_t i = 0; type != NULL && i < sizeof(words) / sizeof(words[0]); i++) {
		if (strncmp(type, words[i].prefix, strlen(words[i].prefix)) == 0)
			return words[i].word;
	}
	return NULL;
}

static const struct retry_policy *resil_default(const struct resiliency_set *rs, const char *name)
{
	const struct retry_policy *found = NULL;

	/* The last definition wins, as for targets. */
	for (size_t i = 0; i < rs->ndefaults; i++) {
		if (strcmp(rs->defaults[i].name, name) == 0)
			found = &rs->defaults[i].policy;
	}
	return found;
}

const struct retry_policy *resiliency_component_retry(const struct res_set *rs, const char *component,
						      bool inbound)
{
	const struct resiliency_set *set = &rs->resiliency;
	const char *dir = inbound ? "Inbound" : "Outbound";
	const struct retry_policy *p = NULL;
	const char *word = NULL;
	char name[128];

	for (size_t i = set->ntargets; i-- > 0;) {
		if (set->targets[i].inbound == inbound && strcmp(set->targets[i].component, component) == 0)
			return &set->targets[i].policy;
	}
	for (size_t i = 0; i < rs->count; i++) {
		if (strcmp(rs->components[i].name, component) == 0)
			word = resil_type_word(rs->components[i].type);
	}
	if (word != NULL) {
		snprintf(name, sizeof(name), "Default%sComponent%sRetryPolicy", word, dir);
		p = resil_default(set, name);
	}
	if (p == NULL) {
		snprintf(name, sizeof(name), "DefaultComponent%sRetryPolicy", dir);
		p = resil_default(set, name);
	}
	if (p == NULL)
		p = resil_default(set, "DefaultComponentRetryPolicy");
	if (p == NULL)
		p = resil_default(set, "DefaultRetryPolicy");
	return p;
}

int64_t retry_policy_delay_ms(const struct retry_policy *p, unsigned attempt)
{
	int64_t cap = p->max_interval_ms > 0 ? p->max_interval_ms : RESIL_DEFAULT_MAX_INTERVAL_MS;
	int64_t wait = RESIL_INITIAL_INTERVAL_MS;

	if (p->kind == RETRY_CONSTANT)
		return p->duration_ms;
	/* Truncated at each step like Go's time.Duration(float64(d) * 1.5); stops at the cap, so
	 * any attempt number is cheap and cannot overflow. */
	for (unsigned i = 1; i < attempt && wait < cap; i++)
		wait = (int64_t)((double)wait * RESIL_MULTIPLIER);
	return wait < cap ? wait : cap;
}

bool retry_policy_allows(const struct retry_policy *p, unsigned attempt)
{
	return p->max_retries < 0 || (int64_t)attempt <= p->max_retries;
}
