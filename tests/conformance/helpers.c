/* SPDX-License-Identifier: Apache-2.0 */
/* Request builders and assertions the state conformance cases share. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conformance.h"
#include "http_client.h"

/* How many recent paths stay valid: a call takes at most a few. */
#define RING 8

int sreq_via(enum via v, struct exchange *t, const char *method, const char *path, const char *headers,
	     const char *body)
{
	if (v == VIA_GRPC)
		return grpc_sreq(t, ut.dmn.port, method, path, headers, body);
	return xreq(t, ut.dmn.port, method, path, headers, body);
}

int sreq(struct exchange *t, const char *method, const char *path, const char *headers, const char *body)
{
	return sreq_via(ut.via, t, method, path, headers, body);
}

int call(const char *method, const char *path, const char *headers, const char *body)
{
	return sreq(&x, method, path, headers, body);
}

/* daprd's gRPC API (pkg/grpc/api.go, pkg/messages): what it answers where HTTP says status/code. */
int grpc_code_for(int status, const char *code)
{
	if (strcmp(code, "ERR_STATE_SAVE") == 0 || strcmp(code, "ERR_STATE_DELETE") == 0)
		/* An etag mismatch is ABORTED, an etag the store cannot read INVALID_ARGUMENT. */
		return status == 409   ? GRPC_CODE_ABORTED
		       : status == 400 ? GRPC_CODE_INVALID_ARGUMENT
				       : GRPC_CODE_INTERNAL;
	if (strcmp(code, "ERR_MALFORMED_REQUEST") == 0 || strcmp(code, "ERR_STATE_STORE_NOT_FOUND") == 0)
		return GRPC_CODE_INVALID_ARGUMENT;
	if (strcmp(code, "ERR_STATE_TRANSACTION") == 0 || strcmp(code, "ERR_STATE_GET") == 0)
		return GRPC_CODE_INTERNAL;
	if (strcmp(code, "ERR_NOT_SUPPORTED_STATE_OPERATION") == 0)
		return GRPC_CODE_UNIMPLEMENTED;
	/* Querying (a store without transactions would be UNIMPLEMENTED, but every row has them). */
	if (strcmp(code, "ERR_STATE_STORE_NOT_SUPPORTED") == 0)
		return GRPC_CODE_INTERNAL;
	if (strcmp(code, "ERR_STATE_STORE_NOT_CONFIGURED") == 0)
		return GRPC_CODE_FAILED_PRECONDITION;
	return -1;
}

/* Heap ring for paths: keys may be kilobytes long, too long for xfmt(). */
static const char *path_keep(char *p)
{
	static char *ring[RING];
	static unsigned next;
	unsigned i = next++ % RING;

	ck_assert_ptr_nonnull(p);
	free(ring[i]);
	ring[i] = p;
	return p;
}

const char *store_path(const char *store)
{
	char *p = NULL;

	if (asprintf(&p, "/v1.0/state/%s", store) < 0)
		p = NULL;
	return path_keep(p);
}

const char *key_path(const char *store, const char *key)
{
	char *e = http_escape(key);
	char *p = NULL;

	ck_assert_ptr_nonnull(e);
	if (asprintf(&p, "/v1.0/state/%s/%s", store, e) < 0)
		p = NULL;
	free(e);
	return path_keep(p);
}

char *json_text(const char *s)
{
	json_t *j = json_string(s);
	char *t;

	ck_assert_msg(j != NULL, "not valid UTF-8: %.100s", s);
	t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(j);
	ck_assert_ptr_nonnull(t);
	return t;
}

char *item_json(const char *key, const char *value, const char *etag, const char *options)
{
	char *k = json_text(key);
	char *e = etag != NULL ? json_text(etag) : NULL;
	char *out = NULL;

	if (asprintf(&out, "{\"key\":%s,\"value\":%s%s%s%s%s}", k, value, e ? ",\"etag\":" : "", e ? e : "",
		     options ? ",\"options\":" : "", options ? options : "") < 0)
		out = NULL;
	free(k);
	free(e);
	return out;
}

const char *save_body(const char *key, const char *value, const char *etag, const char *options)
{
	static char *body;
	char *item = item_json(key, value, etag, options);

	free(body);
	if (item == NULL || asprintf(&body, "[%s]", item) < 0)
		body = NULL;
	free(item);
	ck_assert_ptr_nonnull(body);
	return body;
}

bool value_matches(const char *got, size_t len, const char *want)
{
	json_t *g, *w;
	bool same;

	if (!ut.row->json_normalised)
		return got != NULL && len == strlen(want) && memcmp(got, want, len) == 0;
	g = json_loadb(got, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	w = json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	ck_assert_msg(w != NULL, "the case's own expected value is not JSON: %.200s", want);
	same = g != NULL && json_equal(g, w);
	json_decref(g);
	json_decref(w);
	return same;
}

void expect_saved(const char *store, const char *key, const char *value)
{
	call("POST", store_path(store), NULL, save_body(key, value, NULL, NULL));
	ck_status(&x, 204);
}

void expect_value(const char *store, const char *key, const char *want)
{
	call("GET", key_path(store, key), NULL, NULL);
	ck_status(&x, 200);
	ck_assert_msg(value_matches(x.r.body, x.r.body_len, want),
		      "%s\n  -> body (%zu bytes) %.400s\n  expected (%zu bytes, %s) %.400s", x.req,
		      x.r.body_len, XBODY(&x), strlen(want),
		      ut.row->json_normalised ? "as JSON" : "byte for byte", want);
}

void expect_missing(const char *store, const char *key)
{
	call("GET", key_path(store, key), NULL, NULL);
	ck_status(&x, 204);
	ck_assert_msg(x.r.body_len == 0, "%s\n  -> 204 with a body: %.200s", x.req, XBODY(&x));
}

void expect_deleted(const char *store, const char *key)
{
	call("DELETE", key_path(store, key), NULL, NULL);
	ck_status(&x, 204);
}

void etag_of(const char *store, const char *key, char out[ETAG_MAX])
{
	const char *e;

	call("GET", key_path(store, key), NULL, NULL);
	ck_status(&x, 200);
	e = http_header(&x.r, "ETag");
	ck_assert_msg(e != NULL && *e != '\0' && strlen(e) < ETAG_MAX, "%s: no usable ETag (%s)", x.req,
		      xheader(&x, "ETag"));
	strcpy(out, e);
}

json_t *bulk_get(const char *store, json_t *keys, int parallelism)
{
	size_t n = json_array_size(keys);
	json_t *req = json_pack("{s:o}", "keys", keys), *arr;
	char *body;

	if (parallelism > 0)
		json_object_set_new(req, "parallelism", json_integer(parallelism));
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	call("POST", xfmt("%s/bulk", store_path(store)), NULL, body);
	free(body);
	ck_status(&x, 200);
	arr = xjson(&x);
	ck_assert_msg(json_is_array(arr) && json_array_size(arr) == n,
		      "%s\n  -> %zu items, expected %zu: %.400s", x.req, json_array_size(arr), n, XBODY(&x));
	return arr;
}

void expect_bulk_item(const json_t *item, const char *key, const char *want)
{
	const char *got_key = jstr(json_object_get(item, "key"));
	json_t *data = json_object_get(item, "data");
	char *text = json_dumps(item, JSON_ENCODE_ANY | JSON_COMPACT);

	ck_assert_msg(strcmp(got_key, key) == 0, "bulk get hands back key \"%.80s\" for \"%.80s\": %.300s",
		      got_key, key, text);
	ck_assert_msg(json_object_get(item, "error") == NULL, "bulk get of \"%.80s\" failed: %.300s", key,
		      text);
	if (want == NULL) {
		ck_assert_msg(json_object_size(item) == 1,
			      "bulk get: missing key \"%.80s\" has more than a key: %.300s", key, text);
	} else {
		json_t *w = json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

		/* The core re-encodes data as JSON, so only equality as JSON is meaningful here. */
		ck_assert_msg(w != NULL && data != NULL && json_equal(data, w),
			      "bulk get of \"%.80s\": data differs from %.200s: %.300s", key, want, text);
		ck_assert_msg(!(ut.row->caps & CAP_ETAG) ||
				      json_string_length(json_object_get(item, "etag")) > 0,
			      "bulk get of \"%.80s\" has no etag: %.300s", key, text);
		json_decref(w);
	}
	free(text);
}

int transact(const char *store, const char *ops)
{
	char *body = NULL;
	int status;

	ck_assert_int_ge(asprintf(&body, "{\"operations\":%s}", ops), 0);
	status = call("POST", xfmt("%s/transaction", store_path(store)), NULL, body);
	free(body);
	return status;
}

char *random_key(size_t len, unsigned seed)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
	unsigned long long s = 0x9e3779b97f4a7c15ull ^ seed;
	char *k = malloc(len + 1);

	ck_assert_ptr_nonnull(k);
	/* xorshift64*: no repeats a backend could compress into a short index entry. */
	for (size_t i = 0; i < len; i++) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		k[i] = alphabet[((s * 0x2545f4914f6cdd1dull) >> 33) % (sizeof(alphabet) - 1)];
	}
	k[len] = '\0';
	return k;
}

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}
