/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's GetSecret and GetBulkSecret over gRPC: the protobuf request in, the secrets block's answer out. */
#include "config.h"

#include "api/grpc/api_secrets.h"

#include <stdlib.h>

#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_unpack.h"
#include "api/grpc/grpc_map.h"
#include "api/grpc/grpc_errors.h"
#include "base/kv.h"
#include "blocks/secrets/secrets.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"

/*
 * A map<string,string> entry: every generated one has this layout (protobuf-c packs and unpacks
 * through the descriptor's offsets), so one helper serves the maps of every message here.
 */
struct grpc_secrets_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

/*
 * obj's string members as map entries initialised with desc, into *entries and *ptrs.
 * Returns how many, or -1 when out of memory. Ownership: the caller frees both arrays; the strings are obj's.
 */
static int grpc_secrets_entries(json_t *obj, const ProtobufCMessageDescriptor *desc,
				struct grpc_secrets_entry **entries, struct grpc_secrets_entry ***ptrs)
{
	size_t n = json_object_size(obj), i = 0;
	const char *key;
	json_t *value;

	*entries = NULL;
	*ptrs = NULL;
	if (n == 0)
		return 0;
	if ((*entries = calloc(n, sizeof(**entries))) == NULL ||
	    (*ptrs = calloc(n, sizeof(**ptrs))) == NULL) {
		free(*entries);
		*entries = NULL;
		return -1;
	}
	json_object_foreach(obj, key, value)
	{
		if (!json_is_string(value))
			continue;
		protobuf_c_message_init(desc, &(*entries)[i]);
		(*entries)[i].key = (char *)key;
		(*entries)[i].value = (char *)json_string_value(value);
		(*ptrs)[i] = &(*entries)[i];
		i++;
	}
	return (int)i;
}

/* ---- GetSecret ---- */

static void grpc_secret_done(void *arg, const struct block_error *err, json_t *secrets)
{
	struct grpc_call *call = arg;
	Dapr__Proto__Runtime__V1__GetSecretResponse resp =
		DAPR__PROTO__RUNTIME__V1__GET_SECRET_RESPONSE__INIT;
	struct grpc_secrets_entry *entries, **ptrs;
	int n;

	if (err != NULL) {
		grpc_call_fail_block(call, err);
		return;
	}
	/* No data from the store (HTTP's 204): an empty map. */
	n = grpc_secrets_entries(secrets,
				 &dapr__proto__runtime__v1__get_secret_response__data_entry__descriptor,
				 &entries, &ptrs);
	if (n < 0) {
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
		return;
	}
	resp.n_data = (size_t)n;
	resp.data = (Dapr__Proto__Runtime__V1__GetSecretResponse__DataEntry **)ptrs;
	grpc_call_reply(call, &resp.base);
	free(ptrs);
	free(entries);
}

static void grpc_get_secret(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__GetSecretRequest *req =
		grpc_call_unpack(call, &dapr__proto__runtime__v1__get_secret_request__descriptor, msg, len);
	struct kv_list metadata = { 0 };

	if (req == NULL)
		return;
	if (GRPC_MAP_TO_KV(&metadata, req->n_metadata, req->metadata) != 0)
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
	else
		secrets_get(grpc_call_server(call), req->store_name, req->key, &metadata, grpc_secret_done,
			    call);
	kv_free(&metadata);
	dapr__proto__runtime__v1__get_secret_request__free_unpacked(req, NULL);
}

/* ---- GetBulkSecret ---- */

static void grpc_bulk_secret_done(void *arg, const struct block_error *err, json_t *secrets)
{
	struct grpc_call *call = arg;
	Dapr__Proto__Runtime__V1__GetBulkSecretResponse resp =
		DAPR__PROTO__RUNTIME__V1__GET_BULK_SECRET_RESPONSE__INIT;
	size_t n = json_object_size(secrets), i = 0;
	Dapr__Proto__Runtime__V1__GetBulkSecretResponse__DataEntry *entries = NULL, **ptrs = NULL;
	Dapr__Proto__Runtime__V1__SecretResponse *values = NULL;
	struct grpc_secrets_entry **inner_entries = NULL, ***inner_ptrs = NULL;
	const char *key;
	json_t *secret;
	bool oom = false;

	if (err != NULL) {
		grpc_call_fail_block(call, err);
		return;
	}
	if (n > 0 &&
	    ((entries = calloc(n, sizeof(*entries))) == NULL || (ptrs = calloc(n, sizeof(*ptrs))) == NULL ||
	     (values = calloc(n, sizeof(*values))) == NULL ||
	     (inner_entries = calloc(n, sizeof(*inner_entries))) == NULL ||
	     (inner_ptrs = calloc(n, sizeof(*inner_ptrs))) == NULL))
		oom = true;
	json_object_foreach(secrets, key, secret)
	{
		int m;

		if (oom)
			break;
		m = grpc_secrets_entries(
			secret, &dapr__proto__runtime__v1__secret_response__secrets_entry__descriptor,
			&inner_entries[i], &inner_ptrs[i]);
		if (m < 0) {
			oom = true;
			break;
		}
		dapr__proto__runtime__v1__secret_response__init(&values[i]);
		values[i].n_secrets = (size_t)m;
		values[i].secrets = (Dapr__Proto__Runtime__V1__SecretResponse__SecretsEntry **)inner_ptrs[i];
		dapr__proto__runtime__v1__get_bulk_secret_response__data_entry__init(&entries[i]);
		entries[i].key = (char *)key;
		entries[i].value = &values[i];
		ptrs[i] = &entries[i];
		i++;
	}
	if (oom) {
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
	} else {
		resp.n_data = i;
		resp.data = ptrs;
		grpc_call_reply(call, &resp.base);
	}
	for (size_t k = 0; inner_entries != NULL && k < n; k++) {
		free(inner_entries[k]);
		free(inner_ptrs[k]);
	}
	free(inner_entries);
	free(inner_ptrs);
	free(values);
	free(ptrs);
	free(entries);
}

static void grpc_get_bulk_secret(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__GetBulkSecretRequest *req = grpc_call_unpack(
		call, &dapr__proto__runtime__v1__get_bulk_secret_request__descriptor, msg, len);
	struct kv_list metadata = { 0 };

	if (req == NULL)
		return;
	if (GRPC_MAP_TO_KV(&metadata, req->n_metadata, req->metadata) != 0)
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
	else
		secrets_bulk(grpc_call_server(call), req->store_name, &metadata, grpc_bulk_secret_done, call);
	kv_free(&metadata);
	dapr__proto__runtime__v1__get_bulk_secret_request__free_unpacked(req, NULL);
}

void api_secrets_grpc_register(void)
{
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/GetSecret", grpc_get_secret);
	grpc_methods_register("/dapr.proto.runtime.v1.Dapr/GetBulkSecret", grpc_get_bulk_secret);
}
