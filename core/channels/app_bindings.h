/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input bindings' calls to the app, whatever protocol the app speaks (API.md §4.2): ask whether it
 * wants a binding's events, and deliver one event. The bindings block reaches the app only through
 * this header. Today the app speaks HTTP (OPTIONS and POST /{route}); a gRPC app
 * (ListInputBindings, OnBindingEvent) goes behind the same functions.
 */
#ifndef OUTRIG_CORE_APP_BINDINGS_H
#define OUTRIG_CORE_APP_BINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include <outrig/metadata.h>

struct app_channel;
struct app_grpc;

/* The bindings' side of the app channel; the bindings block never learns the protocol behind it. */
struct app_bindings;

/*
 * The bindings' calls to an HTTP app through ch, which stays the caller's (it must outlive the
 * result). NULL when out of memory. Thread: the loop.
 */
struct app_bindings *app_bindings_new_http(struct app_channel *ch);

/*
 * The bindings' calls to a gRPC app through ag (ListInputBindings, OnBindingEvent; a binding's
 * name is its route without the "/"), which stays the caller's. NULL when out of memory. Thread: the loop.
 */
struct app_bindings *app_bindings_new_grpc(struct app_grpc *ag);

/*
 * Tells ab that the input binding that delivers to route is named name: a gRPC app lists and gets
 * bindings by their names (daprd ignores a `route` there), an HTTP app by route. Without it, the
 * name is route without its "/". Returns 0, or -1 when out of memory. Ownership: route and name are
 * kept, and must outlive ab. Thread: the loop.
 */
int app_bindings_name(struct app_bindings *ab, const char *route, const char *name);

/*
 * Forgets what app_bindings_name was told with this very route pointer (before it is freed).
 * Thread: the loop.
 */
void app_bindings_unname(struct app_bindings *ab, const char *route);

/* Frees ab (NULL is fine); its calls still pending are never answered. Thread: the loop's thread. */
void app_bindings_free(struct app_bindings *ab);

/* Calls ready(arg) once the app accepts connections. Thread: the loop. */
void app_bindings_when_ready(struct app_bindings *ab, void (*ready)(void *arg), void *arg);

/* The app's answer to "do you want this binding's events?". */
enum app_binding_want {
	APP_BINDING_WANTED,
	APP_BINDING_DECLINED,  /* it answered no */
	APP_BINDING_NO_ANSWER, /* the question failed: refused, reset, timed out, a broken answer */
};

/*
 * Told the answer. detail is NULL when wanted, else a clause for the log saying what the app
 * did and, when it declined, what to change ("the app answered OPTIONS /orders with HTTP 404
 * (serve POST /orders, ...)"). Ownership: detail is valid during the call. Thread: the loop.
 */
typedef void (*app_bindings_asked_fn)(void *arg, enum app_binding_want want, const char *detail);

/*
 * Told how one delivery ended: acknowledged, or why not (a clause for the log, "the app answered
 * HTTP 500"). Ownership: why is valid during the call. Thread: the loop.
 */
typedef void (*app_bindings_delivered_fn)(void *arg, bool acknowledged, const char *why);

/*
 * A question or delivery in flight, in the caller's memory (a member of its own record): nothing
 * is allocated per call, so a channel freed with calls pending leaks nothing. Left alone by the
 * caller from app_bindings_ask or app_bindings_deliver until its callback ran.
 */
struct app_bindings_call {
	app_bindings_asked_fn asked;
	app_bindings_delivered_fn delivered;
	void *arg;
	const char *route;
	const char *name; /* the binding's name, for a gRPC app; NULL for an HTTP one */
	/*
	 * Set before delivered runs, for Resiliency matching: the status of a failed delivery (HTTP
	 * status, or gRPC status code when grpc); 0 when it has none (no answer).
	 */
	int code;
	bool grpc;
};

/*
 * Asks the app whether it wants the events of the input binding that delivers to route ("/" +
 * the binding's route), then calls cb(arg, ...) exactly once on the loop, unless the channel is
 * freed first. Over HTTP: OPTIONS route, where 2xx or 405 (what many frameworks answer to OPTIONS)
 * means yes. Returns 0, or -1 when out of memory (cb is then never called).
 * Ownership: call keeps route, which must stay valid until cb runs. Thread: the loop.
 */
int app_bindings_ask(struct app_bindings *ab, const char *route, struct app_bindings_call *call,
		     app_bindings_asked_fn cb, void *arg);

/*
 * Delivers one event (data, len bytes) with its metadata to route, then calls cb(arg, ...) exactly
 * once on the loop, unless the channel is freed first. Over HTTP: POST route, the metadata as
 * headers (Content-Type from its content-type entry, else application/json; names that describe
 * the HTTP message itself and values it cannot carry are left out), acknowledged by a 2xx.
 * Returns 0, or -1 when out of memory (cb is then never called).
 * Ownership: md and data are copied; call keeps route, which must stay valid until cb runs.
 * Thread: the loop.
 */
int app_bindings_deliver(struct app_bindings *ab, const char *route, const struct outrig_metadata *md,
			 const void *data, size_t len, struct app_bindings_call *call,
			 app_bindings_delivered_fn cb, void *arg);

/* How the channel names the question about route, for logs: "OPTIONS /orders". Returns buf. */
const char *app_bindings_ask_name(const struct app_bindings *ab, const char *route, char *buf, size_t size);

/* How the channel names a delivery to route, for logs: "POST /orders". Returns buf. */
const char *app_bindings_deliver_name(const struct app_bindings *ab, const char *route, char *buf,
				      size_t size);

#endif /* OUTRIG_CORE_APP_BINDINGS_H */
