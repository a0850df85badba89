/* SPDX-License-Identifier: Apache-2.0 */
/* protobuf map<string,string> fields (request metadata) as the blocks' kv lists. */
#ifndef OUTRIG_CORE_GRPC_MAP_H
#define OUTRIG_CORE_GRPC_MAP_H

#include <stddef.h>

#include "base/kv.h"

/*
 * Adds the n entries of a protobuf-c map<string,string> field to l. The wire may repeat a key;
 * the last one wins, as protobuf's maps say. Linear (kv_set_all), so a map of 50,000 keys does
 * not hold the loop. A missing key or value is "". Returns 0 or -1 (out of memory).
 */
int grpc_map_to_kv(struct kv_list *l, size_t n, void *const *entries);

/* For any generated map field: GRPC_MAP_TO_KV(&list, msg->n_metadata, msg->metadata). */
#define GRPC_MAP_TO_KV(list, n, entries) grpc_map_to_kv((list), (n), (void *const *)(entries))

#endif /* OUTRIG_CORE_GRPC_MAP_H */
