/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The conformance cases' state requests, which they write in Dapr's HTTP form, sent as the gRPC
 * call a Dapr SDK would make for them; the answer is put back in the exchange so that the same
 * assertions read it: 200/204 for OK, the gRPC code in a "grpc-status" header, and a body of
 * {"message", "details":[ErrorInfo]} for an error (ck_fail() checks the code, ck_reason() the
 * ErrorInfo). Values go as the JSON text of "value", as an SDK sends serialized JSON.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/state/state_json_text.h"
#include "conformance.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc_client.h"

#define GRPC_TIMEOUT_MS 30000
#define METHOD_PREFIX "/dapr.proto.runtime.v1.Dapr/"
#define MAX_PARAMS 16

/* Everything one request allocates, freed at its end. */
struct arena {
	void **p;
	size_t n, cap;
};

static void *keep(struct arena *a, void *p)
{
	ck_assert_ptr_nonnull(p);
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->p = realloc(a->p, a->cap * sizeof(*a->p));
		ck_assert_ptr_nonnull(a->p);
	}
	a->p[a->n++] = p;
	return p;
}

static void *zalloc(struct arena *a, size_t n)
{
	return keep(a, calloc(1, n > 0 ? n : 1));
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i]);
	free(a->p);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..n) percent-decoded. */
static char *pct_decode(struct arena *a, const char *s, size_t n)
{
	char *out = zalloc(a, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* String pairs: metadata, query parameters. */
struct pairs {
	const char *k[MAX_PARAMS * 4], *v[MAX_PARAMS * 4];
	size_t n;
};

static void pairs_set(struct pairs *p, const char *k, const char *v)
{
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->k[i], k) == 0) {
			p->v[i] = v;
			return;
		}
	}
	ck_assert_uint_lt(p->n, sizeof(p->k) / sizeof(p->k[0]));
	p->k[p->n] = k;
	p->v[p->n++] = v;
}

static const char *pairs_get(const struct pairs *p, const char *k)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->k[i], k) == 0)
			return p->v[i];
	return NULL;
}

/* A JSON object's members as strings (numbers and booleans as their JSON text), added to p. */
static void pairs_add_json(struct arena *a, struct pairs *p, json_t *obj)
{
	const char *name;
	json_t *v;

	json_object_foreach(obj, name, v)
	{
		if (json_is_string(v))
			pairs_set(p, name, json_string_value(v));
		else
			pairs_set(p, name, keep(a, json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)));
	}
}

/* Builds a generated map field (entries of type T, initialised by init) from p. */
#define MAP_OF(a, T, init, p, n_out, out)                                                                    \
	do {                                                                                                 \
		T **arr_ = zalloc((a), (p)->n * sizeof(T *));                                                \
		for (size_t i_ = 0; i_ < (p)->n; i_++) {                                                     \
			T *e_ = zalloc((a), sizeof(T));                                                      \
			init(e_);                                                                            \
			e_->key = (char *)(p)->k[i_];                                                        \
			e_->value = (char *)(p)->v[i_];                                                      \
			arr_[i_] = e_;                                                                       \
		}                                                                                            \
		(n_out) = (p)->n;                                                                            \
		(out) = arr_;                                                                                \
	} while (0)

static int concurrency_of(const char *s)
{
	if (s != NULL && strcmp(s, "first-write") == 0)
		return DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_FIRST_WRITE;
	if (s != NULL && strcmp(s, "last-write") == 0)
		return DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_LAST_WRITE;
	return DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_UNSPECIFIED;
}

static int consistency_of(const char *s)
{
	if (s != NULL && strcmp(s, "strong") == 0)
		return DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONSISTENCY__CONSISTENCY_STRONG;
	if (s != NULL && strcmp(s, "eventual") == 0)
		return DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONSISTENCY__CONSISTENCY_EVENTUAL;
	return DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONSISTENCY__CONSISTENCY_UNSPECIFIED;
}

/*
 * One StateItem object of a body; text..end is its JSON text, so the value goes as the case wrote
 * it (less whitespace), escapes and all. query holds the URL's metadata, which wins, as in HTTP.
 */
static Dapr__Proto__Common__V1__StateItem *state_item_of(struct arena *a, json_t *obj, const char *text,
							 const char *end, const struct pairs *query)
{
	Dapr__Proto__Common__V1__StateItem *s = zalloc(a, sizeof(*s));
	json_t *etag = json_object_get(obj, "etag"), *options = json_object_get(obj, "options");
	const char *vend = NULL, *v = text != NULL ? sjt_member(text, end, "value", &vend) : NULL;
	struct pairs md = { .n = 0 };
	size_t len = 0;

	dapr__proto__common__v1__state_item__init(s);
	if (json_is_string(json_object_get(obj, "key")))
		s->key = (char *)json_string_value(json_object_get(obj, "key"));
	if (v != NULL) {
		s->value.data = keep(a, sjt_compact(v, vend, &len));
		s->value.len = len;
	}
	if (json_is_string(etag) || json_is_integer(etag)) {
		s->etag = zalloc(a, sizeof(*s->etag));
		dapr__proto__common__v1__etag__init(s->etag);
		s->etag->value = json_is_string(etag) ? (char *)json_string_value(etag)
						      : keep(a, json_dumps(etag, JSON_ENCODE_ANY));
	}
	if (json_is_object(options)) {
		s->options = zalloc(a, sizeof(*s->options));
		dapr__proto__common__v1__state_options__init(s->options);
		s->options->concurrency =
			concurrency_of(json_string_value(json_object_get(options, "concurrency")));
		s->options->consistency =
			consistency_of(json_string_value(json_object_get(options, "consistency")));
	}
	pairs_add_json(a, &md, json_object_get(obj, "metadata"));
	for (size_t i = 0; i < query->n; i++)
		pairs_set(&md, query->k[i], query->v[i]);
	MAP_OF(a, Dapr__Proto__Common__V1__StateItem__MetadataEntry,
	       dapr__proto__common__v1__state_item__metadata_entry__init, &md, s->n_metadata, s->metadata);
	return s;
}

/* The request as parsed from its HTTP form. */
struct http_form {
	const char *method;
	bool alpha; /* /v1.0-alpha1/state/{store}/query */
	char *store;
	char *rest; /* "", "bulk", "transaction", or a key (decoded) */
	struct pairs params;
	struct pairs md; /* the query's metadata.* */
	const char *if_match;
	json_t *body;
	const char *text; /* the body's text */
	const char *end;
};

/* Splits "/v1.0/state/{store}[/{rest}][?query]". False for any other path. */
static bool parse_form(struct arena *a, struct http_form *f, const char *method, const char *path,
		       const char *headers, const char *body)
{
	static const char *const prefixes[] = { "/v1.0/state/", "/v1.0-alpha1/state/" };
	const char *p = NULL, *q, *slash;
	size_t plen;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; p == NULL && i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0) {
			p = path + strlen(prefixes[i]);
			f->alpha = i == 1;
		}
	}
	if (p == NULL)
		return false;
	q = strchr(p, '?');
	plen = q != NULL ? (size_t)(q - p) : strlen(p);
	f->method = method;
	slash = memchr(p, '/', plen);
	f->store = pct_decode(a, p, slash != NULL ? (size_t)(slash - p) : plen);
	f->rest = slash != NULL ? pct_decode(a, slash + 1, plen - (size_t)(slash + 1 - p))
				: pct_decode(a, "", 0);
	for (const char *s = q != NULL ? q + 1 : NULL; s != NULL && *s != '\0';) {
		const char *amp = strchr(s, '&'), *eq;
		size_t n = amp != NULL ? (size_t)(amp - s) : strlen(s);

		eq = memchr(s, '=', n);
		if (eq != NULL) {
			char *k = pct_decode(a, s, (size_t)(eq - s)),
			     *v = pct_decode(a, eq + 1, n - (size_t)(eq + 1 - s));

			if (strncmp(k, "metadata.", 9) == 0)
				pairs_set(&f->md, k + 9, v);
			else
				pairs_set(&f->params, k, v);
		}
		s = amp != NULL ? amp + 1 : NULL;
	}
	if (headers != NULL && strncasecmp(headers, "If-Match: ", 10) == 0) {
		const char *e = headers + 10;

		f->if_match = keep(a, strndup(e, strcspn(e, "\r\n")));
	}
	if (body != NULL) {
		f->body = json_loads(body, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		ck_assert_msg(f->body != NULL, "the case's body is not JSON: %.200s", body);
		f->text = body;
		f->end = body + strlen(body);
	}
	return true;
}

/* A packed message, kept in a. */
static uint8_t *pack(struct arena *a, const ProtobufCMessage *m, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = zalloc(a, *len);

	protobuf_c_message_pack(m, buf);
	return buf;
}

static uint8_t *get_state(struct arena *a, const struct http_form *f, size_t *len)
{
	Dapr__Proto__Runtime__V1__GetStateRequest r = DAPR__PROTO__RUNTIME__V1__GET_STATE_REQUEST__INIT;

	r.store_name = f->store;
	r.key = f->rest;
	r.consistency = consistency_of(pairs_get(&f->params, "consistency"));
	MAP_OF(a, Dapr__Proto__Runtime__V1__GetStateRequest__MetadataEntry,
	       dapr__proto__runtime__v1__get_state_request__metadata_entry__init, &f->md, r.n_metadata,
	       r.metadata);
	return pack(a, &r.base, len);
}

static uint8_t *delete_state(struct arena *a, const struct http_form *f, size_t *len)
{
	Dapr__Proto__Runtime__V1__DeleteStateRequest r = DAPR__PROTO__RUNTIME__V1__DELETE_STATE_REQUEST__INIT;
	Dapr__Proto__Common__V1__Etag etag = DAPR__PROTO__COMMON__V1__ETAG__INIT;
	Dapr__Proto__Common__V1__StateOptions opts = DAPR__PROTO__COMMON__V1__STATE_OPTIONS__INIT;

	r.store_name = f->store;
	r.key = f->rest;
	if (f->if_match != NULL) {
		etag.value = (char *)f->if_match;
		r.etag = &etag;
	}
	opts.concurrency = concurrency_of(pairs_get(&f->params, "concurrency"));
	opts.consistency = consistency_of(pairs_get(&f->params, "consistency"));
	r.options = &opts;
	MAP_OF(a, Dapr__Proto__Runtime__V1__DeleteStateRequest__MetadataEntry,
	       dapr__proto__runtime__v1__delete_state_request__metadata_entry__init, &f->md, r.n_metadata,
	       r.metadata);
	return pack(a, &r.base, len);
}

static uint8_t *save_state(struct arena *a, const struct http_form *f, size_t *len)
{
	Dapr__Proto__Runtime__V1__SaveStateRequest r = DAPR__PROTO__RUNTIME__V1__SAVE_STATE_REQUEST__INIT;
	const char *elem = sjt_first(f->text, f->end);
	size_t n = json_array_size(f->body);

	ck_assert_msg(json_is_array(f->body), "a save's body must be an array here: %.200s", f->text);
	r.store_name = f->store;
	r.n_states = n;
	r.states = zalloc(a, n * sizeof(*r.states));
	for (size_t i = 0; i < n; i++, elem = elem != NULL ? sjt_next(elem, f->end) : NULL)
		r.states[i] = state_item_of(a, json_array_get(f->body, i), elem, f->end, &f->md);
	return pack(a, &r.base, len);
}

static uint8_t *bulk_state(struct arena *a, const struct http_form *f, size_t *len)
{
	Dapr__Proto__Runtime__V1__GetBulkStateRequest r =
		DAPR__PROTO__RUNTIME__V1__GET_BULK_STATE_REQUEST__INIT;
	json_t *keys = json_object_get(f->body, "keys");
	struct pairs md = f->md;

	r.store_name = f->store;
	r.n_keys = json_array_size(keys);
	r.keys = zalloc(a, r.n_keys * sizeof(*r.keys));
	for (size_t i = 0; i < r.n_keys; i++)
		r.keys[i] = (char *)json_string_value(json_array_get(keys, i));
	r.parallelism = (int32_t)json_integer_value(json_object_get(f->body, "parallelism"));
	pairs_add_json(a, &md, json_object_get(f->body, "metadata"));
	MAP_OF(a, Dapr__Proto__Runtime__V1__GetBulkStateRequest__MetadataEntry,
	       dapr__proto__runtime__v1__get_bulk_state_request__metadata_entry__init, &md, r.n_metadata,
	       r.metadata);
	return pack(a, &r.base, len);
}

static uint8_t *transaction(struct arena *a, const struct http_form *f, size_t *len)
{
	Dapr__Proto__Runtime__V1__ExecuteStateTransactionRequest r =
		DAPR__PROTO__RUNTIME__V1__EXECUTE_STATE_TRANSACTION_REQUEST__INIT;
	json_t *ops = json_object_get(f->body, "operations");
	const char *oend = NULL, *otext = sjt_member(f->text, f->end, "operations", &oend);
	const char *elem = otext != NULL ? sjt_first(otext, oend) : NULL;
	struct pairs md = { .n = 0 }, none = { .n = 0 };

	r.storename = f->store;
	r.n_operations = json_array_size(ops);
	r.operations = zalloc(a, r.n_operations * sizeof(*r.operations));
	for (size_t i = 0; i < r.n_operations; i++, elem = elem != NULL ? sjt_next(elem, f->end) : NULL) {
		Dapr__Proto__Runtime__V1__TransactionalStateOperation *op = zalloc(a, sizeof(*op));
		json_t *jop = json_array_get(ops, i);
		const char *rend = NULL,
			   *rtext = elem != NULL ? sjt_member(elem, f->end, "request", &rend) : NULL;

		dapr__proto__runtime__v1__transactional_state_operation__init(op);
		if (json_is_string(json_object_get(jop, "operation")))
			op->operationtype = (char *)json_string_value(json_object_get(jop, "operation"));
		op->request = state_item_of(a, json_object_get(jop, "request"), rtext, f->end, &none);
		r.operations[i] = op;
	}
	/* As over HTTP: the body's metadata, then the URL's, which wins. */
	pairs_add_json(a, &md, json_object_get(f->body, "metadata"));
	for (size_t i = 0; i < f->md.n; i++)
		pairs_set(&md, f->md.k[i], f->md.v[i]);
	MAP_OF(a, Dapr__Proto__Runtime__V1__ExecuteStateTransactionRequest__MetadataEntry,
	       dapr__proto__runtime__v1__execute_state_transaction_request__metadata_entry__init, &md,
	       r.n_metadata, r.metadata);
	return pack(a, &r.base, len);
}

static uint8_t *query_state(struct arena *a, const struct http_form *f, size_t *len)
{
	Dapr__Proto__Runtime__V1__QueryStateRequest r = DAPR__PROTO__RUNTIME__V1__QUERY_STATE_REQUEST__INIT;

	r.store_name = f->store;
	r.query = (char *)(f->text != NULL ? f->text : "");
	MAP_OF(a, Dapr__Proto__Runtime__V1__QueryStateRequest__MetadataEntry,
	       dapr__proto__runtime__v1__query_state_request__metadata_entry__init, &f->md, r.n_metadata,
	       r.metadata);
	return pack(a, &r.base, len);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 (padding optional) into out; its length, or -1. */
static long base64_decode(const char *s, uint8_t *out)
{
	unsigned bits = 0, nbits = 0;
	long n = 0;

	for (; *s != '\0' && *s != '='; s++) {
		const char *c = strchr(b64, *s);

		if (c == NULL)
			return -1;
		bits = (bits << 6) | (unsigned)(c - b64);
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[n++] = (uint8_t)(bits >> nbits);
		}
	}
	return n;
}

/* {"message": m, "details": [ErrorInfo...]} from the answer's grpc-status-details-bin. */
static char *error_body(const struct grpc_result *res)
{
	json_t *body =
		json_pack("{s:s, s:[]}", "message", res->message != NULL ? res->message : "", "details");
	uint8_t *raw = res->details_bin != NULL ? malloc(strlen(res->details_bin) + 1) : NULL;
	long n = raw != NULL ? base64_decode(res->details_bin, raw) : -1;
	Google__Rpc__Status *st = n >= 0 ? google__rpc__status__unpack(NULL, (size_t)n, raw) : NULL;
	char *text;

	for (size_t i = 0; st != NULL && i < st->n_details; i++) {
		Google__Protobuf__Any *any = st->details[i];
		Google__Rpc__ErrorInfo *info;

		if (strcmp(any->type_url, "type.googleapis.com/google.rpc.ErrorInfo") != 0)
			continue;
		info = google__rpc__error_info__unpack(NULL, any->value.len, any->value.data);
		if (info == NULL)
			continue;
		json_array_append_new(json_object_get(body, "details"),
				      json_pack("{s:s, s:s, s:s}", "@type", any->type_url, "reason",
						info->reason, "domain", info->domain));
		google__rpc__error_info__free_unpacked(info, NULL);
	}
	if (st != NULL)
		google__rpc__status__free_unpacked(st, NULL);
	free(raw);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

/* The answer's headers, as "name\0value\0" pairs in r->raw. */
static void set_headers(struct http_response *r, const char *const *pairs, size_t n)
{
	size_t size = 0, off = 0;

	for (size_t i = 0; i < 2 * n; i++)
		size += strlen(pairs[i]) + 1;
	r->raw = malloc(size > 0 ? size : 1);
	ck_assert_ptr_nonnull(r->raw);
	for (size_t i = 0; i < n; i++) {
		r->name[i] = strcpy(r->raw + off, pairs[2 * i]);
		off += strlen(pairs[2 * i]) + 1;
		r->value[i] = strcpy(r->raw + off, pairs[2 * i + 1]);
		off += strlen(pairs[2 * i + 1]) + 1;
	}
	r->nheaders = n;
}

static void set_body(struct http_response *r, const void *data, size_t len)
{
	r->body = malloc(len + 1);
	ck_assert_ptr_nonnull(r->body);
	if (len > 0)
		memcpy(r->body, data, len);
	r->body[len] = '\0';
	r->body_len = len;
}

/* The status an HTTP client would have been told, so that status checks read both alike. */
static int http_equivalent(int code)
{
	switch (code) {
	case GRPC_CODE_ABORTED: return 409;
	case GRPC_CODE_INVALID_ARGUMENT: return 400;
	case GRPC_CODE_NOT_FOUND: return 404;
	default: return 500;
	}
}

/* Bulk items as the HTTP API's JSON array, data as JSON when it is JSON, else a string. */
static char *bulk_body(const uint8_t *data, size_t len)
{
	Dapr__Proto__Runtime__V1__GetBulkStateResponse *resp =
		dapr__proto__runtime__v1__get_bulk_state_response__unpack(NULL, len, data);
	json_t *arr = json_array();
	char *text;

	ck_assert_msg(resp != NULL, "GetBulkState answered a message that does not unpack");
	for (size_t i = 0; i < resp->n_items; i++) {
		Dapr__Proto__Runtime__V1__BulkStateItem *it = resp->items[i];
		json_t *o = json_pack("{s:s}", "key", it->key);

		if (it->error[0] != '\0') {
			json_object_set_new(o, "error", json_string(it->error));
		} else if (it->data.len > 0 || it->etag[0] != '\0') {
			json_t *d = json_loadb((const char *)it->data.data, it->data.len,
					       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

			json_object_set_new(
				o, "data",
				d != NULL ? d : json_stringn((const char *)it->data.data, it->data.len));
			if (it->etag[0] != '\0')
				json_object_set_new(o, "etag", json_string(it->etag));
		}
		json_array_append_new(arr, o);
	}
	dapr__proto__runtime__v1__get_bulk_state_response__free_unpacked(resp, NULL);
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

int grpc_sreq(struct exchange *t, int port, const char *method, const char *path, const char *headers,
	      const char *body)
{
	struct arena a = { 0 };
	struct http_form f;
	struct grpc_result res = { 0 };
	struct grpc_client *c;
	const char *rpc;
	uint8_t *msg;
	size_t len;
	char code[16];
	int rc;

	xfree(t);
	if (!parse_form(&a, &f, method, path, headers, body)) {
		arena_free(&a);
		return xreq(t, port, method, path, headers, body);
	}
	if (f.alpha) {
		rpc = "QueryStateAlpha1";
		msg = query_state(&a, &f, &len);
	} else if (strcmp(method, "GET") == 0) {
		rpc = "GetState";
		msg = get_state(&a, &f, &len);
	} else if (strcmp(method, "DELETE") == 0) {
		rpc = "DeleteState";
		msg = delete_state(&a, &f, &len);
	} else if (f.rest[0] == '\0') {
		rpc = "SaveState";
		msg = save_state(&a, &f, &len);
	} else if (strcmp(f.rest, "bulk") == 0) {
		rpc = "GetBulkState";
		msg = bulk_state(&a, &f, &len);
	} else {
		ck_assert_msg(strcmp(f.rest, "transaction") == 0, "no gRPC call for %s %s", method, path);
		rpc = "ExecuteStateTransaction";
		msg = transaction(&a, &f, &len);
	}
	snprintf(t->req, sizeof(t->req), "gRPC %s for %s %s%s%.120s", rpc, method, path, body ? " " : "",
		 body ? body : "");
	c = grpc_client_connect(ut.grpc_port);
	ck_assert_msg(c != NULL, "%s: cannot connect to gRPC port %d: %s", t->req, ut.grpc_port,
		      strerror(errno));
	rc = grpc_client_call(c, keep(&a, strdup(xfmt(METHOD_PREFIX "%s", rpc))), NULL, msg, len,
			      GRPC_TIMEOUT_MS, &res);
	grpc_client_close(c);
	if (rc != 0 || res.status < 0) {
		t->r.status = -EIO;
	} else if (res.status != 0) {
		char *text = error_body(&res);

		snprintf(code, sizeof(code), "%d", res.status);
		t->r.status = http_equivalent(res.status);
		set_headers(&t->r,
			    (const char *const[]){ "grpc-status", code, "Content-Type", "application/json" },
			    2);
		set_body(&t->r, text, strlen(text));
		free(text);
	} else if (strcmp(rpc, "GetState") == 0) {
		Dapr__Proto__Runtime__V1__GetStateResponse *resp =
			dapr__proto__runtime__v1__get_state_response__unpack(NULL, res.len, res.data);

		ck_assert_msg(resp != NULL, "%s: the answer does not unpack", t->req);
		/* An empty answer is a key the store does not hold: HTTP's 204. */
		t->r.status = resp->data.len > 0 || resp->etag[0] != '\0' ? 200 : 204;
		set_headers(&t->r, (const char *const[]){ "grpc-status", "0", "ETag", resp->etag },
			    resp->etag[0] != '\0' ? 2 : 1);
		set_body(&t->r, resp->data.data, resp->data.len);
		dapr__proto__runtime__v1__get_state_response__free_unpacked(resp, NULL);
	} else if (strcmp(rpc, "GetBulkState") == 0) {
		char *text = bulk_body(res.data, res.len);

		t->r.status = 200;
		set_headers(&t->r, (const char *const[]){ "grpc-status", "0" }, 1);
		set_body(&t->r, text, strlen(text));
		free(text);
	} else {
		t->r.status = 204;
		set_headers(&t->r, (const char *const[]){ "grpc-status", "0" }, 1);
		set_body(&t->r, "", 0);
	}
	grpc_result_free(&res);
	json_decref(f.body);
	arena_free(&a);
	return t->r.status;
}

void grpc_save_raw(const char *store, const char *key, const void *value, size_t len)
{
	Dapr__Proto__Runtime__V1__SaveStateRequest r = DAPR__PROTO__RUNTIME__V1__SAVE_STATE_REQUEST__INIT;
	Dapr__Proto__Common__V1__StateItem item = DAPR__PROTO__COMMON__V1__STATE_ITEM__INIT,
					   *items[1] = { &item };
	struct grpc_result res = { 0 };
	struct grpc_client *c = grpc_client_connect(ut.grpc_port);
	size_t n = protobuf_c_message_get_packed_size(&r.base);
	uint8_t *msg;

	r.store_name = (char *)store;
	r.n_states = 1;
	r.states = items;
	item.key = (char *)key;
	item.value.data = (uint8_t *)value;
	item.value.len = len;
	n = protobuf_c_message_get_packed_size(&r.base);
	msg = malloc(n > 0 ? n : 1);
	ck_assert_ptr_nonnull(msg);
	protobuf_c_message_pack(&r.base, msg);
	ck_assert_msg(c != NULL, "cannot connect to gRPC port %d", ut.grpc_port);
	ck_assert_int_eq(grpc_client_call(c, METHOD_PREFIX "SaveState", NULL, msg, n, GRPC_TIMEOUT_MS, &res),
			 0);
	ck_assert_msg(res.status == 0, "SaveState of %s raw: gRPC status %d: %s", key, res.status,
		      res.message != NULL ? res.message : "");
	grpc_result_free(&res);
	grpc_client_close(c);
	free(msg);
}

int grpc_raw_call(const char *method, const uint8_t *msg, size_t len, char *message, size_t size)
{
	struct grpc_result res = { 0 };
	struct grpc_client *c = grpc_client_connect(ut.grpc_port);
	int status;

	ck_assert_msg(c != NULL, "cannot connect to gRPC port %d", ut.grpc_port);
	ck_assert_int_eq(
		grpc_client_call(c, xfmt(METHOD_PREFIX "%s", method), NULL, msg, len, GRPC_TIMEOUT_MS, &res),
		0);
	status = res.status;
	snprintf(message, size, "%s", res.message != NULL ? res.message : "");
	grpc_result_free(&res);
	grpc_client_close(c);
	return status;
}

int grpc_delete_bulk(const char *store, const char *const *keys, const char *const *etags, size_t n,
		     char *message, size_t size)
{
	Dapr__Proto__Runtime__V1__DeleteBulkStateRequest r =
		DAPR__PROTO__RUNTIME__V1__DELETE_BULK_STATE_REQUEST__INIT;
	Dapr__Proto__Common__V1__StateItem *items = calloc(n, sizeof(*items)),
					   **ptrs = calloc(n, sizeof(*ptrs));
	Dapr__Proto__Common__V1__Etag *tags = calloc(n, sizeof(*tags));
	uint8_t *msg;
	size_t len;
	int status;

	ck_assert(items != NULL && ptrs != NULL && tags != NULL);
	r.store_name = (char *)store;
	r.n_states = n;
	r.states = ptrs;
	for (size_t i = 0; i < n; i++) {
		dapr__proto__common__v1__state_item__init(&items[i]);
		items[i].key = (char *)keys[i];
		if (etags[i] != NULL) {
			dapr__proto__common__v1__etag__init(&tags[i]);
			tags[i].value = (char *)etags[i];
			items[i].etag = &tags[i];
		}
		ptrs[i] = &items[i];
	}
	len = protobuf_c_message_get_packed_size(&r.base);
	msg = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(msg);
	protobuf_c_message_pack(&r.base, msg);
	status = grpc_raw_call("DeleteBulkState", msg, len, message, size);
	free(msg);
	free(tags);
	free(ptrs);
	free(items);
	return status;
}
