/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output bindings building block, transport-free (API.md §4.1): finding the binding and its
 * failure rules, the operation check, trace context, and invoking the component on a worker.
 */
#ifndef OUTRIG_CORE_BLOCKS_BINDINGS_H
#define OUTRIG_CORE_BLOCKS_BINDINGS_H

#include <stddef.h>

#include <jansson.h>

#include "base/kv.h"
#include "blocks/errors.h"

struct server;

/* One output binding invocation, as a front end decoded it. */
struct bindings_request {
	const char *name;      /* the binding component */
	const char *operation; /* "" when the request named none */
	const void *data;      /* the bytes the component gets (HTTP: the JSON text of `data`) */
	size_t len;
	const struct kv_list *metadata; /* may be NULL */
	/*
	 * The request's header (HTTP) or metadata (gRPC) called lowercase name, or NULL: daprd
	 * copies the trace context from there into the binding's metadata. May be NULL.
	 */
	const char *(*header)(void *header_ctx, const char *name);
	void *header_ctx;
};

/* What the component answered. */
struct bindings_result {
	const void *data; /* empty on error */
	size_t len;
	/*
	 * The response metadata the component set, name -> string value, on success and on failure
	 * alike (HTTP sends it as metadata.<name> headers either way). Never NULL.
	 */
	json_t *metadata;
};

/*
 * How an invocation ended: err is NULL on success. res is never NULL.
 * Ownership: res and what it points to are the block's, valid during the call.
 * Thread: the loop, exactly once per invocation, possibly before bindings_invoke returns.
 */
typedef void (*bindings_done_fn)(void *arg, const struct block_error *err, const struct bindings_result *res);

/*
 * Invokes r->operation of output binding r->name with r's data and metadata (copied). Fails, with
 * ERR_INVOKE_OUTPUT_BINDING as daprd: an unknown binding, one that failed at start-up under
 * ignoreErrors, an input-only one (plugin or direction), no operation, an operation the plugin
 * does not list, the component's own error. Thread: the loop.
 */
void bindings_invoke(struct server *srv, const struct bindings_request *r, bindings_done_fn done, void *arg);

#endif /* OUTRIG_CORE_BLOCKS_BINDINGS_H */
