/* SPDX-License-Identifier: Apache-2.0 */
/* Query strings of HTTP API requests: Dapr's `metadata.X=V` parameters. */
#ifndef OUTRIG_CORE_HTTP_QUERY_H
#define OUTRIG_CORE_HTTP_QUERY_H

#include <event2/keyvalq_struct.h>

#include "base/kv.h"

/* Adds every `metadata.X=V` query parameter as X=V (first value wins, as in daprd). 0 or -1 (ENOMEM). */
int kv_add_query_metadata(struct kv_list *l, const struct evkeyvalq *q);

#endif /* OUTRIG_CORE_HTTP_QUERY_H */
