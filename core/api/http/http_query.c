/* SPDX-License-Identifier: Apache-2.0 */
/* Query strings of HTTP API requests: Dapr's `metadata.X=V` parameters. */
#include "api/http/http_query.h"

#include <sys/queue.h>

#include <string.h>

int kv_add_query_metadata(struct kv_list *l, const struct evkeyvalq *q)
{
	const struct evkeyval *h;

	TAILQ_FOREACH(h, q, next)
	{
		if (strncmp(h->key, "metadata.", 9) != 0 || kv_get(l, h->key + 9) != NULL)
			continue;
		if (kv_set(l, h->key + 9, h->value) != 0)
			return -1;
	}
	return 0;
}
