/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar's shared context: loop, options, components, workers, app channel and runtimes of the blocks. */
#ifndef OUTRIG_CORE_RUNTIME_H
#define OUTRIG_CORE_RUNTIME_H

#include <stdbool.h>

#include <jansson.h>

#include "blocks/bindings/binding_runtime.h"
#include "components/component.h"
#include "resources/configuration.h"
#include "options.h"
#include "blocks/pubsub/pubsub_runtime.h"
#include "base/workers.h"

struct app_channel;
struct http_guard;
struct app_health;
struct event_base;
struct evhttp;
struct event;
struct grpc_server;
struct nameres;
struct peer_channels;

struct server {
	struct event_base *base;
	struct evhttp *http;
	struct grpc_server *grpc; /* the gRPC API (core/api/grpc), once listening */
	const struct options *opts;
	struct configuration config; /* the --config files, read once at start-up */
	struct components *components;
	struct workers *workers;
	struct app_channel *app;	 /* HTTP client to the app; NULL without --app-port */
	struct pubsub_runtime pubsub;	 /* subscriptions and delivery to the app */
	struct binding_runtime bindings; /* bindings: routes, directions, input delivery to the app */
	/* Service invocation (issue 5). */
	struct evhttp *internal;     /* the sidecar-to-sidecar listener */
	int internal_port;	     /* its port, once bound */
	struct peer_channels *peers; /* pooled connections to other sidecars */
	struct nameres *nameres;     /* the name resolver plugin's instance */
	struct app_health *health;   /* app health probing; NULL unless enabled */
	json_t *extended;	     /* PUT /v1.0/metadata/{key} values */
	const char *api_token;	     /* DAPR_API_TOKEN, or NULL (also when set but empty) */
	struct http_guard *guard;	      /* strict framing in front of srv->http */
	struct http_guard *internal_guard; /* and in front of srv->internal */
	bool ready;		     /* components up and listening */
	bool stopping;
	struct event *stop_timer; /* polls for in-flight work during a graceful stop */
	int64_t stop_deadline_ms;
};

/*
 * Binds the HTTP API on every --dapr-listen-addresses address at --dapr-http-port.
 * Returns 0, or -1 after logging which address failed and why.
 */
int server_listen(struct server *srv);

/*
 * Begins a graceful stop: no new requests, then the loop exits once in-flight work is
 * done or --dapr-graceful-shutdown-seconds have passed. Thread: the loop.
 */
void server_begin_stop(struct server *srv, const char *why);

/* Frees what server_listen made. */
void server_close(struct server *srv);

#endif /* OUTRIG_CORE_RUNTIME_H */
