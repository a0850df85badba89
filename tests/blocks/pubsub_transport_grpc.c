/* SPDX-License-Identifier: Apache-2.0 */
/* The publish table's gRPC adapter: PublishEvent and BulkPublishEvent[Alpha1] of dapr.proto.runtime.v1.Dapr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc_client.h"
#include "pubsub_helpers.h"
#include "pubsub_transport.h"

#define PT_GRPC_TIMEOUT_MS 15000

typedef Dapr__Proto__Runtime__V1__PublishEventRequest__MetadataEntry pt_map_entry;

/* md (key, value pairs ending with NULL) as a protobuf map: entries and the pointers to them. */
static size_t pt_map(const char *const *md, pt_map_entry *items, pt_map_entry **ptrs)
{
	size_t n = 0;

	for (size_t i = 0; md[i] != NULL; i += 2, n++) {
		pt_map_entry init = DAPR__PROTO__RUNTIME__V1__PUBLISH_EVENT_REQUEST__METADATA_ENTRY__INIT;

		items[n] = init;
		items[n].key = (char *)md[i];
		items[n].value = (char *)md[i + 1];
		ptrs[n] = &items[n];
	}
	return n;
}

/* Packs a single publish as a PublishEventRequest. Caller frees *buf. */
static size_t pt_pack_single(const struct pt_request *req, uint8_t **buf)
{
	Dapr__Proto__Runtime__V1__PublishEventRequest in = DAPR__PROTO__RUNTIME__V1__PUBLISH_EVENT_REQUEST__INIT;
	pt_map_entry md_items[PT_MD_MAX], *md_ptrs[PT_MD_MAX];

	in.pubsub_name = (char *)req->pubsub;
	in.topic = (char *)req->topic;
	in.data.data = (uint8_t *)req->data;
	in.data.len = pt_data_len(req);
	if (req->content_type != NULL)
		in.data_content_type = (char *)req->content_type;
	in.n_metadata = pt_map(req->md, md_items, md_ptrs);
	in.metadata = md_ptrs;
	*buf = malloc(dapr__proto__runtime__v1__publish_event_request__get_packed_size(&in) + 1);
	return dapr__proto__runtime__v1__publish_event_request__pack(&in, *buf);
}

/* Packs a bulk as a BulkPublishRequest. Caller frees *buf. */
static size_t pt_pack_bulk(const struct pt_request *req, uint8_t **buf)
{
	pt_map_entry md_items[PT_MD_MAX], *md_ptrs[PT_MD_MAX];
	Dapr__Proto__Runtime__V1__BulkPublishRequest in = DAPR__PROTO__RUNTIME__V1__BULK_PUBLISH_REQUEST__INIT;
	Dapr__Proto__Runtime__V1__BulkPublishRequestEntry *entries = calloc(req->nentries + 1, sizeof(*entries));
	Dapr__Proto__Runtime__V1__BulkPublishRequestEntry **eptrs = calloc(req->nentries + 1, sizeof(*eptrs));
	pt_map_entry(*emd)[PT_MD_MAX] = calloc(req->nentries + 1, sizeof(*emd));
	pt_map_entry *(*emd_ptrs)[PT_MD_MAX] = calloc(req->nentries + 1, sizeof(*emd_ptrs));
	size_t len;

	in.pubsub_name = (char *)req->pubsub;
	in.topic = (char *)req->topic;
	in.n_metadata = pt_map(req->md, md_items, md_ptrs);
	in.metadata = (Dapr__Proto__Runtime__V1__BulkPublishRequest__MetadataEntry **)md_ptrs;
	for (size_t i = 0; i < req->nentries; i++) {
		const struct pt_entry *e = &req->entries[i];
		Dapr__Proto__Runtime__V1__BulkPublishRequestEntry init =
			DAPR__PROTO__RUNTIME__V1__BULK_PUBLISH_REQUEST_ENTRY__INIT;

		entries[i] = init;
		entries[i].entry_id = (char *)e->entry_id;
		entries[i].event.data = (uint8_t *)e->data;
		entries[i].event.len = pt_entry_len(e);
		if (e->content_type != NULL)
			entries[i].content_type = (char *)e->content_type;
		entries[i].n_metadata = pt_map(e->md, emd[i], emd_ptrs[i]);
		entries[i].metadata = (Dapr__Proto__Runtime__V1__BulkPublishRequestEntry__MetadataEntry **)emd_ptrs[i];
		eptrs[i] = &entries[i];
	}
	in.n_entries = req->nentries;
	in.entries = eptrs;
	*buf = malloc(dapr__proto__runtime__v1__bulk_publish_request__get_packed_size(&in) + 1);
	len = dapr__proto__runtime__v1__bulk_publish_request__pack(&in, *buf);
	free(entries);
	free(eptrs);
	free(emd);
	free(emd_ptrs);
	return len;
}

/* The ErrorInfo reason in grpc-status-details-bin (base64 of a google.rpc.Status), into out->reason. */
static void pt_reason(const char *details_bin, struct pt_result *out)
{
	size_t len = 0;
	unsigned char *bin = details_bin != NULL ? ps_base64_decode(details_bin, &len) : NULL;
	Google__Rpc__Status *st = bin != NULL ? google__rpc__status__unpack(NULL, len, bin) : NULL;

	for (size_t i = 0; st != NULL && i < st->n_details; i++) {
		Google__Rpc__ErrorInfo *info;

		if (strstr(st->details[i]->type_url, "google.rpc.ErrorInfo") == NULL)
			continue;
		info = google__rpc__error_info__unpack(NULL, st->details[i]->value.len, st->details[i]->value.data);
		if (info != NULL)
			snprintf(out->reason, sizeof(out->reason), "%s", info->reason);
		google__rpc__error_info__free_unpacked(info, NULL);
	}
	if (st != NULL)
		google__rpc__status__free_unpacked(st, NULL);
	free(bin);
}

static int pt_publish_grpc_path(const struct pt_request *req, struct pt_result *out, const char *bulk_path)
{
	struct grpc_client *c = grpc_client_connect(pt_grpc_port);
	struct grpc_result r = { 0 };
	uint8_t *buf = NULL;
	size_t len;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return -1;
	len = req->bulk ? pt_pack_bulk(req, &buf) : pt_pack_single(req, &buf);
	if (grpc_client_call(c, req->bulk ? bulk_path : "/dapr.proto.runtime.v1.Dapr/PublishEvent", NULL, buf, len,
			     PT_GRPC_TIMEOUT_MS, &r) == 0 &&
	    r.status >= 0) {
		rc = 0;
		out->ok = r.status == 0;
		out->status = r.status;
		snprintf(out->message, sizeof(out->message), "%s", r.message != NULL ? r.message : "");
		pt_reason(r.details_bin, out);
		if (out->ok && req->bulk) {
			Dapr__Proto__Runtime__V1__BulkPublishResponse *res =
				dapr__proto__runtime__v1__bulk_publish_response__unpack(NULL, r.len, r.data);

			if (res == NULL) {
				out->ok = false;
				snprintf(out->message, sizeof(out->message), "the answer is no BulkPublishResponse");
			} else {
				out->nfailed = res->n_failedentries;
				dapr__proto__runtime__v1__bulk_publish_response__free_unpacked(res, NULL);
			}
		}
	}
	grpc_result_free(&r);
	grpc_client_close(c);
	free(buf);
	return rc;
}

int pt_publish_grpc(const struct daemon *d, const struct pt_request *req, struct pt_result *out)
{
	(void)d;
	return pt_publish_grpc_path(req, out, "/dapr.proto.runtime.v1.Dapr/BulkPublishEvent");
}

int pt_publish_grpc_alpha1(const struct daemon *d, const struct pt_request *req, struct pt_result *out)
{
	(void)d;
	return pt_publish_grpc_path(req, out, "/dapr.proto.runtime.v1.Dapr/BulkPublishEventAlpha1");
}
