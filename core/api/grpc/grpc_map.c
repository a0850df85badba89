/* SPDX-License-Identifier: Apache-2.0 */
/* protobuf map<string,string> fields (request metadata) as the blocks' kv lists. */
#include "api/grpc/grpc_map.h"

#include <stdlib.h>

#include <protobuf-c/protobuf-c.h>

/* Every map<string,string> entry protobuf-c generates has this layout: base, key, value. */
struct grpc_map_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

int grpc_map_to_kv(struct kv_list *l, size_t n, void *const *entries)
{
	struct outrig_kv *view;
	int rc;

	if (n == 0)
		return 0;
	/* A view of the entries' own strings: kv_set_all copies what it keeps. */
	if ((view = calloc(n, sizeof(*view))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct grpc_map_entry *e = entries[i];

		view[i].key = e->key != NULL ? e->key : "";
		view[i].value = e->value != NULL ? e->value : "";
	}
	rc = kv_set_all(l, view, n);
	free(view);
	return rc;
}
