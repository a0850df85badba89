/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP API handlers the router dispatches to, one file per building block. */
#ifndef OUTRIG_CORE_API_H
#define OUTRIG_CORE_API_H

#include <stdbool.h>

struct evhttp_request;
struct server;

/* api_state.c: Dapr's state API (API.md §1). store and key are URL-decoded. */
void api_state_get(struct server *srv, struct evhttp_request *req, const char *store, const char *key);
void api_state_save(struct server *srv, struct evhttp_request *req, const char *store);
void api_state_delete(struct server *srv, struct evhttp_request *req, const char *store, const char *key);
void api_state_bulk_get(struct server *srv, struct evhttp_request *req, const char *store);
void api_state_transaction(struct server *srv, struct evhttp_request *req, const char *store);
void api_state_query(struct server *srv, struct evhttp_request *req, const char *store);

/* api_pubsub.c: Dapr's publish API (API.md §2.1-2.3). pubsub and topic are URL-decoded. */
void api_pubsub_publish(struct server *srv, struct evhttp_request *req, const char *pubsub, const char *topic);
void api_pubsub_bulk_publish(struct server *srv, struct evhttp_request *req, const char *pubsub,
			     const char *topic);

/*
 * api_invoke.c: service invocation, caller side (API.md §3.1). app_id is URL-decoded; method is the raw,
 * still-encoded rest of the path after /method/ (with its query string in the request).
 */
void api_invoke(struct server *srv, struct evhttp_request *req, const char *app_id, const char *method);

/*
 * Frees the records of invocations whose answer never came: only once the loop has stopped, when
 * nothing will answer them (http_api_close). Thread: the main thread.
 */
void api_invoke_free_pending(struct server *srv);

/* api_bindings.c: output bindings (API.md §4.1). name is URL-decoded. */
void api_bindings_invoke(struct server *srv, struct evhttp_request *req, const char *name);

/* api_secrets.c: secret stores (API.md §5). store and key are URL-decoded. */
void api_secrets_get(struct server *srv, struct evhttp_request *req, const char *store, const char *key);
void api_secrets_bulk(struct server *srv, struct evhttp_request *req, const char *store);

/* api_meta.c: metadata, health and shutdown (API.md §6). */
void api_healthz(struct server *srv, struct evhttp_request *req, bool outbound);
void api_metadata_get(struct server *srv, struct evhttp_request *req);
void api_metadata_put(struct server *srv, struct evhttp_request *req, const char *key);
void api_shutdown(struct server *srv, struct evhttp_request *req);

#endif /* OUTRIG_CORE_API_H */
