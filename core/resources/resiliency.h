/* SPDX-License-Identifier: Apache-2.0 */
/* Resiliency resources (`kind: Resiliency`, API.md §11): timeouts, retries, circuit breakers and their targets. */
#ifndef OUTRIG_CORE_RESILIENCY_H
#define OUTRIG_CORE_RESILIENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "base/diag.h"
#include "resiliency/trip.h"

struct res_set;

enum retry_kind {
	RETRY_CONSTANT,
	RETRY_EXPONENTIAL,
};

#define CODE_SET_MAX 32

/* Status codes a retry policy retries (`matching`); none listed = every failure is retried. */
struct code_set {
	uint8_t n;
	struct {
		uint16_t lo, hi;
	} r[CODE_SET_MAX];
};

struct retry_policy {
	enum retry_kind kind;
	int64_t duration_ms;	 /* RETRY_CONSTANT: the wait between tries (default 5 s) */
	int64_t max_interval_ms; /* RETRY_EXPONENTIAL: the longest wait (default 60 s) */
	int64_t max_retries;	 /* retries after the first try; -1 (the default) = forever, 0 = none */
	struct code_set http;	 /* matching.httpStatusCodes (100-599) */
	struct code_set grpc;	 /* matching.gRPCStatusCodes (1-16) */
};

struct breaker_policy {
	uint32_t max_requests; /* calls let through while half-open (default 1) */
	int64_t interval_ms;   /* closed: counts reset this often; 0 = never (default) */
	int64_t timeout_ms;    /* open this long, then half-open (default 60 s) */
	struct trip trip;      /* default consecutiveFailures > 5 */
	char trip_text[128];   /* for messages */
};

enum resil_target_kind {
	RESIL_TARGET_COMPONENT,
	RESIL_TARGET_APP,
	RESIL_TARGET_ACTOR,
};

/* What one target (an app, a component in one direction, an actor type) applies. */
struct resiliency_target {
	enum resil_target_kind kind;
	char *component;   /* the app id, the component's metadata.name, or the actor type */
	bool inbound;	   /* components: inbound = sidecar to app (pub/sub delivery, input bindings) */
	char *policy_name; /* the retry policy's name, or NULL */
	struct retry_policy policy;
	char *timeout_name; /* or NULL */
	int64_t timeout_ms;
	char *breaker_name; /* or NULL */
	struct breaker_policy breaker;
	uint32_t cache_size; /* circuitBreakerCacheSize (apps, actors) */
	char *origin;	     /* "file.yaml:12:9", where the target is named */
};

enum resil_policy_kind {
	RESIL_POLICY_RETRY,
	RESIL_POLICY_TIMEOUT,
	RESIL_POLICY_BREAKER,
};

/* A policy with one of Dapr's reserved names (Default...Policy, DaprBuiltIn...Retries). */
struct resiliency_default {
	char *name; /* e.g. "DefaultPubsubComponentInboundRetryPolicy" */
	enum resil_policy_kind what;
	struct retry_policy policy;
	int64_t timeout_ms;
	struct breaker_policy breaker;
	char *origin;
};

struct resiliency_set {
	struct resiliency_target *targets; /* in load order; the last one for a target wins */
	size_t ntargets;
	struct resiliency_default *defaults;
	size_t ndefaults;
};

/*
 * Reads one `kind: Resiliency` document (apiVersion dapr.io/v1alpha1) rooted at root, from
 * file, into out. The caller has checked its scopes. Every policy and target is read and
 * checked; what outrig cannot enforce is an error that says so (never ignored); actor targets
 * warn that they apply to nothing until outrig has actors. Problems go into d as
 * "file:line:column: field: what is wrong; what to do", and a document with an error adds
 * nothing. Returns the number of errors added.
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

/* The same lookup in a set alone, with the component's type given (NULL: unknown). */
const struct retry_policy *resiliency_set_component_retry(const struct resiliency_set *set,
							  const char *component, const char *type,
							  bool inbound);

/*
 * The whole policy for a call: the target's policies, else the Default ones of its kind, most
 * specific first (for components as above; apps: DefaultApp...Policy, then Default...Policy).
 * Each out pointer may be NULL; retry and breaker are set to NULL and *timeout_ms to 0 when none
 * applies. Returns the target (NULL when only defaults apply). Thread: any (read-only).
 */
const struct resiliency_target *resiliency_lookup(const struct resiliency_set *set,
						  enum resil_target_kind kind, const char *name,
						  const char *type, bool inbound,
						  const struct retry_policy **retry, int64_t *timeout_ms,
						  const struct breaker_policy **breaker);

/* The policy named name of kind what in set (the last one wins), or NULL. */
const struct resiliency_default *resiliency_named_default(const struct resiliency_set *set, const char *name,
							  enum resil_policy_kind what);

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

/*
 * Whether a failure with this HTTP status (http true) or gRPC code is retried under p: any
 * failure when p lists no codes of that kind, else only the listed ones. Thread: any.
 */
bool retry_policy_matches(const struct retry_policy *p, bool http, unsigned code);

/*
 * Parses a `matching` list ("500,502-504"): codes from lo to hi. False with err filled.
 * Thread: any.
 */
bool code_set_parse(const char *text, unsigned lo, unsigned hi, struct code_set *out, char *err,
		    size_t errlen);

/* Frees what rs holds; it can be reused. */
void resiliency_free(struct resiliency_set *rs);

#endif /* OUTRIG_CORE_RESILIENCY_H */
