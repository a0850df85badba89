/* SPDX-License-Identifier: Apache-2.0 */
/* Which of Dapr's APIs the sidecar serves (Configuration spec.api.allowed and denied), per front end. */
#include "config.h"

#include "security/api_lists.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dapr's endpoint groups (API.md §0.1; "subscribe" is gRPC's streaming subscription). */
static const char *const api_groups[] = {
	"invoke",	 "state",    "publish",	     "bindings",  "secrets",	  "actors",    "metadata",
	"configuration", "lock",     "unlock",	     "crypto",	  "subtlecrypto", "workflows", "healthz",
	"jobs",		 "shutdown", "conversation", "subscribe", NULL,
};

/* Each URL version and the group version it stands for. */
static const char *const api_versions[][2] = {
	{ "v1.0", "v1" },
	{ "v1.0-alpha1", "v1alpha1" },
	{ "v1.0-alpha2", "v1alpha2" },
	{ "v1.0-beta1", "v1beta1" },
	{ "v1", "v1" },
	{ "v1alpha1", "v1alpha1" },
	{ "v1alpha2", "v1alpha2" },
	{ "v1beta1", "v1beta1" },
};

const char *api_lists_group_version(const char *version)
{
	for (size_t i = 0; i < sizeof(api_versions) / sizeof(api_versions[0]); i++)
		if (strcmp(version, api_versions[i][0]) == 0)
			return api_versions[i][1];
	return NULL;
}

bool api_lists_known_group(const char *name)
{
	for (size_t i = 0; api_groups[i] != NULL; i++)
		if (strcmp(api_groups[i], name) == 0)
			return true;
	return false;
}

static const struct api_rule *api_lists_match(const struct api_rule *rules, size_t n, enum api_proto proto,
					      const char *name, const char *version, bool *any)
{
	*any = false;
	for (size_t i = 0; i < n; i++) {
		if (rules[i].proto != proto)
			continue;
		*any = true;
		if (name != NULL && strcmp(rules[i].name, name) == 0 &&
		    strcmp(rules[i].version, version) == 0)
			return &rules[i];
	}
	return NULL;
}

bool api_lists_allow(const struct api_lists *l, enum api_proto proto, const char *name, const char *version,
		     char *why, size_t why_size)
{
	const char *pname = proto == API_PROTO_HTTP ? "http" : "grpc";
	const struct api_rule *r;
	bool any;

	if (l == NULL || (name != NULL && strcmp(name, "healthz") == 0))
		return true;
	r = api_lists_match(l->denied, l->ndenied, proto, name, version, &any);
	if (r != NULL) {
		snprintf(why, why_size, "the %s API (%s, %s) is denied by spec.api.denied at %s:%d", name,
			 version, pname, l->file != NULL ? l->file : "?", r->line);
		return false;
	}
	r = api_lists_match(l->allowed, l->nallowed, proto, name, version, &any);
	if (!any || r != NULL)
		return true;
	if (name != NULL)
		snprintf(why, why_size, "the %s API (%s, %s) is not in spec.api.allowed of %s", name, version,
			 pname, l->file != NULL ? l->file : "?");
	else
		snprintf(
			why, why_size,
			"this method belongs to no API group, and spec.api.allowed of %s lists the %s APIs served",
			l->file != NULL ? l->file : "?", pname);
	return false;
}

void api_lists_free(struct api_lists *l)
{
	for (size_t i = 0; i < l->nallowed; i++) {
		free(l->allowed[i].name);
		free(l->allowed[i].version);
	}
	for (size_t i = 0; i < l->ndenied; i++) {
		free(l->denied[i].name);
		free(l->denied[i].version);
	}
	free(l->allowed);
	free(l->denied);
	memset(l, 0, sizeof(*l));
}
