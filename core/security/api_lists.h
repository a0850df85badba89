/* SPDX-License-Identifier: Apache-2.0 */
/* Which of Dapr's APIs the sidecar serves (Configuration spec.api.allowed and denied), per front end. */
#ifndef OUTRIG_CORE_SECURITY_API_LISTS_H
#define OUTRIG_CORE_SECURITY_API_LISTS_H

#include <stdbool.h>
#include <stddef.h>

enum api_proto { API_PROTO_HTTP = 0, API_PROTO_GRPC = 1 };

/* One rule: an API group (state, invoke, ...) at a group version (v1, v1alpha1, ...) on one front end. */
struct api_rule {
	char *name;
	char *version; /* the group version: "v1.0" is read as "v1", "v1.0-alpha1" as "v1alpha1" */
	enum api_proto proto;
	int line;
};

struct api_lists {
	struct api_rule *allowed;
	size_t nallowed;
	struct api_rule *denied;
	size_t ndenied;
	const char *file; /* the Configuration file that set them (not owned) */
};

/*
 * Whether the front end proto serves the group name at version (daprd's rules): healthz always;
 * else a denied rule of that front end refuses it; else, when the allowed list has rules for that
 * front end, only those. name NULL: a method of Dapr's API outside every group, refused only by an
 * allow list. On false, why says which rule or list decided, with its file:line. Thread: any.
 */
bool api_lists_allow(const struct api_lists *l, enum api_proto proto, const char *name, const char *version,
		     char *why, size_t why_size);

/*
 * The group version of a version as written ("v1.0" -> "v1", "v1.0-alpha1" -> "v1alpha1", "v1" as
 * is), or NULL when it is none of Dapr's.
 */
const char *api_lists_group_version(const char *version);

/* Whether name is one of Dapr's API groups (API.md §0.1). */
bool api_lists_known_group(const char *name);

void api_lists_free(struct api_lists *l);

#endif
