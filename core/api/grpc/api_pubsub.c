/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dapr's publish API over gRPC (API.md §13: PublishEvent, BulkPublishEvent and its Alpha1 name):
 * the protobuf request decoded, the pub/sub block called, its answer encoded. Every rule is the
 * block's (blocks/pubsub/pubsub.h), shared with the HTTP API.
 */
#include "config.h"

#include "api/grpc/api_pubsub.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_unpack.h"
#include "api/grpc/grpc_map.h"
#include "api/grpc/grpc_errors.h"
#include "base/kv.h"
#include "blocks/errors.h"
#include "blocks/pubsub/pubsub.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"

/* A publish in the block, waiting for its completion to answer the call. */
struct grpc_publish {
	struct grpc_call *call;
	bool bulk;
};

static bool grpc_publish_alive(void *arg)
{
	const struct grpc_publish *p = arg;

	return grpc_call_alive(p->call);
}

/*
 * The block's completion (pubsub_done_fn). A bulk's broker failures are no error over gRPC, as in
 * daprd: the call succeeds and lists them in failedEntries. Thread: the loop.
 */
static void grpc_publish_done(void *arg, const struct block_error *err, const struct pubsub_failed_entry *failed,
			      size_t nfailed)
{
	struct grpc_publish *p = arg;
	Dapr__Proto__Runtime__V1__BulkPublishResponse res = DAPR__PROTO__RUNTIME__V1__BULK_PUBLISH_RESPONSE__INIT;
	Dapr__Proto__Runtime__V1__BulkPublishResponseFailedEntry *items = NULL, **list = NULL;

	if (err != NULL) {
		grpc_call_fail_block(p->call, err);
	} else if (!p->bulk) {
		grpc_call_reply(p->call, NULL);
	} else if (nfailed > 0 && ((items = calloc(nfailed, sizeof(*items))) == NULL ||
				   (list = calloc(nfailed, sizeof(*list))) == NULL)) {
		grpc_call_fail(p->call, GRPC_INTERNAL, NULL, "out of memory listing the failed entries of the bulk");
	} else {
		for (size_t i = 0; i < nfailed; i++) {
			Dapr__Proto__Runtime__V1__BulkPublishResponseFailedEntry init =
				DAPR__PROTO__RUNTIME__V1__BULK_PUBLISH_RESPONSE_FAILED_ENTRY__INIT;

			items[i] = init;
			items[i].entry_id = (char *)failed[i].entry_id;
			items[i].error = (char *)failed[i].error;
			list[i] = &items[i];
		}
		res.n_failedentries = nfailed;
		res.failedentries = list;
		grpc_call_reply(p->call, &res.base);
	}
	free(list);
	free(items);
	free(p);
}


/* Hands r to the block; the call is answered from grpc_publish_done. */
static void grpc_publish_start(struct grpc_call *call, struct pubsub_request *r)
{
	struct grpc_publish *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
		return;
	}
	p->call = call;
	p->bulk = r->bulk;
	r->traceparent = grpc_call_metadata(call, "traceparent");
	r->tracestate = grpc_call_metadata(call, "tracestate");
	r->alive = grpc_publish_alive;
	pubsub_publish(grpc_call_server(call), r, grpc_publish_done, p);
}

/* ---- /dapr.proto.runtime.v1.Dapr/PublishEvent ---- */

static void grpc_publish_event(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__PublishEventRequest *in = grpc_call_unpack(
		call, &dapr__proto__runtime__v1__publish_event_request__descriptor, msg, len);
	struct kv_list md = { 0 };
	struct pubsub_entry entry = { 0 };
	struct pubsub_request r = { .metadata = &md, .entries = &entry, .count = 1 };

	if (in == NULL)
		return;
	if (GRPC_MAP_TO_KV(&md, in->n_metadata, in->metadata) != 0) {
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
	} else {
		r.pubsub = in->pubsub_name;
		r.topic = in->topic;
		entry.data = in->data.data;
		entry.len = in->data.len;
		entry.content_type = in->data_content_type;
		grpc_publish_start(call, &r);
	}
	kv_free(&md);
	dapr__proto__runtime__v1__publish_event_request__free_unpacked(in, NULL);
}

/* ---- /dapr.proto.runtime.v1.Dapr/BulkPublishEvent (and BulkPublishEventAlpha1) ---- */

static void grpc_bulk_publish_event(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__BulkPublishRequest *in =
		grpc_call_unpack(call, &dapr__proto__runtime__v1__bulk_publish_request__descriptor, msg, len);
	struct kv_list md = { 0 }, *mds = NULL;
	struct pubsub_entry *entries = NULL;
	struct pubsub_request r = { .metadata = &md, .bulk = true };
	bool ok = true;

	if (in == NULL)
		return;
	entries = calloc(in->n_entries > 0 ? in->n_entries : 1, sizeof(*entries));
	mds = calloc(in->n_entries > 0 ? in->n_entries : 1, sizeof(*mds));
	ok = entries != NULL && mds != NULL && GRPC_MAP_TO_KV(&md, in->n_metadata, in->metadata) == 0;
	for (size_t i = 0; ok && i < in->n_entries; i++) {
		const Dapr__Proto__Runtime__V1__BulkPublishRequestEntry *e = in->entries[i];

		entries[i].entry_id = e->entry_id;
		entries[i].data = e->event.data;
		entries[i].len = e->event.len;
		entries[i].content_type = e->content_type;
		entries[i].metadata = &mds[i];
		ok = GRPC_MAP_TO_KV(&mds[i], e->n_metadata, e->metadata) == 0;
	}
	if (ok) {
		r.pubsub = in->pubsub_name;
		r.topic = in->topic;
		r.entries = entries;
		r.count = in->n_entries;
		grpc_publish_start(call, &r);
	} else {
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
	}
	for (size_t i = 0; mds != NULL && i < in->n_entries; i++)
		kv_free(&mds[i]);
	free(mds);
	free(entries);
	kv_free(&md);
	dapr__proto__runtime__v1__bulk_publish_request__free_unpacked(in, NULL);
}

void api_pubsub_grpc_register(void)
{
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/PublishEvent", grpc_publish_event);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/BulkPublishEvent", grpc_bulk_publish_event);
	/* daprd serves the deprecated name with the same handler. */
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/BulkPublishEventAlpha1", grpc_bulk_publish_event);
}
