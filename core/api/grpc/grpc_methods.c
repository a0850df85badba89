/* SPDX-License-Identifier: Apache-2.0 */
/* Which handler serves which gRPC method path, and which paths name a method outrig knows of. */
#include <stdbool.h>
#include <string.h>

#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "api/grpc/grpc_call_internal.h"
#include "base/log.h"

/* Dapr's API has some 80 methods; room for all of them and the health service. */
#define GRPC_METHODS_MAX 256

static struct {
	const char *path;
	grpc_unary_fn fn;
} grpc_methods[GRPC_METHODS_MAX];
static size_t grpc_methods_count;

void grpc_methods_register(const char *path, grpc_unary_fn fn)
{
	for (size_t i = 0; i < grpc_methods_count; i++) {
		if (strcmp(grpc_methods[i].path, path) == 0) {
			grpc_methods[i].fn = fn;
			return;
		}
	}
	if (grpc_methods_count == GRPC_METHODS_MAX) {
		log_error("grpc",
			  "cannot register %s: the table of %d methods is full; raise GRPC_METHODS_MAX", path,
			  GRPC_METHODS_MAX);
		return;
	}
	grpc_methods[grpc_methods_count].path = path;
	grpc_methods[grpc_methods_count].fn = fn;
	grpc_methods_count++;
}

grpc_unary_fn grpc_methods_find(const char *path)
{
	for (size_t i = 0; i < grpc_methods_count; i++)
		if (strcmp(grpc_methods[i].path, path) == 0)
			return grpc_methods[i].fn;
	return NULL;
}

/* The services whose every method outrig answers by name, served or not yet. */
static const ProtobufCServiceDescriptor *const grpc_known_services[] = {
	&dapr__proto__runtime__v1__dapr__descriptor,
	&grpc__health__v1__health__descriptor,
};

bool grpc_methods_known(const char *path)
{
	const char *slash;
	size_t service_len;

	if (path[0] != '/' || (slash = strchr(path + 1, '/')) == NULL)
		return false;
	service_len = (size_t)(slash - path - 1);
	for (size_t s = 0; s < sizeof(grpc_known_services) / sizeof(grpc_known_services[0]); s++) {
		const ProtobufCServiceDescriptor *d = grpc_known_services[s];

		if (strlen(d->name) != service_len || strncmp(d->name, path + 1, service_len) != 0)
			continue;
		for (unsigned m = 0; m < d->n_methods; m++)
			if (strcmp(d->methods[m].name, slash + 1) == 0)
				return true;
	}
	return false;
}
