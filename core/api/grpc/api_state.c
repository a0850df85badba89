/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's state API over gRPC: unpack the request, call the state block, pack its answer. */
#include "api/grpc/api_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_map.h"
#include "api/grpc/grpc_errors.h"
#include "api/grpc/grpc_nul.h"
#include "api/grpc/grpc_unpack.h"
#include "base/kv.h"
#include "blocks/errors.h"
#include "blocks/state/state.h"
#include "blocks/state/state_item.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"

/* Room for an enum value outrig does not know, as text the block refuses by name. */
#define GRPC_STATE_ENUM_TEXT 24

/*
 * protobuf-c hands strings over as C strings: a key "acct\0evil" would arrive as "acct" and touch
 * another key. Such a request is refused, as over HTTP. True after failing the call.
 */
static bool grpc_state_nul(struct grpc_call *call, const ProtobufCMessageDescriptor *d, const uint8_t *msg,
			   size_t len)
{
	struct block_error err;
	char field[sizeof(err.field)];

	if (!grpc_msg_find_nul(d, msg, len, field, sizeof(field)))
		return false;
	state_refuse_nul(&err, field);
	grpc_call_fail_block(call, &err);
	return true;
}

/* Completion of save, delete, bulk delete, transaction and query: Empty or the error. */
static void grpc_state_done(void *ctx, const struct block_error *err)
{
	struct grpc_call *call = ctx;

	if (err != NULL)
		grpc_call_fail_block(call, err);
	else
		grpc_call_reply(call, NULL);
}

static bool grpc_state_waiting(void *ctx)
{
	return grpc_call_alive(ctx);
}

/*
 * The options' enums as the words of Dapr's HTTP API, which the block reads: UNSPECIFIED is the
 * default (NULL); a value outrig does not know goes as its number, for the block to refuse.
 */
static const char *grpc_state_consistency(int v, char buf[GRPC_STATE_ENUM_TEXT])
{
	switch (v) {
	case DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONSISTENCY__CONSISTENCY_UNSPECIFIED: return NULL;
	case DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONSISTENCY__CONSISTENCY_EVENTUAL:
		return "eventual";
	case DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONSISTENCY__CONSISTENCY_STRONG: return "strong";
	}
	snprintf(buf, GRPC_STATE_ENUM_TEXT, "%d", v);
	return buf;
}

static const char *grpc_state_concurrency(int v, char buf[GRPC_STATE_ENUM_TEXT])
{
	switch (v) {
	case DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_UNSPECIFIED: return NULL;
	case DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_FIRST_WRITE:
		return "first-write";
	case DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_LAST_WRITE:
		return "last-write";
	}
	snprintf(buf, GRPC_STATE_ENUM_TEXT, "%d", v);
	return buf;
}

/* n StateItems decoded for the block: writes point into the message and into these. */
struct grpc_state_items {
	struct state_write *writes;
	struct kv_list *metadata;
	char (*enums)[2][GRPC_STATE_ENUM_TEXT];
	size_t n;
};

static void grpc_state_items_free(struct grpc_state_items *it)
{
	for (size_t i = 0; it->metadata != NULL && i < it->n; i++)
		kv_free(&it->metadata[i]);
	free(it->writes);
	free(it->metadata);
	free(it->enums);
}

/* One StateItem (NULL: an empty one) into writes[i]. 0, or -1 on ENOMEM. */
static int grpc_state_item(struct grpc_state_items *it, size_t i, const Dapr__Proto__Common__V1__StateItem *s)
{
	struct state_write *w = &it->writes[i];

	if (s == NULL)
		return 0;
	w->key = s->key;
	w->value = s->value.data;
	w->value_len = s->value.len;
	w->etag = s->etag != NULL ? s->etag->value : NULL;
	if (s->options != NULL) {
		w->concurrency = grpc_state_concurrency(s->options->concurrency, it->enums[i][0]);
		w->consistency = grpc_state_consistency(s->options->consistency, it->enums[i][1]);
	}
	w->metadata = &it->metadata[i];
	return GRPC_MAP_TO_KV(&it->metadata[i], s->n_metadata, s->metadata);
}

static int grpc_state_items_alloc(struct grpc_state_items *it, size_t n)
{
	it->n = n;
	it->writes = calloc(n > 0 ? n : 1, sizeof(*it->writes));
	it->metadata = calloc(n > 0 ? n : 1, sizeof(*it->metadata));
	it->enums = calloc(n > 0 ? n : 1, sizeof(*it->enums));
	return it->writes != NULL && it->metadata != NULL && it->enums != NULL ? 0 : -1;
}

/* n StateItems (states) into it. 0, or -1 on ENOMEM. */
static int grpc_state_items(struct grpc_state_items *it, Dapr__Proto__Common__V1__StateItem **states,
			    size_t n)
{
	if (grpc_state_items_alloc(it, n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (grpc_state_item(it, i, states[i]) != 0)
			return -1;
	return 0;
}

static void grpc_state_out_of_memory(struct grpc_call *call)
{
	grpc_call_fail(call, GRPC_RESOURCE_EXHAUSTED, NULL, "out of memory");
}

/* ---- GetState ---- */

static void grpc_state_get_done(void *ctx, const struct block_error *err, const struct outrig_state_value *v)
{
	struct grpc_call *call = ctx;
	Dapr__Proto__Runtime__V1__GetStateResponse resp = DAPR__PROTO__RUNTIME__V1__GET_STATE_RESPONSE__INIT;
	Dapr__Proto__Runtime__V1__GetStateResponse__MetadataEntry ttl =
		DAPR__PROTO__RUNTIME__V1__GET_STATE_RESPONSE__METADATA_ENTRY__INIT;
	Dapr__Proto__Runtime__V1__GetStateResponse__MetadataEntry *md[1] = { &ttl };
	char when[40];

	if (err != NULL) {
		grpc_call_fail_block(call, err);
		return;
	}
	/* A key the store does not hold is an empty answer, as daprd's. */
	if (v->found) {
		resp.data.data = v->data.data;
		resp.data.len = v->data.len;
		if (v->etag.len > 0)
			resp.etag = v->etag.data;
		if (state_expire_text(v, when, sizeof(when))) {
			ttl.key = "ttlExpireTime";
			ttl.value = when;
			resp.n_metadata = 1;
			resp.metadata = md;
		}
	}
	grpc_call_reply(call, &resp.base);
}

static void grpc_state_get(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__GetStateRequest *req;
	struct kv_list md = { 0 };
	char buf[GRPC_STATE_ENUM_TEXT];

	if (grpc_state_nul(call, &dapr__proto__runtime__v1__get_state_request__descriptor, msg, len))
		return;
	req = dapr__proto__runtime__v1__get_state_request__unpack(NULL, len, msg);
	if (req == NULL) {
		grpc_call_fail_unmarshal(call, &dapr__proto__runtime__v1__get_state_request__descriptor);
		return;
	}
	if (GRPC_MAP_TO_KV(&md, req->n_metadata, req->metadata) != 0)
		grpc_state_out_of_memory(call);
	else
		state_get(grpc_call_server(call), req->store_name,
			  &(struct state_get_req){
				  .key = req->key,
				  .consistency = grpc_state_consistency(req->consistency, buf),
				  .metadata = &md,
			  },
			  grpc_state_get_done, call);
	kv_free(&md);
	dapr__proto__runtime__v1__get_state_request__free_unpacked(req, NULL);
}

/* ---- GetBulkState ---- */

static void grpc_state_bulk_done(void *ctx, const struct block_error *err,
				 const struct state_bulk_item *items, size_t n)
{
	struct grpc_call *call = ctx;
	Dapr__Proto__Runtime__V1__GetBulkStateResponse resp =
		DAPR__PROTO__RUNTIME__V1__GET_BULK_STATE_RESPONSE__INIT;
	Dapr__Proto__Runtime__V1__BulkStateItem *out, **ptrs;

	if (err != NULL) {
		grpc_call_fail_block(call, err);
		return;
	}
	out = calloc(n > 0 ? n : 1, sizeof(*out));
	ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
	if (out == NULL || ptrs == NULL) {
		free(out);
		free(ptrs);
		grpc_state_out_of_memory(call);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct outrig_state_value *v = items[i].value;

		dapr__proto__runtime__v1__bulk_state_item__init(&out[i]);
		/* The generated struct's strings are not const, but it is only packed. */
		out[i].key = (char *)items[i].key;
		if (items[i].error != NULL) {
			out[i].error = (char *)items[i].error;
		} else if (v->found) {
			out[i].data.data = v->data.data;
			out[i].data.len = v->data.len;
			if (v->etag.len > 0)
				out[i].etag = v->etag.data;
		}
		ptrs[i] = &out[i];
	}
	resp.n_items = n;
	resp.items = ptrs;
	grpc_call_reply(call, &resp.base);
	free(ptrs);
	free(out);
}

static void grpc_state_bulk_get(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__GetBulkStateRequest *req;
	struct kv_list md = { 0 };

	if (grpc_state_nul(call, &dapr__proto__runtime__v1__get_bulk_state_request__descriptor, msg, len))
		return;
	req = dapr__proto__runtime__v1__get_bulk_state_request__unpack(NULL, len, msg);
	if (req == NULL) {
		grpc_call_fail_unmarshal(call, &dapr__proto__runtime__v1__get_bulk_state_request__descriptor);
		return;
	}
	/* parallelism is a hint: the block reads the keys in turns on the store's lane. */
	if (GRPC_MAP_TO_KV(&md, req->n_metadata, req->metadata) != 0)
		grpc_state_out_of_memory(call);
	else
		state_bulk_get(grpc_call_server(call), req->store_name,
			       &(struct state_bulk_req){
				       .keys = (const char *const *)req->keys,
				       .n = req->n_keys,
				       .metadata = &md,
			       },
			       grpc_state_waiting, grpc_state_bulk_done, call);
	kv_free(&md);
	dapr__proto__runtime__v1__get_bulk_state_request__free_unpacked(req, NULL);
}

/* ---- SaveState ---- */

static void grpc_state_save(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__SaveStateRequest *req;
	struct grpc_state_items it = { 0 };

	if (grpc_state_nul(call, &dapr__proto__runtime__v1__save_state_request__descriptor, msg, len))
		return;
	req = dapr__proto__runtime__v1__save_state_request__unpack(NULL, len, msg);
	if (req == NULL) {
		grpc_call_fail_unmarshal(call, &dapr__proto__runtime__v1__save_state_request__descriptor);
		return;
	}
	/* The value is stored as the bytes sent, as daprd stores a gRPC value: HTTP stores JSON text. */
	if (grpc_state_items(&it, req->states, req->n_states) != 0)
		grpc_state_out_of_memory(call);
	else
		state_save(grpc_call_server(call), req->store_name, it.writes, it.n, grpc_state_waiting,
			   grpc_state_done, call);
	grpc_state_items_free(&it);
	dapr__proto__runtime__v1__save_state_request__free_unpacked(req, NULL);
}

/* ---- DeleteState ---- */

static void grpc_state_delete(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__DeleteStateRequest *req;
	struct kv_list md = { 0 };
	char buf[2][GRPC_STATE_ENUM_TEXT];

	if (grpc_state_nul(call, &dapr__proto__runtime__v1__delete_state_request__descriptor, msg, len))
		return;
	req = dapr__proto__runtime__v1__delete_state_request__unpack(NULL, len, msg);
	if (req == NULL) {
		grpc_call_fail_unmarshal(call, &dapr__proto__runtime__v1__delete_state_request__descriptor);
		return;
	}
	if (GRPC_MAP_TO_KV(&md, req->n_metadata, req->metadata) != 0)
		grpc_state_out_of_memory(call);
	else
		state_delete(grpc_call_server(call), req->store_name,
			     &(struct state_write){
				     .key = req->key,
				     .etag = req->etag != NULL ? req->etag->value : NULL,
				     .concurrency = req->options != NULL
							    ? grpc_state_concurrency(
								      req->options->concurrency, buf[0])
							    : NULL,
				     .consistency = req->options != NULL
							    ? grpc_state_consistency(
								      req->options->consistency, buf[1])
							    : NULL,
				     .metadata = &md,
			     },
			     grpc_state_done, call);
	kv_free(&md);
	dapr__proto__runtime__v1__delete_state_request__free_unpacked(req, NULL);
}

/* ---- DeleteBulkState ---- */

static void grpc_state_delete_bulk(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__DeleteBulkStateRequest *req;
	struct grpc_state_items it = { 0 };

	if (grpc_state_nul(call, &dapr__proto__runtime__v1__delete_bulk_state_request__descriptor, msg, len))
		return;
	req = dapr__proto__runtime__v1__delete_bulk_state_request__unpack(NULL, len, msg);
	if (req == NULL) {
		grpc_call_fail_unmarshal(call,
					 &dapr__proto__runtime__v1__delete_bulk_state_request__descriptor);
		return;
	}
	if (grpc_state_items(&it, req->states, req->n_states) != 0)
		grpc_state_out_of_memory(call);
	else
		state_delete_bulk(grpc_call_server(call), req->store_name, it.writes, it.n,
				  grpc_state_waiting, grpc_state_done, call);
	grpc_state_items_free(&it);
	dapr__proto__runtime__v1__delete_bulk_state_request__free_unpacked(req, NULL);
}

/* ---- ExecuteStateTransaction ---- */

static void grpc_state_transaction(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__ExecuteStateTransactionRequest *req;
	struct grpc_state_items it = { 0 };
	struct kv_list md = { 0 };
	int rc;

	if (grpc_state_nul(call, &dapr__proto__runtime__v1__execute_state_transaction_request__descriptor,
			   msg, len))
		return;
	req = dapr__proto__runtime__v1__execute_state_transaction_request__unpack(NULL, len, msg);
	if (req == NULL) {
		grpc_call_fail_unmarshal(
			call, &dapr__proto__runtime__v1__execute_state_transaction_request__descriptor);
		return;
	}
	rc = grpc_state_items_alloc(&it, req->n_operations);
	for (size_t i = 0; rc == 0 && i < req->n_operations; i++) {
		rc = grpc_state_item(&it, i, req->operations[i]->request);
		/* The block checks the name: "upsert" or "delete". */
		it.writes[i].operation = req->operations[i]->operationtype;
	}
	if (rc == 0)
		rc = GRPC_MAP_TO_KV(&md, req->n_metadata, req->metadata);
	if (rc != 0)
		grpc_state_out_of_memory(call);
	else
		state_transact(grpc_call_server(call), req->storename, it.writes, it.n, &md, grpc_state_done,
			       call);
	kv_free(&md);
	grpc_state_items_free(&it);
	dapr__proto__runtime__v1__execute_state_transaction_request__free_unpacked(req, NULL);
}

/* ---- QueryStateAlpha1 ---- */

static void grpc_state_query(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__QueryStateRequest *req;

	if (grpc_state_nul(call, &dapr__proto__runtime__v1__query_state_request__descriptor, msg, len))
		return;
	req = dapr__proto__runtime__v1__query_state_request__unpack(NULL, len, msg);
	if (req == NULL) {
		grpc_call_fail_unmarshal(call, &dapr__proto__runtime__v1__query_state_request__descriptor);
		return;
	}
	state_query(grpc_call_server(call), req->store_name, grpc_state_done, call);
	dapr__proto__runtime__v1__query_state_request__free_unpacked(req, NULL);
}

void api_state_grpc_register(void)
{
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/GetState", grpc_state_get);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/GetBulkState", grpc_state_bulk_get);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/SaveState", grpc_state_save);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/DeleteState", grpc_state_delete);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/DeleteBulkState", grpc_state_delete_bulk);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/ExecuteStateTransaction", grpc_state_transaction);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/QueryStateAlpha1", grpc_state_query);
}
