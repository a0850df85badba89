/* SPDX-License-Identifier: Apache-2.0 */
/* How a gRPC status travels in trailers: grpc-message percent-encoding and grpc-status-details-bin. */
#include "api/grpc/grpc_status.h"

#include <stdlib.h>
#include <string.h>

#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"

char *grpc_percent_encode(const char *msg)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(msg);
	char *out = malloc(n * 3 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++) {
		if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

static const char grpc_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *grpc_base64(const unsigned char *data, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];

		*o++ = grpc_b64[v >> 18];
		*o++ = grpc_b64[(v >> 12) & 63];
		*o++ = grpc_b64[(v >> 6) & 63];
		*o++ = grpc_b64[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)data[i] << 16 | (i + 1 < len ? (unsigned)data[i + 1] << 8 : 0);

		*o++ = grpc_b64[v >> 18];
		*o++ = grpc_b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? grpc_b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

long grpc_unbase64(const char *text, unsigned char *out, size_t out_cap)
{
	unsigned v = 0;
	int bits = 0;
	size_t n = 0;

	for (const char *p = text; *p != '\0' && *p != '='; p++) {
		const char *at = strchr(grpc_b64, *p);

		if (at == NULL)
			return -1;
		v = (v << 6) | (unsigned)(at - grpc_b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == out_cap)
				return -1;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	return (long)n;
}

char *grpc_status_details_bin(int code, const char *message, const char *reason, const char *domain,
			      const char *const *meta, size_t n_meta)
{
	Google__Rpc__ErrorInfo info = GOOGLE__RPC__ERROR_INFO__INIT;
	Google__Rpc__ErrorInfo__MetadataEntry *entries = NULL, **entry_ptrs = NULL;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT, *anys[1] = { &any };
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	uint8_t *info_buf = NULL, *st_buf = NULL;
	char *out = NULL;
	size_t len;

	if (n_meta > 0) {
		entries = calloc(n_meta, sizeof(*entries));
		entry_ptrs = calloc(n_meta, sizeof(*entry_ptrs));
		if (entries == NULL || entry_ptrs == NULL)
			goto done;
		for (size_t i = 0; i < n_meta; i++) {
			google__rpc__error_info__metadata_entry__init(&entries[i]);
			entries[i].key = (char *)meta[2 * i];
			entries[i].value = (char *)meta[2 * i + 1];
			entry_ptrs[i] = &entries[i];
		}
	}
	info.reason = (char *)reason;
	info.domain = (char *)domain;
	info.n_metadata = n_meta;
	info.metadata = entry_ptrs;
	len = google__rpc__error_info__get_packed_size(&info);
	info_buf = malloc(len > 0 ? len : 1);
	if (info_buf == NULL)
		goto done;
	google__rpc__error_info__pack(&info, info_buf);
	any.type_url = "type.googleapis.com/google.rpc.ErrorInfo";
	any.value.data = info_buf;
	any.value.len = len;
	st.code = code;
	st.message = (char *)message;
	st.n_details = 1;
	st.details = anys;
	len = google__rpc__status__get_packed_size(&st);
	st_buf = malloc(len > 0 ? len : 1);
	if (st_buf == NULL)
		goto done;
	google__rpc__status__pack(&st, st_buf);
	out = grpc_base64(st_buf, len);
done:
	free(entries);
	free(entry_ptrs);
	free(info_buf);
	free(st_buf);
	return out;
}
