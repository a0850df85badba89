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
struct app_grpc;
struct app_tls;
struct http_guard;
struct app_health;
struct event_base;
struct evhttp;
struct event;
struct grpc_server;
struct h2_upstream;
struct api_invoke_call;
struct nameres;
struct peer_channels;
struct reload;
struct resil;

struct server {
	struct event_base *base;
	struct evhttp *http;
	struct grpc_server *grpc; /* the gRPC API (core/api/grpc), once listening */
	struct grpc_server *grpc_internal; /* gRPC proxying's callee side, behind the internal port */
	struct h2_upstream *h2_upstream;   /* gRPC proxying's connections to apps and other sidecars */
	unsigned proxied_calls;		   /* proxied gRPC calls in progress: a graceful stop waits for them */
	struct api_invoke_call *http_invokes; /* HTTP invocations waiting for their answer (api/http/api_invoke.c) */
	const struct options *opts;
	struct configuration config; /* the --config files, read once at start-up */
	struct components *components;
	struct workers *workers;
	struct app_channel *app;	 /* HTTP client to the app; NULL without --app-port or with --app-protocol grpc */
	struct app_grpc *app_grpc;	 /* with --app-protocol grpc, the app's AppCallback instead of app */
	struct app_tls *app_tls;	 /* with --app-protocol https or grpcs: TLS for every connection to the app */
	struct pubsub_runtime pubsub;	 /* subscriptions and delivery to the app */
	struct binding_runtime bindings; /* bindings: routes, directions, input delivery to the app */
	/* Service invocation (issue 5). */
	struct evhttp *internal;     /* the sidecar-to-sidecar listener */
	int internal_port;	     /* its port, once bound */
	struct peer_channels *peers; /* pooled connections to other sidecars */
	struct nameres *nameres;     /* the name resolver plugin's instance */
	struct app_health *health;   /* app health probing; NULL unless enabled */
	struct reload *reload;	     /* SIGHUP's reload of the components (core/components/reload.h) */
	struct resil *resil;	     /* Resiliency policies and breakers (core/resiliency/resil.h); NULL: none */
	json_t *extended;	     /* PUT /v1.0/metadata/{key} values */
	const char *api_token;	     /* DAPR_API_TOKEN, or NULL (also when set but empty) */
	struct http_guard *guard;	      /* strict framing in front of srv->http */
	struct http_guard *internal_guard; /* and in front of srv->internal */
	bool ready;		     /* components up and listening */
	bool stopping;
	struct event *stop_timer; /* polls for in-flight work during a graceful stop */
	int64_t stop_deadline_ms;
	int64_t spans_until_ms; /* the last spans' send ends then, once work in flight is done; 0 before */
	struct event *block_timer; /* --dapr-block-shutdown-duration: polls before the stop begins */
	int64_t block_until_ms;
	const char *block_why;
#define RUNTIME_MAX_STOP_HOOKS 4
	void (*stop_hooks[RUNTIME_MAX_STOP_HOOKS])(struct server *srv); /* runtime_on_stop */
	size_t n_stop_hooks;
};

/*
 * Asks to be told, once, when a graceful stop begins (before in-flight work is waited for). For
 * front ends, which stop taking new work. 0, or -1 when RUNTIME_MAX_STOP_HOOKS are taken. Thread: the loop.
 */
int runtime_on_stop(struct server *srv, void (*fn)(struct server *srv));

/*
 * Begins a graceful stop: no new requests, then the loop exits once in-flight work is
 * done or --dapr-graceful-shutdown-seconds have passed. Thread: the loop.
 */
void runtime_begin_stop(struct server *srv, const char *why);

/*
 * A stop asked for by a signal: after --dapr-block-shutdown-duration (or the app turning unhealthy)
 * when that is set, otherwise at once, runtime_begin_stop. why is a static string. Thread: the loop.
 */
void runtime_request_stop(struct server *srv, const char *why);

/*
 * Blocks SIGTERM and SIGINT and starts the thread that takes them. Call before any other thread
 * exists (plugins', workers'), as the mask is inherited. Until runtime_signals_arm, and after
 * runtime_signals_disarm, a signal ends the process at once (status 1, with a log line); while
 * armed, the first asks the loop for a graceful stop (runtime_request_stop), a second ends the
 * process at once, and so does the end of --dapr-graceful-shutdown-seconds once the stop has
 * begun. Returns 0 or -1. Thread: main, once.
 */
int runtime_signals_start(void);

/* Routes the first signal to srv's loop from now on. 0, or -1 when out of memory. Thread: the loop's. */
int runtime_signals_arm(struct server *srv);

/* Stops routing signals to the loop (it is gone): any signal now ends the process at once. */
void runtime_signals_disarm(void);

/* Frees what the graceful stop and the blocks left in srv (not the front ends: each closes its own). */
void runtime_close(struct server *srv);

#endif /* OUTRIG_CORE_RUNTIME_H */
