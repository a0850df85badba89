/* SPDX-License-Identifier: Apache-2.0 */
/* Loading Dapr resource YAML (Component, Subscription, Resiliency) from --resources-path folders. */
#ifndef OUTRIG_CORE_RESOURCES_H
#define OUTRIG_CORE_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "resources/resiliency.h"
#include "blocks/pubsub/subscriptions.h"

/* Where something was written, for messages of the form "file:line:column: ...". */
struct res_pos {
	const char *file; /* points at the owning res_component's file string */
	int line;	  /* 1-based */
	int column;	  /* 1-based */
};

/* One spec.metadata[] entry, its value already reduced to text. */
struct res_metadata {
	char *name;
	/*
	 * The value as text: scalars as written ("5s", "true", "42"), maps and lists as
	 * JSON text, envRef resolved from the environment; NULL for a secretKeyRef.
	 */
	char *value;
	char *secret_store_key_name; /* secretKeyRef.name, or NULL */
	char *secret_store_key;	     /* secretKeyRef.key, or NULL */
	struct res_pos pos;	     /* of the entry's value (or of the entry, if no value) */
};

struct res_component {
	char *file;	    /* the YAML file it came from */
	struct res_pos pos; /* of the document's start */
	char *name;	    /* metadata.name */
	struct res_pos name_pos;
	char *type; /* spec.type, e.g. "state.sqlite" */
	struct res_pos type_pos;
	char *version; /* spec.version ("" if absent: Dapr requires it, we default v1) */
	struct res_pos version_pos;
	int64_t init_timeout_ms; /* spec.initTimeout, default 5000 */
	bool ignore_errors;	 /* spec.ignoreErrors */
	char *secret_store;	 /* auth.secretStore, or NULL */
	size_t metadata_count;
	struct res_metadata *metadata;
};

struct res_set {
	size_t count;
	struct res_component *components;
	struct sub_list subscriptions;	  /* the declarative ones (kind: Subscription), in load order */
	struct resiliency_set resiliency; /* retry policies (kind: Resiliency); see resiliency.h */
};

/*
 * Loads every *.yaml and *.yml file directly inside each folder (not recursive), in
 * name order, each possibly holding several documents. Components whose scopes do not
 * name app_id are skipped (logged at debug), and so are Subscription and Resiliency
 * documents. Components, Subscriptions (subscriptions_parse_yaml) and Resiliency documents
 * (resiliency_parse_yaml) are read; other kinds (Configuration, HTTPEndpoint, ...) are
 * logged as not supported yet; documents that are not Dapr resources are skipped with a
 * warning.
 * Every problem goes into d as "file:line:column: field: what is wrong; what to do",
 * and loading goes on so that all problems are listed; a component with an error is
 * left out of out. Returns the number of errors added to d.
 */
size_t resources_load(const char *const *dirs, size_t ndirs, const char *app_id, struct res_set *out,
		      struct diag *d);

/* Loads one file the same way (also used by tests). Returns the number of errors added. */
size_t resources_load_file(const char *path, const char *app_id, struct res_set *out, struct diag *d);

/* Frees everything out holds; out can be reused. */
void resources_free(struct res_set *out);

#endif /* OUTRIG_CORE_RESOURCES_H */
