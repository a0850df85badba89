/* SPDX-License-Identifier: Apache-2.0 */
/* Resiliency resources (`kind: Resiliency`, API.md §11): the retry policies of components. */
#ifndef OUTRIG_CORE_RESILIENCY_H
#define OUTRIG_CORE_RESILIENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "base/diag.h"

struct res_set;

enum retry_kind {
	RETRY_CONSTANT,
	RETRY_EXPONENTIAL,
};

struct retry_policy {
	enum retry_kind kind;
	int64_t duration_ms;	 /* RETRY_CONSTANT: the wait between tries (default 5 s) */
	int64_t max_interval_ms; /* RETRY_EXPONENTIAL: the longest wait (default 60 s) */
	int64_t max_retries;	 /* retries after the first try; -1 (the default) = forever, 0 = none */
};

/* A retry policy that applies to one component, in one direction. */
struct resiliency_target {
	char *component; /* the component's metadata.name */
	bool inbound;	 /* inbound = sidecar to app (pub/sub delivery, input bindings) */
	char *policy_name;
	struct retry_policy policy;
	char *origin; /* "file.yaml:12:9", where the target names the policy */
};

/* A retry policy named Default...RetryPolicy: Dapr applies those to calls no target names. */
struct resiliency_default {
	char *name; /* e.g. "DefaultPubsubComponentInboundRetryPolicy" */
	struct retry_policy policy;
	char *origin;
};

struct resiliency_set {
	struct resiliency_target *targets; /* in load order; the last one for a component wins */
	size_t ntargets;
	struct resiliency_default *defaults;
	size_t ndefaults;
};

/*
 * Reads one `kind: Resiliency` document (apiVersion dapr.io/v1alpha1) rooted at root, from
 * file, into out. The caller has checked its scopes. Retry policies and the component targets
 * naming them are read; timeouts, circuit breakers, `matching`, and app and actor targets are
 * accepted with a warning (not implemented). Problems go into d as "file:line:column: field:
 * what is wrong; what to do", and a document with an error adds nothing. Returns the number
 * of errors added.
 * Ownership: out owns what is added. Thread: any.
 */
size_t resiliency_parse_yaml(yaml_document_t *doc, yaml_node_t *root, const char *file,
			     struct resiliency_set *out, struct diag *d);

/*
 * The retry policy for calls to component (inbound: deliveries from the sidecar to the app;
 * outbound: calls from the sidecar to the component), or NULL when none applies. As in Dapr,
 * a target naming the component wins, else the most specific Default policy:
 * Default<Type>Component<Direction>RetryPolicy (Type from the component's spec.type: Pubsub,
 * Statestore, Binding, Secretstore, Configuration, Lock), then
 * DefaultComponent<Direction>RetryPolicy, DefaultComponentRetryPolicy, DefaultRetryPolicy.
 * Ownership: points into rs; valid until resources_free(rs). Thread: any (read-only).
 */
const struct retry_policy *resiliency_component_retry(const struct res_set *rs, const char *component,
						      bool inbound);

/*
 * The wait before retry number attempt (1-based; 0 is taken as 1), in milliseconds.
 * Constant: duration_ms every time. Exponential: Dapr's backoff without its randomisation -
 * 500 ms, then times 1.5 per retry (500, 750, 1125, ...), capped at max_interval_ms.
 * Dapr also randomises each wait by +-50%; outrig does not, so retries are predictable.
 * Thread: any.
 */
int64_t retry_policy_delay_ms(const struct retry_policy *p, unsigned attempt);

/* Whether retry number attempt (1-based) may still be made under p. Thread: any. */
bool retry_policy_allows(const struct retry_policy *p, unsigned attempt);

/* Frees what rs holds; it can be reused. */
void resiliency_free(struct resiliency_set *rs);

#endif /* OUTRIG_CORE_RESILIENCY_H */
