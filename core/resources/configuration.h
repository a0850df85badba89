/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr Configuration files (--config, kind: Configuration): what outrig reads of them, merged in order. */
#ifndef OUTRIG_CORE_CONFIGURATION_H
#define OUTRIG_CORE_CONFIGURATION_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "observe/trace.h"
#include "resources/configuration_mtls.h"
#include "resources/configuration_observe.h"
#include "resources/configuration_policy.h"
#include "resources/resources.h"

/* The name resolver's type when no Configuration names one: sidecars on one host find each other. */
#define CONFIGURATION_DEFAULT_RESOLVER "sqlite"

/* One entry of spec.secrets.scopes (API.md §5.4): which secrets of one store this app may read. */
struct secret_scope {
	char *store;	   /* storeName */
	bool default_deny; /* defaultAccess: deny (default allow) */
	char **allowed;	   /* allowedSecrets; when not empty, only these */
	size_t nallowed;
	char **denied; /* deniedSecrets */
	size_t ndenied;
	struct res_pos pos; /* of the entry, for messages */
};

struct configuration {
	/*
	 * spec.nameResolution as a component resource: name "nameresolution", type
	 * "nameresolution.<component>", version (default v1), and `configuration` as its metadata
	 * (scalars as written, maps and lists as JSON text). Positions point into the file that set
	 * each part; file is "(default name resolution)" when no file set the component.
	 */
	struct res_component resolver;
	bool resolver_configured; /* some file set spec.nameResolution.component */
	/* spec.secrets.scopes, from the last file that set it. */
	struct secret_scope *secret_scopes;
	size_t nsecret_scopes;
	/* spec.tracing, from the last file that set it (enabled false without one). */
	struct trace_settings tracing;
	/* spec.metric (or metrics) and spec.logging, merged field by field over the files. */
	struct cfg_observe observe;
	/* spec.accessControl, spec.api and spec.components, each from the last file that set it. */
	struct cfg_policy policy;
	/* spec.mtls, merged field by field over the files. */
	struct cfg_mtls mtls;
	/* The files read, which the positions above point into. */
	char **files;
	size_t nfiles;
	/* The spec sections already reported as not supported, so each is reported once. */
	char **unsupported;
	size_t nunsupported;
};

/*
 * Reads the Configuration files in order into out, each over the last: a later file's
 * nameResolution.component, .version and .configuration replace the earlier ones, as daprd's
 * standalone loader does. Sections outrig does not serve yet are warnings (once each), never
 * errors. Problems go into d as "file:line:column: field: what is wrong; what to do".
 * Without files (n 0) out holds the default resolver. Returns the number of errors added.
 * Ownership: out is the caller's; release it with configuration_free().
 */
size_t configuration_load(const char *const *paths, size_t n, struct configuration *out, struct diag *d);

/* Frees what out holds; out can be reused. */
void configuration_free(struct configuration *out);

/*
 * Whether this app may read secret key of store (daprd's rule): a store without a scope entry
 * allows everything; else a non-empty allowedSecrets decides alone; else deniedSecrets denies;
 * else defaultAccess. Names are matched exactly. Thread: any (cfg read-only).
 */
bool configuration_secret_allowed(const struct configuration *cfg, const char *store, const char *key);

#endif /* OUTRIG_CORE_CONFIGURATION_H */
