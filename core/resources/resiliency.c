/* SPDX-License-Identifier: Apache-2.0 */
/* Resiliency resources (`kind: Resiliency`, API.md §11): timeouts, retries, circuit breakers, targets. */
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

/*
 * What outrig enforces. A target or Default policy asking for anything else is refused with
 * an error, never ignored: flip an entry when the runtime does it.
 */
static bool resil_enforced(enum resil_target_kind kind, bool inbound, enum resil_policy_kind what,
			   bool matching)
{
	switch (kind) {
	case RESIL_TARGET_COMPONENT:
		/* matching on component calls is warned about (resil_warn_component_matching);
		 * inbound timeouts cut the delivery attempt (pubsub_delivery.c, binding_delivery.c). */
		(void)matching;
		(void)inbound;
		(void)what;
		return true;
	case RESIL_TARGET_APP: return true;
	case RESIL_TARGET_ACTOR: return true; /* warned about: applies to nothing */
	}
	return false;
}

static const char *resil_what_word(enum resil_policy_kind what)
{
	return what == RESIL_POLICY_RETRY     ? "retry"
	       : what == RESIL_POLICY_TIMEOUT ? "timeout"
					      : "circuitBreaker";
}

static const char *resil_kind_phrase(enum resil_target_kind kind, bool inbound)
{
	switch (kind) {
	case RESIL_TARGET_COMPONENT:
		return inbound ? "inbound component calls (deliveries to the app)"
			       : "outbound component calls";
	case RESIL_TARGET_APP: return "service invocation (apps)";
	case RESIL_TARGET_ACTOR: return "actors";
	}
	return "";
}

/* A named policy of the document being read. */
struct resil_named {
	const char *name; /* points into the YAML document */
	enum resil_policy_kind what;
	struct retry_policy retry;
	int64_t timeout_ms;
	struct breaker_policy breaker;
	bool matching; /* a retry with matching codes */
};

/* One Resiliency document being read; nothing reaches out before it is read without error. */
struct resil_doc {
	yaml_document_t *doc;
	const char *file;
	struct diag *d;
	size_t errors_before;
	struct resil_named *named;
	size_t nnamed;
	struct resiliency_set add;
};

/* A finding at node n of this document, in the wording all resource files share. */
#define resil_report(r, error, ...) res_yaml_report((r)->d, error, (r)->file, __VA_ARGS__)

/*
 * A retry policy with matching on component calls. Outbound, plugin errors carry no HTTP or gRPC
 * status, so every failure is retried, as daprd does for components. Said where it applies.
 * Inbound, the app's delivery answers are matched: nothing to say.
 */
static void resil_warn_component_matching(const struct resil_doc *r, const yaml_node_t *n, const char *field,
					  const char *name, bool inbound)
{
	/* Inbound, the status of the app's answer is matched (pubsub_delivery.c, binding_delivery.c). */
	if (!inbound)
		resil_report(r, false, n, field,
			     "retry policy \"%s\" has matching, which applies to status codes of service "
			     "invocation; plugin calls carry none, so every failure of an outbound component "
			     "call is retried (as in Dapr)",
			     name);
}

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
	free(t->timeout_name);
	free(t->breaker_name);
	free(t->origin);
}

static void resil_default_free(struct resiliency_default *d)
{
	free(d->name);
	free(d->origin);
}

static char *resil_origin(const struct resil_doc *r, const yaml_node_t *n)
{
	char *s;

	if (asprintf(&s, "%s:%zu:%zu", r->file, n->start_mark.line + 1, n->start_mark.column + 1) < 0)
		return NULL;
	return s;
}

/* ---- spec.policies ---- */

/* A Go duration; zero allowed only where zero_ok. */
static bool resil_duration(const struct resil_doc *r, const yaml_node_t *n, const char *field, int64_t *ms,
			   bool zero_ok)
{
	if (n->type != YAML_SCALAR_NODE || !duration_parse_ms(res_yaml_text(n), ms)) {
		resil_report(r, true, n, field,
			     "%s%s%s is not a duration; write a Go duration such as \"5s\" or \"1m30s\"",
			     n->type == YAML_SCALAR_NODE ? "\"" : "",
			     n->type == YAML_SCALAR_NODE ? res_yaml_text(n) : res_yaml_kind(n),
			     n->type == YAML_SCALAR_NODE ? "\"" : "");
		return false;
	}
	if (*ms < 0 || (*ms == 0 && !zero_ok)) {
		resil_report(r, true, n, field,
			     "\"%s\" must be more than zero; write a Go duration such as \"5s\"",
			     res_yaml_text(n));
		return false;
	}
	return true;
}

static bool resil_integer(const struct resil_doc *r, const yaml_node_t *n, const char *field, long long min,
			  long long max, const char *todo, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = n->type == YAML_SCALAR_NODE ? strtoll(res_yaml_text(n), &end, 10) : 0;
	if (n->type != YAML_SCALAR_NODE || errno != 0 || end == res_yaml_text(n) || *end != '\0' || v < min ||
	    v > max) {
		resil_report(r, true, n, field, "expected a whole number, found %s%s%s; %s",
			     n->type == YAML_SCALAR_NODE ? "\"" : "",
			     n->type == YAML_SCALAR_NODE ? res_yaml_text(n) : res_yaml_kind(n),
			     n->type == YAML_SCALAR_NODE ? "\"" : "", todo);
		return false;
	}
	*out = v;
	return true;
}

bool code_set_parse(const char *text, unsigned lo, unsigned hi, struct code_set *out, char *err,
		    size_t errlen)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	while (*p != '\0') {
		unsigned long a, b;
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p < '0' || *p > '9')
			goto bad;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '-') {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtoul(p, &end, 10);
			p = end;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		if (a < lo || b > hi || a > b) {
			snprintf(err, errlen,
				 "%lu-%lu is outside %u-%u or backwards; write codes from %u to %u", a, b, lo,
				 hi, lo, hi);
			return false;
		}
		if (out->n >= CODE_SET_MAX) {
			snprintf(err, errlen,
				 "more than %d codes or ranges; join neighbours into ranges such as 500-504",
				 CODE_SET_MAX);
			return false;
		}
		out->r[out->n].lo = (uint16_t)a;
		out->r[out->n++].hi = (uint16_t)b;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			goto bad;
	}
	return true;
bad:
	snprintf(err, errlen, "\"%s\" is not a list of codes; write e.g. \"500,502-504\"", text);
	return false;
}

static const char *const resil_spec_fields[] = { "policies", "targets", NULL };
static const char *const resil_policies_fields[] = { "retries", "timeouts", "circuitBreakers", NULL };
static const char *const resil_retry_fields[] = { "policy",	"duration", "maxInterval",
						  "maxRetries", "matching", NULL };
static const char *const resil_matching_fields[] = { "httpStatusCodes", "gRPCStatusCodes", NULL };
static const char *const resil_breaker_fields[] = { "maxRequests", "interval", "timeout", "trip", NULL };
static const char *const resil_targets_fields[] = { "apps", "actors", "components", NULL };
static const char *const resil_direction_fields[] = { "retry", "timeout", "circuitBreaker", NULL };
static const char *const resil_app_fields[] = { "retry", "timeout", "circuitBreaker",
						"circuitBreakerCacheSize", NULL };
static const char *const resil_actor_fields[] = {
	"retry", "timeout", "circuitBreaker", "circuitBreakerScope", "circuitBreakerCacheSize", NULL
};

static void resil_matching(const struct resil_doc *r, const char *name, const yaml_node_t *n,
			   struct retry_policy *p, bool *ok)
{
	static const struct {
		const char *key;
		unsigned lo, hi;
	} lists[] = { { "httpStatusCodes", 100, 599 }, { "gRPCStatusCodes", 1, 16 } };
	char field[300], err[200];

	snprintf(field, sizeof(field), "spec.policies.retries.%s.matching", name);
	if (!resil_mapping(r, n, field, "write \"httpStatusCodes:\" or \"gRPCStatusCodes:\" under it")) {
		*ok = false;
		return;
	}
	res_yaml_warn_unknown(r->doc, n, r->file, field, resil_matching_fields, r->d);
	for (size_t i = 0; i < 2; i++) {
		yaml_node_t *v = res_yaml_get(r->doc, n, lists[i].key);
		struct code_set *set = i == 0 ? &p->http : &p->grpc;

		if (res_yaml_is_null(v))
			continue;
		snprintf(field, sizeof(field), "spec.policies.retries.%s.matching.%s", name, lists[i].key);
		if (!res_yaml_is_scalar(v)) {
			resil_report(r, true, v, field, "expected a text such as \"500,502-504\", found %s",
				     res_yaml_kind(v));
			*ok = false;
		} else if (!code_set_parse(res_yaml_text(v), lists[i].lo, lists[i].hi, set, err,
					   sizeof(err))) {
			resil_report(r, true, v, field, "%s", err);
			*ok = false;
		}
	}
}

/* Reads retries.<name>; false after reporting. */
static bool resil_read_retry(const struct resil_doc *r, const char *name, const yaml_node_t *n,
			     struct retry_policy *p, bool *matching)
{
	char field[256];
	yaml_node_t *v;
	bool ok = true;

	memset(p, 0, sizeof(*p));
	*p = (struct retry_policy){
		RETRY_CONSTANT, RESIL_DEFAULT_DURATION_MS, RESIL_DEFAULT_MAX_INTERVAL_MS, -1, { 0 }, { 0 }
	};
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
		ok = resil_duration(r, v, field, &p->duration_ms, false) && ok;
	v = res_yaml_get(r->doc, n, "maxInterval");
	snprintf(field, sizeof(field), "spec.policies.retries.%s.maxInterval", name);
	if (!res_yaml_is_null(v))
		ok = resil_duration(r, v, field, &p->max_interval_ms, false) && ok;
	v = res_yaml_get(r->doc, n, "maxRetries");
	snprintf(field, sizeof(field), "spec.policies.retries.%s.maxRetries", name);
	if (!res_yaml_is_null(v))
		ok = resil_integer(r, v, field, -1, INT32_MAX,
				   "write -1 (retry forever), 0 (never) or a count of retries",
				   &p->max_retries) &&
		     ok;
	v = res_yaml_get(r->doc, n, "matching");
	if (!res_yaml_is_null(v))
		resil_matching(r, name, v, p, &ok);
	*matching = p->http.n > 0 || p->grpc.n > 0;
	return ok;
}

static bool resil_read_breaker(const struct resil_doc *r, const char *name, const yaml_node_t *n,
			       struct breaker_policy *b)
{
	char field[256], err[256];
	const char *trip = "consecutiveFailures > 5";
	yaml_node_t *v;
	int64_t max_requests = 1;
	bool ok = true;

	memset(b, 0, sizeof(*b));
	b->timeout_ms = 60000;
	snprintf(field, sizeof(field), "spec.policies.circuitBreakers.%s", name);
	if (!resil_mapping(r, n, field,
			   "write \"trip: consecutiveFailures > 5\" and \"timeout: 30s\" under the name"))
		return false;
	res_yaml_warn_unknown(r->doc, n, r->file, field, resil_breaker_fields, r->d);
	v = res_yaml_get(r->doc, n, "maxRequests");
	snprintf(field, sizeof(field), "spec.policies.circuitBreakers.%s.maxRequests", name);
	if (!res_yaml_is_null(v))
		ok = resil_integer(r, v, field, 0, UINT32_MAX,
				   "write how many calls a half-open breaker lets through", &max_requests) &&
		     ok;
	b->max_requests = max_requests == 0 ? 1 : (uint32_t)max_requests; /* gobreaker takes 0 as 1 */
	v = res_yaml_get(r->doc, n, "interval");
	snprintf(field, sizeof(field), "spec.policies.circuitBreakers.%s.interval", name);
	if (!res_yaml_is_null(v))
		ok = resil_duration(r, v, field, &b->interval_ms, true) && ok;
	v = res_yaml_get(r->doc, n, "timeout");
	snprintf(field, sizeof(field), "spec.policies.circuitBreakers.%s.timeout", name);
	if (!res_yaml_is_null(v)) {
		ok = resil_duration(r, v, field, &b->timeout_ms, true) && ok;
		if (b->timeout_ms == 0)
			b->timeout_ms = 60000; /* gobreaker's default for 0 */
	}
	v = res_yaml_get(r->doc, n, "trip");
	snprintf(field, sizeof(field), "spec.policies.circuitBreakers.%s.trip", name);
	if (!res_yaml_is_null(v)) {
		if (!res_yaml_is_scalar(v)) {
			resil_report(r, true, v, field,
				     "expected an expression such as \"consecutiveFailures > 5\", found %s",
				     res_yaml_kind(v));
			return false;
		}
		trip = res_yaml_text(v);
	}
	if (!trip_compile(trip, &b->trip, err, sizeof(err))) {
		resil_report(r, true, v, field, "\"%s\" is not a trip expression outrig reads: %s", trip,
			     err);
		return false;
	}
	snprintf(b->trip_text, sizeof(b->trip_text), "%s", trip);
	return ok;
}

/* Dapr's reserved names: Default...Policy, with what they cover. */
static const char *const resil_default_scopes[] = {
	"",
	"App",
	"Actor",
	"Component",
	"ComponentInbound",
	"ComponentOutbound",
	"StatestoreComponentOutbound",
	"PubsubComponentOutbound",
	"PubsubComponentInbound",
	"BindingComponentOutbound",
	"BindingComponentInbound",
	"SecretstoreComponentOutbound",
	"ConfigurationComponentOutbound",
	"LockComponentOutbound",
};

static const char *resil_suffix(enum resil_policy_kind what)
{
	return what == RESIL_POLICY_RETRY     ? "RetryPolicy"
	       : what == RESIL_POLICY_TIMEOUT ? "TimeoutPolicy"
					      : "CircuitBreakerPolicy";
}

/* The scope word of a Default...Policy name ("" for the generic one), or NULL if name is not one. */
static const char *resil_default_scope(const char *name, enum resil_policy_kind what)
{
	const char *suffix = resil_suffix(what);
	size_t n = strlen(name), s = strlen(suffix);

	if (strncmp(name, "Default", 7) != 0 || n < 7 + s || strcmp(name + n - s, suffix) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(resil_default_scopes) / sizeof(resil_default_scopes[0]); i++) {
		size_t w = strlen(resil_default_scopes[i]);

		if (n == 7 + w + s && strncmp(name + 7, resil_default_scopes[i], w) == 0)
			return resil_default_scopes[i];
	}
	return NULL;
}

/* Dapr's DaprBuiltInServiceRetries: 3 retries, 1 s apart (blocks/invoke/invoke_policy.c). */
#define RESIL_BUILTIN_SERVICE_RETRIES 3

/* A policy with a reserved name outrig cannot honour everywhere it applies is refused. */
static bool resil_default_check(const struct resil_doc *r, const struct resil_named *p, const yaml_node_t *k,
				const char *field)
{
	const char *scope = resil_default_scope(p->name, p->what);
	static const struct {
		enum resil_target_kind kind;
		bool inbound;
	} all[] = { { RESIL_TARGET_APP, false },
		    { RESIL_TARGET_COMPONENT, false },
		    { RESIL_TARGET_COMPONENT, true } };

	if (p->what == RESIL_POLICY_RETRY && strncmp(p->name, "DaprBuiltIn", 11) == 0) {
		if (strcmp(p->name, "DaprBuiltInActorRetries") == 0 ||
		    strcmp(p->name, "DaprBuiltInActorReminderRetries") == 0) {
			resil_report(
				r, false, k, field,
				"outrig has no actors yet, so this applies to nothing until actors land");
			return true;
		}
		if (strcmp(p->name, "DaprBuiltInServiceRetries") == 0) {
			/* Dapr's docs: built-in retries may be made stronger, never weaker nor removed. */
			if (p->retry.max_retries >= 0 && p->retry.max_retries < RESIL_BUILTIN_SERVICE_RETRIES) {
				resil_report(
					r, true, k, field,
					"maxRetries %lld is fewer than Dapr's built-in %d, and Dapr forbids weakening "
					"its built-in retries; write maxRetries: %d or more (-1: for ever), or remove "
					"the policy to keep the default",
					(long long)p->retry.max_retries, RESIL_BUILTIN_SERVICE_RETRIES,
					RESIL_BUILTIN_SERVICE_RETRIES);
				return false;
			}
			if (resil_enforced(RESIL_TARGET_APP, false, RESIL_POLICY_RETRY, p->matching))
				return true;
			resil_report(
				r, true, k, field,
				"outrig does not enforce retries of service invocation yet; remove this policy");
			return false;
		}
		resil_report(
			r, true, k, field,
			"%s: outrig does not have this built-in retry (it knows DaprBuiltInServiceRetries, "
			"DaprBuiltInActorRetries and DaprBuiltInActorReminderRetries); remove it or rename it",
			p->name);
		return false;
	}
	if (scope == NULL) {
		if (strncmp(p->name, "Default", 7) == 0)
			resil_report(
				r, false, k, field,
				"\"%s\" is not one of Dapr's Default...%s names, so it applies only where a "
				"target names it; check the spelling",
				p->name, resil_suffix(p->what));
		return true;
	}
	if (strcmp(scope, "Actor") == 0) {
		resil_report(r, false, k, field,
			     "outrig has no actors yet, so this applies to nothing until actors land");
		return true;
	}
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		bool covers;

		if (scope[0] == '\0')
			covers = true;
		else if (strcmp(scope, "App") == 0)
			covers = all[i].kind == RESIL_TARGET_APP;
		else if (strcmp(scope, "Component") == 0)
			covers = all[i].kind == RESIL_TARGET_COMPONENT;
		else
			covers = all[i].kind == RESIL_TARGET_COMPONENT &&
				 all[i].inbound == (strstr(scope, "Inbound") != NULL);
		if (covers && p->matching && all[i].kind == RESIL_TARGET_COMPONENT)
			resil_warn_component_matching(r, k, field, p->name, all[i].inbound);
		if (covers && !resil_enforced(all[i].kind, all[i].inbound, p->what, p->matching)) {
			resil_report(
				r, true, k, field,
				"outrig does not enforce %s%s policies on %s yet, and this Default policy "
				"applies there; remove it, or name the policy on targets outrig enforces",
				p->matching ? "matching " : "", resil_what_word(p->what),
				resil_kind_phrase(all[i].kind, all[i].inbound));
			return false;
		}
	}
	return true;
}

static bool resil_add_default(struct resil_doc *r, const struct resil_named *p, const yaml_node_t *n)
{
	struct resiliency_default *grown = NULL;
	struct resiliency_default def = {
		strdup(p->name), p->what, p->retry, p->timeout_ms, p->breaker, NULL
	};

	def.origin = resil_origin(r, n);
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

static void resil_read_section(struct resil_doc *r, const yaml_node_t *sec, enum resil_policy_kind what)
{
	const char *key = what == RESIL_POLICY_RETRY	 ? "retries"
			  : what == RESIL_POLICY_TIMEOUT ? "timeouts"
							 : "circuitBreakers";
	char field[256];
	struct resil_named *grown;
	size_t n;

	snprintf(field, sizeof(field), "spec.policies.%s", key);
	if (!resil_mapping(r, sec, field, "write each policy under its name"))
		return;
	n = (size_t)(sec->data.mapping.pairs.top - sec->data.mapping.pairs.start);
	grown = realloc(r->named, (r->nnamed + n + 1) * sizeof(*grown));
	if (grown == NULL) {
		resil_oom(r);
		return;
	}
	r->named = grown;
	for (yaml_node_pair_t *p = sec->data.mapping.pairs.start; p < sec->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, p->value);
		struct resil_named *named = &r->named[r->nnamed];
		bool ok;

		if (!res_yaml_is_scalar(k)) {
			resil_report(r, true, k, field, "a policy name is %s; write names as text",
				     res_yaml_kind(k));
			continue;
		}
		memset(named, 0, sizeof(*named));
		named->name = res_yaml_text(k);
		named->what = what;
		snprintf(field, sizeof(field), "spec.policies.%s.%s", key, named->name);
		if (what == RESIL_POLICY_RETRY)
			ok = resil_read_retry(r, named->name, v, &named->retry, &named->matching);
		else if (what == RESIL_POLICY_TIMEOUT)
			ok = resil_duration(r, v, field, &named->timeout_ms, false);
		else
			ok = resil_read_breaker(r, named->name, v, &named->breaker);
		if (!ok)
			continue;
		r->nnamed++;
		if ((strncmp(named->name, "Default", 7) == 0 ||
		     strncmp(named->name, "DaprBuiltIn", 11) == 0) &&
		    resil_default_check(r, named, k, field))
			resil_add_default(r, named, k);
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
	v = res_yaml_get(r->doc, policies, "timeouts");
	if (!res_yaml_is_null(v))
		resil_read_section(r, v, RESIL_POLICY_TIMEOUT);
	v = res_yaml_get(r->doc, policies, "retries");
	if (!res_yaml_is_null(v))
		resil_read_section(r, v, RESIL_POLICY_RETRY);
	v = res_yaml_get(r->doc, policies, "circuitBreakers");
	if (!res_yaml_is_null(v))
		resil_read_section(r, v, RESIL_POLICY_BREAKER);
}

/* ---- spec.targets ---- */

static const struct resil_named *resil_find(const struct resil_doc *r, const char *name,
					    enum resil_policy_kind what)
{
	for (size_t i = 0; i < r->nnamed; i++) {
		if (r->named[i].what == what && strcmp(r->named[i].name, name) == 0)
			return &r->named[i];
	}
	return NULL;
}

static void resil_add_target(struct resil_doc *r, struct resiliency_target *t)
{
	struct resiliency_target *grown = realloc(r->add.targets, (r->add.ntargets + 1) * sizeof(*grown));

	if (grown == NULL) {
		resil_target_free(t);
		resil_oom(r);
		return;
	}
	r->add.targets = grown;
	r->add.targets[r->add.ntargets++] = *t;
}

/* One target's mapping {retry, timeout, circuitBreaker, ...}; field names it in messages. */
static void resil_read_target(struct resil_doc *r, enum resil_target_kind kind, const char *name,
			      bool inbound, const char *field, const yaml_node_t *key, const yaml_node_t *n)
{
	static const char *const keys[] = { "retry", "timeout", "circuitBreaker" };
	static const char *const sections[] = { "retries", "timeouts", "circuitBreakers" };
	const char *const *fields = kind == RESIL_TARGET_APP	 ? resil_app_fields
				    : kind == RESIL_TARGET_ACTOR ? resil_actor_fields
								 : resil_direction_fields;
	struct resiliency_target t = { .kind = kind,
				       .inbound = inbound,
				       .cache_size = kind == RESIL_TARGET_ACTOR ? 5000 : 100 };
	char sub[384];
	yaml_node_t *v;
	bool ok = true;

	if (!resil_mapping(
		    r, n, field,
		    "write \"retry: POLICY\", \"timeout: POLICY\" or \"circuitBreaker: POLICY\" under it"))
		return;
	res_yaml_warn_unknown(r->doc, n, r->file, field, fields, r->d);
	for (size_t i = 0; i < 3; i++) {
		const struct resil_named *named;

		v = res_yaml_get(r->doc, n, keys[i]);
		if (res_yaml_is_null(v))
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", field, keys[i]);
		if (!res_yaml_is_scalar(v)) {
			resil_report(r, true, v, sub, "expected the name of a policy, found %s",
				     res_yaml_kind(v));
			ok = false;
			continue;
		}
		named = resil_find(r, res_yaml_text(v), (enum resil_policy_kind)i);
		if (named == NULL) {
			resil_report(
				r, true, v, sub,
				"no %s policy named \"%s\" in spec.policies.%s of this document; define it "
				"there or fix the name",
				i == 0	 ? "retry"
				: i == 1 ? "timeout"
					 : "circuit breaker",
				res_yaml_text(v), sections[i]);
			ok = false;
			continue;
		}
		if (kind == RESIL_TARGET_COMPONENT && named->matching)
			resil_warn_component_matching(r, v, sub, named->name, inbound);
		if (!resil_enforced(kind, inbound, named->what, named->matching)) {
			resil_report(
				r, true, v, sub,
				"outrig does not enforce %s%s policies on %s yet; remove it (Dapr would apply it)",
				named->matching ? "matching " : "", resil_what_word(named->what),
				resil_kind_phrase(kind, inbound));
			ok = false;
			continue;
		}
		if (i == 0) {
			t.policy_name = strdup(named->name);
			t.policy = named->retry;
		} else if (i == 1) {
			t.timeout_name = strdup(named->name);
			t.timeout_ms = named->timeout_ms;
		} else {
			t.breaker_name = strdup(named->name);
			t.breaker = named->breaker;
		}
	}
	v = res_yaml_get(r->doc, n, "circuitBreakerCacheSize");
	if (kind != RESIL_TARGET_COMPONENT && !res_yaml_is_null(v)) {
		int64_t size = 0;

		snprintf(sub, sizeof(sub), "%s.circuitBreakerCacheSize", field);
		if (resil_integer(r, v, sub, 1, UINT32_MAX, "write how many breakers to keep, e.g. 100",
				  &size))
			t.cache_size = (uint32_t)size;
		else
			ok = false;
	}
	v = res_yaml_get(r->doc, n, "circuitBreakerScope");
	if (kind == RESIL_TARGET_ACTOR && !res_yaml_is_null(v)) {
		const char *s = res_yaml_is_scalar(v) ? res_yaml_text(v) : "";

		snprintf(sub, sizeof(sub), "%s.circuitBreakerScope", field);
		if (strcmp(s, "type") != 0 && strcmp(s, "id") != 0 && strcmp(s, "both") != 0) {
			resil_report(r, true, v, sub,
				     "expected type, id or both, found \"%s\"; write one of them", s);
			ok = false;
		}
	}
	if (kind == RESIL_TARGET_ACTOR)
		resil_report(r, false, key, field,
			     "outrig has no actors yet, so this applies to nothing until actors land");
	t.component = strdup(name);
	t.origin = resil_origin(r, key);
	if (!ok || t.component == NULL || t.origin == NULL || kind == RESIL_TARGET_ACTOR) {
		if (ok && kind != RESIL_TARGET_ACTOR)
			resil_oom(r);
		resil_target_free(&t);
		return;
	}
	resil_add_target(r, &t);
}

static void resil_read_named_targets(struct resil_doc *r, const yaml_node_t *map, enum resil_target_kind kind)
{
	const char *section = kind == RESIL_TARGET_APP ? "apps" : "actors";
	char field[300];

	snprintf(field, sizeof(field), "spec.targets.%s", section);
	if (!resil_mapping(r, map, field, "write each target's name with its policies under it"))
		return;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, p->value);

		if (!res_yaml_is_scalar(k)) {
			resil_report(r, true, k, field, "a name is %s; write names as text",
				     res_yaml_kind(k));
			continue;
		}
		snprintf(field, sizeof(field), "spec.targets.%s.%s", section, res_yaml_text(k));
		resil_read_target(r, kind, res_yaml_text(k), false, field, k, v);
		snprintf(field, sizeof(field), "spec.targets.%s", section);
	}
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
			char sub[300];

			snprintf(sub, sizeof(sub), "%s.%s", field, dir);
			if (strcmp(dir, "inbound") == 0 || strcmp(dir, "outbound") == 0)
				resil_read_target(r, RESIL_TARGET_COMPONENT, res_yaml_text(k),
						  strcmp(dir, "inbound") == 0, sub, dv, dv);
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
		resil_read_named_targets(r, v, RESIL_TARGET_APP);
	v = res_yaml_get(r->doc, targets, "actors");
	if (!res_yaml_is_null(v))
		resil_read_named_targets(r, v, RESIL_TARGET_ACTOR);
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

static const char *resil_target_word(const struct resiliency_target *t)
{
	if (t->kind == RESIL_TARGET_APP)
		return "app";
	return t->inbound ? "inbound" : "outbound";
}

/* Moves what the document added into out, saying when it replaces an earlier policy. */
static void resil_commit(struct resil_doc *r, struct resiliency_set *out)
{
	struct resiliency_target *targets;
	struct resiliency_default *defaults;

	for (size_t i = 0; i < r->add.ntargets; i++) {
		const struct resiliency_target *t = &r->add.targets[i];

		for (size_t k = 0; k < out->ntargets; k++) {
			if (out->targets[k].kind == t->kind &&
			    strcmp(out->targets[k].component, t->component) == 0 &&
			    out->targets[k].inbound == t->inbound)
				diag_warn(
					r->d,
					"%s: %s: the %s target already has policies at %s; this later one is used",
					t->origin, t->component, resil_target_word(t),
					out->targets[k].origin);
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
	free(r.named);
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

const struct resiliency_default *resiliency_named_default(const struct resiliency_set *set, const char *name,
							  enum resil_policy_kind what)
{
	const struct resiliency_default *found = NULL;

	/* The last definition wins, as for targets. */
	for (size_t i = 0; i < set->ndefaults; i++) {
		if (set->defaults[i].what == what && strcmp(set->defaults[i].name, name) == 0)
			found = &set->defaults[i];
	}
	return found;
}

/* The most specific Default policy of kind what for a call, or NULL. */
static const struct resiliency_default *resil_default_for(const struct resiliency_set *set,
							  enum resil_target_kind kind, const char *type,
							  bool inbound, enum resil_policy_kind what)
{
	const char *dir = inbound ? "Inbound" : "Outbound";
	const char *suffix = resil_suffix(what);
	const struct resiliency_default *p = NULL;
	const char *word = resil_type_word(type);
	char name[128];

	if (kind == RESIL_TARGET_APP) {
		snprintf(name, sizeof(name), "DefaultApp%s", suffix);
		p = resiliency_named_default(set, name, what);
	} else if (kind == RESIL_TARGET_COMPONENT) {
		if (word != NULL) {
			snprintf(name, sizeof(name), "Default%sComponent%s%s", word, dir, suffix);
			p = resiliency_named_default(set, name, what);
		}
		if (p == NULL) {
			snprintf(name, sizeof(name), "DefaultComponent%s%s", dir, suffix);
			p = resiliency_named_default(set, name, what);
		}
		if (p == NULL) {
			snprintf(name, sizeof(name), "DefaultComponent%s", suffix);
			p = resiliency_named_default(set, name, what);
		}
	}
	if (p == NULL) {
		snprintf(name, sizeof(name), "Default%s", suffix);
		p = resiliency_named_default(set, name, what);
	}
	return p;
}

const struct resiliency_target *resiliency_lookup(const struct resiliency_set *set,
						  enum resil_target_kind kind, const char *name,
						  const char *type, bool inbound,
						  const struct retry_policy **retry, int64_t *timeout_ms,
						  const struct breaker_policy **breaker)
{
	const struct resiliency_target *t = NULL;
	const struct resiliency_default *d;

	for (size_t i = set->ntargets; t == NULL && i-- > 0;) {
		if (set->targets[i].kind == kind && set->targets[i].inbound == inbound &&
		    strcmp(set->targets[i].component, name) == 0)
			t = &set->targets[i];
	}
	/* Dapr: a target's own policy wins; what it leaves out comes from the Default ones. */
	if (retry != NULL) {
		*retry = t != NULL && t->policy_name != NULL ? &t->policy : NULL;
		if (*retry == NULL &&
		    (d = resil_default_for(set, kind, type, inbound, RESIL_POLICY_RETRY)) != NULL)
			*retry = &d->policy;
	}
	if (timeout_ms != NULL) {
		*timeout_ms = t != NULL && t->timeout_name != NULL ? t->timeout_ms : 0;
		if (*timeout_ms == 0 &&
		    (d = resil_default_for(set, kind, type, inbound, RESIL_POLICY_TIMEOUT)) != NULL)
			*timeout_ms = d->timeout_ms;
	}
	if (breaker != NULL) {
		*breaker = t != NULL && t->breaker_name != NULL ? &t->breaker : NULL;
		if (*breaker == NULL &&
		    (d = resil_default_for(set, kind, type, inbound, RESIL_POLICY_BREAKER)) != NULL)
			*breaker = &d->breaker;
	}
	return t;
}

const struct retry_policy *resiliency_set_component_retry(const struct resiliency_set *set,
							  const char *component, const char *type,
							  bool inbound)
{
	const struct retry_policy *p;

	resiliency_lookup(set, RESIL_TARGET_COMPONENT, component, type, inbound, &p, NULL, NULL);
	return p;
}

const struct retry_policy *resiliency_component_retry(const struct res_set *rs, const char *component,
						      bool inbound)
{
	const char *type = NULL;

	for (size_t i = 0; i < rs->count; i++) {
		if (strcmp(rs->components[i].name, component) == 0)
			type = rs->components[i].type;
	}
	return resiliency_set_component_retry(&rs->resiliency, component, type, inbound);
}

bool retry_policy_matches(const struct retry_policy *p, bool http, unsigned code)
{
	const struct code_set *set = http ? &p->http : &p->grpc;

	if (set->n == 0)
		return true;
	for (size_t i = 0; i < set->n; i++) {
		if (code >= set->r[i].lo && code <= set->r[i].hi)
			return true;
	}
	return false;
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
