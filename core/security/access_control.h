/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation's access control (Configuration spec.accessControl, API.md §10), evaluated on the callee. */
#ifndef OUTRIG_CORE_SECURITY_ACCESS_CONTROL_H
#define OUTRIG_CORE_SECURITY_ACCESS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "security/peer_identity.h"

/* An action as written: not set, allow or deny. */
enum acl_action { ACL_UNSET = 0, ACL_ALLOW, ACL_DENY };

/* One entry of a policy's operations. */
struct acl_operation {
	char *name;   /* as written, with a leading '/' added (daprd) */
	char **verbs; /* httpVerb: upper-case verbs, or "*" */
	size_t nverbs;
	enum acl_action action; /* never ACL_UNSET */
	int line;
};

struct acl_node;

/* One entry of spec.accessControl.policies: what the app appId of namespace may call. */
struct acl_policy {
	char *app_id;
	char *ns;
	char *trust_domain;
	enum acl_action default_action; /* ACL_UNSET: the global one, until an operation matches */
	struct acl_operation *ops;
	size_t nops;
	struct acl_node *trie; /* ops as daprd looks them up (access_control_compile) */
	int line;
};

struct access_control {
	bool set;			/* the section is there and says something: evaluation is on */
	enum acl_action default_action; /* never ACL_UNSET once set */
	char *trust_domain;		/* default "public" */
	struct acl_policy *policies;
	size_t npolicies;
	const char *file; /* the Configuration file that set it (not owned) */
	int line;
};

/*
 * Builds each policy's lookup tree from its operations (in their order: of two operations with
 * one name, the first wins, as in daprd). Returns 0, or -1 when out of memory.
 */
int access_control_compile(struct access_control *acl);

/* Frees what acl holds; acl can be reused. */
void access_control_free(struct access_control *acl);

/*
 * Whether the caller who may call method with verb (NULL: none, as for proxied gRPC), daprd's rules:
 * no section allows all; a caller without a policy (app id and namespace; no namespace is
 * "default") gets the global defaultAction; a policy whose trustDomain differs from a verified
 * caller's too; else the policy's defaultAction, then the operation that matches method (`*` one
 * segment or part of one, `**` the rest; a name matches its sub-paths too), then its verb
 * (httpVerb entry or `*`; an operation that denies GET denies HEAD too, which many routers serve
 * with the GET handler). http: the app speaks HTTP (methods and names compared ignoring case,
 * verbs matched); else gRPC (the operation's action alone).
 *
 * method is what the app receives, still percent-encoded. It is matched decoded; when a policy
 * with operations decides, a method whose decoding is ambiguous (an encoded '/', '\\', '%', ';',
 * '#', '?' or control byte, a bare '%', a '.' or '..' segment, a segment ending in '.', empty
 * segments, invalid UTF-8) is denied rather than guessed at.
 * On false, why holds daprd's message ("access control policy has denied access to ...").
 * Thread: any (acl read-only).
 */
bool access_control_allows(const struct access_control *acl, const struct peer_identity *who,
			   const char *method, const char *verb, bool http, char *why, size_t why_size);

/*
 * Whether method's decoding is ambiguous (see access_control_allows); on true, what the reason is
 * in why. Thread: any.
 */
bool access_control_ambiguous(const char *method, char *why, size_t why_size);

#endif
