/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving secretKeyRef entries of a component's metadata from a secret store, before create(). */
#ifndef OUTRIG_CORE_SECRET_REFS_H
#define OUTRIG_CORE_SECRET_REFS_H

#include <stdbool.h>
#include <stddef.h>

#include <outrig/config.h>

#include "base/diag.h"
#include "resources/resources.h"

struct components;

/* The store daprd reads references from when auth.secretStore is absent (Kubernetes mode's). */
#define SECRET_REFS_DEFAULT_STORE "kubernetes"

/* A component with its references replaced by values. */
struct secret_refs_view {
	struct res_component rc; /* a shallow copy of the original, but for metadata */
	struct res_metadata *metadata;
	char **values; /* the secrets read, wiped when freed */
	size_t nvalues;
};

/* True when some spec.metadata entry of rc is a secretKeyRef. */
bool secret_refs_any(const struct res_component *rc);

/* The store rc's references are read from: auth.secretStore, or Dapr's default. */
const char *secret_refs_store(const struct res_component *rc);

/*
 * Fills out with rc, each secretKeyRef entry's value taken from the secret store
 * secret_refs_store(rc): the value named secretKeyRef.key of secret secretKeyRef.name (key
 * defaults to name, as in daprd). With create, the store must be one of cs's created secret
 * stores and it is read now (on this thread); without, only that rs declares such a store is
 * checked, and each value becomes a placeholder valid for its field's type in fields.
 * Each problem goes into d as "file:line:column: component X: spec.metadata[name]
 * secretKeyRef: ...". Returns the number of errors added; out is usable only when 0, and is
 * always to be freed with secret_refs_view_free().
 * Ownership: out borrows rc's strings; it must not outlive rc. Thread: the main thread, at start-up.
 */
size_t secret_refs_resolve(const struct components *cs, const struct res_set *rs,
			   const struct res_component *rc, const struct outrig_field *fields, bool create,
			   struct secret_refs_view *out, struct diag *d);

void secret_refs_view_free(struct secret_refs_view *out);

#endif /* OUTRIG_CORE_SECRET_REFS_H */
