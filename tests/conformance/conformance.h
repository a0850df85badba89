/* SPDX-License-Identifier: Apache-2.0 */
/* What the state conformance cases share: the plugin row under test, its daemon, request helpers. */
#ifndef OUTRIG_TESTS_CONFORMANCE_H
#define OUTRIG_TESTS_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "exchange.h"
#include "server.h"

/* Capabilities a row declares; the fixture fails unless GET /v1.0/metadata reports exactly these. */
#define CAP_ETAG (1u << 0)
#define CAP_TX (1u << 1)
#define CAP_TTL (1u << 2)

/* What a store answers to an etag it could never have issued. */
enum bad_etag {
	/* 400: its etags have a syntax (a number) and this one breaks it: Dapr's ETagInvalid. */
	BAD_ETAG_REFUSED,
	/* 409: its etags are opaque text compared as such, so any other string is just a mismatch. */
	BAD_ETAG_MISMATCH,
};

/* One state plugin and what it legitimately does differently from the others. */
struct plugin_row {
	const char *name;     /* names the TCase: CK_RUN_CASE=sqlite runs just that one */
	const char *type;     /* spec.type of every component of the row */
	const char *metadata; /* spec.metadata YAML lines; ${DIR} and ${PORT} are expanded */
	/* NULL, or starts the row's own fresh server: 0, SERVER_UNAVAILABLE (row skipped), or -1. */
	int (*start)(struct test_server *s);
	unsigned caps; /* CAP_*: what the store must report, and which cases apply */
	/* Values come back as equal JSON but not the same bytes (PostgreSQL's jsonb re-renders them):
	 * compared with json_equal() instead of byte for byte. */
	bool json_normalised;
	/* 0: a 64 KB key works. Otherwise the longest stored key (prefix included) the backend can
	 * index; a longer one must be refused with 400, never stored truncated or crash. */
	size_t max_key_bytes;
	/* Two components of this type with the same metadata see the same data (one file, one server),
	 * so key prefixes are all that keeps them apart. */
	bool shared_backend;
	enum bad_etag bad_etag;
	/*
	 * A save with a well-formed etag on a key that does not exist: false, 409 (daprd's sqlite,
	 * postgresql and in-memory stores); true, the key is written (daprd's state.redis, whose
	 * script compares the etag only with a version that exists).
	 */
	bool etag_creates_missing_key;
};

/* Which of outrigd's front ends the cases' state requests go through. */
enum via {
	VIA_HTTP,
	VIA_GRPC, /* each request as the matching dapr.proto.runtime.v1.Dapr call (via_grpc.c) */
};

/* The plugin under test and what its unchecked fixture started; each row has its own runner. */
struct under_test {
	const struct plugin_row *row;
	struct test_server server; /* when row->start is set */
	struct daemon dmn;
	int grpc_port;
	enum via via;
	bool skipped; /* the row's server is not installed here: every case returns at once */
};

extern struct under_test ut;

/* The main thread's last exchange, for ck_status()/ck_error() on what call() did. */
extern struct exchange x;

#define APP_ID "conformance"

/*
 * The components every daemon gets, all of the row's type and metadata; only keyPrefix differs.
 * The app id is APP_ID, so STORE and TWIN store "conformance||k", BYNAME and LITERAL "byname||k",
 * BARE "k" (API.md §1.3).
 */
#define STORE "store"	  /* keyPrefix unset: appid */
#define TWIN "twin"	  /* keyPrefix: appid, spelled out */
#define BYNAME "byname"	  /* keyPrefix: name */
#define LITERAL "literal" /* keyPrefix: byname, a literal that happens to be BYNAME's name */
#define BARE "bare"	  /* keyPrefix: none */

/* Largest etag the cases keep; every store's fits many times over. */
#define ETAG_MAX 256

/* Returns from a case when the row is skipped, or (saying so on stderr) when it lacks a capability. */
#define REQUIRE_CAPS(need)                                                                                   \
	do {                                                                                                 \
		if (ut.skipped)                                                                              \
			return;                                                                              \
		if ((ut.row->caps & (need)) != (need)) {                                                     \
			fprintf(stderr, "conformance %s: %s not run, the store lacks %s\n", ut.row->name,    \
				__func__, #need);                                                            \
			return;                                                                              \
		}                                                                                            \
	} while (0)

/*
 * One state request, written in Dapr's HTTP form, through ut.via, into t (any thread, one t per
 * thread). Over gRPC, OK is 200 (GetState of a key found, GetBulkState) or 204, and an error has
 * the HTTP status a client would have been told (409, 400, else 500), the code in a "grpc-status"
 * header and {"message","details"} as its body. Returns the status.
 */
int sreq(struct exchange *t, const char *method, const char *path, const char *headers, const char *body);

/* sreq() through v, whatever ut.via is: to save through one front end and read through the other. */
int sreq_via(enum via v, struct exchange *t, const char *method, const char *path, const char *headers,
	     const char *body);

/* SaveState of store/key with value as its bytes, as a gRPC client saves what is not JSON. Asserts OK. */
void grpc_save_raw(const char *store, const char *key, const void *value, size_t len);

/* One call of method ("SaveState") with msg as its wire bytes: the gRPC status, its message in message. */
int grpc_raw_call(const char *method, const uint8_t *msg, size_t len, char *message, size_t size);

/* DeleteBulkState of n keys of store, each with its etag (NULL: none): the gRPC status and message. */
int grpc_delete_bulk(const char *store, const char *const *keys, const char *const *etags, size_t n,
		     char *message, size_t size);

/* sreq() over gRPC; a request that is not a state request goes over HTTP. */
int grpc_sreq(struct exchange *t, int port, const char *method, const char *path, const char *headers,
	      const char *body);

/* One request to the daemon on the main thread's exchange x. Returns the status. */
int call(const char *method, const char *path, const char *headers, const char *body);

/* gRPC status codes (grpc/doc/statuscodes.md), as the gRPC cases expect them. */
#define GRPC_CODE_INVALID_ARGUMENT 3
#define GRPC_CODE_NOT_FOUND 5
#define GRPC_CODE_FAILED_PRECONDITION 9
#define GRPC_CODE_ABORTED 10
#define GRPC_CODE_UNIMPLEMENTED 12
#define GRPC_CODE_INTERNAL 13

/* The gRPC code daprd answers where its HTTP API answers status with errorCode code (-1: unknown). */
int grpc_code_for(int status, const char *code);

/*
 * Dapr's error: over HTTP the status and errorCode (ck_error), over gRPC daprd's code for them.
 * Thread: the main thread.
 */
#define ck_fail(x, status, code)                                                                             \
	do {                                                                                                 \
		if (ut.via == VIA_HTTP) {                                                                    \
			ck_error(x, status, code);                                                           \
		} else {                                                                                     \
			const char *got_ = http_header(&(x)->r, "grpc-status");                              \
			int want_ = grpc_code_for(status, code);                                             \
			ck_assert_msg(                                                                       \
				got_ != NULL && atoi(got_) == want_,                                         \
				"%s\n  -> gRPC status %s, expected %d (daprd's for %d %s); body: %.400s",    \
				(x)->req, got_ != NULL ? got_ : "(none)", want_, (status), (code),           \
				XBODY(x));                                                                   \
		}                                                                                            \
	} while (0)

/* "/v1.0/state/<store>" and "/v1.0/state/<store>/<escaped key>", in a ring of 8 heap buffers. */
const char *store_path(const char *store);
const char *key_path(const char *store, const char *key);

/*
 * One state item as JSON text; key and etag are encoded by jansson so anything survives; value
 * and options are JSON text; etag and options may be NULL. Ownership: caller frees. Thread: any.
 */
char *item_json(const char *key, const char *value, const char *etag, const char *options);

/* "[item]" for one item, as item_json(). Ownership: lives until the next call; main thread only. */
const char *save_body(const char *key, const char *value, const char *etag, const char *options);

/* A JSON string's encoding, as the core stores it (compact, UTF-8 unescaped). Caller frees. */
char *json_text(const char *s);

/* True when got (len bytes) is what a store should give back for the JSON text want. */
bool value_matches(const char *got, size_t len, const char *want);

/* Assertions over one request each; failures name the request. */
void expect_saved(const char *store, const char *key, const char *value);
void expect_value(const char *store, const char *key, const char *want);
void expect_missing(const char *store, const char *key);
void expect_deleted(const char *store, const char *key);

/* GETs key (which must exist) and copies its ETag into out. */
void etag_of(const char *store, const char *key, char out[ETAG_MAX]);

/* POSTs {"keys":keys,"parallelism":parallelism} (0: left out), steals keys; asserts 200 and an
 * array as long as keys. Ownership: caller decrefs the result. */
json_t *bulk_get(const char *store, json_t *keys, int parallelism);

/* Checks one bulk get element: key as asked, and data equal to want (NULL: the key is missing). */
void expect_bulk_item(const json_t *item, const char *key, const char *want);

/* POSTs a transaction whose operations are the JSON array text ops. Returns the status. */
int transact(const char *store, const char *ops);

/* len bytes of incompressible key text (RFC 3986 unreserved characters), the same for a seed.
 * Ownership: caller frees. */
char *random_key(size_t len, unsigned seed);

long now_ms(void);

/* The cases, by theme. */
void add_basic_cases(TCase *tc);
void add_etag_cases(TCase *tc);
void add_key_cases(TCase *tc);
void add_front_end_cases(TCase *tc);

#endif /* OUTRIG_TESTS_CONFORMANCE_H */
